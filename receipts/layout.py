"""Lay a receipt out in printer columns, once for every output.

The layout is a list of blocks (text lines with an alignment and a style, and
the e-receipt QR). The plain-text and the ESC/POS renderers both walk it, so a
receipt reads the same on a screen, in a log and on paper. Widths are counted
in columns with CJK characters as two (`receipts.width`); a double-size line
has half the columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from acquirer.protocol.clock import CHINA
from receipts import labels
from receipts.model import Copy, Receipt, SettlementReceipt, TransactionType
from receipts.money import format_amount
from receipts.reconciliation import ReconciliationSlip
from receipts.payment_code import PaymentCodeSlip
from receipts.report import Count, ShiftReport, Totals
from receipts.width import display_width, wrap

__all__ = ["MIN_COLUMNS", "Block", "Document", "Labels", "Qr", "TextLine", "english_only", "layout"]

MIN_COLUMNS = 24           # the longest label pair needs this much


@dataclass(frozen=True)
class TextLine:
    text: str
    align: Literal["left", "center", "right"] = "left"
    bold: bool = False
    double: bool = False   # double width and double height


@dataclass(frozen=True)
class Qr:
    payload: str


Block = TextLine | Qr
Document = Receipt | SettlementReceipt | ShiftReport | PaymentCodeSlip | ReconciliationSlip
Labels = Literal["bilingual", "english"]


def english_only(label: str) -> str:
    """The English half of a bilingual label: "凭证号 VOUCHER NO." -> "VOUCHER NO.".

    For printers that draw Chinese as raster images: a bilingual slip costs
    them tens of KiB (about 40 s a copy at 9600 baud), the English words alone
    print as text. Full-width brackets become ASCII ones.
    """
    words = [w for w in label.replace("（", "(").replace("）", ")").split(" ") if w.isascii()]
    text = " ".join(words)
    if label.startswith("（") and not text.startswith("("):
        text = "(" + text
    return text


class _Page:
    def __init__(self, columns: int, labels: Labels = "bilingual") -> None:
        if columns < MIN_COLUMNS:
            raise ValueError(f"a receipt needs at least {MIN_COLUMNS} columns, got {columns}")
        self.columns = columns
        self.english = labels == "english"
        self.blocks: list[Block] = []

    def label(self, text: str) -> str:
        """A bilingual label as this page prints labels."""
        return english_only(text) if self.english else text

    def line(self, text: str = "", align: Literal["left", "center", "right"] = "left",
             bold: bool = False, double: bool = False) -> None:
        width = self.columns // 2 if double else self.columns
        for part in wrap(text, width):
            self.blocks.append(TextLine(part, align, bold, double))

    def rule(self) -> None:
        self.blocks.append(TextLine("-" * self.columns))

    def pair(self, label: str, value: str, bold: bool = False) -> None:
        """Label left and value right on one line, or the value under its label."""
        gap = self.columns - display_width(label) - display_width(value)
        if gap >= 1:
            self.blocks.append(TextLine(label + " " * gap + value, bold=bold))
            return
        self.line(label)
        self.line(value, align="right", bold=bold)

    def qr(self, payload: str) -> None:
        self.blocks.append(Qr(payload))


def _when(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")


def _header(page: _Page, title: tuple[str, str], reprint: bool) -> None:
    if page.english:
        page.line(title[1], align="center", bold=True, double=True)
    else:
        page.line(title[0], align="center", bold=True, double=True)
        page.line(title[1], align="center", bold=True)
    if reprint:
        page.line(page.label(labels.REPRINT), align="center", bold=True)


def _merchant(page: _Page, doc: Receipt | SettlementReceipt | ShiftReport) -> None:
    page.line(page.label(labels.MERCHANT_NAME))
    page.line(doc.merchant.name_zh, align="right")
    page.line(doc.merchant.name_en, align="right")
    page.pair(page.label(labels.MERCHANT_NO), doc.merchant.mid)
    page.pair(page.label(labels.TERMINAL_NO), doc.terminal_id)
    page.pair(page.label(labels.OPERATOR_NO), doc.operator)


def _receipt(page: _Page, r: Receipt) -> None:
    _header(page, labels.TITLE, r.reprint)
    page.line(page.label(labels.COPY[r.copy]), align="center")
    page.rule()
    _merchant(page, r)
    page.rule()
    if r.wallet_order is not None:   # a wallet payment: the payer's masked account, the wallet, the order
        page.line(page.label(labels.PAYER_ACCOUNT))
        page.line(r.card.masked_pan, align="right", bold=True)
        page.pair(page.label(labels.WALLET), page.label(labels.channel(r.card.scheme, wallet=True)))
        page.pair(page.label(labels.ORDER_NO), r.wallet_order)
    else:
        page.line(page.label(labels.CARD_NO))
        page.line(r.card.masked_pan, align="right", bold=True)
        page.pair(page.label(labels.SCHEME), page.label(labels.scheme(r.card.scheme)))
    page.pair(page.label(labels.ENTRY_MODE), page.label(labels.ENTRY[r.card.entry_mode]))
    page.pair(page.label(labels.TRANS_TYPE), page.label(labels.TRANSACTION[r.transaction]), bold=True)
    page.pair(page.label(labels.BATCH_NO), f"{r.batch:06d}")
    page.pair(page.label(labels.VOUCHER_NO), f"{r.trace:06d}")
    if r.original_trace is not None:
        page.pair(page.label(labels.ORIGINAL_VOUCHER_NO), f"{r.original_trace:06d}")
    if r.rrn:
        page.pair(page.label(labels.REFERENCE_NO), r.rrn)
    if r.auth_code:
        page.pair(page.label(labels.AUTH_NO), r.auth_code)
    page.pair(page.label(labels.DATE_TIME), _when(r.when))
    page.line(page.label(labels.BALANCE if r.transaction is TransactionType.BALANCE else labels.AMOUNT))
    page.line(format_amount(r.signed_amount_fen), align="right", bold=True, double=True)
    page.rule()
    if r.outcome.approved:
        page.line(page.label(labels.APPROVED), bold=True)
    else:
        page.line(page.label(labels.DECLINED), bold=True)
        page.pair(page.label(labels.RESPONSE_CODE), r.outcome.response_code)
        page.line(r.outcome.reason)
    if r.card.aid or r.card.cryptogram:
        page.rule()
        if r.card.aid:
            page.pair("AID", r.card.aid)
        if r.card.app_label:
            page.pair(page.label(labels.APP_LABEL), r.card.app_label)
        if r.card.cryptogram and r.card.cryptogram_kind:
            page.pair(r.card.cryptogram_kind, r.card.cryptogram)
    if r.outcome.approved:
        page.rule()
        _verification(page, r)
    if r.e_receipt_url and r.copy is Copy.CARDHOLDER:   # the customer's link: the merchant keeps no QR
        page.rule()
        page.line(page.label(labels.E_RECEIPT), align="center")
        page.qr(r.e_receipt_url)
        page.line(r.e_receipt_url)


def _verification(page: _Page, r: Receipt) -> None:
    """Signature line on the merchant copy when the CVM is a signature; otherwise say none is needed."""
    if not r.needs_signature:
        page.line(page.label(labels.NO_SIGNATURE), bold=True)
        page.line(page.label(labels.NO_SIGNATURE_WHY[r.cvm]))
    elif r.copy is Copy.MERCHANT:
        page.line(page.label(labels.SIGNATURE))
        page.line()
        page.line()
        page.line("_" * page.columns)
    for sentence in labels.ACKNOWLEDGEMENT:
        if sentence.isascii() or not page.english:
            page.line(sentence)


def _settlement(page: _Page, s: SettlementReceipt) -> None:
    _header(page, labels.SETTLEMENT_TITLE, s.reprint)
    page.rule()
    _merchant(page, s)
    page.pair(page.label(labels.BATCH_NO), f"{s.batch:06d}")
    page.pair(page.label(labels.DATE_TIME), _when(s.when))
    page.rule()
    page.line(page.label(labels.SETTLEMENT_HEADER))
    for total in s.totals:
        page.pair(page.label(labels.TRANSACTION[total.transaction]),
                  f"{total.count} / {format_amount(total.signed_amount_fen)}")
    page.rule()
    page.pair(page.label(labels.NET_TOTAL), format_amount(s.net_fen), bold=True)
    page.line(page.label(labels.BALANCED if s.balanced else labels.OUT_OF_BALANCE), align="center", bold=True)


def _reconciliation(page: _Page, r: ReconciliationSlip) -> None:
    _header(page, labels.RECONCILIATION_TITLE, False)
    page.rule()
    page.pair(page.label(labels.MERCHANT_NO), r.merchant.mid)
    page.pair(page.label(labels.TERMINALS), ",".join(t[-4:] for t in r.terminals) or "-")
    span = r.first.isoformat() if r.first == r.last else f"{r.first:%m-%d}..{r.last:%m-%d}"
    page.pair(page.label(labels.CLEARING_DAY), span)
    page.pair(page.label(labels.DATE_TIME), _when(r.when))
    page.rule()
    for c in r.channels:
        page.pair(f"{c.channel} x{c.count}", format_amount(c.gross))
    gross, fees, net = r.totals
    page.pair(page.label(labels.GROSS), format_amount(gross), bold=True)
    page.pair(page.label(labels.FEES), format_amount(-fees))
    page.pair(page.label(labels.NET_TOTAL), format_amount(net), bold=True)
    for when, amount in r.payouts:
        page.pair(f"{page.label(labels.PAYOUT)} {when:%m-%d}" if when else page.label(labels.PAYOUT), format_amount(amount))
    page.rule()
    for title, count, amount in r.categories:
        page.pair(f"{title} x{count}", format_amount(amount))
    page.rule()
    if not r.exception_count:
        page.line(page.label(labels.ALL_MATCHED), align="center", bold=True)
        return
    page.line(f"{page.label(labels.EXCEPTIONS)}: {r.exception_count}", bold=True)
    for e in r.exceptions:
        page.line(e.category)
        page.pair(f" {e.terminal[-4:]}/{e.trace}", format_amount(e.amount))
    if r.exception_count > len(r.exceptions):
        page.line(page.label(labels.MORE_ON_SCREEN))


def _count(count: Count, sign: int = 1) -> str:
    return f"{count.count} / {format_amount(sign * count.amount_fen)}"


def _totals(page: _Page, totals: Totals, *, every_line: bool) -> None:
    """The counted lines of one group (all of them for the batch, the non-empty ones in a group), and its net."""
    for label, count, sign in ((labels.SALES, totals.sales, 1), (labels.COMPLETIONS, totals.completions, 1),
                               (labels.VOIDS, totals.voids, -1), (labels.REFUNDS, totals.refunds, -1),
                               (labels.COMPLETION_VOIDS, totals.completion_voids, -1),
                               (labels.REVERSALS, totals.reversals, 1), (labels.NO_MONEY_MOVED, totals.other, 1)):
        always = every_line and label in (labels.SALES, labels.VOIDS, labels.REFUNDS, labels.REVERSALS)
        if count.count or always:
            page.pair(page.label(label), _count(count, sign))
    page.pair(page.label(labels.NET), format_amount(totals.net_fen), bold=True)


def _shift_report(page: _Page, report: ShiftReport) -> None:
    _header(page, labels.X_REPORT_TITLE if report.kind == "X" else labels.Z_REPORT_TITLE, report.reprint)
    page.rule()
    _merchant(page, report)
    page.pair(page.label(labels.BATCH_NO), f"{report.batch:06d}")
    page.pair(page.label(labels.DATE_TIME), _when(report.when))
    page.rule()
    page.line(page.label(labels.REPORT_TOTALS), bold=True)
    _totals(page, report.totals, every_line=True)
    if not report.transactions:
        page.line(page.label(labels.NO_TRANSACTIONS), align="center")
    sections = (
        (labels.BY_CHANNEL, [(labels.channel(key.split(":", 1)[1], key.startswith("wallet:")), totals)
                             for key, totals in report.by_channel().items()]),
        (labels.BY_ENTRY_MODE, [(labels.ENTRY[mode], totals) for mode, totals in report.by_entry_mode().items()]),
        (labels.BY_OPERATOR, [(f"{labels.OPERATOR} {report.operator_label(name)}", totals)
                              for name, totals in report.by_operator().items()]),
    )
    for title, groups in sections:
        if not groups:
            continue
        page.rule()
        page.line(page.label(title), bold=True)
        for name, totals in groups:
            page.line(page.label(name))
            _totals(page, totals, every_line=False)
    page.rule()
    if report.kind == "Z":
        page.line(page.label(labels.BALANCED if report.balanced else labels.OUT_OF_BALANCE), align="center",
                  bold=True)
    page.line(page.label(labels.X_REPORT_NOTE if report.kind == "X" else labels.Z_REPORT_NOTE), align="center")


def _payment_code(page: _Page, slip: PaymentCodeSlip) -> None:
    _header(page, labels.PAYMENT_CODE_TITLE, False)
    page.rule()
    if not page.english:
        page.line(slip.merchant.name_zh, align="center")
    page.line(slip.merchant.name_en, align="center")
    page.pair(page.label(labels.TERMINAL_NO), slip.terminal_id)
    page.pair(page.label(labels.BILL_NO), slip.bill)
    page.pair(page.label(labels.DATE_TIME), _when(slip.when))
    page.line(page.label(labels.AMOUNT))
    page.line(format_amount(slip.amount_fen), align="right", bold=True, double=True)
    page.rule()
    page.qr(slip.payload)
    page.line(page.label(labels.SCAN_WITH), align="center")


def layout(document: Document, columns: int, labels: Labels = "bilingual") -> list[Block]:
    """The blocks of a slip, summary, report or payment code for a paper `columns` wide.

    `labels` is "bilingual" (Chinese, then English) or "english" (the English
    half of every label; the document's own Chinese content, such as the
    merchant's Chinese name, stays).
    """
    page = _Page(columns, labels)
    if isinstance(document, Receipt):
        _receipt(page, document)
    elif isinstance(document, SettlementReceipt):
        _settlement(page, document)
    elif isinstance(document, ReconciliationSlip):
        _reconciliation(page, document)
    elif isinstance(document, ShiftReport):
        _shift_report(page, document)
    elif isinstance(document, PaymentCodeSlip):
        _payment_code(page, document)
    else:
        raise TypeError(f"cannot lay out {type(document).__name__}: expected a receipt, summary, report or code")
    return page.blocks
