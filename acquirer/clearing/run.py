"""The clearing run of one day: fees per line, balanced postings, and the files.

`clear_day` takes the day's events (storage gives every uncleared event whose
clearing day is this day or an earlier, already closed one -- a late
reversal or refund then becomes an adjustment line here) sorted by merchant,
and streams each line to the merchant's statement and the institution's
detail file while it adds up the totals. Only totals stay in memory.

Postings (one per merchant, institution and network that moved money; each
balanced, so the day's postings sum to zero):

| account                 | leg                 | meaning                                          |
| ----------------------- | ------------------- | ------------------------------------------------ |
| `merchant:<mid>`        | -gross              | authorized funds leave the uncleared state       |
| `payable:<mid>`         | +(gross - MDR)      | the merchant's net, paid on the settlement date  |
| `fee:acquirer`          | +acquirer fee       | the acquirer's income                            |
| `fee:issuer:<inst>`     | +issuer fee         | the issuer's (or wallet's) fee                   |
| `fee:network:<network>` | +both network sides | the network's fee from acquirer and issuer       |
| `issuer:<inst>`         | -issuer's network fee | the issuer pays its side                       |

A chargeback or re-presentment moves its amount between `payable:<mid>` and
`issuer:<inst>` (no fees). The net positions in the settlement reports are
sums of the same lines, so they match the postings by construction and the
tests check it from the ledger side.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, time
from typing import BinaryIO

from acquirer.protocol.clock import clearing_date, day_window
from acquirer.clearing.errors import ClearingError
from acquirer.clearing.events import Channel, ClearingEvent, ClearingLine, LineCode
from acquirer.clearing.fees import FeeEngine
from acquirer.clearing.files import RecordFile, detail_values
from acquirer.protocol.clearing_layouts import DETAIL, POSITION
from acquirer.clearing.settlement_calendar import SettlementCalendar

__all__ = ["DayResult", "Posting", "Totals", "clear_day", "payable_account", "price", "write_day"]

Leg = tuple[str, int]
#: opens a sink for a file name of the day (a file in a directory, or memory in tests)
Opener = Callable[[str], BinaryIO]


def payable_account(mid: str) -> str:
    return f"payable:{mid}"


@dataclass
class Totals:
    """Sums of lines (fen); nothing here is ever rounded."""

    count: int = 0
    amount: int = 0
    issuer: int = 0
    network_acquirer: int = 0
    network_issuer: int = 0
    acquirer: int = 0
    disputes: int = 0   # chargebacks and re-presentments, within `amount`

    def add(self, line: ClearingLine) -> None:
        f = line.fees
        amount = line.event.amount
        self.count += 1
        self.amount += amount
        self.issuer += f.issuer
        self.network_acquirer += f.network_acquirer
        self.network_issuer += f.network_issuer
        self.acquirer += f.acquirer
        code = line.event.code
        if code is LineCode.CHARGEBACK or code is LineCode.REPRESENTMENT:   # DISPUTE_CODES, without hashing
            self.disputes += amount

    def merge(self, other: Totals) -> None:
        self.count += other.count
        self.amount += other.amount
        self.issuer += other.issuer
        self.network_acquirer += other.network_acquirer
        self.network_issuer += other.network_issuer
        self.acquirer += other.acquirer
        self.disputes += other.disputes

    @property
    def mdr(self) -> int:
        return self.issuer + self.network_acquirer + self.acquirer

    @property
    def settlement(self) -> int:
        return self.amount - self.mdr


@dataclass(frozen=True)
class Posting:
    """One balanced clearing posting (the ledger writes it as is)."""

    clearing_date: date
    mid: str
    institution: str
    network: str | None
    legs: tuple[Leg, ...]


@dataclass
class DayResult:
    day: date
    settlement_date: date
    lines: int = 0
    merchants: dict[str, Totals] = field(default_factory=dict)
    institutions: dict[str, Totals] = field(default_factory=dict)
    postings: list[Posting] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)   # file name -> SHA-256 of its body


def clear_day(day: date, events: Iterable[ClearingEvent], engine: FeeEngine, calendar: SettlementCalendar,
              acquirer: str, opener: Opener, cutoff: time) -> DayResult:
    """Clear `day` over `events` (sorted by merchant; each on this day or a closed earlier one)."""
    return write_day(day, calendar.settlement_date(day), price(day, events, engine, cutoff), acquirer, opener)


def price(day: date, events: Iterable[ClearingEvent], engine: FeeEngine, cutoff: time) -> Iterator[ClearingLine]:
    """The day's lines: each event with its merchant's MCC and its fees."""
    start, end = day_window(day, cutoff)
    fees, terms = engine.fees, engine.terms
    for event in events:
        at = event.occurred_at
        late = False
        if not start <= at < end:   # the usual case needs no calendar arithmetic
            natural = clearing_date(at, cutoff)
            if natural > day:
                raise ClearingError(f"event {event.source} {event.source_id} belongs to {natural}, after {day}")
            late = natural < day
        yield ClearingLine(event, day, terms(event.mid).mcc, fees(event), late)


def write_day(day: date, settlement: date, lines: Iterable[ClearingLine], acquirer: str,
              opener: Opener) -> DayResult:
    """Stream priced lines (sorted by merchant) into the day's files and add up the results.

    Also how a cleared day's files are made again from its stored lines: the
    same lines in the same order give the same bytes.
    """
    result = DayResult(day, settlement)
    format_detail = DETAIL.format
    groups: dict[tuple[str, str, str | None], Totals] = {}
    networks: dict[str, dict[str, Totals]] = {}   # network -> institution -> totals
    with ExitStack() as stack:
        details: dict[str, RecordFile] = {}
        statement: _Statement | None = None
        done_mids: set[str] = set()
        for line in lines:
            event = line.event
            if statement is None or event.mid != statement.mid:
                if event.mid in done_mids:
                    raise ClearingError("events must come sorted by merchant")
                if statement is not None:
                    statement.close(result)
                    done_mids.add(statement.mid)
                statement = _Statement(event.mid, opener, acquirer, day, settlement)
            values = detail_values(line)
            record = (format_detail(values) + "\n").encode("ascii")
            amount, mdr = event.amount, values[_MDR]
            statement.file.encoded_detail(record, amount, mdr)   # type: ignore[arg-type]
            detail = details.get(event.institution)
            if detail is None:
                detail = details[event.institution] = RecordFile(
                    stack.enter_context(opener(f"detail-{event.institution}.txt")), "DETL", acquirer,
                    event.institution, day, settlement)
            detail.encoded_detail(record, amount, mdr)   # type: ignore[arg-type]
            result.lines += 1
            key = (event.mid, event.institution, None if event.channel is Channel.WALLET else event.scheme)
            group = groups.get(key)
            if group is None:
                group = groups[key] = Totals()
            group.add(line)
        if statement is not None:
            statement.close(result)
        for institution, detail in sorted(details.items()):
            result.checksums[f"detail-{institution}.txt"] = detail.close()
    # every other total is a sum of the groups' (one addition per line, not four)
    for (mid, institution, network), t in groups.items():
        result.merchants.setdefault(mid, Totals()).merge(t)
        result.institutions.setdefault(institution, Totals()).merge(t)
        if network is not None:
            networks.setdefault(network, {}).setdefault(institution, Totals()).merge(t)
    _settlement_reports(result, networks, acquirer, opener)
    result.postings = [_posting(day, key, totals) for key, totals in sorted(groups.items(), key=_group_order)]
    result.postings = [p for p in result.postings if len(p.legs) >= 2]
    return result


#: where the MDR is in a `D` record's values
_MDR = [f.name for f in DETAIL.fields].index("mdr")


class _Statement:
    """The merchant statement being written (one open at a time: a day has many merchants)."""

    def __init__(self, mid: str, opener: Opener, acquirer: str, day: date, settlement: date) -> None:
        self.mid = mid
        self.sink = opener(f"statement-{mid}.txt")
        self.file = RecordFile(self.sink, "STMT", acquirer, mid, day, settlement)

    def close(self, result: DayResult) -> None:
        result.checksums[f"statement-{self.mid}.txt"] = self.file.close()
        self.sink.close()


def _group_order(item: tuple[tuple[str, str, str | None], Totals]) -> tuple[str, str, str]:
    mid, institution, network = item[0]
    return mid, institution, network or ""


def _posting(day: date, key: tuple[str, str, str | None], t: Totals) -> Posting:
    mid, institution, network = key
    cleared = t.amount - t.disputes       # authorized money; disputes never were in merchant:<mid>
    legs: dict[str, int] = {}

    def leg(account: str, amount: int) -> None:
        legs[account] = legs.get(account, 0) + amount

    leg(f"merchant:{mid}", -cleared)
    leg(payable_account(mid), t.settlement)
    leg("fee:acquirer", t.acquirer)
    leg(f"fee:issuer:{institution}", t.issuer)
    if network is not None:
        leg(f"fee:network:{network}", t.network_acquirer + t.network_issuer)
    leg(f"issuer:{institution}", -t.network_issuer - t.disputes)
    nonzero = tuple((account, amount) for account, amount in legs.items() if amount != 0)
    if sum(amount for _, amount in nonzero) != 0:
        raise AssertionError(f"unbalanced clearing posting for {key}: {nonzero}")   # a defect, never data
    return Posting(day, mid, institution, network, nonzero)


def _settlement_reports(result: DayResult, networks: dict[str, dict[str, Totals]], acquirer: str,
                        opener: Opener) -> None:
    """One net settlement report per institution, per network, and the acquirer's own."""
    day, settlement = result.day, result.settlement_date
    network_of = {inst: net for net, insts in networks.items() for inst in insts}

    def report(owner: str, rows: list[tuple[str, Totals, int, int]]) -> None:
        with opener(f"settlement-{owner}.txt") as sink:
            f = RecordFile(sink, "NETS", acquirer, owner, day, settlement)
            for counterparty, t, network_issuer, position in rows:
                f.record(POSITION, ("S", counterparty, t.count, t.amount, t.issuer, t.network_acquirer,
                                    network_issuer, position), (t.amount, t.issuer, position))
            result.checksums[f"settlement-{owner}.txt"] = f.close()

    for institution, t in sorted(result.institutions.items()):
        rows = [(acquirer, t, t.network_issuer, -(t.amount - t.issuer))]
        if institution in network_of:
            rows.append((network_of[institution], Totals(), t.network_issuer, -t.network_issuer))
        report(institution, rows)
    for network, insts in sorted(networks.items()):
        acq = Totals()
        for t in insts.values():
            acq.count += t.count
            acq.network_acquirer += t.network_acquirer
        rows = [(acquirer, acq, 0, acq.network_acquirer)]
        rows += [(inst, Totals(count=t.count), t.network_issuer, t.network_issuer) for inst, t in sorted(insts.items())]
        report(network, rows)
    merchants = Totals()
    for t in result.merchants.values():
        merchants.merge(t)
    rows = [(inst, t, t.network_issuer, t.amount - t.issuer) for inst, t in sorted(result.institutions.items())]
    rows += [(network, Totals(), 0, -sum(t.network_acquirer for t in insts.values()))
             for network, insts in sorted(networks.items())]
    rows.append(("MERCHANTS", merchants, merchants.network_issuer, -merchants.settlement))
    report(acquirer, rows)
