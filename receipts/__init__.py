"""Receipts: the model of a transaction slip or settlement summary, and its rendering.

    receipt = Receipt(merchant=..., trace=..., card=CardDetails(...), ...)
    report = ShiftReport("X", merchant, tid, batch, when, operator, transactions)   (X/Z reports)
    slip = PaymentCodeSlip(merchant, tid, amount_fen, mpm_payload, bill, when)   (the MPM on paper)
    qr_cells(payload)                           -> QrCells (the code as half blocks for a terminal)
    render_text(receipt, columns=32)           -> str   (screens, logs, `pos reprint --text`)
    render_escpos(receipt, profile)            -> bytes (one copy)
    render_copies(receipt, profile)            -> bytes (every copy it gets: hand to drivers.printer.PrintQueue)
    profile = PrinterProfile("80mm", columns=48, dots=576, chinese="gb18030", native_qr=True,
                             escpos_profile="TM-T20II")   (pos.core.printers_file reads them from printers.toml)

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
from receipts.layout import Document
from receipts.money import format_amount
from receipts.reconciliation import ReconciliationChannel, ReconciliationException, ReconciliationSlip
from receipts.payment_code import PaymentCodeSlip
from receipts.profile import (
    PrinterProfile,
)
from receipts.qr_cells import QrCells, qr_cells
from receipts.report import (
    Count,
    ReportTransaction,
    ShiftReport,
    Totals,
    report_from_json,
    report_to_dict,
    report_to_json,
)
from receipts.text import render_text

__all__ = [
    "CNY",
    "CardDetails",
    "CjkFontMissing",
    "Copy",
    "Count",
    "Document",
    "Cvm",
    "EntryMode",
    "Merchant",
    "Outcome",
    "PaymentCodeSlip",
    "PrinterProfile",
    "QrCells",
    "Receipt",
    "ReceiptFieldError",
    "ReconciliationChannel",
    "ReconciliationException",
    "ReconciliationSlip",
    "ReportTransaction",
    "SettlementReceipt",
    "SettlementTotal",
    "ShiftReport",
    "Totals",
    "TransactionType",
    "UnmaskedPanError",
    "check_masked_pan",
    "format_amount",
    "from_json",
    "qr_cells",
    "render_copies",
    "render_escpos",
    "render_text",
    "report_from_json",
    "report_to_dict",
    "report_to_json",
    "to_json",
]
