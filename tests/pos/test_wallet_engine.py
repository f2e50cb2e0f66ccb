"""QR payments through the engine and the real host in process: camera video to approved sale, "user paying",
reversals no earlier than 15 s, merchant-presented codes, and the reader and camera armed together.

The engine and the host share a clock the test moves (`Clock`): polling and
the 15 s hold take no real time. Codes come from the virtual wallet app and
reach the engine through the real camera path (`CameraSource`: OpenCV,
zxing-cpp, classification); the acquirer's records and ledger are read back
from its database.
"""
from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import ExitStack, asynccontextmanager
from dataclasses import asdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import cv2
import pytest

from acquirer.config import load_config as load_acquirer_config
from acquirer.host import Host
from acquirer.protocol import codec
from acquirer.storage import open_store
from acquirer.wallet_apps import WalletAppServer
from drivers.camera import ScanTimeout, SourceEnded
from drivers.sim.video import code_video_frames, write_video
from drivers.sim.wallet import VirtualWallet, code_image
from pos.core import events as ev
from pos.core.config import load_config
from pos.core.engine import Engine
from pos.core.payment import PaymentRequest
from pos.devices.contactless import open_contactless
from pos.hostlink.link import EmbeddedLink
from pos.journal import store as j
from pos.journal.store import Journal
from pos.sources.qr.errors import QrPayloadError
from pos.sources.qr.source import CameraSource
from tests.pos.support import HostLedger, disagreements, make_config, test_cards

SHANGHAI = timezone(timedelta(hours=8))
T0 = 1_750_000_000.0
CARDS = test_cards()


class Clock:
    """Wall time the test moves: the engine's sleeps move it, the host reads it."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)

    def host_time(self) -> datetime:
        return datetime.fromtimestamp(self.now, SHANGHAI)


@asynccontextmanager
async def terminal(config, clock: Clock, events: list, tamper=None):
    """Engine + embedded host on `clock`; `tamper(payload, reply)` may drop (None) or change a reply."""
    acquirer = load_acquirer_config(config.config_dir)
    db = open_store(config.embedded_db_path)
    host = Host(acquirer, db, clock=clock.host_time)

    async def handle(payload: bytes) -> bytes | None:
        reply = await host.handle(payload)
        return tamper(payload, reply) if tamper is not None else reply

    journal = Journal(config.journal_path)
    link = EmbeddedLink(handle)
    engine = Engine(config, journal, link, observer=events.append, clock=clock.time, sleep=clock.sleep)
    await engine.start()
    try:
        yield engine, host
    finally:
        await link.close()
        journal.close()
        db.close()


def configure(tmp_path: Path, **pos) -> object:
    return load_config(make_config(tmp_path, pos={"timeout_s": 2.0, **pos}), state_dir=tmp_path / "state")


def phone(config, clock: Clock, account: str | None = None, seed: int = 7) -> VirtualWallet:
    return VirtualWallet(seed=seed, account=account, clock=clock.time, wallets_file=config.config_dir / "wallets.toml",
                         cards_file=config.config_dir / "cards.toml", state_dir=config.state_dir / "cards")


def video_of(payload: str, path: Path) -> Path:
    write_video(path, code_video_frames(code_image(payload), seed=3))
    return path


def image_of(payload: str, path: Path) -> Path:
    cv2.imwrite(str(path), code_image(payload))
    return path


def journal_rows(config) -> list[dict]:
    journal = Journal(config.journal_path)
    rows = [asdict(t) for t in journal.history()]
    journal.close()
    return rows


def host_rows(config, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(config.embedded_db_path) as conn:
        return conn.execute(sql, args).fetchall()


def wallet_balance(config, account: str) -> int:
    return host_rows(config, "SELECT balance FROM accounts WHERE id = ?", account)[0][0]


def run(config, clock, work, events=None, tamper=None):
    async def go():
        async with terminal(config, clock, events if events is not None else [], tamper) as (engine, _):
            return await work(engine)
    return asyncio.run(go())


@pytest.mark.parametrize(("kind", "account"), [("alipay", "wallet:alipay:001"), ("wechat", "wallet:wechat:001"),
                                               ("unionpay", "wallet:unionpay:001"), ("cpm", None)])
def test_camera_video_to_an_approved_sale(tmp_path, kind, account):
    config, clock, events = configure(tmp_path), Clock(), []
    code = phone(config, clock).issue(kind)
    video = video_of(code.payload, tmp_path / f"{kind}.avi")
    outcome = run(config, clock, lambda e: e.sale(2345, [CameraSource(video)]), events)

    assert outcome.approved and outcome.txn.entry_mode == "032"
    ledger = HostLedger(config.embedded_db_path, config.config_dir)
    assert disagreements(journal_rows(config), ledger.transactions()) == []
    if kind == "cpm":   # a chip-like card payment: field 55 with the phone's ARQC, verified by the issuer
        assert (outcome.txn.type, outcome.txn.masked_pan, outcome.txn.cryptogram) == (
            "sale", "621483*********0015", "ARQC")
        assert outcome.txn.arpc_check.startswith("ok")
        assert ledger.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 2345
        assert any(isinstance(e, ev.CardRead) and e.source == "qr-cpm" for e in events)
    else:
        assert (outcome.txn.type, outcome.txn.wallet, outcome.txn.masked_pan) == ("wallet_sale", kind, None)
        assert outcome.txn.wallet_code == code.payload[:4] + "*" * (len(code.payload) - 8) + code.payload[-4:]
        assert wallet_balance(config, account) == 500000 - 2345
        assert [type(e) for e in events if isinstance(e, (ev.WalletCodeRead, ev.Approved))] == [
            ev.WalletCodeRead, ev.Approved]
    for path in config.state_dir.rglob("*"):   # the code itself is never stored by the terminal
        assert path.is_dir() or code.payload.encode() not in path.read_bytes(), path


def test_expired_used_and_forged_codes_are_declined_with_the_wallets_words(tmp_path):
    config, clock = configure(tmp_path), Clock()
    wallet = phone(config, clock)
    fresh = wallet.issue("wechat").payload
    clock.now -= 61
    old = wallet.issue("wechat").payload
    clock.now += 61
    forged = fresh[:-1] + str((int(fresh[-1]) + 1) % 10)

    async def work(engine):
        outcomes = []
        for i, payload in enumerate((fresh, fresh, old, forged)):
            outcomes.append(await engine.sale(100, [CameraSource(image_of(payload, tmp_path / f"{i}.png"))]))
        return outcomes

    events: list = []
    paid, reused, expired, bad = run(config, clock, work, events)
    assert paid.approved
    assert [(o.state, o.txn.response_code) for o in (reused, expired, bad)] == [
        ("declined", "12"), ("declined", "54"), ("declined", "14")]
    assert reused.message == "12 Payment code already used: refresh the code in the app / 付款码已使用，请刷新付款码"
    assert expired.message.startswith("54 Payment code expired")
    assert bad.message.startswith("14 Invalid payment code")
    declined = [e for e in events if isinstance(e, ev.Declined)]
    assert [d.reason for d in declined][1] == "Payment code expired: refresh the code in the app"
    assert wallet_balance(config, "wallet:wechat:001") == 500000 - 100


def test_a_code_of_no_wallet_shape_is_refused_at_the_terminal_and_nothing_is_sent(tmp_path):
    config, clock = configure(tmp_path), Clock()
    folder = tmp_path / "codes"
    folder.mkdir()
    image_of("13456789012345", folder / "a.png")    # WeChat's prefix, 14 digits: no wallet's shape
    refused: list[QrPayloadError] = []
    with pytest.raises(SourceEnded):
        run(config, clock, lambda e: e.sale(100, [CameraSource(folder, on_refused=refused.append)]))
    assert [r.message for r in refused] == ["This is not a payment code. Please open the payment code in your "
                                            "wallet app."]
    assert journal_rows(config) == [] and host_rows(config, "SELECT * FROM transactions") == []


def test_user_paying_completes_after_polling(tmp_path):
    config, clock, events = configure(tmp_path, poll_interval_s=2.0), Clock(), []
    code = phone(config, clock, "alipay-always").issue("alipay")   # asks for the password every time
    outcome = run(config, clock, lambda e: e.sale(880, [CameraSource(image_of(code.payload, tmp_path / "a.png"))]),
                  events)

    assert outcome.approved and outcome.txn.rrn and clock.now == T0 + 8   # confirmed 8 s in: the 4th poll
    confirming = [e for e in events if isinstance(e, ev.CustomerConfirming)]
    assert confirming == [ev.CustomerConfirming("alipay", outcome.txn.stan, 45.0)]
    assert wallet_balance(config, "wallet:alipay:002") == 500000 - 880
    ledger = HostLedger(config.embedded_db_path, config.config_dir)
    assert disagreements(journal_rows(config), ledger.transactions()) == []
    [(paid_at,)] = host_rows(config, "SELECT created_at FROM postings WHERE kind = 'wallet_payment'")
    assert datetime.fromisoformat(paid_at).timestamp() == T0 + 8


def test_user_paying_never_confirmed_is_reversed_no_earlier_than_15_s_after_creation(tmp_path):
    config, clock, events = configure(tmp_path, user_paying_timeout_s=10.0), Clock(), []
    code = phone(config, clock, "unionpay-silent").issue("unionpay")
    outcome = run(config, clock, lambda e: e.sale(990, [CameraSource(image_of(code.payload, tmp_path / "u.png"))]),
                  events)

    assert outcome.state == j.REVERSED and "did not confirm on the phone within 10 s" in outcome.message
    names = [type(e).__name__ for e in events]
    assert names[names.index("CustomerConfirming"):] == [
        "CustomerConfirming", "ReversalPending", "ReversalSent", "Reversed"]
    [(ordered, status)] = host_rows(config, "SELECT created_at, status FROM transactions WHERE txn_type = 'wallet_sale'")
    [(reversed_at,)] = host_rows(config, "SELECT created_at FROM reversals")
    held = datetime.fromisoformat(reversed_at) - datetime.fromisoformat(ordered)
    assert status == "reversed" and held >= timedelta(seconds=15)     # polled for 10 s, reversed at 15 s
    assert host_rows(config, "SELECT state FROM wallet_orders") == [("closed",)]
    assert wallet_balance(config, "wallet:unionpay:003") == 500000
    assert disagreements(journal_rows(config), HostLedger(config.embedded_db_path, config.config_dir).transactions()) == []


def test_an_unanswered_wallet_sale_is_reversed_at_15_s_and_before_the_next_sale(tmp_path):
    config, clock = configure(tmp_path, timeout_s=0.2, reversal_attempts=1), Clock()
    wallet = phone(config, clock)
    first = image_of(wallet.issue("alipay").payload, tmp_path / "1.png")
    second = image_of(wallet.issue("wechat").payload, tmp_path / "2.png")
    lost = {"0210": 1, "0410": 1}   # the line loses the sale's answer, then the first reversal's answer

    def line(payload: bytes, reply: bytes | None) -> bytes | None:
        mti = codec.decode(reply)["t"] if reply else None
        if lost.get(mti):
            lost[mti] -= 1
            return None
        return reply

    async def work(engine):
        unsure = await engine.sale(300, [CameraSource(first)])
        held_until = clock.now
        events.clear()
        after = await engine.sale(400, [CameraSource(second)])
        return unsure, held_until, after

    events: list = []
    unsure, held_until, after = run(config, clock, work, events, tamper=line)
    assert unsure.state == j.REVERSAL_DUE and held_until >= T0 + 15
    names = [type(e).__name__ for e in events]
    assert names.index("Reversed") < names.index("WaitingForPayment") and after.approved
    assert wallet_balance(config, "wallet:alipay:001") == 500000        # paid, then given back
    assert wallet_balance(config, "wallet:wechat:001") == 500000 - 400
    rows = journal_rows(config)
    assert [r["state"] for r in rows] == [j.APPROVED, j.REVERSED]
    assert disagreements(rows, HostLedger(config.embedded_db_path, config.config_dir).transactions()) == []


def test_a_merchant_code_shown_paid_by_the_customer_app_and_learnt_by_polling(tmp_path):
    config = configure(tmp_path, poll_interval_s=0.05, mpm_timeout_s=20.0)
    customer = VirtualWallet(wallets_file=config.config_dir / "wallets.toml", account="wechat-bob")
    events: list = []
    paid: list = []

    async def go():
        acquirer = load_acquirer_config(config.config_dir)
        db = open_store(config.embedded_db_path)
        host = Host(acquirer, db)
        apps = WalletAppServer(host)
        address = await apps.start()
        loop = asyncio.get_running_loop()

        def observe(event):
            events.append(event)
            if isinstance(event, ev.ShowingCode):   # the customer scans the code and pays it in the app
                paid.append(loop.run_in_executor(None, customer.pay_merchant_code, event.payload, "wechat", address))

        journal = Journal(config.journal_path)
        link = EmbeddedLink(host.handle)
        engine = Engine(config, journal, link, observer=observe)
        await engine.start()
        try:
            return await engine.mpm_sale(6789), await paid[0]
        finally:
            await link.close()
            await apps.close()
            journal.close()
            db.close()

    outcome, answer = asyncio.run(go())
    assert outcome.approved and outcome.txn.type == "mpm_sale" and answer.paid and answer.rrn == outcome.txn.rrn
    [shown] = [e for e in events if isinstance(e, ev.ShowingCode)]
    assert shown.payload.startswith("000201010212") and "54" + "0567.89" in shown.payload
    assert shown.bill == f"10000001{outcome.txn.batch}{outcome.txn.stan}"
    assert wallet_balance(config, "wallet:wechat:001") == 500000 - 6789
    assert disagreements(journal_rows(config), HostLedger(config.embedded_db_path, config.config_dir).transactions()) == []


def test_a_merchant_code_nobody_pays_is_cancelled_at_15_s(tmp_path):
    config, clock, events = configure(tmp_path, mpm_timeout_s=5.0), Clock(), []
    outcome = run(config, clock, lambda e: e.mpm_sale(1500), events)
    assert outcome.state == j.REVERSED and "not paid within 5 s" in outcome.message
    assert clock.now >= T0 + 15
    assert host_rows(config, "SELECT state FROM wallet_orders") == [("closed",)]


@pytest.fixture
def reader(tmp_path):
    """The simulated contactless reader and its test cards (closed after the test)."""
    with ExitStack() as stack:
        config = configure(tmp_path)
        yield config, stack.enter_context(open_contactless(config))


class Later:
    """A customer who taps after `delay_s`: the card source, armed late."""

    def __init__(self, source, delay_s: float) -> None:
        self.source, self.delay_s, self.name = source, delay_s, source.name

    async def read(self, request: PaymentRequest):
        await asyncio.sleep(self.delay_s)
        return await self.source.read(request)


def test_a_camera_that_times_out_leaves_the_card_reader_armed(reader, tmp_path):
    config, contactless = reader
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), code_image("x")[:8, :8])   # nothing to decode
    camera = CameraSource(blank, timeout_s=0.2, loop=True)
    events: list = []
    outcome = run(config, Clock(time.time()),
                  lambda e: e.sale(500, [camera, Later(contactless.cards.card("unionpay-debit"), 1.0)]), events)
    assert outcome.approved and outcome.txn.entry_mode == "072"
    failed = [e for e in events if isinstance(e, ev.SourceFailed)]
    assert [f.source for f in failed] == ["camera"] and "no payment code seen" in failed[0].reason


def test_the_camera_wins_and_the_waiting_reader_is_disarmed(reader, tmp_path):
    config, contactless = reader
    clock = Clock(time.time())
    code = phone(config, clock).issue("unionpay")

    async def work(engine):
        camera_sale = await engine.sale(600, [contactless.reader, CameraSource(image_of(code.payload, tmp_path / "c.png"))])
        card_sale = await engine.sale(700, [contactless.cards.card("visa")])   # the reader works after it
        return camera_sale, card_sale

    camera_sale, card_sale = run(config, clock, work)
    assert camera_sale.approved and camera_sale.txn.wallet == "unionpay" and card_sale.approved


def test_when_every_source_fails_the_wait_ends_with_the_last_failure(tmp_path):
    config, clock = configure(tmp_path), Clock()
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), code_image("x")[:8, :8])
    with pytest.raises(ScanTimeout):
        run(config, clock, lambda e: e.sale(100, [CameraSource(blank, timeout_s=0.1, loop=True)]))
    assert journal_rows(config) == []


def test_a_wallet_sale_is_voided_and_another_refunded_through_the_wallet_channel(tmp_path):
    config, clock = configure(tmp_path), Clock()
    wallet = phone(config, clock)
    first = image_of(wallet.issue("alipay").payload, tmp_path / "1.png")
    second = image_of(wallet.issue("wechat").payload, tmp_path / "2.png")

    async def work(engine):
        sold = await engine.sale(1200, [CameraSource(first)])
        voided = await engine.void(sold.txn.stan, [])             # no code, no card: back to the wallet
        paid = await engine.sale(800, [CameraSource(second)])
        refunded = await engine.refund(paid.txn.rrn, 300, [])
        return sold, voided, paid, refunded

    sold, voided, paid, refunded = run(config, clock, work)
    assert (voided.approved, voided.txn.type, voided.txn.wallet) == (True, "wallet_void", "alipay")
    assert (refunded.approved, refunded.txn.type, refunded.txn.amount) == (True, "wallet_refund", 300)
    assert refunded.txn.wallet_code == paid.txn.wallet_code and refunded.txn.original_rrn == paid.txn.rrn
    assert wallet_balance(config, "wallet:alipay:001") == 500000
    assert wallet_balance(config, "wallet:wechat:001") == 500000 - 500
    rows = journal_rows(config)
    assert [(r["type"], r["state"]) for r in sorted(rows, key=lambda r: r["id"])] == [
        ("wallet_sale", j.VOIDED), ("wallet_void", j.APPROVED), ("wallet_sale", j.APPROVED),
        ("wallet_refund", j.APPROVED)]
    assert disagreements(rows, HostLedger(config.embedded_db_path, config.config_dir).transactions()) == []


def test_a_wallet_refund_whose_answer_is_lost_is_reversed_on_both_sides(tmp_path):
    config, clock = configure(tmp_path, timeout_s=0.2), Clock()
    code = image_of(phone(config, clock).issue("unionpay").payload, tmp_path / "1.png")
    lose = {"0210": 0}

    def line(payload: bytes, reply: bytes | None) -> bytes | None:
        if reply and lose["0210"] and codec.decode(reply)["t"] == "0210":
            lose["0210"] -= 1
            return None
        return reply

    async def work(engine):
        paid = await engine.sale(1000, [CameraSource(code)])
        lose["0210"] = 1
        return paid, await engine.refund(paid.txn.rrn, 1000, [])

    paid, refunded = run(config, clock, work, tamper=line)
    assert refunded.state == j.REVERSED and refunded.txn.type == "wallet_refund"
    assert wallet_balance(config, "wallet:unionpay:001") == 500000 - 1000   # the refund undone at the host too
    rows = journal_rows(config)
    assert disagreements(rows, HostLedger(config.embedded_db_path, config.config_dir).transactions()) == []


def test_wallet_slips_show_the_payer_the_wallet_and_the_order_in_both_languages(tmp_path):
    from pos.journal.receipts import transaction_receipt
    from receipts.text import render_text

    config, clock = configure(tmp_path), Clock()
    code = phone(config, clock).issue("wechat").payload
    picture = image_of(code, tmp_path / "1.png")

    async def work(engine):
        paid = await engine.sale(1500, [CameraSource(picture)])
        return paid, await engine.refund(paid.txn.rrn, 500, [])

    paid, refunded = run(config, clock, work)
    order = f"10000001{paid.txn.batch}{paid.txn.stan}"
    sale_slip = render_text(transaction_receipt(paid.txn, config))
    for words in ("付款账户 PAYER ACCOUNT", code[:4] + "*" * (len(code) - 8) + code[-4:], "微信支付 WECHAT PAY",
                  "订单号 ORDER NO.", order, "消费 SALE", "15.00", "免签名 NO SIGNATURE REQUIRED"):
        assert words in sale_slip, words
    assert code not in sale_slip
    refund_slip = render_text(transaction_receipt(refunded.txn, config))
    assert "退货 REFUND" in refund_slip and order in refund_slip and "-¥5.00" in refund_slip
