"""The engine against the real acquirer host, in process: outcomes, events, journal rows, ledger money."""
from __future__ import annotations

import asyncio
from contextlib import ExitStack, asynccontextmanager
from dataclasses import asdict

import pytest

from acquirer.config import load_config as load_acquirer_config
from acquirer.host import Host
from acquirer.protocol import codec
from acquirer.protocol.messages import SignOff
from acquirer.storage import open_database
from pos.core import events as ev
from pos.core.config import load_config
from pos.core.engine import Engine
from pos.core.errors import CardMismatch, OriginalNotFound, PinNotEntered, ReversalOutstanding
from pos.core.pinpad import FixedPin
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from pos.hostlink.link import EmbeddedLink
from pos.journal import store as j
from pos.journal.store import Journal
from tests.pos.support import HostLedger, disagreements, make_config, test_cards

CARDS = test_cards()


@pytest.fixture
def cards_for():
    """The test cards of a configuration, tapped on its simulated PN532 (closed after the test)."""
    with ExitStack() as stack:
        yield lambda config: stack.enter_context(open_contactless(config)).cards


@pytest.fixture
def setup(tmp_path, cards_for):
    config = load_config(make_config(tmp_path), state_dir=tmp_path / "state")
    return config, cards_for(config)


def ledger(config) -> HostLedger:
    return HostLedger(config.embedded_db_path, config.config_dir)


def journal_rows(config) -> list[dict]:
    journal = Journal(config.journal_path)
    rows = [asdict(t) for t in journal.history()]
    journal.close()
    return rows


def run(config, work, events=None):
    async def go():
        async with open_terminal(config, events.append if events is not None else None) as engine:
            return await work(engine)
    return asyncio.run(go())


def test_sale_is_approved_posted_once_and_journalled_masked(setup):
    config, cards = setup
    events: list[ev.Event] = []
    outcome = run(config, lambda e: e.sale(1234, [cards.card("unionpay-debit")]), events)

    assert outcome.approved and outcome.txn.response_code == "00"
    assert [type(e).__name__ for e in events] == [
        "SigningOn", "SignedOn", "WaitingForPayment", "CardRead", "Authorizing", "Approved", "Printing",
        "ReceiptPrinted"]
    approved = events[-3]
    assert (approved.amount, approved.rrn, approved.stan) == (1234, outcome.txn.rrn, outcome.txn.stan)
    assert outcome.txn.masked_pan == "621483*********0015" and outcome.txn.entry_mode == "072"
    assert outcome.txn.cryptogram == "ARQC" and outcome.txn.issuer_auth_data.startswith("910A")
    host = ledger(config)
    assert host.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 1234
    assert disagreements(journal_rows(config), host.transactions()) == []
    for path in config.state_dir.rglob("*"):   # nothing on disk holds the PAN
        assert path.is_dir() or CARDS["unionpay-debit"]["pan"].encode() not in path.read_bytes(), path


class FailingPrinter:
    """Records what the engine asks it to print, and fails on declined slips and settlements."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    async def start(self) -> None:
        self.calls.append(("start",))

    async def transaction(self, txn) -> None:
        self.calls.append(("transaction", txn.stan, txn.state))
        if txn.state == j.DECLINED:
            raise OSError("printer offline")

    async def settlement(self, batch: str) -> None:
        self.calls.append(("settlement", batch))
        raise OSError("printer offline")


def test_the_printer_gets_each_answered_transaction_and_the_settlement_and_its_faults_change_nothing(setup):
    config, cards = setup
    printer = FailingPrinter()

    async def go():
        async with open_terminal(config, printer=printer) as engine:
            return (await engine.sale(100, [cards.card("visa")]),
                    await engine.sale(20000, [cards.card("unionpay-low-balance")]),
                    await engine.settle())

    approved, declined, settled = asyncio.run(go())
    assert printer.calls == [("start",), ("transaction", approved.txn.stan, j.APPROVED),
                             ("transaction", declined.txn.stan, j.DECLINED), ("settlement", "000001")]
    assert approved.approved and declined.state == j.DECLINED
    assert settled.balanced and settled.next_batch == "000002"


def test_every_scheme_authorizes_with_its_own_cryptogram(setup):
    config, cards = setup
    names = ["unionpay-credit", "visa", "mastercard", "mastercard-2series"]

    async def work(engine):
        return [await engine.sale(500, [cards.card(name)]) for name in names]

    assert [o.txn.response_code for o in run(config, work)] == ["00"] * 4
    host = ledger(config)
    for name in names:
        opening = CARDS[name].get("balance", CARDS[name].get("credit_limit"))
        assert host.balance(name) == opening - 500


def test_declines_carry_the_issuers_reason_and_take_nothing(setup):
    config, cards = setup
    events: list[ev.Event] = []

    async def work(engine):
        return [await engine.sale(20000, [cards.card("unionpay-low-balance")]),
                await engine.sale(100, [cards.card("unionpay-expired")])]

    low, expired = run(config, work, events)
    assert (low.state, low.txn.response_code, expired.txn.response_code) == (j.DECLINED, "51", "54")
    declined = [e for e in events if isinstance(e, ev.Declined)]
    assert [(d.response_code, d.reason, d.reason_zh) for d in declined] == [
        ("51", "Insufficient funds", "余额不足"), ("54", "Expired card", "过期卡")]
    assert ledger(config).balance("unionpay-low-balance") == CARDS["unionpay-low-balance"]["balance"]
    assert not any(isinstance(e, ev.ReversalPending) for e in events)


def test_void_refund_preauth_completion_and_balance(setup):
    config, cards = setup
    visa, upi = cards.card("visa"), cards.card("unionpay-debit")

    async def work(engine):
        sale = await engine.sale(8800, [visa])
        void = await engine.void(sale.txn.stan, [visa])
        paid = await engine.sale(5000, [upi])
        refund = await engine.refund(paid.txn.rrn, 2000, [upi])
        hold = await engine.preauth(30000, [visa])
        completion = await engine.complete(hold.txn.stan, 25000, [visa])
        balance = await engine.balance([upi])
        return sale, void, paid, refund, hold, completion, balance

    sale, void, paid, refund, hold, completion, balance = run(config, work)
    assert all(o.approved for o in (void, paid, refund, hold, completion, balance))
    host = ledger(config)
    assert host.balance("visa") == CARDS["visa"]["credit_limit"] - 25000   # voided sale back, hold released
    assert host.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"] - 3000
    assert balance.balance == host.balance("unionpay-debit")
    rows = {r["stan"]: r for r in journal_rows(config)}
    assert rows[sale.txn.stan]["state"] == j.VOIDED and rows[hold.txn.stan]["state"] == j.COMPLETED
    assert rows[void.txn.stan]["original_rrn"] == sale.txn.rrn
    assert disagreements(list(rows.values()), host.transactions()) == []
    assert host.unbalanced_postings() == 0


def test_void_and_refund_want_the_original_card(setup):
    config, cards = setup

    async def work(engine):
        sale = await engine.sale(1000, [cards.card("visa")])
        with pytest.raises(CardMismatch, match="not the card of the original"):
            await engine.void(sale.txn.stan, [cards.card("mastercard")])
        with pytest.raises(OriginalNotFound, match="no approved sale or completion with RRN 999999999999"):
            await engine.refund("999999999999", 100, [cards.card("visa")])
        with pytest.raises(OriginalNotFound, match="no transaction with trace 000777"):
            await engine.void("777", [cards.card("visa")])

    run(config, work)
    assert [r["type"] for r in journal_rows(config)] == ["sale"]   # nothing else was sent


def test_no_answer_in_time_is_reversed_and_the_late_approval_takes_nothing(tmp_path, cards_for):
    config_dir = make_config(tmp_path, pos={"timeout_s": 0.3}, issuers={"cup-bank": ("slow", 900)})
    config = load_config(config_dir, state_dir=tmp_path / "state")
    cards = cards_for(config)
    events: list[ev.Event] = []
    outcome = run(config, lambda e: e.sale(4321, [cards.card("unionpay-debit")]), events)

    assert outcome.state == j.REVERSED
    pending = next(e for e in events if isinstance(e, ev.ReversalPending))
    assert (pending.reason_code, pending.stan) == ("98", outcome.txn.stan)
    assert any(isinstance(e, ev.Reversed) for e in events)
    # the host's answer to the sale came after the reversal: noted, never applied
    [row] = journal_rows(config)
    assert row["state"] == j.REVERSED and row["late_reply_code"] is not None
    host = ledger(config)
    assert host.balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"]
    assert disagreements([row], host.transactions()) == []


@asynccontextmanager
async def tampered_terminal(config, tamper):
    """A terminal on the real in-process host whose replies pass through `tamper` (a faulty line)."""
    acquirer = load_acquirer_config(config.config_dir)
    db = open_database(config.embedded_db_path, acquirer.database.synchronous)
    host = Host(acquirer, db)

    async def handle(payload):
        return tamper(await host.handle(payload))

    journal = Journal(config.journal_path)
    link = EmbeddedLink(handle)
    engine = Engine(config, journal, link)
    await engine.start()
    try:
        yield engine, host
    finally:
        await link.close()
        journal.close()
        db.close()


def test_an_approval_with_a_bad_mac_is_reversed(setup):
    config, cards = setup

    def flip_sale_mac(reply: bytes) -> bytes:
        if codec.decode(reply)["t"] == "0210":
            return reply[:-1] + bytes([reply[-1] ^ 0x01])
        return reply

    async def work():
        async with tampered_terminal(config, flip_sale_mac) as (engine, _):
            return await engine.sale(700, [cards.card("unionpay-debit")])

    outcome = asyncio.run(work())
    assert outcome.state == j.REVERSED
    assert ledger(config).balance("unionpay-debit") == CARDS["unionpay-debit"]["balance"]


def test_host_asking_for_sign_on_gets_it_before_the_next_transaction(setup):
    config, cards = setup
    events: list[ev.Event] = []

    async def work(engine):
        stan = engine.journal.next_stan()
        sign_off = SignOff(engine.session.terminal, stan, engine.journal.batch).to_message()
        await engine.session.exchange(codec.encode(sign_off), ("0830", stan))   # the host forgets the session
        refused = await engine.sale(100, [cards.card("visa")])
        again = await engine.sale(100, [cards.card("visa")])
        return refused, again

    refused, again = run(config, work, events)
    assert refused.txn.response_code == "77" and again.approved
    assert sum(isinstance(e, ev.SignedOn) for e in events) == 2


def test_an_unacknowledged_reversal_blocks_new_transactions_until_acknowledged(tmp_path, cards_for):
    config_dir = make_config(tmp_path, pos={"timeout_s": 0.2, "reversal_attempts": 2, "backoff_initial_s": 0.01})
    config = load_config(config_dir, state_dir=tmp_path / "state")
    cards = cards_for(config)

    def lose_answers(reply: bytes) -> bytes | None:   # the line drops every answer to 0200 / 0400
        return None if codec.decode(reply)["t"] in ("0210", "0410") else reply

    async def first():
        async with tampered_terminal(config, lose_answers) as (engine, _):
            outcome = await engine.sale(900, [cards.card("mastercard")])
            with pytest.raises(ReversalOutstanding, match=f"trace {outcome.txn.stan}"):
                await engine.sale(100, [cards.card("mastercard")])
            return outcome

    outcome = asyncio.run(first())
    assert outcome.state == j.REVERSAL_DUE
    assert [r["type"] for r in journal_rows(config)] == ["sale"]   # the second sale never started
    # at the next start the reversal is sent again (idempotent on the host) before anything else
    events: list[ev.Event] = []
    later = run(config, lambda e: e.sale(100, [cards.card("mastercard")]), events)
    assert later.approved
    kinds = [type(e).__name__ for e in events]
    assert kinds.index("Reversed") < kinds.index("WaitingForPayment")
    host = ledger(config)
    assert host.balance("mastercard") == CARDS["mastercard"]["balance"] - 100
    assert disagreements(journal_rows(config), host.transactions()) == []


def test_stans_wrap_from_999999_to_000001_on_the_wire(setup):
    config, cards = setup
    journal = Journal(config.journal_path)
    journal.db.execute("UPDATE counters SET value = 999997 WHERE name = 'stan'")
    journal.close()

    async def work(engine):   # the sign-on takes 999998
        return [await engine.sale(100, [cards.card("visa")]) for _ in range(2)]

    outcomes = run(config, work)
    assert [(o.txn.stan, o.approved) for o in outcomes] == [("999999", True), ("000001", True)]
    assert disagreements(journal_rows(config), ledger(config).transactions()) == []


def test_online_pin_is_verified_by_the_issuer(setup):
    config, cards = setup   # ¥2,000 is above the ¥1,000 CVM limit: the card asks for online PIN
    pin = CARDS["visa"]["pin"]

    async def work(engine):
        engine.pinpad = FixedPin(pin)
        right = await engine.sale(200000, [cards.card("visa")])
        engine.pinpad = FixedPin("000000")
        return right, await engine.sale(200000, [cards.card("visa")])

    right, wrong = run(config, work)
    assert right.approved and right.txn.entry_mode == "071"
    assert wrong.txn.response_code == "55"


def test_below_the_cvm_limit_the_pin_pad_is_not_asked(setup):
    config, cards = setup
    asked: list[object] = []

    class Pad:
        async def request_pin(self, request):
            asked.append(request)
            return "123456"

    async def work(engine):
        engine.pinpad = Pad()
        return await engine.sale(100, [cards.card("visa")])

    outcome = run(config, work)
    assert outcome.approved and outcome.txn.entry_mode == "072" and asked == []


def test_a_card_asking_for_pin_without_one_sends_nothing(setup):
    config, cards = setup   # ¥2,000 is above the ¥1,000 CVM limit: the card asks for online PIN
    with pytest.raises(PinNotEntered, match=r"the card 476173\*+0011 asks for its online PIN") as caught:
        run(config, lambda e: e.sale(200000, [cards.card("visa")]))
    assert caught.value.kind == "refused" and caught.value.data == {"card": "476173******0011"}
    assert journal_rows(config) == []
    assert ledger(config).transactions() == {}
