"""Bad, abusive and repeated requests to the nexo endpoint: the right nexo error, logged, and the daemon lives on."""
from __future__ import annotations

import http.client
import json
import ssl
import threading
import tomllib
from typing import Any

import pytest

from pos.daemon.envelope import EnvelopeKey, seal_message
from pos.journal.store import Journal
from tests.daemon.support import KEY_ID, KEY_VERSION, PASSPHRASE, REPO, Daemon, payment, queue, request, response_of


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Any:
    running = Daemon(tmp_path_factory.mktemp("safety") / "state").start()
    yield running
    assert running.stop() == 0, running.logs()[-2000:]


def condition(answer: Any, category: str = "Payment") -> str:
    return str(response_of(answer, category)["Response"]["ErrorCondition"])


def journal_rows(daemon: Daemon) -> int:
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        return len(journal.history())
    finally:
        journal.close()


@pytest.mark.parametrize("key", [None, "wrong-key-123"])
def test_wrong_or_missing_api_key(daemon, key):
    status, answer = daemon.post(payment("1.00", "K"), api_key=key)
    assert status == 401 and condition(answer) == "NotAllowed"
    assert "wrong or missing X-API-Key" in daemon.logs()


def test_bad_hmac_and_unknown_key(daemon):
    wrong = seal_message("SaleToPOIRequest", payment("1.00", "H"), EnvelopeKey.derive(KEY_ID, KEY_VERSION, "guess-1234"))
    status, answer = daemon.post(wrong)
    assert status == 200 and condition(answer) == "NotAllowed"
    unknown = seal_message("SaleToPOIRequest", payment("1.00", "U"), EnvelopeKey.derive("OtherKey", 1, PASSPHRASE))
    status, answer = daemon.post(unknown)
    assert status == 200 and condition(answer) == "NotAllowed"
    logs = daemon.logs()
    assert "does not match" in logs and "unknown key identifier 'OtherKey'" in logs


def test_oversized_bodies_with_length_and_chunked(daemon):
    big = b'{"SaleToPOIRequest": "' + b"x" * 100_000 + b'"}'
    status, answer = daemon.post(big)
    assert status == 413 and condition(answer) == "MessageFormat"
    context = ssl.create_default_context(cafile=str(daemon.cert))
    conn = http.client.HTTPSConnection(*daemon.address, context=context, timeout=30)
    conn.request("POST", "/nexo/", body=iter([big[i:i + 4096] for i in range(0, len(big), 4096)]),
                 headers={"X-API-Key": "register-key-1"}, encode_chunked=True)
    reply = conn.getresponse()
    assert reply.status == 413 and json.loads(reply.read())["SaleToPOIResponse"]["PaymentResponse"][
        "Response"]["ErrorCondition"] == "MessageFormat"
    conn.close()


@pytest.mark.parametrize("body, http_status", [
    (b"{not json", 400), (b"[1, 2]", 400), (b'{"Other": {}}', 400), (b"\xff\xfe", 400)])
def test_malformed_json(daemon, body, http_status):
    status, answer = daemon.post(body)
    assert status == http_status and condition(answer) == "MessageFormat"


def test_unknown_service(daemon):
    status, answer = daemon.post(request("Print", {"PrintOutput": {}}))
    assert status == 200 and condition(answer, "Print") == "UnavailableService"


@pytest.mark.parametrize("amount, expected", [("12.345", "MessageFormat"), ("-1", "MessageFormat"),
                                              ("0", "MessageFormat"), ("99999999", "PaymentRestriction")])
def test_bad_amounts(daemon, amount, expected):
    status, answer = daemon.post(payment(amount, f"bad-{amount}"))
    assert status == 200 and condition(answer) == expected


def test_wrong_currency_and_missing_fields(daemon):
    assert condition(daemon.post(payment("1.00", "cur", currency="USD"))[1]) == "PaymentRestriction"
    message = payment("1.00", "nofields")
    del message["SaleToPOIRequest"]["PaymentRequest"]["SaleData"]
    assert condition(daemon.post(message)[1]) == "MessageFormat"
    message = payment("1.00", "longsid", service_id="x" * 11)
    assert condition(daemon.post(message)[1]) == "MessageFormat"


def test_repeated_sale_transaction_id_is_charged_once(daemon):
    queue(daemon.state_dir, "card", "unionpay-debit")
    before = journal_rows(daemon)
    _, first = daemon.post(payment("3.21", "REPEAT-1"))
    _, again = daemon.post(payment("3.21", "REPEAT-1"))
    one, two = response_of(first, "Payment"), response_of(again, "Payment")
    assert one["Response"]["Result"] == two["Response"]["Result"] == "Success"
    assert one["POIData"]["POITransactionID"] == two["POIData"]["POITransactionID"]
    assert journal_rows(daemon) == before + 1


def test_second_request_while_a_payment_runs_is_busy_then_abort(daemon):
    queue(daemon.state_dir, "walk-away")
    results: dict[str, Any] = {}
    running = threading.Thread(target=lambda: results.update(
        first=daemon.post(payment("2.00", "BUSY-1", service_id="busy1"))))
    running.start()
    queued = daemon.state_dir / "customer"
    for _ in range(400):   # until the customer has walked away (the queued action is taken)
        if not list(queued.glob("*.json")):
            break
        threading.Event().wait(0.05)
    status, answer = daemon.post(payment("2.00", "BUSY-2"))
    assert condition(answer) == "Busy"
    _, status_answer = daemon.post(request("TransactionStatus", {}))
    assert condition(status_answer, "TransactionStatus") == "InProgress"
    status, empty = daemon.post(request("Abort", {"AbortReason": "MerchantAbort", "MessageReference": {
        "MessageCategory": "Payment", "SaleID": "REG1", "ServiceID": "busy1"}}))
    assert status == 200 and empty is None
    running.join(60)
    assert condition(results["first"][1]) == "Cancel"


def test_still_serving_and_no_pan_in_the_log(daemon):
    queue(daemon.state_dir, "card", "unionpay-debit")
    _, answer = daemon.post(payment("1.00", "ALIVE"))
    assert response_of(answer, "Payment")["Response"]["Result"] == "Success"
    cards = tomllib.loads((REPO / "config" / "cards.toml").read_text())["card"]
    logs = daemon.logs()
    assert all(card["pan"] not in logs for card in cards)
    assert all(json.loads(line) for line in logs.splitlines() if line.startswith("{"))


def test_wallet_code_and_a_customer_who_cancels(daemon):
    queue(daemon.state_dir, "wallet", "alipay")
    _, answer = daemon.post(payment("5.00", "WALLET-1"))
    body = response_of(answer, "Payment")
    assert body["Response"]["Result"] == "Success"
    assert body["PaymentResult"]["PaymentInstrumentData"]["CardData"] == {"PaymentBrand": "alipay",
                                                                        "EntryMode": ["Scanned"]}
    queue(daemon.state_dir, "refuse")
    before = journal_rows(daemon)
    _, answer = daemon.post(payment("5.00", "REFUSED-1"))
    assert condition(answer) == "NotAllowed" and journal_rows(daemon) == before   # nothing sent


def test_unknown_path_and_method(daemon):
    status, _ = daemon.post(payment("1.00", "PATH"), path="/other")
    assert status == 404




def test_sale_reconciliation_closes_the_batch_and_previous_reports_it(daemon):
    queue(daemon.state_dir, "card", "visa")
    _, paid = daemon.post(payment("2.50", "Z-1"))
    assert response_of(paid, "Payment")["Response"]["Result"] == "Success"
    _, closed = daemon.post(request("Reconciliation", {"ReconciliationType": "SaleReconciliation"}))
    z = response_of(closed, "Reconciliation")
    assert z["Response"]["Result"] == "Success"
    brands = {t["CardBrand"] for t in z["TransactionTotals"]}
    assert "visa" in brands
    _, now = daemon.post(request("Reconciliation", {"ReconciliationType": "AcquirerReconciliation"}))
    x = response_of(now, "Reconciliation")
    assert x["POIReconciliationID"] != z["POIReconciliationID"] and x["TransactionTotals"] == []
    _, before = daemon.post(request("Reconciliation", {"ReconciliationType": "PreviousReconciliation",
                                                       "POIReconciliationID": z["POIReconciliationID"]}))
    assert response_of(before, "Reconciliation")["TransactionTotals"] == z["TransactionTotals"]


def test_a_refund_the_customer_cancels_sends_nothing(daemon):
    queue(daemon.state_dir, "refuse")
    before = journal_rows(daemon)
    _, answer = daemon.post(payment("1.00", "REFUND-REFUSED", refund=True))
    assert condition(answer) == "NotAllowed" and journal_rows(daemon) == before
    assert "internal error" not in json.dumps(answer, default=str)
