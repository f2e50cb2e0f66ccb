"""Pairing the terminals' records with the acquirer's statement lines, one category per line.

Keys, in order (docs/reconcile.md):

1. terminal ID + STAN + date: the statement line of the record's type with
   the record's terminal and trace number whose transmission date (Beijing)
   is within a day of the record's. The statement carries no batch number,
   and a STAN is unique on a terminal until it wraps at 999,999, so the date
   is what tells a wrapped STAN apart; the batch is shown, not keyed on.
2. RRN + amount, when the first finds nothing (a record whose trace was
   re-used, a line the acquirer wrote with another STAN).

A reversal (`RVS`) carries its original's STAN and RRN, so it pairs with the
record it reverses. Each statement line is used at most once and each record
appears at most once, so every line lands in exactly one category.

Scope: records whose clearing day (by the acquirer's cut-off) is in the
range, and statement lines of days in the range. Records of the day before
and after are read too, and statements of neighbouring days may be given:
a pair that straddles the range's edge is "cleared on another day"; what is
outside the range and unpaired is not this reconciliation's business.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from acquirer.protocol.clock import CHINA, clearing_date
from acquirer.protocol.statement import Statement, StatementLine
from pos.reconcile.categories import Category
from pos.reconcile.errors import ReconcileError
from pos.reconcile.records import TerminalRecord
from pos.reconcile.terms import FeePlan, fee_problem
from receipts import format_amount

__all__ = ["CODE_OF", "ReconciledLine", "match", "transmitted_at"]

#: the statement code each journal type clears as
CODE_OF = {"sale": "SAL", "completion": "CMP", "void": "VOD", "completion_void": "CVD", "refund": "RFD",
           "wallet_sale": "WSL", "mpm_sale": "MPM"}
EXPECTED = frozenset({"approved", "voided", "completed"})      # the terminal holds the money as taken
REVERSED = frozenset({"reversed", "reversal_due"})             # the terminal undid it (no trustworthy reply)
NO_MONEY = frozenset({"declined", "not_sent", "pending", "unknown"})
NEAR_CUTOFF = timedelta(minutes=5)


class ReconciledLine(NamedTuple):
    """One line of the reconciliation: a record, a statement line, or both, in one category (a named tuple:
    immutable and quick to make, one per transaction)."""

    category: Category
    reason: str
    day: date                        # the clearing day it is reported under
    record: TerminalRecord | None
    line: StatementLine | None

    @property
    def terminal_amount(self) -> int | None:
        """The record's amount, signed as the merchant sees it (refunds and voids negative)."""
        if self.record is None:
            return None
        negative = self.record.type in ("void", "completion_void", "refund")
        return -self.record.amount if negative else self.record.amount

    @property
    def acquirer_amount(self) -> int | None:
        return None if self.line is None else self.line.amount


def _beijing(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _transmitted(line: StatementLine) -> date:
    """The line's transmission date (its MMDD in the year that puts it nearest its clearing day)."""
    return _mmdd_near(line.transmission_time[:4], line.clearing_date)


def transmitted_at(line: StatementLine) -> datetime:
    """The line's transmission moment (Beijing, aware): its date as `_transmitted` finds it, its hhmmss
    (the start of that day when the digits are no time of day: a line is only ordered by it)."""
    t = line.transmission_time
    try:
        at = time(int(t[4:6]), int(t[6:8]), int(t[8:10]))
    except ValueError:
        at = time(0)
    return datetime.combine(_transmitted(line), at, CHINA)


@functools.lru_cache(maxsize=4096)
def _mmdd_near(mmdd: str, clearing: date) -> date:
    """Cached: a statement has few distinct (MMDD, clearing day) pairs."""
    month, day = int(mmdd[:2]), int(mmdd[2:4])
    year = clearing.year
    for candidate in (year, year - 1, year + 1):
        try:
            when = date(candidate, month, day)
        except ValueError:
            continue
        if abs((when - clearing).days) <= 2:
            return when
    return clearing


class _Lines:
    """The statement lines, indexed by (terminal, STAN) and by RRN; each can be taken once."""

    def __init__(self, statements: Sequence[Statement]) -> None:
        days: set[date] = set()
        self.lines: list[StatementLine] = []
        for statement in statements:
            if statement.clearing_date in days:
                raise ReconcileError(f"two statements of clearing day {statement.clearing_date}: give each day once")
            days.add(statement.clearing_date)
            self.lines.extend(statement.lines)
        self.taken = [False] * len(self.lines)
        self.by_key: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, line in enumerate(self.lines):
            self.by_key[(line.terminal, line.stan)].append(i)
        self._by_rrn: dict[str, list[int]] | None = None

    @property
    def by_rrn(self) -> dict[str, list[int]]:
        """The lines by RRN, indexed the first time the second key is needed (most records pair by the first)."""
        if self._by_rrn is None:
            self._by_rrn = defaultdict(list)
            for i, line in enumerate(self.lines):
                if line.rrn:
                    self._by_rrn[line.rrn].append(i)
        return self._by_rrn

    def find(self, record: TerminalRecord, code: str, local: date) -> int | None:
        """The first line not yet taken for `record` (taken on `local`, its Beijing date) with statement `code`."""
        for i in self.by_key.get((record.terminal, record.stan), ()):
            line = self.lines[i]
            if not self.taken[i] and line.code == code and abs((_transmitted(line) - local).days) <= 1:
                return i
        if record.rrn:
            for i in self.by_rrn.get(record.rrn, ()):
                line = self.lines[i]
                if not self.taken[i] and line.code == code and abs(line.amount) == record.amount:
                    return i
        return None

    def take(self, i: int) -> StatementLine:
        self.taken[i] = True
        return self.lines[i]


def _near_cutoff(moment: datetime, cutoff: time) -> bool:
    local = moment.astimezone(CHINA)
    edge = datetime.combine(local.date(), cutoff, CHINA)
    return min(abs(local - edge), abs(local - (edge - timedelta(days=1))), abs(local - (edge + timedelta(days=1)))) \
        <= NEAR_CUTOFF


def _what(record: TerminalRecord) -> str:
    kind = record.type.replace("_", " ")
    return (f"{kind} {format_amount(record.amount)} at {_beijing(record.created_at)} on terminal {record.terminal} "
            f"(batch {record.batch}, trace {record.stan}{f', RRN {record.rrn}' if record.rrn else ''})")


def match(records: Iterable[TerminalRecord], statements: Sequence[Statement], first: date, last: date,
          plan_at: Callable[[datetime], FeePlan | None], cutoff: time) -> list[ReconciledLine]:
    """Every line of the days `first`..`last` in exactly one category (see the module docstring).

    `plan_at` gives the merchant's fee plan in force at a record's moment (None: fees are not checked).
    """
    pool = _Lines(statements)
    out: list[ReconciledLine] = []

    def in_range(day: date) -> bool:
        return first <= day <= last

    ordered = sorted((r for r in records if r.type in CODE_OF), key=lambda r: (r.created_at, r.terminal, r.id))
    approved_keys: set[tuple[str, str]] = set()
    for record in ordered:
        local = record.created_at.astimezone(CHINA)   # once: the clearing day and the matching both need it
        day = clearing_date(local, cutoff)
        if not (first - timedelta(days=1) <= day <= last + timedelta(days=1)):
            continue
        code = CODE_OF[record.type]
        found = pool.find(record, code, local.date())
        if record.state in EXPECTED:
            approved_keys.add((record.terminal, record.stan))
            if found is None:
                if in_range(day):
                    out.append(_missing(record, day, pool, cutoff))
                continue
            line = pool.take(found)
            if not (in_range(day) or in_range(line.clearing_date)):
                continue
            out.append(_paired(record, line, day, plan_at(record.created_at), in_range(line.clearing_date)))
        elif record.state in REVERSED:
            if found is None:
                if in_range(day):
                    pending = " (its reversal is still to be sent)" if record.state == "reversal_due" else ""
                    out.append(ReconciledLine(Category.MATCHED, f"{_what(record)}: reversed at the terminal"
                                              f"{pending}; the acquirer cleared nothing", day, record, None))
                continue
            line = pool.take(found)
            reversal = pool.find(record, "RVS", local.date())
            if reversal is None:
                if in_range(day) or in_range(line.clearing_date):
                    still = ("its reversal is still due at the terminal" if record.state == "reversal_due"
                             else "the acquirer never received the reversal")
                    out.append(ReconciledLine(
                        Category.TERMINAL_ONLY, f"{_what(record)}: reversed at the terminal (no trustworthy reply), "
                        f"but {still} and it cleared {format_amount(line.amount)} on {line.clearing_date}",
                        line.clearing_date, record, line))
                continue
            undo = pool.take(reversal)
            if in_range(line.clearing_date):
                out.append(_paired(record, line, day, plan_at(record.created_at), True,
                                   note="reversed at the terminal and at the acquirer"))
            if in_range(undo.clearing_date):
                if undo.clearing_date != line.clearing_date:
                    out.append(ReconciledLine(
                        Category.OTHER_DAY, f"reversal of trace {record.stan} reached the acquirer late: it "
                        f"cleared on {undo.clearing_date}, its original on {line.clearing_date}",
                        undo.clearing_date, None, undo))
                else:
                    out.append(ReconciledLine(Category.MATCHED, f"reversal of trace {record.stan} "
                                              f"(RRN {undo.rrn}): net zero with its original",
                                              undo.clearing_date, None, undo))
        elif record.state in NO_MONEY and found is not None:
            line = pool.take(found)
            if in_range(line.clearing_date):
                out.append(ReconciledLine(
                    Category.ACQUIRER_ONLY, f"{_what(record)}: the terminal recorded it as {record.state} "
                    f"(its reply was lost or not trusted), but the acquirer approved and cleared "
                    f"{format_amount(line.amount)}", line.clearing_date, record, line))
    terminals = {r.terminal for r in ordered}
    for i, line in enumerate(pool.lines):
        if not pool.taken[i] and in_range(line.clearing_date):
            out.append(_unpaired(line, terminals, (line.terminal, line.stan) in approved_keys))
    return out


def _paired(record: TerminalRecord, line: StatementLine, day: date, plan: FeePlan | None, line_in_range: bool,
            note: str = "the terminal and the acquirer agree") -> ReconciledLine:
    """A record and its line; reported under the line's day, or the record's when the line's is outside the range."""
    if line.clearing_date != day:
        return ReconciledLine(Category.OTHER_DAY, f"{_what(record)}: the terminal counts it on {day}, the acquirer "
                              f"cleared it on {line.clearing_date} (cut-off)",
                              line.clearing_date if line_in_range else day, record, line)
    if abs(line.amount) != record.amount:
        return ReconciledLine(Category.AMOUNT_DIFFERS, f"{_what(record)}: the acquirer cleared "
                              f"{format_amount(line.amount)}", day, record, line)
    problem = fee_problem(line, plan)
    if problem is not None:
        return ReconciledLine(Category.FEE_DIFFERS, f"{_what(record)}: {problem}", day, record, line)
    return ReconciledLine(Category.MATCHED, note, day, record, line)   # the line's own columns say the rest


def _missing(record: TerminalRecord, day: date, pool: _Lines, cutoff: time) -> ReconciledLine:
    what = _what(record)
    hint = (" -- it was close to the cut-off: it may be on the next day's statement"
            if _near_cutoff(record.created_at, cutoff) else "")
    if record.type in ("void", "completion_void") and record.original_stan:
        originals = [pool.lines[i] for i in pool.by_key.get((record.terminal, record.original_stan), ())
                     if pool.lines[i].code in ("SAL", "CMP")]
        if originals:
            return ReconciledLine(
                Category.VOIDED_BUT_CLEARED, f"{what}: voided trace {record.original_stan} at the terminal, but the "
                f"acquirer cleared the original ({format_amount(originals[0].amount)} on {originals[0].clearing_date}) "
                f"and no void{hint}", day, record, None)
    return ReconciledLine(Category.TERMINAL_ONLY, f"{what}: approved at the terminal, the acquirer has no line "
                          f"for it{hint}", day, record, None)


def _unpaired(line: StatementLine, terminals: set[str], approved: bool) -> ReconciledLine:
    where = (f"{line.code} {format_amount(line.amount)} on terminal {line.terminal} (trace {line.stan}, RRN {line.rrn}, "
             f"card {line.account})")
    if line.code == "CHB":
        reason = f"{where}: a chargeback -- the issuer took the money back (original of {line.original_date})"
        return ReconciledLine(Category.REFUNDED_OR_CHARGED_BACK, reason, line.clearing_date, None, line)
    if line.code == "REP":
        reason = f"{where}: a re-presentment -- the money of a chargeback came back"
        return ReconciledLine(Category.REFUNDED_OR_CHARGED_BACK, reason, line.clearing_date, None, line)
    if line.code == "RFD":
        reason = f"{where}: a refund made at the acquirer, not through these terminals"
        return ReconciledLine(Category.REFUNDED_OR_CHARGED_BACK, reason, line.clearing_date, None, line)
    if line.terminal not in terminals:
        reason = f"{where}: terminal {line.terminal}'s journal is not part of this reconciliation"
    elif line.code == "RVS" and approved:
        reason = f"{where}: the acquirer reversed a transaction the terminal shows as approved"
    else:
        reason = f"{where}: no record of it in the terminal's journal (an approval whose reply was lost?)"
    return ReconciledLine(Category.ACQUIRER_ONLY, reason, line.clearing_date, None, line)
