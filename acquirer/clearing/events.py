"""What clearing sees of the day's records: events in, lines out.

An event is one movement of a merchant's money, signed from the merchant's
point of view (a sale +, a refund or void -, the reversal of a sale -, of a
void +, a chargeback -, a re-presentment +). Storage builds events from the
transaction records, the reversals and the disputes; clearing never sees a
full PAN (only the masked account).

Transaction codes (3 characters, in every clearing file):

| code | event                                   | sign |
| ---- | --------------------------------------- | ---- |
| SAL  | card sale                               | +    |
| CMP  | pre-authorization completion            | +    |
| VOD  | void of a sale                          | -    |
| CVD  | void of a completion                    | -    |
| RFD  | refund                                  | -    |
| WSL  | wallet payment code sale                | +    |
| MPM  | merchant-presented code sale            | +    |
| RVS  | reversal (0400) of any of the above     | opposite of its original |
| CHB  | chargeback (first chargeback)           | -    |
| REP  | re-presentment                          | +    |
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

__all__ = ["ZERO_FEES", "Channel", "ClearingEvent", "ClearingLine", "Fees", "LineCode"]


class LineCode(Enum):
    SALE = "SAL"
    COMPLETION = "CMP"
    VOID = "VOD"
    COMPLETION_VOID = "CVD"
    REFUND = "RFD"
    WALLET_SALE = "WSL"
    MPM_SALE = "MPM"
    REVERSAL = "RVS"
    CHARGEBACK = "CHB"
    REPRESENTMENT = "REP"


#: codes whose lines carry no fees: money moves between merchant and issuer only
DISPUTE_CODES = frozenset({LineCode.CHARGEBACK, LineCode.REPRESENTMENT})


class Channel(Enum):
    DOMESTIC = "D"   # UnionPay card, issuer fee by product
    FOREIGN = "F"    # a foreign scheme (Visa, Mastercard): contract rates
    WALLET = "W"     # a wallet (Alipay, WeChat Pay, UnionPay app)


@dataclass(frozen=True, slots=True)
class ClearingEvent:
    """One movement of merchant money, as storage hands it to clearing."""

    source: str              # "txn", "reversal" or "dispute": with source_id, the event's unique key
    source_id: int
    code: LineCode
    occurred_at: datetime    # UTC, aware
    tid: str
    mid: str
    stan: str
    rrn: str                 # the original's RRN for a reversal or a dispute
    auth_code: str
    masked_account: str      # masked PAN, or the wallet's masked payer
    scheme: str              # unionpay, visa, mastercard, alipay, wechat, ...
    institution: str         # the issuer or wallet that owes the acquirer (issuers' names)
    channel: Channel
    credit: bool             # a credit card (issuer fee rate); False for debit and wallets
    amount: int              # signed fen, merchant's view
    original_date: date | None = None   # clearing day of the original (void, refund, reversal, dispute)
    original_fees: Fees | None = None   # what the original was charged (void, reversal): given back exactly
    txn_id: int | None = None           # the acquirer's transaction record the event belongs to

    @property
    def key(self) -> tuple[str, int]:
        return self.source, self.source_id


@dataclass(frozen=True, slots=True)
class Fees:
    """One line's fees, each signed like the line's amount (fen)."""

    issuer: int              # to the issuer (or the wallet)
    network_acquirer: int    # the acquirer's side of the network fee (in the MDR)
    network_issuer: int      # the issuer's side (paid by the issuer, not the merchant)
    acquirer: int            # the acquirer's own fee

    @property
    def mdr(self) -> int:
        """What the merchant pays: issuer fee + the acquirer's network fee + the acquirer's fee."""
        return self.issuer + self.network_acquirer + self.acquirer

    def negated(self) -> Fees:
        return Fees(-self.issuer, -self.network_acquirer, -self.network_issuer, -self.acquirer)


ZERO_FEES = Fees(0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class ClearingLine:
    """An event cleared on a day, with its fees."""

    event: ClearingEvent
    clearing_date: date
    mcc: str
    fees: Fees
    late: bool = False       # the event belongs to a day already cleared: it clears on this one


    @property
    def settlement(self) -> int:
        """The merchant's net: amount - MDR (signed)."""
        return self.event.amount - self.fees.mdr

    @property
    def adjustment(self) -> bool:
        """A line that corrects an earlier clearing day: it came late, or its original cleared before."""
        original = self.event.original_date
        return self.late or (original is not None and original < self.clearing_date)
