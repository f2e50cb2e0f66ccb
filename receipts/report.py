"""X and Z reports: the day's totals at the counter, from plain transaction data.

An X report is a reading of the running batch (nothing is closed; print it as
often as you like); a Z report is the same reading taken when the batch is
settled and closed, with the host's verdict on the totals. Both are built
from `ReportTransaction`s -- one per journalled transaction, whatever the
journal looks like -- so this module knows nothing of the terminal's storage
and is tested on plain data.

Totals are kept four ways: for the whole batch, by payment channel (each card
scheme, each wallet: a UnionPay card and the UnionPay app are two channels),
by entry mode and by operator. Each way counts sales, voids, refunds and
reversals with their amounts, and nets them:

    net = sales + completions - voids - refunds - completion voids

A reversal is an approval the terminal took back (no answer in time, a crash,
the customer never confirmed): no money moved, so it is counted on its own
line and never in the net. Pre-authorisations hold money without moving it
and balance enquiries move none: they are counted, not netted.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import Literal, TypeVar

from receipts.model import EntryMode, Merchant, ReceiptFieldError, TransactionType

__all__ = ["Count", "ReportTransaction", "ShiftReport", "Totals", "report_from_json", "report_to_dict",
           "report_to_json"]

ReportKind = Literal["X", "Z"]
K = TypeVar("K")
#: netted with a sign: what moved money in the batch
_NET_SIGN = {TransactionType.SALE: 1, TransactionType.COMPLETION: 1, TransactionType.VOID: -1,
             TransactionType.REFUND: -1, TransactionType.COMPLETION_VOID: -1}


_LINE = {TransactionType.SALE: "sales", TransactionType.VOID: "voids", TransactionType.REFUND: "refunds",
         TransactionType.COMPLETION: "completions", TransactionType.COMPLETION_VOID: "completion_voids"}


@dataclass(frozen=True)
class ReportTransaction:
    """One transaction of the batch as a report needs it.

    `channel` is the card scheme ("unionpay", "visa", ...) or, with `wallet`
    set, the wallet ("alipay", "wechat", "unionpay" for the UnionPay app).
    `reversed`: approved, then taken back by a reversal (no money moved).
    Declined and refused transactions are not report lines: nothing happened.
    """

    transaction: TransactionType
    amount_fen: int
    channel: str
    wallet: bool
    entry_mode: EntryMode
    operator: str
    reversed: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.amount_fen, bool) or not isinstance(self.amount_fen, int) or self.amount_fen < 0:
            raise ValueError(f"amount_fen must be a non-negative integer (fen), got {self.amount_fen!r}")
        if not self.channel:
            raise ValueError("channel must name a card scheme or a wallet")

    @property
    def channel_key(self) -> str:
        """"card:unionpay", "wallet:alipay": a UnionPay card and the UnionPay app are not one channel."""
        return f"{'wallet' if self.wallet else 'card'}:{self.channel}"


@dataclass(frozen=True)
class Count:
    count: int = 0
    amount_fen: int = 0

    def __add__(self, other: Count) -> Count:
        return Count(self.count + other.count, self.amount_fen + other.amount_fen)


@dataclass(frozen=True)
class Totals:
    """Counts and amounts of one group of transactions, and its net."""

    sales: Count = Count()
    voids: Count = Count()
    refunds: Count = Count()
    reversals: Count = Count()
    completions: Count = Count()
    completion_voids: Count = Count()
    other: Count = Count()          # pre-auths, their voids, balance enquiries: no money moved
    net_fen: int = 0

    @staticmethod
    def of(transactions: Iterable[ReportTransaction]) -> Totals:
        counts: dict[str, list[int]] = {}
        net = 0
        for txn in transactions:
            if txn.reversed:
                key = "reversals"
            else:
                key = _LINE.get(txn.transaction, "other")
                net += _NET_SIGN.get(txn.transaction, 0) * txn.amount_fen
            pair = counts.setdefault(key, [0, 0])
            pair[0] += 1
            pair[1] += txn.amount_fen
        return Totals(**{key: Count(n, amount) for key, (n, amount) in counts.items()}, net_fen=net)


@dataclass(frozen=True)
class ShiftReport:
    """An X (running) or Z (settled and closed) report of one batch."""

    kind: ReportKind
    merchant: Merchant
    terminal_id: str
    batch: int
    when: datetime                  # when the report was taken (aware)
    operator: str                   # who took it
    transactions: tuple[ReportTransaction, ...] = field(default=())
    balanced: bool | None = None    # Z: the host's verdict on the batch totals; X: None
    reprint: bool = False
    operator_names: tuple[tuple[str, str], ...] = ()   # (number, name) of the registered operators

    def __post_init__(self) -> None:
        if self.kind not in ("X", "Z"):
            raise ValueError(f"kind must be 'X' or 'Z', got {self.kind!r}")
        if self.when.tzinfo is None:
            raise ValueError("when must be timezone-aware")
        if (self.kind == "Z") != (self.balanced is not None):
            raise ValueError("a Z report carries the host's verdict (balanced), an X report none")
        object.__setattr__(self, "transactions", tuple(self.transactions))
        object.__setattr__(self, "operator_names", tuple((str(k), str(v)) for k, v in self.operator_names))

    def as_reprint(self) -> ShiftReport:
        """The same report, marked as a reprint (`pos reprint --report`)."""
        return replace(self, reprint=True)

    def operator_label(self, operator: str) -> str:
        """"01 Wang Fang": the operator's number and, when registered, its name."""
        name = dict(self.operator_names).get(operator)
        return f"{operator} {name}" if name else operator

    # computed once: the text, the ESC/POS and the JSON of a report all read them
    @cached_property
    def totals(self) -> Totals:
        return Totals.of(self.transactions)

    @cached_property
    def _by_channel(self) -> dict[str, Totals]:
        return self._grouped(lambda t: t.channel_key)

    @cached_property
    def _by_entry_mode(self) -> dict[EntryMode, Totals]:
        return self._grouped(lambda t: t.entry_mode)

    @cached_property
    def _by_operator(self) -> dict[str, Totals]:
        return self._grouped(lambda t: t.operator)

    def by_channel(self) -> dict[str, Totals]:
        """Per channel key ("card:visa", "wallet:alipay"), cards first, then wallets, each by name."""
        return dict(self._by_channel)

    def by_entry_mode(self) -> dict[EntryMode, Totals]:
        return dict(self._by_entry_mode)

    def by_operator(self) -> dict[str, Totals]:
        return dict(self._by_operator)

    def _grouped(self, key: Callable[[ReportTransaction], K]) -> dict[K, Totals]:
        groups: dict[K, list[ReportTransaction]] = {}
        for txn in self.transactions:
            groups.setdefault(key(txn), []).append(txn)
        return {name: Totals.of(groups[name]) for name in sorted(groups, key=str)}


def _totals_dict(totals: Totals) -> dict[str, object]:
    def pair(count: Count) -> dict[str, int]:
        return {"count": count.count, "amount": count.amount_fen}

    return {"sales": pair(totals.sales), "voids": pair(totals.voids), "refunds": pair(totals.refunds),
            "reversals": pair(totals.reversals), "completions": pair(totals.completions),
            "completion_voids": pair(totals.completion_voids), "other": pair(totals.other),
            "net": totals.net_fen}


def report_to_dict(report: ShiftReport) -> dict[str, object]:
    """The report as JSON-ready data (`pos report x|z --json`); amounts in integer fen."""
    return {
        "kind": report.kind, "merchant_id": report.merchant.mid, "terminal_id": report.terminal_id,
        "batch": f"{report.batch:06d}", "when": report.when.isoformat(), "operator": report.operator,
        "balanced": report.balanced, "currency": "CNY",
        "totals": _totals_dict(report.totals),
        "by_channel": {name: _totals_dict(t) for name, t in report.by_channel().items()},
        "by_entry_mode": {mode.name.lower(): _totals_dict(t) for mode, t in report.by_entry_mode().items()},
        "by_operator": {name: _totals_dict(t) for name, t in report.by_operator().items()},
        "operator_names": dict(report.operator_names),
    }


def report_to_json(report: ShiftReport) -> str:
    """The report as the journal keeps it once printed (every line, so a reprint says the same)."""
    return json.dumps({
        "kind": report.kind, "merchant": report.merchant.__dict__, "terminal_id": report.terminal_id,
        "batch": report.batch, "when": report.when.isoformat(), "operator": report.operator,
        "balanced": report.balanced, "operator_names": [list(pair) for pair in report.operator_names],
        "transactions": [[t.transaction.value, t.amount_fen, t.channel, t.wallet, t.entry_mode.value, t.operator,
                          t.reversed] for t in report.transactions],
    }, ensure_ascii=False, sort_keys=True)


def report_from_json(text: str) -> ShiftReport:
    """A report kept by `report_to_json` (ReceiptFieldError when it is not one)."""
    try:
        data = json.loads(text)
        lines = tuple(ReportTransaction(TransactionType(kind), amount, channel, wallet, EntryMode(entry), operator,
                                        reversed_)
                      for kind, amount, channel, wallet, entry, operator, reversed_ in data["transactions"])
        return ShiftReport(data["kind"], Merchant(**data["merchant"]), data["terminal_id"], data["batch"],
                           datetime.fromisoformat(data["when"]), data["operator"], lines,
                           balanced=data["balanced"],
                           operator_names=tuple((k, v) for k, v in data["operator_names"]))
    except (KeyError, TypeError, ValueError) as e:
        raise ReceiptFieldError("report", f"not a kept X or Z report: {e}") from e
