"""Receipts from the journal: a transaction's slip and a batch's settlement summary.

Everything a slip shows is in the journal row (masked PAN, scheme, entry mode,
AID, application label, the ARQC sent, the CVM, RRN, auth code, the answer)
or in the configuration (merchant names and number, terminal, operator, the
e-receipt link); this module maps the two onto `receipts.Receipt`. The slip as
first printed is kept in the row (`receipt`, JSON), so a reprint says the same
thing even after the configuration changed. No full PAN can reach a receipt:
the journal has none, and the receipt model refuses one.

Which transactions print: the answered ones (approved, declined, and those
later voided or completed) of every type but the balance inquiry, whose
balance is for the cardholder's eyes on the screen, not for a slip the
merchant keeps.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from acquirer.protocol import tlv
from acquirer.protocol.clock import CHINA
from acquirer.protocol.codes import WALLET_MEANINGS, UnknownResponseCode, lookup
from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.core.config import PosConfig
from pos.core.payment import CardData
from pos.journal.store import Journal, Txn
from pos.sources.emv.kernel import CVM_DEVICE, CVM_NONE
from receipts import (
    CardDetails,
    Cvm,
    EntryMode,
    Merchant,
    Outcome,
    Receipt,
    SettlementReceipt,
    SettlementTotal,
    TransactionType,
    from_json,
)

__all__ = ["PRINTED_TYPES", "SETTLEMENT_LINES", "ReceiptNotFound", "card_columns", "find_receipt",
           "settlement_receipt", "transaction_receipt"]


#: journal transaction type -> what the slip calls it (balance inquiries print no slip)
PRINTED_TYPES: dict[str, TransactionType] = {
    "sale": TransactionType.SALE,
    "void": TransactionType.VOID,
    "refund": TransactionType.REFUND,
    "preauth": TransactionType.PRE_AUTH,
    "preauth_void": TransactionType.PRE_AUTH_VOID,
    "completion": TransactionType.COMPLETION,
    "completion_void": TransactionType.COMPLETION_VOID,
    "wallet_sale": TransactionType.SALE,
    "mpm_sale": TransactionType.SALE,
    "wallet_void": TransactionType.VOID,
    "wallet_refund": TransactionType.REFUND,
}
#: wallet payments: the slip shows the payer's masked account, the wallet and the order number
WALLET_TYPES = ("wallet_sale", "mpm_sale", "wallet_void", "wallet_refund")
#: a merchant-presented code's payer, whose account the terminal never sees
UNSEEN_ACCOUNT = "********"
#: the lines of a settlement summary: the types that move money, always shown first three
SETTLEMENT_LINES = ("sale", "void", "refund", "completion", "completion_void")
ALWAYS_SHOWN = ("sale", "void", "refund")


class ReceiptNotFound(TillkitError, LookupError):
    """No receipt to (re)print: unknown trace, or a transaction that has none (the message says which)."""

    kind = ErrorKind.REFUSED
    message_key = "receipt.not_found"


def _cvm(card: CardData, pin: str | None) -> Cvm:
    """How the cardholder was verified: PIN, on the device, not at all (under the CVM limit), or by signature.

    Sources without a CVM decision of their own (manual entry) get the
    signature line: a keyed or unverified payment is signed for.
    """
    if pin:
        return Cvm.PIN
    if card.cardholder_verified or card.extra.get("cvm") == CVM_DEVICE:
        return Cvm.CDCVM
    if card.extra.get("cvm") == CVM_NONE:
        return Cvm.NO_CVM
    return Cvm.SIGNATURE


def card_columns(card: CardData, pin: str | None, with_icc: bool) -> dict[str, Any]:
    """What the journal keeps of a card read for its slip: the ARQC sent in field 55 and the CVM."""
    cryptogram = tlv.first(tlv.parse(card.icc_data), "9F26") if with_icc and card.icc_data else None
    return {"app_cryptogram": cryptogram.hex().upper() if cryptogram else None, "cvm": _cvm(card, pin).value}


def operator_of(txn: Txn, config: PosConfig) -> str:
    """The cashier a row names; a row written before operators were journalled names the configured one."""
    return txn.operator or config.terminal.operator


def merchant_of(config: PosConfig) -> Merchant:
    return Merchant(config.receipt.merchant_name_zh, config.receipt.merchant_name_en, config.terminal.mid)


def _e_receipt_url(config: PosConfig, batch: str, trace: str, when: datetime) -> str | None:
    template = config.receipt.url
    if template is None:
        return None
    return template.format(mid=config.terminal.mid, tid=config.terminal.tid, batch=batch, trace=trace,
                           date=when.astimezone(CHINA).strftime("%Y%m%d"))


def _outcome(txn: Txn) -> Outcome:
    code = txn.response_code or ""
    if txn.state != "declined":
        return Outcome(True, code)
    if txn.type in WALLET_TYPES and code in WALLET_MEANINGS:   # the wallet's words, not a card issuer's
        en, zh = WALLET_MEANINGS[code]
        return Outcome(False, code, f"{zh} {en.upper()}")
    try:
        entry = lookup(code)
        reason = f"{entry.zh} {entry.en.upper()}"
    except UnknownResponseCode:
        reason = f"未知应答码 UNKNOWN RESPONSE CODE {code}"
    return Outcome(False, code, reason)


def transaction_receipt(txn: Txn, config: PosConfig) -> Receipt:
    """The slip of an answered transaction (`ReceiptNotFound` for one that has none)."""
    if txn.type not in PRINTED_TYPES:
        kind = "a balance inquiry (the balance shows on the screen only)" if txn.type == "balance" else f"a {txn.type}"
        raise ReceiptNotFound(f"trace {txn.stan} is {kind}: it prints no receipt")
    if txn.response_code is None or txn.state not in ("approved", "declined", "voided", "completed"):
        raise ReceiptNotFound(f"trace {txn.stan} ({txn.type}) is {txn.state}: the host did not answer it, "
                              f"so there is no receipt")
    when = datetime.fromisoformat(txn.created_at)
    if txn.type in WALLET_TYPES:
        return _wallet_receipt(txn, config, when)
    with_cryptogram = txn.app_cryptogram is not None and txn.cryptogram is not None
    card = CardDetails(
        scheme=txn.scheme or "unknown", masked_pan=txn.masked_pan or "",
        entry_mode=EntryMode((txn.entry_mode or "")[:2]),
        aid=txn.aid, app_label=txn.app_label,
        cryptogram=txn.app_cryptogram if with_cryptogram else None,
        cryptogram_kind=txn.cryptogram if with_cryptogram else None)
    return Receipt(
        merchant=merchant_of(config), terminal_id=config.terminal.tid, operator=operator_of(txn, config),
        batch=int(txn.batch), trace=int(txn.stan), when=when, transaction=PRINTED_TYPES[txn.type],
        amount_fen=txn.amount, card=card, outcome=_outcome(txn), cvm=Cvm(txn.cvm or Cvm.SIGNATURE),
        rrn=txn.rrn, auth_code=txn.auth_code,
        e_receipt_url=_e_receipt_url(config, txn.batch, txn.stan, when),
        original_trace=int(txn.original_stan) if txn.original_stan else None)


def wallet_order_number(tid: str, batch: str, stan: str) -> str:
    """A wallet order's number: the terminal, batch and trace the wallet channel knows the order by.

    It is the bill number of a merchant-presented code (`pos.core.wallet`), and
    the same for a payment code's order, so a customer's app and the slip agree.
    """
    return f"{tid}{batch}{stan}"


def _wallet_receipt(txn: Txn, config: PosConfig, when: datetime) -> Receipt:
    """A wallet payment's slip: the payer's masked account (the code as masked), the wallet, the order number.

    A void or refund names the order it gives back; the customer authorised on
    the phone, so no signature. An MPM payer's account is not known to the
    terminal: it prints masked entirely.
    """
    if txn.original_stan is not None and txn.original_batch is not None:   # the order given back
        order = wallet_order_number(config.terminal.tid, txn.original_batch, txn.original_stan)
    else:
        order = wallet_order_number(config.terminal.tid, txn.batch, txn.stan)
    card = CardDetails(scheme=txn.wallet or "mpm", masked_pan=txn.wallet_code or UNSEEN_ACCOUNT,
                       entry_mode=EntryMode.QR)
    return Receipt(
        merchant=merchant_of(config), terminal_id=config.terminal.tid, operator=operator_of(txn, config),
        batch=int(txn.batch), trace=int(txn.stan), when=when, transaction=PRINTED_TYPES[txn.type],
        amount_fen=txn.amount, card=card, outcome=_outcome(txn), cvm=Cvm.CDCVM,
        rrn=txn.rrn, auth_code=txn.auth_code,
        e_receipt_url=_e_receipt_url(config, txn.batch, txn.stan, when),
        original_trace=int(txn.original_stan) if txn.original_stan else None, wallet_order=order)


def find_receipt(journal: Journal, config: PosConfig, trace: str | None = None) -> tuple[Txn, Receipt]:
    """The latest transaction with a receipt (or the latest with trace number `trace`) and its slip.

    The slip is the one kept in the journal when it first printed, else (it
    never got that far: no printer, or a crash before printing) built from the row.
    """
    stan = trace.zfill(6) if trace is not None else None
    if stan is not None and (not stan.isdigit() or len(stan) != 6):
        raise ReceiptNotFound(f"trace {trace!r} is not a trace number (up to 6 digits)")
    txn = journal.last_answered(tuple(PRINTED_TYPES), stan)
    if txn is None:
        if stan is None:
            raise ReceiptNotFound("no transaction with a receipt in the journal yet")
        other = journal.latest_with_stan(stan)
        if other is None:
            raise ReceiptNotFound(f"no transaction with trace {stan} in the journal")
        transaction_receipt(other, config)   # raises, saying why it has no receipt
    assert txn is not None
    if txn.receipt:
        receipt = from_json(txn.receipt)
        assert isinstance(receipt, Receipt)
        return txn, receipt
    return txn, transaction_receipt(txn, config)


def settlement_receipt(batch: dict[str, Any], totals: dict[str, tuple[int, int]],
                       config: PosConfig, operator: str | None = None) -> SettlementReceipt:
    """The summary of a closed batch: count and amount per type, net, and whether the host agreed.

    `operator`: who settled (the cashier signed on; default the configured one)."""
    lines = tuple(SettlementTotal(PRINTED_TYPES[kind], *totals.get(kind, (0, 0)))
                  for kind in SETTLEMENT_LINES if kind in ALWAYS_SHOWN or kind in totals)
    return SettlementReceipt(
        merchant=merchant_of(config), terminal_id=config.terminal.tid, operator=operator or config.terminal.operator,
        batch=int(batch["batch"]), when=datetime.fromisoformat(batch["closed_at"]), totals=lines,
        balanced=bool(batch["balanced"]))
