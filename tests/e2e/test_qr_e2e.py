"""QR payments end to end: `pos sim wallet-code` writes what the customer's phone shows, `pos sale --camera`
scans it and pays through a real `acquirer serve`; `pos sale --show-code` shows a merchant code that
`pos sim pay-mpm` pays through the acquirer's wallet-apps endpoint, and the till learns it by polling.

Afterwards the terminal's journal and the acquirer's records agree transaction by
transaction, and the wallet accounts on the acquirer's ledger moved by exactly
what the journal says was paid.
"""
from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from acquirer.protocol.mpm import build_dynamic_mpm
from drivers.sim.wallet import write_wallet_code
from tests.pos.support import BIN, AcquirerServer, HostLedger, disagreements, invoke_pos, make_config, test_cards

CARDS = test_cards()
OPENING = 500000   # every wallet account of wallets.toml but the poor one


@pytest.fixture
def acquirer(tmp_path):
    config_dir = make_config(tmp_path, pos={"timeout_s": 3.0, "poll_interval_s": 0.2})
    wallets = config_dir / "wallets.toml"
    wallets.write_text(wallets.read_text().replace("confirm_delay_s = 8", "confirm_delay_s = 0.6"))
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server:
        yield config_dir, server


class Till:
    def __init__(self, config_dir: Path, state: Path, server: AcquirerServer) -> None:
        self.config_dir, self.state, self.server = config_dir, state, server
        self.ledger = HostLedger(server.db, config_dir)

    def pos(self, *args: str):
        return invoke_pos(self.config_dir, self.state, *args, host=self.server.address)

    def code(self, kind: str, out: Path, *options: str) -> None:
        done = self.pos("sim", "wallet-code", kind, "--out", str(out), *options)
        assert done.returncode == 0, done.stderr + done.stdout

    def sale(self, amount: str, *options: str, expect: int):
        done = self.pos("sale", amount, *options, "--json")
        assert done.returncode == expect, done.stderr + done.stdout
        return (json.loads(done.stdout) if done.stdout.strip() else None), done.stderr

    def wallet(self, kind: str, number: int = 1) -> int:
        with sqlite3.connect(self.server.db) as conn:
            return conn.execute("SELECT balance FROM accounts WHERE id = ?", (f"wallet:{kind}:{number:03d}",)).fetchone()[0]

    def journal(self) -> list[dict]:
        conn = sqlite3.connect(self.state / "journal.db")
        conn.row_factory = sqlite3.Row
        rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
        conn.close()
        return rows

    def agrees_with_the_host(self) -> None:
        assert disagreements(self.journal(), self.ledger.transactions()) == []
        assert self.ledger.unbalanced_postings() == 0


@pytest.fixture
def till(acquirer, tmp_path):
    config_dir, server = acquirer
    return Till(config_dir, tmp_path / "state", server)


def test_every_code_kind_from_a_camera_video_to_an_approved_sale(till, tmp_path):
    amounts = {"alipay": "12.34", "wechat": "23.45", "unionpay": "34.56", "cpm": "45.67"}
    for kind, amount in amounts.items():
        video = tmp_path / f"{kind}.avi"
        till.code(kind, video)
        outcome, progress = till.sale(amount, "--camera", str(video), expect=0)
        fen = int(amount.replace(".", ""))
        assert (outcome["state"], outcome["amount"], outcome["entry_mode"]) == ("approved", fen, "032")
        if kind == "cpm":
            assert (outcome["type"], outcome["masked_pan"], outcome["cryptogram"]) == (
                "sale", "621483*********0015", "ARQC")
            assert "qr-cpm" in progress
        else:
            assert (outcome["type"], outcome["wallet"]) == ("wallet_sale", kind)
            assert re.fullmatch(r"\d{4}\*+\d{4}", outcome["wallet_code"])
            assert f"{kind} payment code {outcome['wallet_code']} (camera)" in progress
            assert till.wallet(kind) == OPENING - fen
    assert till.ledger.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 4567
    till.agrees_with_the_host()


def test_reused_expired_and_malformed_codes_are_declined_with_the_right_message(till, tmp_path):
    video = tmp_path / "wechat.avi"
    till.code("wechat", video)
    assert till.sale("1.00", "--camera", str(video), expect=0)[0]["state"] == "approved"
    reused, _ = till.sale("1.00", "--camera", str(video), expect=1)
    assert reused["response_code"] == "12" and "Payment code already used" in reused["message"]

    expired = tmp_path / "expired.png"
    write_wallet_code("alipay", expired, wallets_file=till.config_dir / "wallets.toml",
                      clock=lambda: time.time() - 65)
    outcome, _ = till.sale("1.00", "--camera", str(expired), expect=1)
    assert outcome["response_code"] == "54" and "Payment code expired" in outcome["message"]

    forged = tmp_path / "forged"
    forged.mkdir()
    code = write_wallet_code("unionpay", forged / "real.png", wallets_file=till.config_dir / "wallets.toml")
    write_wallet_code_text(forged / "real.png", code.payload[:-1] + str((int(code.payload[-1]) + 1) % 10))
    outcome, _ = till.sale("1.00", "--camera", str(forged), expect=1)
    assert outcome["response_code"] == "14" and "Invalid payment code" in outcome["message"]

    shapeless = tmp_path / "shapeless"
    shapeless.mkdir()
    write_wallet_code_text(shapeless / "a.png", "1234567890")
    before = len(till.journal())
    nothing, stderr = till.sale("1.00", "--camera", str(shapeless), expect=2)
    assert nothing is None and "This is not a payment code" in stderr and "nothing was sent" in stderr
    assert len(till.journal()) == before
    assert till.wallet("wechat") == OPENING - 100 and till.wallet("alipay") == OPENING
    till.agrees_with_the_host()


def write_wallet_code_text(path: Path, payload: str) -> None:
    """A QR image of any text, drawn as the wallet app draws its codes."""
    import cv2

    from drivers.sim.wallet import code_image

    assert cv2.imwrite(str(path), code_image(payload))


def test_a_customer_confirming_on_the_phone_is_waited_for(till, tmp_path):
    image = tmp_path / "always.png"
    till.code("alipay", image, "--account", "alipay-always")
    outcome, progress = till.sale("8.80", "--camera", str(image), expect=0)
    assert outcome["state"] == "approved" and "customer confirming on the phone" in progress
    assert till.wallet("alipay", 2) == OPENING - 880
    till.agrees_with_the_host()


def test_the_till_shows_a_merchant_code_the_customer_pays_and_learns_the_result(till, tmp_path):
    png = tmp_path / "shop.png"
    sale = subprocess.Popen(
        [str(BIN / "pos"), "--config", str(till.config_dir), "--state-dir", str(till.state),
         "--host", till.server.address, "sale", "56.78", "--show-code", "--code-png", str(png), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while not png.exists() and sale.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert png.exists(), sale.communicate(timeout=5)   # written whole, then renamed into place
        paid = till.pos("sim", "pay-mpm", str(png), "--wallet", "unionpay", "--acquirer", till.server.wallet_apps)
        assert paid.returncode == 0 and "PAID ¥56.78 to Tiantian Convenience Store" in paid.stdout, paid.stderr
        again = till.pos("sim", "pay-mpm", str(png), "--wallet", "wechat", "--acquirer", till.server.wallet_apps)
        assert again.returncode == 1 and "DECLINED 25" in again.stdout
        stdout, stderr = sale.communicate(timeout=30)
    finally:
        if sale.poll() is None:
            sale.kill()
    assert sale.returncode == 0, stderr
    outcome = json.loads(stdout)
    assert (outcome["type"], outcome["state"], outcome["amount"]) == ("mpm_sale", "approved", 5678)
    assert "show the customer the payment code for ¥56.78" in stderr
    assert till.wallet("unionpay") == OPENING - 5678 and till.wallet("wechat") == OPENING
    till.agrees_with_the_host()


def test_pay_mpm_refuses_what_is_not_a_merchant_code(till, tmp_path):
    done = till.pos("sim", "pay-mpm", "hello", "--wallet", "alipay", "--acquirer", till.server.wallet_apps)
    assert done.returncode == 2 and "not a merchant-presented code" in done.stderr
    done = till.pos("sim", "pay-mpm", "00020101021263040000", "--wallet", "alipay", "--acquirer", "127.0.0.1:1")
    assert done.returncode == 2 and "CRC" in done.stderr
    shop = build_dynamic_mpm(amount_fen=100, merchant_id="898310048990001", terminal_id="10000001",
                             merchant_name="Tiantian", merchant_city="Shanghai", mcc="5411", bill_number="B1")
    done = till.pos("sim", "pay-mpm", shop, "--wallet", "alipay", "--acquirer", "127.0.0.1:1")
    assert done.returncode == 4 and "unreachable" in done.stderr


def test_with_the_embedded_host_the_customer_finds_the_running_terminal(tmp_path):
    """No `acquirer serve`: the till's own host serves the wallet apps; `pay-mpm` finds it in the state dir."""
    config_dir = make_config(tmp_path, pos={"poll_interval_s": 0.2})
    state, png = tmp_path / "state", tmp_path / "shop.png"
    sale = subprocess.Popen(
        [str(BIN / "pos"), "--config", str(config_dir), "--state-dir", str(state), "sale", "9.99", "--show-code",
         "--code-png", str(png), "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not png.exists() and sale.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert png.exists(), sale.communicate(timeout=5)
        paid = invoke_pos(config_dir, state, "sim", "pay-mpm", str(png), "--wallet", "wechat")
        assert paid.returncode == 0 and "PAID ¥9.99" in paid.stdout, paid.stderr
        stdout, stderr = sale.communicate(timeout=30)
    finally:
        if sale.poll() is None:
            sale.kill()
    assert sale.returncode == 0 and json.loads(stdout)["state"] == "approved", stderr
    assert not (state / "wallet-apps.addr").exists()          # gone with the terminal
    done = invoke_pos(config_dir, state, "sim", "pay-mpm", str(png), "--wallet", "wechat")
    assert done.returncode == 4 and "start `pos sale AMOUNT --show-code` first" in done.stderr


def test_wallet_payments_print_are_given_back_and_the_z_report_equals_the_acquirer(till, tmp_path):
    """An Alipay and a WeChat code and a UnionPay-app merchant code: each slip, a void or refund, X and Z."""
    paid = {}
    for kind, amount in (("alipay", "12.00"), ("wechat", "30.00")):
        picture = tmp_path / f"{kind}.png"
        till.code(kind, picture)
        paid[kind], _ = till.sale(amount, "--camera", str(picture), expect=0)
    png = tmp_path / "shop.png"
    shown = subprocess.Popen(
        [str(BIN / "pos"), "--config", str(till.config_dir), "--state-dir", str(till.state),
         "--host", till.server.address, "sale", "8.00", "--show-code", "--code-png", str(png), "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 30
        while not png.exists() and shown.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert png.exists(), shown.communicate(timeout=5)
        app = till.pos("sim", "pay-mpm", str(png), "--wallet", "unionpay", "--acquirer", till.server.wallet_apps)
        assert app.returncode == 0, app.stderr
        stdout, stderr = shown.communicate(timeout=30)
    finally:
        if shown.poll() is None:
            shown.kill()
    paid["unionpay"] = json.loads(stdout)
    assert [paid[k]["state"] for k in paid] == ["approved"] * 3

    slips = {k: till.pos("reprint", paid[k]["stan"], "--text") for k in paid}
    for kind, words in (("alipay", "支付宝 ALIPAY"), ("wechat", "微信支付 WECHAT PAY"), ("unionpay", "商户码收款 MERCHANT CODE")):
        slip = slips[kind].stdout
        assert slips[kind].returncode == 0 and words in slip and "订单号 ORDER NO." in slip, slips[kind].stderr
        assert f"10000001{paid[kind]['batch']}{paid[kind]['stan']}" in slip and "E-RECEIPT" in slip
    assert paid["alipay"]["wallet_code"] in slips["alipay"].stdout      # the payer's account, masked

    def give_back(*args: str) -> dict:
        done = till.pos(*args, "--json")
        assert done.returncode == 0, done.stderr + done.stdout
        return json.loads(done.stdout)

    voided = give_back("void", paid["alipay"]["stan"])
    refunded = give_back("refund", paid["wechat"]["rrn"], "10.00")
    mpm_voided = give_back("void", paid["unionpay"]["stan"])
    assert [(t["type"], t["state"]) for t in (voided, refunded, mpm_voided)] == [
        ("wallet_void", "approved"), ("wallet_refund", "approved"), ("wallet_void", "approved")]
    assert "退货 REFUND" in till.pos("reprint", refunded["stan"], "--text").stdout
    assert till.wallet("alipay") == OPENING and till.wallet("wechat") == OPENING - 2000
    assert till.wallet("unionpay") == OPENING

    x = json.loads(till.pos("report", "x", "--json").stdout)
    z_done = till.pos("report", "z", "--json")
    assert z_done.returncode == 0, z_done.stderr
    z = json.loads(z_done.stdout)
    for report in (x, z):
        totals = report["totals"]
        assert (totals["sales"], totals["voids"], totals["refunds"]) == (
            {"count": 3, "amount": 5000}, {"count": 2, "amount": 2000}, {"count": 1, "amount": 1000})
        assert totals["net"] == 2000
        assert report["by_channel"]["wallet:wechat"]["net"] == 2000
    with sqlite3.connect(till.server.db) as conn:   # the acquirer's figures for the batch
        rows = conn.execute("SELECT txn_type, amount FROM transactions WHERE batch = ? AND tid = '10000001' "
                            "AND status IN ('approved', 'voided')", (z["batch"],)).fetchall()
    sign = {"wallet_sale": 1, "mpm_sale": 1, "wallet_void": -1, "wallet_refund": -1}
    assert sum(sign[t] * amount for t, amount in rows) == z["totals"]["net"]
    assert len(rows) == sum(z["totals"][k]["count"] for k in ("sales", "voids", "refunds"))
    till.agrees_with_the_host()
