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
from receipts.width import display_width, wrap

__all__ = ["MIN_COLUMNS", "Qr", "TextLine", "Block", "layout"]

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


class _Page:
    def __init__(self, columns: int) -> None:
        if columns < MIN_COLUMNS:
            raise ValueError(f"a receipt needs at least {MIN_COLUMNS} columns, got {columns}")
        self.columns = columns
        self.blocks: list[Block] = []

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
    page.line(title[0], align="center", bold=True, double=True)
    page.line(title[1], align="center", bold=True)
    if reprint:
        page.line(labels.REPRINT, align="center", bold=True)


def _merchant(page: _Page, doc: Receipt | SettlementReceipt) -> None:
    page.line(labels.MERCHANT_NAME)
    page.line(doc.merchant.name_zh, align="right")
    page.line(doc.merchant.name_en, align="right")
    page.pair(labels.MERCHANT_NO, doc.merchant.mid)
    page.pair(labels.TERMINAL_NO, doc.terminal_id)
    page.pair(labels.OPERATOR_NO, doc.operator)


def _receipt(page: _Page, r: Receipt) -> None:
    _header(page, labels.TITLE, r.reprint)
    page.line(labels.COPY[r.copy], align="center")
    page.rule()
    _merchant(page, r)
    page.rule()
    page.line(labels.CARD_NO)
    page.line(r.card.masked_pan, align="right", bold=True)
    page.pair(labels.SCHEME, labels.scheme(r.card.scheme))
    page.pair(labels.ENTRY_MODE, labels.ENTRY[r.card.entry_mode])
    page.pair(labels.TRANS_TYPE, labels.TRANSACTION[r.transaction], bold=True)
    page.pair(labels.BATCH_NO, f"{r.batch:06d}")
    page.pair(labels.VOUCHER_NO, f"{r.trace:06d}")
    if r.original_trace is not None:
        page.pair(labels.ORIGINAL_VOUCHER_NO, f"{r.original_trace:06d}")
    if r.rrn:
        page.pair(labels.REFERENCE_NO, r.rrn)
    if r.auth_code:
        page.pair(labels.AUTH_NO, r.auth_code)
    page.pair(labels.DATE_TIME, _when(r.when))
    page.line(labels.BALANCE if r.transaction is TransactionType.BALANCE else labels.AMOUNT)
    page.line(format_amount(r.signed_amount_fen), align="right", bold=True, double=True)
    page.rule()
    if r.outcome.approved:
        page.line(labels.APPROVED, bold=True)
    else:
        page.line(labels.DECLINED, bold=True)
        page.pair(labels.RESPONSE_CODE, r.outcome.response_code)
        page.line(r.outcome.reason)
    if r.card.aid or r.card.cryptogram:
        page.rule()
        if r.card.aid:
            page.pair("AID", r.card.aid)
        if r.card.app_label:
            page.pair(labels.APP_LABEL, r.card.app_label)
        if r.card.cryptogram and r.card.cryptogram_kind:
            page.pair(r.card.cryptogram_kind, r.card.cryptogram)
    if r.outcome.approved:
        page.rule()
        _verification(page, r)
    if r.e_receipt_url:
        page.rule()
        page.line(labels.E_RECEIPT, align="center")
        page.qr(r.e_receipt_url)
        page.line(r.e_receipt_url)


def _verification(page: _Page, r: Receipt) -> None:
    """Signature line on the merchant copy when the CVM is a signature; otherwise say none is needed."""
    if not r.needs_signature:
        page.line(labels.NO_SIGNATURE, bold=True)
        page.line(labels.NO_SIGNATURE_WHY[r.cvm])
    elif r.copy is Copy.MERCHANT:
        page.line(labels.SIGNATURE)
        page.line()
        page.line()
        page.line("_" * page.columns)
    for sentence in labels.ACKNOWLEDGEMENT:
        page.line(sentence)


def _settlement(page: _Page, s: SettlementReceipt) -> None:
    _header(page, labels.SETTLEMENT_TITLE, s.reprint)
    page.rule()
    _merchant(page, s)
    page.pair(labels.BATCH_NO, f"{s.batch:06d}")
    page.pair(labels.DATE_TIME, _when(s.when))
    page.rule()
    page.line(labels.SETTLEMENT_HEADER)
    for total in s.totals:
        page.pair(labels.TRANSACTION[total.transaction],
                  f"{total.count} / {format_amount(total.signed_amount_fen)}")
    page.rule()
    page.pair(labels.NET_TOTAL, format_amount(s.net_fen), bold=True)
    page.line(labels.BALANCED if s.balanced else labels.OUT_OF_BALANCE, align="center", bold=True)


def _reconciliation(page: _Page, r: ReconciliationSlip) -> None:
    _header(page, labels.RECONCILIATION_TITLE, False)
    page.rule()
    page.pair(labels.MERCHANT_NO, r.merchant.mid)
    page.pair(labels.TERMINALS, ",".join(t[-4:] for t in r.terminals) or "-")
    span = r.first.isoformat() if r.first == r.last else f"{r.first:%m-%d}..{r.last:%m-%d}"
    page.pair(labels.CLEARING_DAY, span)
    page.pair(labels.DATE_TIME, _when(r.when))
    page.rule()
    for c in r.channels:
        page.pair(f"{c.channel} x{c.count}", format_amount(c.gross))
    gross, fees, net = r.totals
    page.pair(labels.GROSS, format_amount(gross), bold=True)
    page.pair(labels.FEES, format_amount(-fees))
    page.pair(labels.NET_TOTAL, format_amount(net), bold=True)
    for when, amount in r.payouts:
        page.pair(f"{labels.PAYOUT} {when:%m-%d}" if when else labels.PAYOUT, format_amount(amount))
    page.rule()
    for title, count, amount in r.categories:
        page.pair(f"{title} x{count}", format_amount(amount))
    page.rule()
    if not r.exception_count:
        page.line(labels.ALL_MATCHED, align="center", bold=True)
        return
    page.line(f"{labels.EXCEPTIONS}: {r.exception_count}", bold=True)
    for e in r.exceptions:
        page.line(e.category)
        page.pair(f" {e.terminal[-4:]}/{e.trace}", format_amount(e.amount))
    if r.exception_count > len(r.exceptions):
        page.line(labels.MORE_ON_SCREEN)


def layout(document: Receipt | SettlementReceipt | ReconciliationSlip, columns: int) -> list[Block]:
    """The blocks of a receipt, settlement summary or reconciliation slip for a paper `columns` wide."""
    page = _Page(columns)
    if isinstance(document, Receipt):
        _receipt(page, document)
    elif isinstance(document, SettlementReceipt):
        _settlement(page, document)
    elif isinstance(document, ReconciliationSlip):
        _reconciliation(page, document)
    else:
        raise TypeError(f"cannot lay out {type(document).__name__}: expected Receipt, SettlementReceipt "
                        f"or ReconciliationSlip")
    return page.blocks
