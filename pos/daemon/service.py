"""The nexo services a register calls: each request turned into till calls and one answer.

Transport-free (the HTTPS server and its envelope are `pos.daemon.http`):
`NexoService.handle` takes the clear request message and returns the clear
answer message, or None where registers expect an empty answer (Abort).
It never raises for a request's content: every problem becomes a nexo
`Failure` with the ErrorCondition of `pos.daemon.conditions`.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from acquirer.protocol.errors import TillkitError
from pos.core.config import PosConfig
from pos.daemon import nexo
from pos.daemon.conditions import SUCCESS, Verdict, condition_of
from pos.daemon.ecr_log import RUNNING
from pos.daemon.nexo import MessageError, Request
from pos.daemon.till import Answer, Till
from pos.journal.receipts import ReceiptNotFound, transaction_receipt
from pos.journal.store import Txn

log = logging.getLogger(__name__)
CHANNEL = "nexo"


@dataclass(frozen=True)
class DeviceStatus:
    reader_ok: bool
    printer_ok: bool
    camera_ok: bool


@dataclass
class _Operator:
    operator_id: str | None = None
    shift: str | None = None
    sale_software: Mapping[str, Any] = field(default_factory=dict)


class NexoService:
    def __init__(self, till: Till, config: PosConfig, *,
                 devices: Callable[[], DeviceStatus],
                 host_check: Callable[[], Awaitable[bool]]) -> None:
        self.till = till
        self.config = config
        self.devices = devices
        self.host_check = host_check
        self.operator = _Operator()

    async def handle(self, message: object) -> dict[str, Any] | None:
        try:
            request = nexo.read_request(message)
        except MessageError as e:
            log.warning("nexo request refused: %s", e, extra={"condition": e.condition})
            header = _header_of(message)
            return nexo.error_answer(header, str(header.get("MessageCategory") or "Payment"), e.condition, str(e))
        try:
            handler = getattr(self, f"_{request.service.lower()}")
            result: dict[str, Any] | None = await handler(request)
            return result
        except MessageError as e:
            log.warning("nexo %s refused: %s", request.service, e, extra={"condition": e.condition})
            return nexo.error_answer(request.header, request.service, e.condition, str(e))
        except TillkitError as e:   # Busy, a settlement that failed, ...: the one error table says what to answer
            log.warning("nexo %s: %s", request.service, e, extra={"condition": condition_of(e.kind)})
            return nexo.error_answer(request.header, request.service, condition_of(e.kind), str(e))

    # --- Payment, Reversal, Abort ---------------------------------------------------

    async def _payment(self, request: Request) -> dict[str, Any]:
        body = request.body
        sale_data = nexo.section(body, "SaleData", "PaymentRequest")
        sale_txn = nexo.section(sale_data, "SaleTransactionID", "PaymentRequest.SaleData")
        sale_txn_id = nexo.text(sale_txn, "TransactionID", "SaleTransactionID", max_len=64)
        amounts = nexo.section(nexo.section(body, "PaymentTransaction", "PaymentRequest"), "AmountsReq",
                               "PaymentTransaction")
        self._check_currency(amounts.get("Currency"))
        amount = nexo.fen(amounts.get("RequestedAmount"), "AmountsReq.RequestedAmount",
                          self.config.terminal.max_amount_fen)
        payment_type = (body.get("PaymentData") or {}).get("PaymentType", "Normal") \
            if isinstance(body.get("PaymentData"), Mapping) else "Normal"
        if payment_type not in ("Normal", "Refund"):
            raise MessageError(f"PaymentType {payment_type!r} is not offered (Normal or Refund)", "NotAllowed")
        assert sale_txn_id is not None
        answer = await self.till.pay(channel=CHANNEL, sale_id=request.sale_id, sale_txn_id=sale_txn_id,
                                     service_id=request.service_id,
                                     kind="refund" if payment_type == "Refund" else "sale", amount=amount)
        _log_answer("Payment", answer)
        return nexo.answer(request.header, "Payment", self._payment_body(answer, sale_data))

    async def _reversal(self, request: Request) -> dict[str, Any]:
        original = nexo.section(nexo.section(request.body, "OriginalPOITransaction", "ReversalRequest"),
                                "POITransactionID", "OriginalPOITransaction")
        poi_txn = nexo.text(original, "TransactionID", "POITransactionID")
        amount = request.body.get("ReversedAmount")
        fen = nexo.fen(amount, "ReversalRequest.ReversedAmount", self.config.terminal.max_amount_fen) \
            if amount is not None else None
        assert poi_txn is not None
        answer = await self.till.reverse(poi_txn, fen)
        _log_answer("Reversal", answer)
        body: dict[str, Any] = {"Response": nexo.response(answer.verdict.result, answer.verdict.condition,
                                                          None if answer.verdict.approved else answer.verdict.message)}
        if answer.txn is not None:
            body["POIData"] = {"POITransactionID": nexo.poi_transaction_id(answer.txn),
                               "POIReconciliationID": answer.txn.batch}
            body["ReversedAmount"] = nexo.wire_amount(answer.txn.amount if answer.verdict.approved else 0)
            receipts = self._receipts(answer.txn)
            if receipts is not None:
                body["PaymentReceipt"] = nexo.payment_body(
                    answer.verdict, answer.txn, currency=self.config.terminal.currency, sale_data=None,
                    receipts=receipts, amount_fen=answer.txn.amount)["PaymentReceipt"]
        return nexo.answer(request.header, "Reversal", body)

    async def _abort(self, request: Request) -> None:
        reference = nexo.section(request.body, "MessageReference", "AbortRequest")
        reason = request.body.get("AbortReason") or "MerchantAbort"
        what = self.till.abort(reference.get("SaleID") if isinstance(reference.get("SaleID"), str) else None,
                               reference.get("ServiceID") if isinstance(reference.get("ServiceID"), str) else None,
                               f"aborted by the register ({reason})")
        log.info("abort of %s: %s", reference.get("ServiceID"), what)
        return None   # registers take an empty answer; the aborted Payment's answer says what happened

    # --- TransactionStatus ----------------------------------------------------------

    async def _transactionstatus(self, request: Request) -> dict[str, Any]:
        reference = request.body.get("MessageReference")
        sale_id = service_id = None
        if isinstance(reference, Mapping):
            sale_id = reference.get("SaleID") if isinstance(reference.get("SaleID"), str) else request.sale_id
            service_id = reference.get("ServiceID") if isinstance(reference.get("ServiceID"), str) else None
        running = self.till.running_service()
        if running is not None and (service_id is None or running == (sale_id, service_id)):
            return nexo.error_answer(request.header, "TransactionStatus", "InProgress", "the payment is running")
        found = self.till.status(CHANNEL, sale_id, service_id)
        if found is None:
            return nexo.error_answer(request.header, "TransactionStatus", "NotFound", "no such payment")
        if found.state == RUNNING:   # interrupted by a crash and not yet settled: settle it now
            self.till.resolve_interrupted()
            found = self.till.log.get(found.id)
        answer = self.till.answer_of(found)
        original_header = {"ProtocolVersion": "3.0", "MessageClass": "Service", "MessageCategory": "Payment",
                           "MessageType": "Response", "SaleID": found.sale_id, "ServiceID": found.service_id or "",
                           "POIID": request.header.get("POIID", "")}
        sale_data = {"SaleTransactionID": {"TransactionID": found.sale_txn_id, "TimeStamp": found.created_at}}
        body = {"Response": nexo.response(SUCCESS),
                "RepeatedMessageResponse": {"MessageHeader": original_header, "RepeatedResponseMessageBody": {
                    "PaymentResponse": self._payment_body(answer, sale_data)}}}
        return nexo.answer(request.header, "TransactionStatus", body)

    # --- Reconciliation, Diagnosis, Login, Logout ----------------------------------------

    async def _reconciliation(self, request: Request) -> dict[str, Any]:
        kind = request.body.get("ReconciliationType")
        if kind == "SaleReconciliation":
            settled = await self.till.settle()
            batch, txns = self.till.batch_transactions(settled.batch)
        elif kind == "AcquirerReconciliation":
            batch, txns = self.till.batch_transactions()
        elif kind == "PreviousReconciliation":
            previous = nexo.text(request.body, "POIReconciliationID", "ReconciliationRequest", max_len=6)
            assert previous is not None
            if not previous.isdigit():
                raise MessageError("POIReconciliationID must be a batch number")
            batch, txns = self.till.batch_transactions(previous.zfill(6))
        else:
            raise MessageError(f"ReconciliationType {kind!r}: SaleReconciliation, AcquirerReconciliation "
                               f"or PreviousReconciliation")
        body = {"Response": nexo.response(SUCCESS), "ReconciliationType": kind, "POIReconciliationID": batch,
                "TransactionTotals": _totals(txns)}
        return nexo.answer(request.header, "Reconciliation", body)

    async def _diagnosis(self, request: Request) -> dict[str, Any]:
        devices = self.devices()
        reachable = False if self.till.busy else await self.host_check()
        status = {"GlobalStatus": "Busy" if self.till.busy else "OK" if devices.reader_ok else "Maintenance",
                  "PEDOKFlag": False, "CardReaderOKFlag": devices.reader_ok,
                  "PrinterStatus": "OK" if devices.printer_ok else "OutOfOrder",
                  "CommunicationOKFlag": reachable or self.till.busy}
        body = {"Response": nexo.response(SUCCESS), "POIStatus": status,
                "HostStatus": [{"AcquirerID": self.config.host.address, "IsReachableFlag": reachable}],
                "CameraOKFlag": devices.camera_ok}
        return nexo.answer(request.header, "Diagnosis", body)

    async def _login(self, request: Request) -> dict[str, Any]:
        software = request.body.get("SaleSoftware")
        self.operator = _Operator(request.body.get("OperatorID") if isinstance(request.body.get("OperatorID"), str)
                                  else None, str(request.body.get("ShiftNumber") or "") or None,
                                  software if isinstance(software, Mapping) else {})
        log.info("operator %s logged in", self.operator.operator_id)
        body = {"Response": nexo.response(SUCCESS),
                "POISystemData": {"DateTime": nexo._timestamp(None),
                                  "POISoftware": {"ManufacturerID": "tillkit", "ApplicationName": "pos daemon",
                                                  "SoftwareVersion": "0.1.0"},
                                  "POIStatus": {"GlobalStatus": "Busy" if self.till.busy else "OK"}}}
        return nexo.answer(request.header, "Login", body)

    async def _logout(self, request: Request) -> dict[str, Any]:
        self.operator = _Operator()
        return nexo.answer(request.header, "Logout", {"Response": nexo.response(SUCCESS)})

    # --- pieces -----------------------------------------------------------------------------

    def _check_currency(self, currency: object) -> None:
        ours = nexo.CURRENCIES.get(self.config.terminal.currency, self.config.terminal.currency)
        if currency != ours:
            raise MessageError(f"AmountsReq.Currency {currency!r}: this terminal takes {ours}", "PaymentRestriction")

    def _receipts(self, txn: Txn) -> tuple[list[str], list[str]] | None:
        try:
            return nexo.receipt_lines(transaction_receipt(txn, self.config))
        except ReceiptNotFound:
            return None

    def _payment_body(self, answer: Answer, sale_data: Mapping[str, Any]) -> dict[str, Any]:
        receipts = self._receipts(answer.txn) if answer.txn is not None else None
        amount = answer.request.amount if answer.request is not None else 0
        return nexo.payment_body(answer.verdict, answer.txn, currency=self.config.terminal.currency,
                                 sale_data=sale_data, receipts=receipts, amount_fen=amount)


def _totals(txns: list[Txn]) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for txn in txns:
        instrument = "Mobile" if txn.wallet else "Card"
        brand = nexo.BRANDS.get(txn.wallet or txn.scheme or "", txn.wallet or txn.scheme or "unknown")
        kind = "Refund" if txn.type == "refund" else "Debit"
        groups[(instrument, brand)][kind][0] += 1
        groups[(instrument, brand)][kind][1] += txn.amount
    return [{"PaymentInstrumentType": instrument, "CardBrand": brand,
             "PaymentTotals": [{"TransactionType": kind, "TransactionCount": count,
                                "TransactionAmount": nexo.wire_amount(amount)}
                               for kind, (count, amount) in sorted(kinds.items())]}
            for (instrument, brand), kinds in sorted(groups.items())]


def _header_of(message: object) -> Mapping[str, Any]:
    if isinstance(message, Mapping):
        root = message.get(nexo.REQUEST)
        if isinstance(root, Mapping) and isinstance(root.get("MessageHeader"), Mapping):
            header: Mapping[str, Any] = root["MessageHeader"]
            return header
    return {}


def _log_answer(service: str, answer: Answer) -> None:
    verdict: Verdict = answer.verdict
    txn = answer.txn
    log.info("%s %s%s", service, verdict.result, f" {verdict.condition}" if verdict.condition else "",
             extra={"condition": verdict.condition, "repeated": answer.repeated,
                    "stan": txn.stan if txn else None, "masked_pan": txn.masked_pan if txn else None,
                    "amount_fen": txn.amount if txn else None})

