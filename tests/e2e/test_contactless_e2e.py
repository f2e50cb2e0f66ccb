"""Taps end to end: `pos` -> simulated PN532 on a pty -> nfcpy's pn532 driver -> EMV kernel ->
a real `acquirer serve` on loopback, whose issuers check the cryptograms.

Each test asserts what the cardholder and the cashier see (exit status, the
reader's message), the terminal's journal row (entry mode 07x, AID,
application label, ARQC and the check of the issuer's ARPC) and the money on
the acquirer's ledger.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest

from drivers.sim.contactless.atc import AtcStore
from pos.simulated.virtual_card import ATC_DIR
from tests.pos.support import AcquirerServer, HostLedger, disagreements, invoke_pos, make_config, test_cards

CARDS = test_cards()
EXIT_APPROVED, EXIT_DECLINED, EXIT_REFUSED = 0, 1, 2


@pytest.fixture
def acquirer(tmp_path):
    config_dir = make_config(tmp_path, pos={"timeout_s": 3.0})
    with AcquirerServer(config_dir, tmp_path / "acquirer.db") as server:
        yield config_dir, server


def journal(state_dir: Path) -> list[dict]:
    if not (state_dir / "journal.db").exists():
        return []
    conn = sqlite3.connect(state_dir / "journal.db")
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM transactions ORDER BY id")]
    conn.close()
    return rows


def opening(name: str) -> int:
    return CARDS[name].get("balance", CARDS[name].get("credit_limit"))


class Till:
    """`pos` against the acquirer, on one state directory."""

    def __init__(self, config_dir: Path, state: Path, server: AcquirerServer) -> None:
        self.config_dir, self.state, self.server = config_dir, state, server
        self.ledger = HostLedger(server.db, config_dir)

    def sale(self, amount: str, *options: str, expect: int) -> dict | str:
        """The sale's JSON outcome, or (nothing sent) the error line on stderr."""
        done = invoke_pos(self.config_dir, self.state, "sale", amount, *options, "--json", host=self.server.address)
        assert done.returncode == expect, done.stderr + done.stdout
        return json.loads(done.stdout) if done.stdout.strip() else done.stderr.strip().splitlines()[-1]

    def agrees_with_the_host(self) -> None:
        assert disagreements(journal(self.state), self.ledger.transactions()) == []
        assert self.ledger.unbalanced_postings() == 0


@pytest.fixture
def till(acquirer, tmp_path):
    config_dir, server = acquirer
    return Till(config_dir, tmp_path / "state", server)


# name -> (response code, exit status)
EVERY_CARD = {
    "unionpay-debit": ("00", EXIT_APPROVED),
    "unionpay-credit": ("00", EXIT_APPROVED),
    "visa": ("00", EXIT_APPROVED),
    "mastercard": ("00", EXIT_APPROVED),
    "unionpay-phone": ("00", EXIT_APPROVED),
    "unionpay-wearable": ("00", EXIT_APPROVED),
    "unionpay-watch": ("00", EXIT_APPROVED),
    "unionpay-expired": ("54", EXIT_DECLINED),
}


def test_every_virtual_card_is_read_through_nfcpy_and_authorized_on_its_cryptogram(till):
    for name, (code, status) in EVERY_CARD.items():
        outcome = till.sale("12.34", "--card", name, expect=status)
        card = CARDS[name]
        assert outcome["response_code"] == code, name
        assert (outcome["entry_mode"], outcome["aid"], outcome["app_label"], outcome["cryptogram"]) == (
            "072", card["aid"], card["label"], "ARQC"), name
        assert outcome["masked_pan"] == card["pan"][:6] + "*" * (len(card["pan"]) - 10) + card["pan"][-4:]
        # tag 91 of the reply: its ARC agrees with field 39
        assert outcome["arpc_check"] == f"ok (method 1, ARC {code})", name
        taken = 1234 if code == "00" else 0
        assert till.ledger.balance(name) == opening(name) - taken, name
    rows = journal(till.state)
    assert [(r["state"], r["response_code"], r["entry_mode"]) for r in rows] == [
        ("approved" if code == "00" else "declined", code, "072") for code, _ in EVERY_CARD.values()]
    assert all(r["issuer_auth_data"].startswith("910A") for r in rows)
    till.agrees_with_the_host()


def test_above_the_cvm_limit_pin_unless_the_phone_verified_its_holder(till):
    refused = till.sale("1500", "--card", "unionpay-wearable", expect=EXIT_REFUSED)
    assert "asks for its online PIN" in refused   # a band cannot verify its wearer: nothing sent
    assert journal(till.state) == []
    band = till.sale("1500", "--card", "unionpay-wearable", "--pin", CARDS["unionpay-wearable"]["pin"],
                     expect=EXIT_APPROVED)
    phone = till.sale("1500", "--card", "unionpay-phone", expect=EXIT_APPROVED)   # CDCVM: no PIN
    watch = till.sale("1500", "--card", "unionpay-watch", expect=EXIT_APPROVED)   # CDCVM too
    wrong = till.sale("1500", "--card", "visa", "--pin", "9999", expect=EXIT_DECLINED)
    assert [(o["entry_mode"], o["response_code"]) for o in (band, phone, watch, wrong)] == [
        ("071", "00"), ("072", "00"), ("072", "00"), ("071", "55")]
    for name in ("unionpay-wearable", "unionpay-phone", "unionpay-watch"):
        assert till.ledger.balance(name) == opening(name) - 150_000, name
    assert till.ledger.balance("visa") == opening("visa")
    till.agrees_with_the_host()


# options -> (exit status, what the reader shows)
MISBEHAVING = {
    ("--card", "visa", "--card-fault", "pulled-away"): (EXIT_REFUSED, "Present card again"),
    ("--card", "mastercard", "--card-fault", "slow"): (EXIT_REFUSED, "Present card again"),
    ("--card", "unionpay-phone", "--card-fault", "locked-phone"): (EXIT_REFUSED, "See phone for instructions"),
    ("--card", "unionpay-debit", "--card-fault", "malformed-gpo"): (EXIT_REFUSED, "Insert, swipe or try another card"),
    ("--card", "visa", "--card-fault", "no-cryptogram"): (EXIT_REFUSED, "Insert, swipe or try another card"),
    ("--card", "mastercard", "--card-fault", "record-missing"): (EXIT_REFUSED, "Insert, swipe or try another card"),
    ("--card", "unionpay-credit", "--card-fault", "declining"): (EXIT_DECLINED, "Not authorised"),
    ("--card", "visa", "--card", "unionpay-debit"): (EXIT_REFUSED, "Please present one card only"),
}


def test_misbehaving_cards_end_with_what_the_cardholder_sees_and_send_nothing(till):
    for options, (status, prompt) in MISBEHAVING.items():
        line = till.sale("8.00", *options, expect=status)
        assert re.match(rf"Error: {prompt} \(.+\); nothing was sent$", line), (options, line)
    assert journal(till.state) == []
    assert till.ledger.transactions() == {}
    for name in ("visa", "mastercard", "unionpay-phone", "unionpay-debit", "unionpay-credit"):
        assert till.ledger.balance(name) == opening(name)
    # a slow card that asks for more time is read and paid
    slow = till.sale("8.00", "--card", "mastercard", "--card-fault", "slow-wtx", expect=EXIT_APPROVED)
    assert slow["arpc_check"] == "ok (method 1, ARC 00)"
    till.agrees_with_the_host()


def test_a_card_keyed_with_a_key_the_issuer_does_not_know_is_declined(acquirer, tmp_path):
    config_dir, server = acquirer
    # a clone of the visa card personalised with another issuer master key: the terminal's copy of
    # the card file (which only the simulated card reads) differs from the acquirer's
    cloned = make_config(tmp_path / "clone", pos={"timeout_s": 3.0})
    cards = cloned / "cards.toml"
    cards.write_text(cards.read_text().replace(CARDS["visa"]["imk_ac"], "0123456789ABCDEFFEDCBA9876543210"))
    till = Till(cloned, tmp_path / "state", server)
    outcome = till.sale("20.00", "--card", "visa", expect=EXIT_DECLINED)
    assert (outcome["state"], outcome["response_code"], outcome["cryptogram"]) == ("declined", "05", "ARQC")
    assert till.ledger.balance("visa") == opening("visa")
    [row] = journal(till.state)
    assert (row["state"], row["response_code"]) == ("declined", "05")
    till.agrees_with_the_host()


def test_a_replayed_atc_is_declined_and_moves_no_money(till):
    first = till.sale("30.00", "--card", "unionpay-debit", expect=EXIT_APPROVED)
    store = AtcStore(till.state / ATC_DIR)
    used = store.current("unionpay-debit")
    (till.state / ATC_DIR / "unionpay-debit.atc").write_text(f"{used - 1}\n")   # rewind the card's counter
    replay = till.sale("30.00", "--card", "unionpay-debit", expect=EXIT_DECLINED)
    assert (first["response_code"], replay["response_code"], replay["state"]) == ("00", "05", "declined")
    assert store.current("unionpay-debit") == used   # the card really sent its last ATC again
    assert till.ledger.balance("unionpay-debit") == opening("unionpay-debit") - 3000
    assert [r["state"] for r in journal(till.state)] == ["approved", "declined"]
    # the counter moves on: the next tap is paid again
    assert till.sale("30.00", "--card", "unionpay-debit", expect=EXIT_APPROVED)["response_code"] == "00"
    till.agrees_with_the_host()


def test_a_real_reader_setting_is_used_and_its_absence_named(acquirer, tmp_path):
    config_dir, server = acquirer
    other = make_config(tmp_path / "real", pos={"reader": "/dev/tillkit-no-such-reader:pn532"})
    state = tmp_path / "state"
    done = invoke_pos(other, state, "sale", "1", host=server.address)
    assert done.returncode == 4
    assert "no contactless reader at '/dev/tillkit-no-such-reader:pn532'" in done.stderr
    done = invoke_pos(other, state, "sale", "1", "--card", "visa", host=server.address)
    assert done.returncode == 2 and "tap test cards on the simulated reader" in done.stderr
    assert journal(state) == [] and HostLedger(server.db, config_dir).transactions() == {}
