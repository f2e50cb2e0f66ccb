"""nexo Retailer messages in the JSON form of Adyen's local Terminal API: reading and answering.

Only the parts the daemon uses are read, each checked with a clear error
(`MessageFormat` to the register): no schema library would phrase "which key
of which request is wrong" better than these few checks, and the message
shapes are open-ended (registers add fields we must ignore). Amounts are
decimals on the wire (parsed as `Decimal`, never float) and integer fen
inside. See docs/daemon.md, "nexo".
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pos.daemon.conditions import SUCCESS, Verdict
from pos.journal.store import Txn
from receipts import render_text
from receipts.model import Copy

REQUEST, RESPONSE = "SaleToPOIRequest", "SaleToPOIResponse"
SERVICES = ("Payment", "Reversal", "Abort", "TransactionStatus", "Reconciliation", "Diagnosis",
            "Login", "Logout")
RECEIPT_COLUMNS = 32
CURRENCIES = {"156": "CNY"}
#: journal scheme -> nexo PaymentBrand
BRANDS = {"unionpay": "cup", "visa": "visa", "mastercard": "mc", "alipay": "alipay", "wechat": "wechatpay"}
#: field 22 entry mode (first two digits) -> nexo EntryMode
ENTRY_MODES = {"07": "Contactless", "01": "Keyed", "03": "Scanned", "05": "ICC", "02": "MagStripe"}


class MessageError(ValueError):
    """A request that is not well-formed nexo: answered with `condition` (default MessageFormat)."""

    def __init__(self, message: str, condition: str = "MessageFormat") -> None:
        super().__init__(message)
        self.condition = condition


def section(parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key)
    if not isinstance(value, Mapping):
        raise MessageError(f"{where}.{key} is missing or not an object")
    return value


def text(parent: Mapping[str, Any], key: str, where: str, *, max_len: int = 64, required: bool = True) -> str | None:
    value = parent.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise MessageError(f"{where}.{key} must be text of 1-{max_len} characters")
    return value


def fen(value: object, where: str, max_fen: int) -> int:
    """A wire amount (decimal yuan, at most two places) as integer fen."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise MessageError(f"{where} must be a decimal amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise MessageError(f"{where} {value!r} is not a decimal amount") from None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        raise MessageError(f"{where} {value} must be positive with at most two decimals")
    result = int(amount * 100)
    if result > max_fen:
        raise MessageError(f"{where} {value} is above this terminal's limit", "PaymentRestriction")
    return result


def wire_amount(amount_fen: int) -> Decimal:
    return (Decimal(amount_fen) / 100).quantize(Decimal("0.01"))


@dataclasses.dataclass(frozen=True)
class Request:
    header: Mapping[str, Any]
    service: str                    # "Payment", "Abort", ...
    body: Mapping[str, Any]         # the <Service>Request object

    @property
    def sale_id(self) -> str:
        return str(self.header["SaleID"])

    @property
    def service_id(self) -> str:
        return str(self.header["ServiceID"])


def read_request(message: object) -> Request:
    """The header and service of a clear `{"SaleToPOIRequest": {...}}`, or `MessageError`."""
    if not isinstance(message, Mapping):
        raise MessageError("the message is not a JSON object")
    root = section(message, REQUEST, "message")
    header = section(root, "MessageHeader", REQUEST)
    for key in ("SaleID", "POIID"):
        text(header, key, "MessageHeader")
    text(header, "ServiceID", "MessageHeader", max_len=10)
    category = text(header, "MessageCategory", "MessageHeader", max_len=32)
    if header.get("MessageType", "Request") != "Request":
        raise MessageError("MessageHeader.MessageType must be Request")
    if category not in SERVICES:
        raise MessageError(f"service {category!r} is not offered by this terminal", "UnavailableService")
    body = root.get(f"{category}Request")
    if not isinstance(body, Mapping):
        raise MessageError(f"{REQUEST}.{category}Request is missing or not an object")
    return Request(header, str(category), body)


def reply_header(header: Mapping[str, Any], category: str | None = None) -> dict[str, Any]:
    """The answer's header: the request's, with MessageType Response."""
    echo = {k: header[k] for k in ("ProtocolVersion", "MessageClass", "MessageCategory", "SaleID", "ServiceID",
                                   "POIID") if isinstance(header.get(k), str)}
    echo.setdefault("ProtocolVersion", "3.0")
    echo.setdefault("MessageClass", "Service")
    if category is not None:
        echo["MessageCategory"] = category
    echo["MessageType"] = "Response"
    return echo


def response(result: str, condition: str | None = None, message: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"Result": result}
    if condition is not None:
        answer["ErrorCondition"] = condition
    if message:
        answer["AdditionalResponse"] = "message=" + _form_value(message)
    return answer


def answer(header: Mapping[str, Any], category: str, body: Mapping[str, Any]) -> dict[str, Any]:
    return {RESPONSE: {"MessageHeader": reply_header(header, category), f"{category}Response": body}}


def error_answer(header: Mapping[str, Any], category: str, condition: str, message: str) -> dict[str, Any]:
    return answer(header, category, {"Response": response("Failure", condition, message)})


def poi_transaction_id(txn: Txn) -> dict[str, Any]:
    """Our id of a journalled transaction: `<batch>.<trace>` (what a Reversal names)."""
    return {"TransactionID": f"{txn.batch}.{txn.stan}", "TimeStamp": _timestamp(txn.created_at)}


def payment_body(verdict: Verdict, txn: Txn | None, *, currency: str, sale_data: Mapping[str, Any] | None,
                 receipts: tuple[list[str], list[str]] | None, amount_fen: int) -> dict[str, Any]:
    """A PaymentResponse (or ReversalResponse body core) from a verdict and its journal row."""
    body: dict[str, Any] = {"Response": response(verdict.result, verdict.condition,
                                                 None if verdict.result == SUCCESS else verdict.message)}
    if sale_data is not None:
        body["SaleData"] = {k: sale_data[k] for k in ("SaleTransactionID",) if k in sale_data}
    if txn is None:
        body["POIData"] = {"POITransactionID": {"TransactionID": "", "TimeStamp": _timestamp(None)}}
        return body
    body["POIData"] = {"POITransactionID": poi_transaction_id(txn), "POIReconciliationID": txn.batch}
    result: dict[str, Any] = {
        "AmountsResp": {"AuthorizedAmount": wire_amount(txn.amount if verdict.approved else 0),
                        "Currency": CURRENCIES.get(currency, currency)},
        "OnlineFlag": True,
        "PaymentAcquirerData": {"AcquirerPOIID": txn.stan, "ApprovalCode": txn.auth_code or "",
                                "AcquirerTransactionID": {"TransactionID": txn.rrn or "",
                                                          "TimeStamp": _timestamp(txn.updated_at)}},
    }
    if txn.wallet:
        result["PaymentInstrumentData"] = {"PaymentInstrumentType": "Mobile",
                                           "CardData": {"PaymentBrand": BRANDS.get(txn.wallet, txn.wallet),
                                                        "EntryMode": ["Scanned"]}}
    else:
        result["PaymentInstrumentData"] = {"PaymentInstrumentType": "Card", "CardData": {
            "MaskedPan": txn.masked_pan or "", "PaymentBrand": BRANDS.get(txn.scheme or "", txn.scheme or ""),
            "EntryMode": [ENTRY_MODES.get((txn.entry_mode or "")[:2], "Unknown")]}}
    body["PaymentResult"] = result
    if receipts is not None:
        cashier, customer = receipts
        body["PaymentReceipt"] = [_receipt("CashierReceipt", cashier), _receipt("CustomerReceipt", customer)]
    return body


def receipt_lines(receipt: Any) -> tuple[list[str], list[str]]:
    """(cashier copy, customer copy) of a `receipts.Receipt` as text lines."""
    merchant = render_text(dataclasses.replace(receipt, copy=Copy.MERCHANT), RECEIPT_COLUMNS).splitlines()
    customer = render_text(dataclasses.replace(receipt, copy=Copy.CARDHOLDER), RECEIPT_COLUMNS).splitlines()
    return merchant, customer


def _receipt(qualifier: str, lines: list[str]) -> dict[str, Any]:
    return {"DocumentQualifier": qualifier, "RequiredSignatureFlag": False,
            "OutputContent": {"OutputFormat": "Text",
                              "OutputText": [{"Text": line, "EndOfLineFlag": True} for line in lines]}}


def _timestamp(iso: str | None) -> str:
    moment = datetime.fromisoformat(iso) if iso else datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _form_value(message: str) -> str:
    from urllib.parse import quote
    return quote(message, safe="")
