"""How an engine outcome or error reads to a register: nexo `Response.Result` + `ErrorCondition`.

One table (`CONDITION_OF`, documented in docs/daemon.md "Errors"), used by
both wire protocols: the Concert answer's status is derived from the same
result (`Success` -> "0" done, anything else -> "7" refused).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.nfc import ReaderError
from pos import journal as j
from pos.engine import (
    CardMismatch,
    CardNotRead,
    EngineError,
    OriginalNotFound,
    Outcome,
    PinRequired,
    ReversalOutstanding,
    SettlementFailed,
    SignOnFailed,
)
from pos.hostlink import HostUnavailable

SUCCESS, FAILURE = "Success", "Failure"

#: an exception the engine raised (nothing was charged) -> ErrorCondition; first match wins
CONDITION_OF: tuple[tuple[type[BaseException], str], ...] = (
    (OriginalNotFound, "NotFound"),
    (CardMismatch, "InvalidCard"),
    (PinRequired, "WrongPIN"),
    (ReversalOutstanding, "UnreachableHost"),
    (SignOnFailed, "UnreachableHost"),
    (SettlementFailed, "UnreachableHost"),
    (HostUnavailable, "UnreachableHost"),
    (ReaderError, "UnavailableDevice"),
    (EngineError, "NotAllowed"),
)
#: a card that was not read, by the kernel's (or the simulated customer's) outcome
CARD_NOT_READ = {"declined": "Refusal", "cancelled": "Cancel"}
#: a journalled transaction's final state -> ErrorCondition (approved is Success)
STATE_CONDITION = {j.DECLINED: "Refusal", j.REVERSED: "UnreachableHost", j.REVERSAL_DUE: "UnreachableHost",
                   j.UNKNOWN: "UnreachableHost", j.NOT_SENT: "UnreachableHost"}


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
    return Verdict(FAILURE, STATE_CONDITION.get(outcome.state, "Refusal"), outcome.message, outcome.txn.id)


def of_error(error: BaseException) -> Verdict:
    if isinstance(error, CardNotRead):
        return Verdict(FAILURE, CARD_NOT_READ.get(error.outcome, "InvalidCard"), f"{error.prompt}: {error.reason}")
    for kind, condition in CONDITION_OF:
        if isinstance(error, kind):
            return Verdict(FAILURE, condition, str(error))
    return Verdict(FAILURE, "UnavailableService", f"internal error: {type(error).__name__}")


def aborted(why: str) -> Verdict:
    return Verdict(FAILURE, "Aborted", why)
