"""Chargebacks and re-presentments: the life of a dispute.

A dispute is opened by the issuer against a cleared card transaction (first
chargeback): the amount goes back from the merchant to the issuer on the
next clearing day (a `CHB` line). The merchant may answer with evidence: a
re-presentment brings the amount back (`REP`). Closing ends the dispute with
the money where it is (the chargeback stands, or the re-presentment was
accepted). No fees move with a dispute.

| state       | open | represent | close |
| ----------- | ---- | --------- | ----- |
| (none)      | opened | -       | -     |
| opened      | -    | represented | closed |
| represented | -    | -         | closed |
| closed      | -    | -         | -     |
"""
from __future__ import annotations

from acquirer.clearing.errors import ClearingError

__all__ = ["ACTIONS", "STATES", "next_state"]

STATES = ("opened", "represented", "closed")
ACTIONS = ("open", "represent", "close")
_NEXT = {(None, "open"): "opened", ("opened", "represent"): "represented",
         ("opened", "close"): "closed", ("represented", "close"): "closed"}


def next_state(state: str | None, action: str) -> str:
    """The state after `action`; a clear error for a move the table does not allow."""
    try:
        return _NEXT[(state, action)]
    except KeyError:
        what = "no dispute" if state is None else f"a dispute that is {state}"
        raise ClearingError(f"cannot {action} {what}") from None
