"""The reconciliation report: totals by channel and entry mode, payouts, categories, exceptions.

One model, built once from the matched lines, that every output reads: the
Rich summary, JSON, CSV, the chart, the printed slip and the TUI screen. The
figures are the acquirer's (what will be paid is what the statement says);
the terminal's own total is shown beside them. No figure is rounded: every
total is a sum of lines, in fen. Nothing here holds more of a card number
than the statement's masked account.
"""
from __future__ import annotations

import csv
import functools
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from acquirer.protocol.statement import Statement, StatementLine
from pos.reconcile.categories import INFO, Category
from pos.reconcile.matching import ReconciledLine, transmitted_at

__all__ = ["ChannelTotal", "DayTotal", "Payout", "Report", "build_report", "channel_of", "entry_mode_name"]

_NEVER = datetime.min.replace(tzinfo=UTC)
ENTRY_MODES = {"01": "manual", "02": "swipe", "03": "QR code", "05": "chip", "07": "contactless"}


def entry_mode_name(entry_mode: str | None) -> str:
    return ENTRY_MODES.get((entry_mode or "")[:2], "-")


@dataclass
class ChannelTotal:
    channel: str
    entry_mode: str
    count: int = 0
    gross: int = 0
    fees: int = 0
    net: int = 0

    def add(self, line: StatementLine) -> None:
        self.count += 1
        self.gross += line.amount
        self.fees += line.mdr
        self.net += line.settlement_amount


@dataclass
class DayTotal:
    day: date
    count: int = 0
    gross: int = 0
    fees: int = 0
    net: int = 0
    exceptions: int = 0


@dataclass(frozen=True)
class Payout:
    settlement_date: date | None
    days: tuple[date, ...]
    net: int


@dataclass
class Report:
    merchant: str
    terminals: tuple[str, ...]
    first: date
    last: date
    lines: list[ReconciledLine]
    channels: list[ChannelTotal] = field(default_factory=list)
    days: list[DayTotal] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    checksums: dict[str, str | None] = field(default_factory=dict)
    terminal_total: int = 0
    _rows: list[tuple[Any, ...]] | None = field(default=None, repr=False)

    @property
    def exceptions(self) -> list[ReconciledLine]:
        return [line for line in self.lines if line.category is not Category.MATCHED]

    @property
    def all_matched(self) -> bool:
        return not self.exceptions

    def totals(self) -> ChannelTotal:
        total = ChannelTotal("all", "")
        for c in self.channels:
            total.count += c.count
            total.gross += c.gross
            total.fees += c.fees
            total.net += c.net
        return total

    def by_category(self) -> list[tuple[Category, int, int]]:
        """(category, lines, amount) in the category order; amount is the acquirer's, else the terminal's."""
        counts: dict[Category, list[int]] = {c: [0, 0] for c in Category}
        for line in self.lines:
            counts[line.category][0] += 1
            amount = line.acquirer_amount if line.acquirer_amount is not None else line.terminal_amount
            counts[line.category][1] += amount or 0
        return [(c, n, amount) for c, (n, amount) in counts.items()]

    # --- JSON and CSV -------------------------------------------------------------

    def as_json(self) -> dict[str, Any]:
        total = self.totals()
        return {
            "merchant": self.merchant, "terminals": list(self.terminals),
            "from": self.first.isoformat(), "to": self.last.isoformat(),
            "all_matched": self.all_matched,
            "totals": {"count": total.count, "gross": total.gross, "fees": total.fees, "net": total.net,
                       "terminal_gross": self.terminal_total},
            "channels": [{"channel": c.channel, "entry_mode": c.entry_mode, "count": c.count, "gross": c.gross,
                          "fees": c.fees, "net": c.net} for c in self.channels],
            "days": [{"day": d.day.isoformat(), "count": d.count, "gross": d.gross, "fees": d.fees, "net": d.net,
                      "exceptions": d.exceptions} for d in self.days],
            "payouts": [{"settlement_date": p.settlement_date.isoformat() if p.settlement_date else None,
                         "clearing_days": [d.isoformat() for d in p.days], "net": p.net} for p in self.payouts],
            "categories": [{"category": c.value, "title": INFO[c].title, "lines": n, "amount": amount}
                           for c, n, amount in self.by_category()],
            "lines": [dict(zip(CSV_COLUMNS, row)) for row in self.rows()],
            "statements": dict(self.checksums),
        }

    def to_json(self) -> str:
        # no indent: the C encoder only runs without it (100,000 lines in a fraction of the time)
        return json.dumps(self.as_json(), ensure_ascii=False, sort_keys=True) + "\n"

    def to_csv(self) -> str:
        """One row per line (matched and exceptions), the same columns as the JSON `lines`."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(self.rows())
        return out.getvalue()

    def rows(self) -> list[tuple[Any, ...]]:
        """One tuple per line, in the order of `CSV_COLUMNS` (made once: JSON and CSV both use them)."""
        if self._rows is None:
            self._rows = [_line_row(line) for line in self.lines]
        return self._rows


CSV_COLUMNS = ("day", "category", "reason", "action", "terminal", "batch", "stan", "rrn", "account", "code",
               "channel", "entry_mode", "terminal_amount", "acquirer_amount", "fees", "net", "cleared_on")
#: a category's name in the files and what to do, looked up once per category rather than per line
_CATEGORY_COLUMNS = {c: (c.value, INFO[c].action) for c in Category}


@functools.lru_cache(maxsize=1024)
def _iso(day: date) -> str:
    return day.isoformat()


@functools.lru_cache(maxsize=256)
def _channel(card_type: str, scheme: str) -> str:
    return f"{'wallet' if card_type == 'W' else 'card'} {scheme}"


def channel_of(line: StatementLine) -> str:
    """`card unionpay`, `card visa`, `wallet alipay`, ...: how the customer paid."""
    return _channel(line.card_type, line.scheme)


def _line_row(line: ReconciledLine) -> tuple[Any, ...]:
    """A line's columns (`CSV_COLUMNS`): the statement's figures where there is a statement line, the
    terminal's where only the record is."""
    r, s = line.record, line.line
    category, action = _CATEGORY_COLUMNS[line.category]
    if s is not None:
        rrn = s.rrn or (r.rrn if r else "") or ""
        account = s.account or (r.masked_pan if r else "") or ""
        terminal, stan = (r.terminal, r.stan) if r else (s.terminal, s.stan)
        code, channel, fees, net, cleared = (s.code, _channel(s.card_type, s.scheme), s.mdr, s.settlement_amount,
                                             _iso(s.clearing_date))
    else:
        rrn = (r.rrn if r else "") or ""
        account = (r.masked_pan if r else "") or ""
        terminal, stan = (r.terminal, r.stan) if r else ("", "")
        code, channel, fees, net, cleared = "", _record_channel(line), None, None, None
    return (_iso(line.day), category, line.reason, action, terminal, r.batch if r else "", stan, rrn, account, code,
            channel, entry_mode_name(r.entry_mode if r else None), line.terminal_amount, line.acquirer_amount,
            fees, net, cleared)


def _record_channel(line: ReconciledLine) -> str:
    r = line.record
    if r is None:
        return ""
    return f"wallet {r.wallet}" if r.wallet else f"card {r.scheme or '-'}"


def _when(line: ReconciledLine) -> datetime:
    """When the line happened: the terminal's moment, else the acquirer's transmission time (both aware,
    so they compare; no formatting per line)."""
    if line.record is not None:
        return line.record.created_at
    return transmitted_at(line.line) if line.line is not None else _NEVER


def build_report(merchant: str, first: date, last: date, lines: list[ReconciledLine],
                 statements: Sequence[Statement]) -> Report:
    """The report of the days `first`..`last` from the matched lines and the statements read."""
    modes: dict[int, str] = {}
    for line in lines:
        if line.line is not None:
            modes[id(line.line)] = entry_mode_name(line.record.entry_mode if line.record else None)
    channels: dict[tuple[str, str], ChannelTotal] = {}
    days: dict[date, DayTotal] = {}
    payouts: dict[date | None, list[Any]] = defaultdict(lambda: [set(), 0])
    checksums: dict[str, str | None] = {}
    for statement in sorted(statements, key=lambda s: s.clearing_date):
        if not first <= statement.clearing_date <= last:
            continue
        checksums[statement.clearing_date.isoformat()] = statement.checksum
        day = days.setdefault(statement.clearing_date, DayTotal(statement.clearing_date))
        payout = payouts[statement.settlement_date]
        payout[0].add(statement.clearing_date)
        for s in statement.lines:
            key = (channel_of(s), modes.get(id(s), "-"))
            channels.setdefault(key, ChannelTotal(*key)).add(s)
            day.count += 1
            day.gross += s.amount
            day.fees += s.mdr
            day.net += s.settlement_amount
            payout[1] += s.settlement_amount
    for line in lines:
        if line.category is not Category.MATCHED:
            days.setdefault(line.day, DayTotal(line.day)).exceptions += 1
    terminals = sorted({x.record.terminal for x in lines if x.record} | {x.line.terminal for x in lines if x.line})
    terminal_total = sum(x.terminal_amount or 0 for x in lines
                         if x.record is not None and x.record.state in ("approved", "voided", "completed"))
    order = {c: i for i, c in enumerate(Category)}
    ordered = sorted(lines, key=lambda x: (x.day, order[x.category], _when(x)))
    return Report(
        merchant=merchant, terminals=tuple(terminals), first=first, last=last, lines=ordered,
        channels=[channels[k] for k in sorted(channels)],
        days=[days[d] for d in sorted(days)],
        payouts=[Payout(s, tuple(sorted(v[0])), v[1]) for s, v in sorted(payouts.items(), key=lambda kv: str(kv[0]))],
        checksums=checksums, terminal_total=terminal_total)
