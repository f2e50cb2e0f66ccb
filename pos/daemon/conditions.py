"""How an engine outcome or error reads to a register: nexo `Response.Result` + `ErrorCondition`.

The ErrorCondition comes from the one error table (docs/errors.md,
`acquirer.protocol.errors.KIND_TABLE`): an error by its kind; an outcome by
the kind its journal state stands for (declined; no trustworthy answer). Both
wire protocols use it: the Concert answer's status is derived from the same
verdict (`Success` -> "0" done, anything else -> "7" refused).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from acquirer.protocol.errors import KIND_TABLE, ErrorKind
from pos.core.outcome import Outcome
from pos.devices.errors import as_tillkit_error
from pos.journal import store as j

SUCCESS, FAILURE = "Success", "Failure"
#: a journalled transaction's final state -> the kind it stands for (approved is Success)
STATE_KIND = {j.DECLINED: ErrorKind.DECLINED}


def condition_of(kind: ErrorKind) -> str:
    return KIND_TABLE[kind].nexo


@dataclass(frozen=True)
class Verdict:
    """What the register is told about one payment (recorded in the ECR log as is)."""

    result: str                  # Success | Failure
    condition: str | None        # nexo ErrorCondition, None on success
    message: str                 # plain words for the cashier (no card data)
    txn_id: int | None = None    # the journal row, when the engine journalled one

    @property
    def approved(self) -> bool:
        return self.result == SUCCESS

    def to_record(self) -> dict[str, Any]:
        return {"result": self.result, "condition": self.condition, "message": self.message, "txn_id": self.txn_id}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Verdict:
        return cls(record["result"], record.get("condition"), record.get("message", ""), record.get("txn_id"))


def of_outcome(outcome: Outcome) -> Verdict:
    if outcome.approved:
        return Verdict(SUCCESS, None, outcome.message, outcome.txn.id)
    kind = STATE_KIND.get(outcome.state, ErrorKind.NO_ANSWER)
    return Verdict(FAILURE, condition_of(kind), outcome.message, outcome.txn.id)


def of_error(error: BaseException) -> Verdict:
    known = as_tillkit_error(error)
    if known is None:   # a bug: the register is told the service failed, the log has the traceback
        return Verdict(FAILURE, condition_of(ErrorKind.TERMINAL), f"internal error: {type(error).__name__}")
    return Verdict(FAILURE, condition_of(known.kind), str(known))


def of_kind(kind: ErrorKind, message: str, txn_id: int | None = None) -> Verdict:
    return Verdict(FAILURE, condition_of(kind), message, txn_id)
