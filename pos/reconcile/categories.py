"""The categories a reconciled line lands in: a name, what it means, and what to do.

Every line of the reconciliation (a terminal record, a statement line, or the
two paired) is in exactly one category. `MATCHED` is the only one that is not
an exception; any other makes `pos reconcile` exit with 1. The words are the
report's (docs/reconcile.md lists them); the per-line reason is built by
`matching` from the line's own figures.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["Category", "CategoryInfo", "INFO"]


class Category(Enum):
    MATCHED = "matched"
    AMOUNT_DIFFERS = "amount_differs"
    TERMINAL_ONLY = "terminal_only"
    ACQUIRER_ONLY = "acquirer_only"
    VOIDED_BUT_CLEARED = "voided_but_cleared"
    REFUNDED_OR_CHARGED_BACK = "refunded_or_charged_back"
    FEE_DIFFERS = "fee_differs"
    OTHER_DAY = "cleared_on_another_day"


@dataclass(frozen=True)
class CategoryInfo:
    title: str
    action: str


INFO: dict[Category, CategoryInfo] = {
    Category.MATCHED: CategoryInfo("matched", "nothing to do"),
    Category.AMOUNT_DIFFERS: CategoryInfo(
        "amount differs",
        "compare the receipt with the statement line; ask the acquirer to correct the cleared amount"),
    Category.TERMINAL_ONLY: CategoryInfo(
        "terminal only",
        "the acquirer has no such money movement: check the terminal reached the acquirer (a reversal "
        "still due is sent before the next transaction), then ask the acquirer about the line"),
    Category.ACQUIRER_ONLY: CategoryInfo(
        "acquirer only",
        "the acquirer cleared money the terminal does not show as done (a lost reply, or a till whose "
        "journal is not included): check with the customer, add the missing till's journal, or dispute"),
    Category.VOIDED_BUT_CLEARED: CategoryInfo(
        "voided at the terminal but cleared",
        "the customer was promised the money back: ask the acquirer to clear the void, or refund"),
    Category.REFUNDED_OR_CHARGED_BACK: CategoryInfo(
        "refunded or charged back at the acquirer",
        "money was taken back outside this terminal: answer the chargeback with the receipt "
        "(re-presentment) or accept it"),
    Category.FEE_DIFFERS: CategoryInfo(
        "fee differs from the merchant's terms",
        "ask the acquirer which rate plan was applied; the difference is owed back"),
    Category.OTHER_DAY: CategoryInfo(
        "cleared on another day",
        "nothing is lost: the line counts on the other day's statement (cut-off at the acquirer); "
        "reconcile that day too"),
}
