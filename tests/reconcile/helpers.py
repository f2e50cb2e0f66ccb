"""A merchant's tills and its acquirer's statement, made with the real pieces.

Journal rows are written through `pos.journal.Journal` (begin, reply, void,
reversal, as the engine does); the moment of each row is then set to the
scenario's time (the till's clock). The acquirer's view of the same
transactions is a list of `ClearingEvent`s, cleared by `acquirer.clearing`'s
own run into a real statement file -- the bytes `pos reconcile` reads.
"""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count
from pathlib import Path

from acquirer.clearing.events import Channel, ClearingEvent, Fees, LineCode
from acquirer.clearing.fees import FeeEngine
from acquirer.clearing.files import RecordFile
from acquirer.clearing.run import clear_day
from acquirer.clearing.terms import ClearingConfig, HolidaysFile
from acquirer.protocol.clock import DEFAULT_CUTOFF, clearing_date
from pos.journal.store import APPROVED, VOIDED, Journal, Txn
from pos.reconcile.records import TerminalRecord, journal_records
from pos.reconcile.terms import MerchantTerms
from tests.clearing.helpers import Files

BEIJING = timezone(timedelta(hours=8))
MID = "898310048990001"
OTHER_MID = "898310048990002"
ACQUIRER = "48990000"
DAY = date(2026, 12, 3)
CARD = "621483******0015"
CLEARING = {
    "fees": {"foreign": {"visa": {"issuer_pct": "1.0", "network_pct": "0.1", "network_cap_fen": 500}},
             "wallets": {"alipay": {"fee_pct": "0.38"}, "wechat": {"fee_pct": "0.38"}}},
    "rate_plan": [{"name": "standard", "acquirer_pct": "0.1"}, {"name": "dear", "acquirer_pct": "0.2"}],
    "merchant": [{"mid": MID, "mcc": "5411", "rate_plan": "standard", "payout_account": "310066632018001234567"},
                 {"mid": OTHER_MID, "mcc": "5812", "rate_plan": "standard",
                  "payout_account": "310066632018007654321"}],
}
CALENDAR = HolidaysFile().calendar()
TERMS = MerchantTerms.model_validate({"merchant": MID, "plan": {"acquirer_pct": "0.1"}})
_rrn = count(100_000)


def engine(plan_of: dict[str, str] | None = None) -> FeeEngine:
    config = dict(CLEARING)
    if plan_of:
        config["merchant"] = [dict(m, rate_plan=plan_of.get(m["mid"], m["rate_plan"])) for m in CLEARING["merchant"]]
    return FeeEngine(ClearingConfig.model_validate(config))


def beijing(h: int, mi: int = 0, s: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, h, mi, s, tzinfo=BEIJING).astimezone(UTC)


class Till:
    """One terminal: a real journal, and the acquirer events its traffic made."""

    def __init__(self, tmp: Path, tid: str, mid: str = MID, journal: Path | None = None) -> None:
        self.tid, self.mid = tid, mid
        self.journal = Journal(journal or tmp / f"journal-{tid}.db")
        self.events: list[ClearingEvent] = []

    def _row(self, type: str, amount: int, at: datetime, *, scheme: str = "unionpay", wallet: str | None = None,
             entry_mode: str = "0712", original: Txn | None = None) -> Txn:
        extra = {}
        if original is not None:
            extra = {"original_id": original.id, "original_stan": original.stan, "original_rrn": original.rrn,
                     "original_batch": original.batch}
        txn = self.journal.begin(type=type, amount=amount, currency="156", processing_code="000000",
                                 condition_code="00", reversible=type != "refund", masked_pan=CARD,
                                 scheme=scheme, wallet=wallet, entry_mode=entry_mode, **extra)
        stamp = at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self.journal.db.execute("UPDATE transactions SET created_at = ? WHERE id = ?", [stamp, txn.id])
        return self.journal.get(txn.id)

    def approve(self, txn: Txn, becomes: str | None = None) -> Txn:
        return self.journal.record_reply(txn.id, state=APPROVED, response_code="00", rrn=f"{next(_rrn):012d}",
                                         auth_code="123456", original_becomes=becomes)

    def event(self, txn: Txn, code: LineCode, amount: int, at: datetime, *, channel: Channel = Channel.DOMESTIC,
              scheme: str = "unionpay", institution: str = "cup-bank", credit: bool = False,
              original_date: date | None = None, original_fees: Fees | None = None, source: str = "txn",
              stan: str | None = None, rrn: str | None = None) -> ClearingEvent:
        e = ClearingEvent(source=source, source_id=len(self.events) + 1 + 1000 * int(self.tid[-2:]), code=code,
                          occurred_at=at, tid=self.tid, mid=self.mid, stan=stan or txn.stan,
                          rrn=rrn or txn.rrn or "", auth_code=txn.auth_code or "", masked_account=CARD,
                          scheme=scheme, institution=institution, channel=channel, credit=credit, amount=amount,
                          original_date=original_date, original_fees=original_fees)
        self.events.append(e)
        return e

    # --- what happened at the counter, and what the acquirer saw -------------------

    def sale(self, amount: int, at: datetime, *, cleared: bool = True, host_at: datetime | None = None,
             host_amount: int | None = None) -> Txn:
        txn = self.approve(self._row("sale", amount, at))
        if cleared:
            self.event(txn, LineCode.SALE, host_amount if host_amount is not None else amount, host_at or at)
        return txn

    def wallet_sale(self, amount: int, at: datetime, wallet: str = "alipay") -> Txn:
        txn = self.approve(self._row("wallet_sale", amount, at, scheme=wallet, wallet=wallet, entry_mode="0302"))
        self.event(txn, LineCode.WALLET_SALE, amount, at, channel=Channel.WALLET, scheme=wallet,
                   institution=f"wallet-{wallet}")
        return txn

    def visa_sale(self, amount: int, at: datetime) -> Txn:
        txn = self.approve(self._row("sale", amount, at, scheme="visa"))
        self.event(txn, LineCode.SALE, amount, at, channel=Channel.FOREIGN, scheme="visa", institution="visa-bank")
        return txn

    def void(self, sale: Txn, at: datetime, *, cleared: bool = True) -> Txn:
        txn = self.approve(self._row("void", sale.amount, at, original=sale), becomes=VOIDED)
        if cleared:
            original = next(e for e in self.events if e.stan == sale.stan and e.code is LineCode.SALE)
            fees = engine().fees(original)
            self.event(txn, LineCode.VOID, -sale.amount, at, original_date=DAY, original_fees=fees)
        return txn

    def refund(self, amount: int, at: datetime, *, answered: bool = True) -> Txn:
        row = self._row("refund", amount, at)
        txn = self.approve(row) if answered else self.journal.mark_unknown(row.id)
        self.event(txn, LineCode.REFUND, -amount, at, original_date=DAY - timedelta(days=1),
                   rrn=txn.rrn or f"{next(_rrn):012d}")
        return txn

    def lost_reply(self, amount: int, at: datetime, *, reversal_arrives: bool) -> Txn:
        """The host approved, the reply was lost: the terminal reverses (the reversal reaches the host or not)."""
        row = self._row("sale", amount, at)
        rrn = f"{next(_rrn):012d}"
        sale = self.event(row, LineCode.SALE, amount, at, rrn=rrn)
        txn = self.journal.decide_reversal(row.id, "98")
        if reversal_arrives:
            txn = self.journal.reversal_acknowledged(row.id)
            fees = engine().fees(sale)
            self.event(row, LineCode.REVERSAL, -amount, at + timedelta(seconds=40), rrn=rrn, original_date=DAY,
                       original_fees=fees)
        return txn

    def records(self) -> list[TerminalRecord]:
        return journal_records(self.journal, "", self.tid, self.mid)


def statement(events: list[ClearingEvent], day: date = DAY, mid: str = MID,
              plan_of: dict[str, str] | None = None, late: list[ClearingEvent] | None = None) -> bytes:
    """The merchant statement the acquirer's clearing run writes for `day`: the events of that day,
    plus `late` ones of earlier days (they clear here as adjustments)."""
    files = Files()
    chosen = sorted([e for e in events if clearing_date(e.occurred_at) == day] + (late or []),
                    key=lambda e: (e.mid, e.occurred_at))
    result = clear_day(day, chosen, engine(plan_of), CALENDAR, ACQUIRER,
                       files, DEFAULT_CUTOFF)
    name = f"statement-{mid}.txt"
    if name in files.data:
        return files.data[name]
    sink = io.BytesIO()   # a merchant without a line that day: the acquirer's empty statement
    RecordFile(sink, "STMT", ACQUIRER, mid, day, result.settlement_date).close()
    return sink.getvalue()
