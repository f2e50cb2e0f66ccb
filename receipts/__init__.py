"""Receipts: the model of a transaction slip or settlement summary, and its rendering.

    receipt = Receipt(merchant=..., trace=..., card=CardDetails(...), ...)
    render_text(receipt, columns=32)           -> str   (screens, logs, `pos reprint --text`)
    render_escpos(receipt, profile)            -> bytes (one copy)
    render_copies(receipt, profile)            -> bytes (every copy it gets: hand to drivers.printer.PrintQueue)
    profile = load_profile("config/printers.toml", "80mm")

Imports nothing of the app but (potentially) acquirer.protocol; the printer
driver takes the bytes.
"""
from receipts.cjk_image import CjkFontMissing
from receipts.escpos_render import render_copies, render_escpos
from receipts.model import (
    CNY,
    CardDetails,
    Copy,
    Cvm,
    EntryMode,
    Merchant,
    Outcome,
    Receipt,
    ReceiptFieldError,
    SettlementReceipt,
    SettlementTotal,
    TransactionType,
    UnmaskedPanError,
    check_masked_pan,
    from_json,
    to_json,
)
from receipts.money import format_amount
from receipts.reconciliation import ReconciliationChannel, ReconciliationException, ReconciliationSlip
from receipts.profile import PrinterProfile, ProfileConfigError, load_profile, load_profiles
from receipts.text import render_text

__all__ = [
    "CNY",
    "CardDetails",
    "CjkFontMissing",
    "Copy",
    "Cvm",
    "EntryMode",
    "Merchant",
    "Outcome",
    "PrinterProfile",
    "ProfileConfigError",
    "Receipt",
    "ReceiptFieldError",
    "ReconciliationChannel",
    "ReconciliationException",
    "ReconciliationSlip",
    "SettlementReceipt",
    "SettlementTotal",
    "TransactionType",
    "UnmaskedPanError",
    "check_masked_pan",
    "format_amount",
    "from_json",
    "load_profile",
    "load_profiles",
    "render_copies",
    "render_escpos",
    "render_text",
    "to_json",
]
