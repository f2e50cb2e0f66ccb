"""Adyen's official Node library (`@adyen/api-library`) drives `pos daemon` over HTTPS on loopback.

`TerminalLocalAPI` (the security envelope, the daemon's generated certificate
pinned: the library checks its CN) and the unencrypted local client. The
library always appends ":8443/nexo/" to the configured endpoint; a test
daemon listens on a free port, so the endpoint given is
`https://127.0.0.1:PORT/nexo?` and the library's suffix becomes a query string.
The Node pieces are installed by `make test` (tests/daemon/node, npm ci).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from pos.journal.store import Journal
from tests.daemon.support import API_KEY, KEY_ID, KEY_VERSION, PASSPHRASE, Daemon, payment, queue, request

NODE_DIR = Path(__file__).parent / "node"


@pytest.fixture(scope="module", autouse=True)
def node_library() -> None:
    """Adyen's library is installed by `make test` (npm ci); without it these tests fail, never skip."""
    if shutil.which("node") is None or not (NODE_DIR / "node_modules" / "@adyen").is_dir():
        pytest.fail("node or tests/daemon/node/node_modules missing: run `make test` (it installs them)")


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = Daemon(tmp_path_factory.mktemp("node") / "state").start()
    yield running
    assert running.stop() == 0, running.logs()[-2000:]


def drive(daemon: Daemon, *steps: dict[str, Any]) -> list[dict[str, Any]]:
    host, port = daemon.address
    given = {"endpoint": f"https://{host}:{port}/nexo?", "apiKey": API_KEY, "certificate": str(daemon.cert),
             "key": {"KeyIdentifier": KEY_ID, "KeyVersion": KEY_VERSION, "Passphrase": PASSPHRASE,
                     "AdyenCryptoVersion": 1},
             "steps": list(steps)}
    done = subprocess.run(["node", "drive.js"], cwd=NODE_DIR, input=json.dumps(given, default=float),
                          capture_output=True, text=True, timeout=120, check=True)
    return [json.loads(line) for line in done.stdout.splitlines()]


def one(daemon: Daemon, mode: str, message: dict[str, Any], category: str) -> dict[str, Any]:
    [result] = drive(daemon, {"mode": mode, "request": message})
    assert "response" in result, result
    body: dict[str, Any] = result["response"]["SaleToPOIResponse"][f"{category}Response"]
    return body


def journal_txn(daemon: Daemon, poi_txn_id: str) -> Any:
    batch, stan = poi_txn_id.split(".")
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        return journal.find_by_stan(stan, batch)
    finally:
        journal.close()


def receipts_of(body: dict[str, Any]) -> dict[str, list[str]]:
    return {r["DocumentQualifier"]: [t["Text"] for t in r["OutputContent"]["OutputText"]]
            for r in body["PaymentReceipt"]}


def test_payment_approved_encrypted_then_status_and_reconciliation(daemon):
    queue(daemon.state_dir, "card", "unionpay-debit")
    body = one(daemon, "encrypted", payment("10.00", "A-approved", service_id="a1"), "Payment")
    assert body["Response"]["Result"] == "Success"
    assert body["PaymentResult"]["AmountsResp"] == {"AuthorizedAmount": 10, "Currency": "CNY"}
    card = body["PaymentResult"]["PaymentInstrumentData"]["CardData"]
    assert card["PaymentBrand"] == "cup" and card["EntryMode"] == ["Contactless"]
    txn = journal_txn(daemon, body["POIData"]["POITransactionID"]["TransactionID"])
    assert txn.state == "approved" and txn.amount == 1000 and card["MaskedPan"] == txn.masked_pan
    receipts = receipts_of(body)
    assert any("MERCHANT COPY" in line for line in receipts["CashierReceipt"])
    assert any("CARDHOLDER COPY" in line for line in receipts["CustomerReceipt"])
    assert any(txn.rrn in line for line in receipts["CustomerReceipt"])

    status = one(daemon, "encrypted", request("TransactionStatus", {
        "MessageReference": {"MessageCategory": "Payment", "SaleID": "REG1", "ServiceID": "a1"},
        "DocumentQualifier": ["CashierReceipt", "CustomerReceipt"], "ReceiptReprintFlag": True}),
        "TransactionStatus")
    assert status["Response"]["Result"] == "Success"
    repeated = status["RepeatedMessageResponse"]["RepeatedResponseMessageBody"]["PaymentResponse"]
    assert repeated["POIData"]["POITransactionID"]["TransactionID"] == \
        body["POIData"]["POITransactionID"]["TransactionID"]
    assert receipts_of(repeated) == receipts

    totals = one(daemon, "clear", request("Reconciliation", {"ReconciliationType": "AcquirerReconciliation"}),
                 "Reconciliation")
    assert totals["Response"]["Result"] == "Success"
    cup = next(t for t in totals["TransactionTotals"] if t["CardBrand"] == "cup")
    debit = next(p for p in cup["PaymentTotals"] if p["TransactionType"] == "Debit")
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        sales = [t for t in journal.batch_transactions(journal.batch) if t.type == "sale" and t.scheme == "unionpay"]
    finally:
        journal.close()
    assert debit["TransactionCount"] == len(sales) >= 1
    assert round(debit["TransactionAmount"] * 100) == sum(t.amount for t in sales)


def test_payment_declined_by_the_issuer(daemon):
    queue(daemon.state_dir, "card", "unionpay-lost")
    body = one(daemon, "encrypted", payment("20.00", "B-declined"), "Payment")
    assert body["Response"]["Result"] == "Failure"
    assert body["Response"]["ErrorCondition"] == "Refusal"
    assert body["PaymentResult"]["AmountsResp"]["AuthorizedAmount"] == 0
    txn = journal_txn(daemon, body["POIData"]["POITransactionID"]["TransactionID"])
    assert txn.state == "declined" and txn.response_code == "41"


def test_unreferenced_refund_clear_client(daemon):
    queue(daemon.state_dir, "card", "unionpay-debit")
    sale = one(daemon, "clear", payment("9.00", "C-sale"), "Payment")
    assert sale["Response"]["Result"] == "Success"
    queue(daemon.state_dir, "card", "unionpay-debit")
    body = one(daemon, "clear", payment("4.50", "C-refund", refund=True), "Payment")
    assert body["Response"]["Result"] == "Success", body["Response"]
    txn = journal_txn(daemon, body["POIData"]["POITransactionID"]["TransactionID"])
    assert txn.type == "refund" and txn.state == "approved" and txn.amount == 450
    assert txn.original_rrn is not None


def test_reversal_voids_the_payment(daemon):
    queue(daemon.state_dir, "card", "unionpay-debit")
    sale = one(daemon, "clear", payment("8.00", "D-sale"), "Payment")
    poi_id = sale["POIData"]["POITransactionID"]
    body = one(daemon, "encrypted", request("Reversal", {
        "ReversalReason": "MerchantCancel", "OriginalPOITransaction": {"POITransactionID": poi_id}}), "Reversal")
    assert body["Response"]["Result"] == "Success", body["Response"]
    assert journal_txn(daemon, poi_id["TransactionID"]).state == "voided"
    void = journal_txn(daemon, body["POIData"]["POITransactionID"]["TransactionID"])
    assert void.type == "void" and void.state == "approved"


def test_abort_before_the_card_ends_the_payment_with_nothing_sent(daemon):
    queue(daemon.state_dir, "walk-away")
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        before = len(journal.history())
    finally:
        journal.close()
    results = drive(daemon, {"parallel": [
        {"mode": "encrypted", "request": payment("7.00", "E-aborted", service_id="e1")},
        {"mode": "encrypted", "delayMs": 1500, "request": request("Abort", {
            "AbortReason": "MerchantAbort",
            "MessageReference": {"MessageCategory": "Payment", "SaleID": "REG1", "ServiceID": "e1"}})},
    ]})
    paid = results[0]["response"]["SaleToPOIResponse"]["PaymentResponse"]
    assert paid["Response"]["Result"] == "Failure" and paid["Response"]["ErrorCondition"] == "Cancel"
    assert "error" not in results[1]
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        assert len(journal.history()) == before   # no journal row: nothing was sent
    finally:
        journal.close()


def test_diagnosis(daemon):
    body = one(daemon, "encrypted", request("Diagnosis", {"HostDiagnosisFlag": True}), "Diagnosis")
    assert body["Response"]["Result"] == "Success"
    assert body["POIStatus"]["GlobalStatus"] == "OK" and body["POIStatus"]["CardReaderOKFlag"] is True
    assert body["HostStatus"][0]["IsReachableFlag"] is True
