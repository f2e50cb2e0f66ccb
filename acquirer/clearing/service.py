"""Clearing over the acquirer's storage: `acquirer clear`, statements, payouts and disputes.

Why one transaction per day: a day's lines, its clearing postings, its
merchants' totals and its `clearing_days` row are committed together, so a
run killed at any moment leaves either nothing (run it again) or the whole
day. The files are written to `<day>.partial/` meanwhile and renamed to
`<day>/` after the commit; a day committed without its directory (killed
between the two) gets its files made again from the stored lines, which
gives the same bytes. A cleared day is never cleared again: `clear` then only
checks its files are there.

Days are cleared in order: clearing a day whose earlier days hold uncleared
money is refused, naming the day to clear first (`clear_through` does it in
order). An event recorded after its own day was cleared (a late reversal or
refund) clears on the next day as an adjustment.
"""
from __future__ import annotations

import heapq
import io
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

from acquirer.protocol.clock import clearing_date, day_window
from acquirer.clearing.disputes import next_state
from acquirer.clearing.errors import ClearingError
from acquirer.clearing.events import (
    Channel,
    ClearingEvent,
    ClearingLine,
    Fees,
    LineCode,
)
from acquirer.clearing.fees import FeeEngine
from acquirer.clearing.files import RecordFile
from acquirer.clearing.payouts import PayoutLine, payout_account, payout_lines, write_payouts
from acquirer.clearing.run import DayResult, Posting, payable_account, price, write_day
from acquirer.clearing.settlement_calendar import SettlementCalendar
from acquirer.clearing.terms import ClearingConfig
from acquirer.ledger import Ledger
from acquirer.storage.clearing import ClearingStore, EventRow
from acquirer.storage.store import Store

__all__ = ["Clearing", "DayOutcome"]

_CODES = {"sale": LineCode.SALE, "void": LineCode.VOID, "refund": LineCode.REFUND,
          "completion": LineCode.COMPLETION, "completion_void": LineCode.COMPLETION_VOID,
          "reversal": LineCode.REVERSAL, "chargeback": LineCode.CHARGEBACK,
          "representment": LineCode.REPRESENTMENT}
_WALLET_TYPES = ("wallet_sale", "mpm_sale", "wallet_void", "wallet_refund")
_DOMESTIC = ("unionpay",)
#: codes whose original's clearing day the line names: (code, the original is the transaction itself)
_ORIGINAL_IS_SELF = frozenset(c.value for c in (LineCode.REVERSAL, LineCode.CHARGEBACK, LineCode.REPRESENTMENT))
_ORIGINAL_IS_PARENT = frozenset(c.value for c in (LineCode.VOID, LineCode.COMPLETION_VOID, LineCode.REFUND))
_DISPUTABLE = ("sale", "completion", "wallet_sale", "mpm_sale")
_GIVE_BACK = frozenset(c.value for c in (LineCode.VOID, LineCode.COMPLETION_VOID, LineCode.REVERSAL))


@dataclass(frozen=True)
class DayOutcome:
    day: date
    settlement_date: date
    lines: int
    already: bool          # the day was cleared before this run
    directory: Path


class Clearing:
    """Clearing of one acquirer (`acquirer` is its institution code) over one store."""

    def __init__(self, store: Store, config: ClearingConfig, calendar: SettlementCalendar, acquirer: str,
                 output_dir: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.store = store
        self.db = ClearingStore(store)
        self.config = config
        self.calendar = calendar
        self.engine = FeeEngine(config)
        self.acquirer = acquirer
        self.output_dir = output_dir
        self.clock = clock
        self.cutoff = config.clearing.cutoff_time

    # --- which days ---------------------------------------------------------------------------

    def last_finished_day(self) -> date:
        """The latest clearing day whose cut-off has passed."""
        return clearing_date(self.clock(), self.cutoff) - timedelta(days=1)

    def clear_through(self, target: date | None = None,
                      progress: Callable[[date, int], None] | None = None) -> list[DayOutcome]:
        """Clear every day up to `target` (default: the last finished one) that holds uncleared money, in order."""
        target = target or self.last_finished_day()
        self._check_over(target)
        cleared = self.db.cleared_days()
        first = self.db.first_uncleared(day_window(target, self.cutoff)[1])
        start = target
        if first is not None:
            start = min(target, clearing_date(datetime.fromisoformat(first), self.cutoff))
        days = []
        day = start
        while day <= target:
            if day not in cleared or day == target:
                days.append(day)
            day += timedelta(days=1)
        # a late event of a cleared day belongs to the next uncleared one: never clear an old day twice
        return [self.clear(day, progress) for day in days]

    def _check_over(self, day: date) -> None:
        end = day_window(day, self.cutoff)[1]
        if self.clock() < end:
            raise ClearingError(f"clearing day {day} is not over: it ends at {self.config.clearing.cutoff} "
                                f"Beijing time ({end.isoformat()})")

    # --- one day ------------------------------------------------------------------------------

    def clear(self, day: date, progress: Callable[[date, int], None] | None = None) -> DayOutcome:
        """Clear one day (idempotent: a cleared day only gets missing files made again)."""
        self._check_over(day)
        directory = self.output_dir / day.isoformat()
        cleared = self.db.cleared_days()
        if day in cleared:
            settlement, lines, _ = cleared[day]
            if not directory.is_dir():
                self._rewrite(day, settlement)
            return DayOutcome(day, settlement, lines, True, directory)
        settlement = self.calendar.settlement_date(day)      # an unknown year stops here, before anything
        partial = self.output_dir / f"{day.isoformat()}.partial"
        self.store.begin()
        try:
            # one clearing at a time (several host processes, `acquirer clear` beside `serve`): the
            # lock before the partial directory, so two runs never write the same files
            self.db.lock_clearing()
            cleared = self.db.cleared_days()
            done = cleared.get(day)
            if done is not None:                 # another run cleared it while this one waited
                self.store.rollback()
                return DayOutcome(day, done[0], done[1], True, directory)
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir(parents=True)
            result = self._run(day, settlement, cleared, partial, progress)
            self._post(result)
            self.db.save_merchant_days(day, settlement, [
                (mid, t.count, t.amount, t.mdr, t.settlement) for mid, t in sorted(result.merchants.items())])
            if not self.db.close_day(day, settlement, result.lines, result.checksums, self.clock().isoformat()):
                raise ClearingError(f"clearing day {day} was cleared meanwhile by another run")
            self.store.commit()
        except BaseException:
            self.store.rollback()
            shutil.rmtree(partial, ignore_errors=True)
            raise
        shutil.rmtree(directory, ignore_errors=True)
        partial.rename(directory)
        self.write_payouts(settlement)
        return DayOutcome(day, settlement, result.lines, False, directory)

    def _run(self, day: date, settlement: date, cleared: dict[date, Any], partial: Path,
             progress: Callable[[date, int], None] | None) -> DayResult:
        end = day_window(day, self.cutoff)[1]
        events = self._events(day, end, cleared)
        batch: list[tuple[Any, ...]] = []

        day_text = day.isoformat()

        def stored(lines: Iterable[ClearingLine]) -> Iterator[ClearingLine]:
            for seq, line in enumerate(lines, start=1):
                batch.append(_line_row(line, seq, day_text))
                if len(batch) >= 5000:
                    self.db.save_lines(batch)
                    batch.clear()
                    if progress is not None:
                        progress(day, seq)
                yield line
            self.db.save_lines(batch)

        return write_day(day, settlement, stored(price(day, events, self.engine, self.cutoff)), self.acquirer,
                         _opener(partial))

    def _events(self, day: date, end: datetime, cleared: dict[date, Any]) -> Iterator[ClearingEvent]:
        disputes = sorted((self._event(row) for row in self.db.dispute_events(end)),
                          key=lambda e: (e.mid, e.occurred_at, e.source, e.source_id))
        postings = (self._event(row) for row in self.db.day_events(end))
        merged = _merge(postings, disputes)
        start = day_window(day, self.cutoff)[0]
        for event in merged:
            if event.occurred_at < start:   # before the day: only from a day already cleared (late)
                natural = clearing_date(event.occurred_at, self.cutoff)
                if natural not in cleared:
                    raise ClearingError(f"clearing day {natural} holds uncleared money: clear it first")
            yield event

    def _event(self, row: EventRow) -> ClearingEvent:
        (source_id, kind, at, amount, txn_id, txn_type, tid, mid, stan, rrn, auth_code, account, scheme,
         institution, product, original_at, txn_at, original_id) = row
        if kind == "wallet_payment":
            code = LineCode.WALLET_SALE if txn_type == "wallet_sale" else LineCode.MPM_SALE
        else:
            code = _CODES[kind]
        source = "posting"
        if code is LineCode.CHARGEBACK:
            source, amount = "chargeback", -int(amount)
        elif code is LineCode.REPRESENTMENT:
            source = "representment"
        channel = (Channel.WALLET if txn_type in _WALLET_TYPES
                   else Channel.DOMESTIC if scheme in _DOMESTIC else Channel.FOREIGN)
        original_date = None
        value = code._value_                # a str: the sets below hash it without calling into `Enum`
        if value in _ORIGINAL_IS_SELF:
            original_date = clearing_date(datetime.fromisoformat(txn_at), self.cutoff)
        elif value in _ORIGINAL_IS_PARENT and original_at is not None:
            original_date = clearing_date(datetime.fromisoformat(original_at), self.cutoff)
        original_fees = None
        if value in _GIVE_BACK:
            fees = self.db.original_fees(int(txn_id if code is LineCode.REVERSAL else original_id or 0))
            original_fees = None if fees is None else Fees(*fees)
        return ClearingEvent(source, int(source_id), code, datetime.fromisoformat(at), tid, mid, stan or "",
                             rrn or "", auth_code or "", account or "", scheme or "", institution or "", channel,
                             product == "credit", int(amount), original_date, original_fees, int(txn_id))

    def _post(self, result: DayResult) -> None:
        ledger = Ledger(self.store)
        stamp = self.clock().isoformat()
        opened: set[str] = set()
        for posting in result.postings:
            _open_accounts(ledger, posting, opened)
            ledger.post("clearing", posting.legs, None, stamp)

    # --- disputes -------------------------------------------------------------------------------

    def dispute(self, action: str, rrn: str, amount: int | None, reason: str, now: datetime) -> str:
        """Apply a dispute action to the transaction with this RRN; returns what happened."""
        found = self.db.transaction_for_dispute(rrn)
        if found is None:
            raise ClearingError(f"no transaction with RRN {rrn}")
        txn_id, mid, original, txn_type = found
        if txn_type not in _DISPUTABLE:
            raise ClearingError(f"a {txn_type} cannot be disputed (only sales and completions)")
        current = self.db.dispute_of(txn_id)
        state = current[1] if current is not None else None
        new = next_state(state, action)
        stamp = now.astimezone(UTC).isoformat()
        self.store.begin()
        try:
            if action == "open":
                charged = original if amount is None else amount
                if charged > original:
                    raise ClearingError(f"a chargeback of {charged} fen is above the transaction's {original}")
                self.db.open_dispute(txn_id, charged, reason, stamp)
            else:
                assert current is not None   # next_state refused a move without a dispute
                self.db.move_dispute(current[0], new, stamp)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        return f"dispute on RRN {rrn} ({mid}) {new}; money moves on clearing day {clearing_date(now, self.cutoff)}"

    # --- files of cleared days ----------------------------------------------------------------

    def stored_lines(self, day: date, mid: str | None = None) -> list[ClearingLine]:
        return [_row_line(row) for row in self.db.lines(day, mid)]

    def _rewrite(self, day: date, settlement: date) -> None:
        partial = self.output_dir / f"{day.isoformat()}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        write_day(day, settlement, self.stored_lines(day), self.acquirer, _opener(partial))
        partial.rename(self.output_dir / day.isoformat())

    def statement(self, mid: str, day: date) -> tuple[date, list[ClearingLine], bytes]:
        """(settlement date, lines, fixed-width statement) of a merchant's cleared day."""
        if mid not in self.config.merchants:
            raise ClearingError(f"unknown merchant {mid}")
        cleared = self.db.cleared_days()
        if day not in cleared:
            raise ClearingError(f"clearing day {day} is not cleared yet")
        settlement = cleared[day][0]
        lines = self.stored_lines(day, mid)
        sink = io.BytesIO()
        f = RecordFile(sink, "STMT", self.acquirer, mid, day, settlement)
        for line in lines:
            f.detail(line)
        f.close()
        return settlement, lines, sink.getvalue()

    def payouts(self, settlement: date) -> list[PayoutLine]:
        """Payout lines of a settlement date, with what earlier dates carried in."""
        carried: dict[str, int] = {}
        for when, lines in self._payout_dates(settlement):
            if when == settlement:
                return lines
            carried = {p.mid: p.carried_out for p in lines if p.carried_out}
        return payout_lines({}, carried, self.config.merchants)

    def pay(self, settlement: date) -> tuple[Path, list[PayoutLine], list[date]]:
        """Payouts of settlement date S: the instruction file, and the ledger postings that empty the
        merchants' payable accounts into `payout:<date>` (the funds sent to the banks that day).

        Every settlement date up to S with merchants due and no payout posted yet is posted, in
        order, one posting per date; whether a date was posted is its `payout:<date>` account (opened
        in the same transaction, so a second run -- or a concurrent one -- posts nothing). Refused
        until every clearing day paid on or before S is cleared (S's own clearing day has begun and
        nothing before it is uncleared): a payout must never pay part of a date.
        Returns (file, S's lines, the dates posted now).
        """
        last = settlement - timedelta(days=1)
        self._check_over(last)
        first = self.db.first_uncleared(day_window(last, self.cutoff)[1])
        if first is not None:
            day = clearing_date(datetime.fromisoformat(first), self.cutoff)
            raise ClearingError(f"clearing day {day} holds uncleared money: clear it before paying {settlement}")
        ledger = Ledger(self.store)
        stamp = self.clock().isoformat()
        posted: list[date] = []
        self.store.begin()
        try:
            for when, lines in self._payout_dates(settlement):
                account = payout_account(when)
                if not ledger.open_account(account, "merchant"):
                    continue                                   # posted before
                legs = [(payable_account(p.mid), -p.paid) for p in lines if p.paid]
                if legs:
                    ledger.post("payout", [*legs, (account, sum(p.paid for p in lines))], None, stamp)
                posted.append(when)
            self.store.commit()
        except BaseException:
            self.store.rollback()
            raise
        return self.write_payouts(settlement), self.payouts(settlement), posted

    def _payout_dates(self, until: date) -> Iterator[tuple[date, list[PayoutLine]]]:
        """(settlement date, payout lines) of every date up to `until` with merchants due, in order."""
        carried: dict[str, int] = {}
        by_date: dict[date, dict[str, tuple[int, int]]] = {}
        for when, mid, days, net in self.db.merchant_dues(until):
            by_date.setdefault(when, {})[mid] = (days, net)
        for when in sorted(by_date):
            lines = payout_lines(by_date[when], carried, self.config.merchants)
            carried = {p.mid: p.carried_out for p in lines if p.carried_out}
            yield when, lines

    def write_payouts(self, settlement: date) -> Path:
        path = self.output_dir / "payouts" / f"payouts-{settlement.isoformat()}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as sink:
            write_payouts(sink, self.acquirer, settlement, self.payouts(settlement))
        partial.replace(path)
        return path


def _merge(first: Iterator[ClearingEvent], second: list[ClearingEvent]) -> Iterator[ClearingEvent]:
    """Two event streams, each sorted by merchant and time, as one."""
    return heapq.merge(first, iter(second), key=lambda e: (e.mid, e.occurred_at))


def _opener(directory: Path) -> Callable[[str], BinaryIO]:
    def opener(name: str) -> BinaryIO:
        return open(directory / name, "wb", buffering=1 << 16)
    return opener


def _open_accounts(ledger: Ledger, posting: Posting, opened: set[str]) -> None:
    """Open the posting's accounts that this run has not opened yet (one statement each)."""
    for account, _ in posting.legs:
        if account in opened:
            continue
        opened.add(account)
        if account.startswith("payable:"):
            ledger.open_account(account, "merchant")
        elif account.startswith("fee:"):
            ledger.open_account(account, "fee")
        elif account.startswith("issuer:"):
            ledger.open_account(account, "issuer")


def _line_row(line: ClearingLine, seq: int, day_text: str) -> tuple[Any, ...]:
    """The `clearing_lines` row of a line (`day_text`: its clearing date, formatted once per run)."""
    e, f = line.event, line.fees
    return (e.source, e.source_id, day_text, seq, e.txn_id, e.code._value_, int(line.late),
            e.occurred_at.isoformat(), e.tid, e.mid, e.stan, e.rrn, e.auth_code, e.masked_account, e.scheme,
            e.institution, e.channel._value_, int(e.credit), e.amount, line.mcc, f.issuer, f.network_acquirer,
            f.network_issuer, f.acquirer, None if e.original_date is None else e.original_date.isoformat())


def _row_line(row: tuple[Any, ...]) -> ClearingLine:
    (source, source_id, day, _seq, txn_id, code, late, at, tid, mid, stan, rrn, auth_code, account, scheme,
     institution, channel, credit, amount, mcc, issuer_fee, network_fee, network_fee_issuer, acquirer_fee,
     original_date) = row
    fees = Fees(int(issuer_fee), int(network_fee), int(network_fee_issuer), int(acquirer_fee))
    event = ClearingEvent(source, int(source_id), LineCode(code), datetime.fromisoformat(at), tid, mid, stan, rrn,
                          auth_code, account, scheme, institution, Channel(channel), bool(credit), int(amount),
                          None if original_date is None else date.fromisoformat(original_date), None, txn_id)
    return ClearingLine(event, date.fromisoformat(day), mcc, fees, bool(late))
