"""Finding the original of a refund by its trace number, as `pos refund --trace` does.

A cashier holding the customer's slip reads its trace number (STAN) more
easily than its 12-digit reference number. The trace is unique in this
terminal's journal until the counter wraps after 999,999 messages, so the
latest row with that trace is the one the slip names, in any batch. It must
be an approved (or since voided) sale, completion, wallet or merchant-code
sale -- what a refund by RRN accepts (`Engine.refund`) -- and the refund may
not be larger than the original. What is left after earlier refunds is the
acquirer's to check (it answers 61), since only it sees every refund.
"""
from __future__ import annotations

from pos.core.amount import format_amount
from pos.core.engine import WALLET_ORDERS
from pos.core.errors import EngineError, OriginalNotFound
from pos.journal import store as j
from pos.journal.store import Journal, Txn

#: journal types a refund gives money back for
REFUNDABLE_TYPES = ("sale", "completion", *WALLET_ORDERS)
REFUNDABLE_STATES = (j.APPROVED, j.VOIDED)


class NotRefundable(EngineError):
    """The trace names a transaction that cannot be refunded (wrong type or state)."""

    message_key = "refund.not_refundable"


class RefundTooLarge(EngineError):
    """The refund asks for more than the original transaction's amount: nothing is sent."""

    message_key = "refund.over_original"


def refund_original(journal: Journal, trace: str, amount: int) -> Txn:
    """The approved sale with trace `trace` that `amount` fen may be refunded of; else a refusal (exit 2)."""
    stan = trace.zfill(6)
    if not (stan.isdigit() and len(stan) == 6):
        raise OriginalNotFound(f"the trace number must be up to 6 digits, got {trace!r}",
                               message_key="refund.bad_trace", trace=trace)
    original = journal.latest_with_stan(stan)
    if original is None:
        raise OriginalNotFound(f"no transaction with trace {stan} in this terminal's journal",
                               message_key="refund.no_trace", trace=stan)
    if original.type not in REFUNDABLE_TYPES or original.state not in REFUNDABLE_STATES or not original.rrn:
        raise NotRefundable(f"trace {stan} is a {original.type} ({original.state}): only an approved sale, "
                            f"completion or wallet sale can be refunded",
                            trace=stan, txn_kind=original.type, state=original.state)
    if amount > original.amount:
        raise RefundTooLarge(f"a refund of {format_amount(amount)} is more than the {format_amount(original.amount)} "
                             f"of trace {stan}: nothing was sent", trace=stan, amount=format_amount(amount),
                             original=format_amount(original.amount))
    return original
