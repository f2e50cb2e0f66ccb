"""Receipts built from the kit's test configuration, shared by the receipt and printer tests.

The merchant and terminal come from config/acquirer.toml, the cards from
config/cards.toml (full PANs live only there); every receipt gets the PAN
masked by the terminal's own `acquirer.protocol.cardholder.mask_pan`, exactly as the engine will.
"""
from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from acquirer.protocol.mpm import build_dynamic_mpm
from acquirer.protocol.cardholder import mask_pan
from receipts import (
    CardDetails,
    Copy,
    Cvm,
    EntryMode,
    Merchant,
    Outcome,
    PaymentCodeSlip,
    Receipt,
    ReportTransaction,
    SettlementReceipt,
    SettlementTotal,
    ShiftReport,
    TransactionType,
)

CONFIG = Path(__file__).resolve().parents[2] / "config"
_ACQUIRER = tomllib.loads((CONFIG / "acquirer.toml").read_text(encoding="utf-8"))
_CARDS = {c["name"]: c for c in tomllib.loads((CONFIG / "cards.toml").read_text(encoding="utf-8"))["card"]}

MERCHANT = Merchant(_ACQUIRER["merchant"][0]["name_zh"], _ACQUIRER["merchant"][0]["name_en"],
                    _ACQUIRER["merchant"][0]["mid"])
TERMINAL_ID = _ACQUIRER["terminal"][0]["tid"]
WHEN = datetime(2024, 5, 1, 4, 34, 56, tzinfo=UTC)        # 12:34:56 in Shanghai
E_RECEIPT_URL = "https://receipts.tillkit.example/r/10000001/000123?k=9f2c41d8"


def full_pan(card: str = "unionpay-debit") -> str:
    return _CARDS[card]["pan"]


def card(name: str = "unionpay-debit") -> CardDetails:
    c = _CARDS[name]
    return CardDetails(c["scheme"], mask_pan(c["pan"]), EntryMode.CONTACTLESS, c["aid"], c["label"],
                       "8A1F2E3D4C5B6A79", "TC")


def sale(amount_fen: int = 1234, trace: int = 123, **changes: object) -> Receipt:
    receipt = Receipt(
        merchant=MERCHANT, terminal_id=TERMINAL_ID, operator="01", batch=1, trace=trace, when=WHEN,
        transaction=TransactionType.SALE, amount_fen=amount_fen, card=card(),
        outcome=Outcome(True, "00"), cvm=Cvm.PIN, copy=Copy.CARDHOLDER,
        rrn="240501123456", auth_code="A1B2C3", e_receipt_url=E_RECEIPT_URL)
    return replace(receipt, **changes)


def void(**changes: object) -> Receipt:
    return sale(trace=124, transaction=TransactionType.VOID, original_trace=123, auth_code="A1B2C4",
                rrn="240501123457", **changes)


def refund(**changes: object) -> Receipt:
    return sale(amount_fen=500, trace=125, transaction=TransactionType.REFUND, original_trace=123,
                rrn="240501123458", auth_code=None, **changes)


def decline(**changes: object) -> Receipt:
    return sale(amount_fen=999_999, trace=126, outcome=Outcome(False, "51", "余额不足 INSUFFICIENT FUNDS"),
                auth_code=None, card=replace(card(), cryptogram_kind="ARQC"), **changes)


def settlement(balanced: bool = True, **changes: object) -> SettlementReceipt:
    summary = SettlementReceipt(
        merchant=MERCHANT, terminal_id=TERMINAL_ID, operator="01", batch=1, when=WHEN,
        totals=(SettlementTotal(TransactionType.SALE, 3, 3702),
                SettlementTotal(TransactionType.VOID, 1, 1234),
                SettlementTotal(TransactionType.REFUND, 1, 500)),
        balanced=balanced)
    return replace(summary, **changes)


def day_of_transactions() -> tuple[ReportTransaction, ...]:
    """A small day at the counter: two cashiers, cards and all three wallets, each kind of correction."""
    sale, void, refund = TransactionType.SALE, TransactionType.VOID, TransactionType.REFUND
    card, qr = EntryMode.CONTACTLESS, EntryMode.QR
    return (
        ReportTransaction(sale, 1234, "unionpay", False, card, "01"),
        ReportTransaction(void, 1234, "unionpay", False, card, "01"),            # voided the same day
        ReportTransaction(sale, 2000, "visa", False, card, "01"),
        ReportTransaction(sale, 4550, "alipay", True, qr, "02"),
        ReportTransaction(refund, 550, "alipay", True, qr, "02"),                # part of it given back
        ReportTransaction(sale, 880, "wechat", True, qr, "02"),
        ReportTransaction(sale, 300, "wechat", True, qr, "01", reversed=True),   # never confirmed: reversed
        ReportTransaction(sale, 1999, "unionpay", True, qr, "02"),               # the UnionPay app
        ReportTransaction(sale, 600, "unionpay", False, EntryMode.MANUAL, "01"),
    )


#: the two cashiers of the day, as registered (`pos operator add`): the reports name them
OPERATORS = (("01", "Wang Fang"), ("02", "Li Na"))


def x_report(**changes: object) -> ShiftReport:
    report = ShiftReport("X", MERCHANT, TERMINAL_ID, 1, WHEN, "01", day_of_transactions(), operator_names=OPERATORS)
    return replace(report, **changes)


def z_report(balanced: bool = True, **changes: object) -> ShiftReport:
    report = ShiftReport("Z", MERCHANT, TERMINAL_ID, 1, WHEN, "02", day_of_transactions(), balanced=balanced,
                         operator_names=OPERATORS)
    return replace(report, **changes)


MPM_PAYLOAD = build_dynamic_mpm(amount_fen=1234, merchant_id=MERCHANT.mid, terminal_id=TERMINAL_ID,
                                merchant_name="Tiantian Store", merchant_city="Shanghai", mcc="5411",
                                bill_number="20240501000123", name_local="天天便利店", city_local="上海")


def payment_code(**changes: object) -> PaymentCodeSlip:
    slip = PaymentCodeSlip(MERCHANT, TERMINAL_ID, 1234, MPM_PAYLOAD, "20240501000123", WHEN)
    return replace(slip, **changes)
