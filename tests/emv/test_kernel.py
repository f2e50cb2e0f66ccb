"""Kernel decisions, run in-process against virtual card applications (no radio)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from acquirer.protocol import tlv
from acquirer.protocol.dol import build_dol_data, parse_dol
from drivers.sim.contactless import AtcStore, CoBadgedCard, Misbehaviour, PaymentApplication, load_profile
from drivers.sim.contactless.application import SW_CONDITIONS_NOT_SATISFIED
from pos.core.payment import PaymentRequest
from pos.sources.emv import ContactlessKernel, OutcomeKind, TerminalEmvConfig
from tests.emv.conftest import field55, issuer_verifies
from tests.nfc.conftest import CARDS_FILE

UNIONPAY_CREDIT = bytes.fromhex("A000000333010102")
VISA = bytes.fromhex("A0000000031010")


def app(name: str, state_dir: Path, misbehaviour: Misbehaviour | None = None,
        cards_file: Path = CARDS_FILE) -> PaymentApplication:
    return PaymentApplication(load_profile(cards_file, name), AtcStore(state_dir), misbehaviour)


def with_aid(config: TerminalEmvConfig, aid: bytes, **changes) -> TerminalEmvConfig:
    return replace(config, aids=tuple(replace(p, **changes) if p.aid == aid else p for p in config.aids))


def sale(amount: int = 1234, **fields) -> PaymentRequest:
    return PaymentRequest(kind="sale", amount=amount, **fields)


def cobadged(state_dir: Path, **misbehaviour) -> CoBadgedCard:
    """Visa listed first with priority 2, UnionPay credit second with priority 1."""
    return CoBadgedCard([(app("visa", state_dir), 2),
                         (app("unionpay-credit", state_dir, Misbehaviour(**misbehaviour)), 1)])


# --- application selection -------------------------------------------------------------------
def test_highest_priority_application_is_chosen(emv_config, state_dir):
    result = ContactlessKernel(emv_config).run(cobadged(state_dir), sale())
    assert result.card.aid == UNIONPAY_CREDIT.hex().upper()
    assert issuer_verifies(result.card)


def test_only_applications_the_terminal_accepts_are_candidates(emv_config, state_dir):
    visa_only = replace(emv_config, aids=tuple(p for p in emv_config.aids if p.scheme == "visa"))
    result = ContactlessKernel(visa_only).run(cobadged(state_dir), sale())
    assert result.card.aid == VISA.hex().upper()


def test_an_application_over_its_contactless_limit_yields_to_the_next(emv_config, state_dir):
    config = with_aid(emv_config, UNIONPAY_CREDIT, contactless_limit=1000)
    result = ContactlessKernel(config).run(cobadged(state_dir), sale(1234))
    assert result.card.aid == VISA.hex().upper()


def test_an_application_refusing_gpo_yields_to_the_next(emv_config, state_dir):
    card = cobadged(state_dir, status_words={"gpo": SW_CONDITIONS_NOT_SATISFIED})
    result = ContactlessKernel(emv_config).run(card, sale())
    assert result.card.aid == VISA.hex().upper()
    assert issuer_verifies(result.card)


def test_amount_over_every_contactless_limit_asks_for_the_chip(emv_config, state_dir):
    result = ContactlessKernel(emv_config).run(app("visa", state_dir), sale(10_000_001))
    assert result.outcome.kind is OutcomeKind.TRY_ANOTHER_INTERFACE
    assert result.outcome.message == "Please insert or swipe card"


def test_amount_over_this_cards_contactless_limit_asks_for_the_chip(emv_config, state_dir):
    config = with_aid(emv_config, VISA, contactless_limit=1000)
    result = ContactlessKernel(config).run(app("visa", state_dir), sale(1234))
    assert result.outcome.message == "Please insert or swipe card"


def test_card_with_no_accepted_application(emv_config, state_dir):
    no_visa = replace(emv_config, aids=tuple(p for p in emv_config.aids if p.scheme != "visa"))
    result = ContactlessKernel(no_visa).run(app("visa", state_dir), sale())
    assert result.outcome.kind is OutcomeKind.TRY_ANOTHER_INTERFACE
    assert result.outcome.message == "Insert, swipe or try another card"
    assert "no application" in result.outcome.reason


class Silent:
    """A 'card' that answers every command with the same bytes."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer

    def exchange(self, apdu: bytes) -> bytes:
        return self.answer


@pytest.mark.parametrize(("answer", "reason"), [
    (bytes.fromhex("6A82"), "no contactless payment directory"),
    (bytes.fromhex("90"), "no status word"),
    (bytes.fromhex("6F0384019000"), "not valid TLV"),
])
def test_nonsense_from_the_card(emv_config, answer, reason):
    result = ContactlessKernel(emv_config).run(Silent(answer), sale())
    assert result.outcome.kind is OutcomeKind.TRY_ANOTHER_INTERFACE
    assert reason in result.outcome.reason


# --- CVM and terminal risk ---------------------------------------------------------------------
def test_cvm_limit_is_a_parameter(emv_config, state_dir):
    config = with_aid(emv_config, bytes.fromhex("A000000333010101"), cvm_limit=200_000)
    result = ContactlessKernel(config).run(app("unionpay-debit", state_dir), sale(150_000))
    assert not result.card.pin_required
    assert result.card.extra["cvm"] == "no CVM"


def test_no_cvm_above_the_limit_when_configured(emv_config, state_dir):
    config = with_aid(emv_config, bytes.fromhex("A0000000041010"), cvm="none")
    result = ContactlessKernel(config).run(app("mastercard", state_dir), sale(150_000))
    assert not result.card.pin_required


@pytest.mark.parametrize(("amount", "exceeds"), [(1234, False), (10_000, True)])
def test_floor_limit_sets_the_tvr_bit_the_cryptogram_covers(emv_config, state_dir, amount, exceeds):
    config = with_aid(emv_config, VISA, floor_limit=5000)
    result = ContactlessKernel(config).run(app("visa", state_dir), sale(amount))
    assert bool(field55(result.card)["95"][3] & 0x80) is exceeds
    assert issuer_verifies(result.card)


def expired_copy(tmp_path: Path, name: str) -> Path:
    """A card file holding `name` with an expiry in the past (same PAN and keys)."""
    text = CARDS_FILE.read_text()
    start = text.index(f'name = "{name}"')
    end = text.index("[[card]]", start) if "[[card]]" in text[start:] else len(text)
    entry = text[start:end]
    expiry_line = next(line for line in entry.splitlines() if line.startswith("expiry"))
    path = tmp_path / "cards.toml"
    path.write_text("[[card]]\n" + entry.replace(expiry_line, 'expiry = "2401"'))
    return path


def test_expired_mchip_card_goes_online_with_the_tvr_bit_in_its_cryptogram(emv_config, state_dir, tmp_path):
    card = app("mastercard", state_dir, cards_file=expired_copy(tmp_path, "mastercard"))
    result = ContactlessKernel(emv_config).run(card, sale(transaction_date="250601"))
    assert result.outcome.kind is OutcomeKind.ONLINE_REQUEST
    assert field55(result.card)["95"][1] & 0x40
    assert result.card.extra["expired"] == "yes"
    assert issuer_verifies(result.card)


def test_expired_qpboc_card_keeps_the_tvr_its_cryptogram_covered(emv_config, state_dir):
    result = ContactlessKernel(emv_config).run(app("unionpay-expired", state_dir),
                                                sale(transaction_date="250601"))
    assert result.card.extra["expired"] == "yes"
    assert issuer_verifies(result.card)


def test_card_declining_gives_no_field_55(emv_config, state_dir):
    result = ContactlessKernel(emv_config).run(app("visa", state_dir, Misbehaviour(decline=True)), sale())
    assert result.outcome.kind is OutcomeKind.DECLINED
    assert result.card.icc_data is None
    assert result.card.extra["cryptogram"] == "AAC"


# --- what goes to the acquirer -----------------------------------------------------------------
def test_field_55_tags_in_the_acquirers_order_with_the_requests_data(emv_config, state_dir):
    request = PaymentRequest(kind="refund", amount=98_765, transaction_date="260131",
                             unpredictable_number=bytes.fromhex("A1B2C3D4"))
    result = ContactlessKernel(emv_config).run(app("mastercard", state_dir), request, sequence_counter=42)
    items = tlv.parse(result.card.icc_data)
    assert [t.tag for t in items] == ["9F26", "9F27", "9F10", "9F37", "9F36", "95", "9A", "9C", "9F02",
                                      "5F2A", "82", "9F1A", "9F03", "9F33",
                                      "9F34", "9F35", "9F1E", "84", "9F09", "9F41"]
    tags = tlv.as_dict(items)
    assert tags["9F02"] == bytes.fromhex("000000098765")
    assert tags["9F03"] == bytes(6)
    assert tags["5F2A"] == tags["9F1A"] == bytes.fromhex("0156")
    assert tags["9A"] == bytes.fromhex("260131")
    assert tags["9C"] == bytes.fromhex("20")
    assert tags["9F37"] == bytes.fromhex("A1B2C3D4")
    assert tags["9F41"] == bytes.fromhex("00000042")
    assert tags["9F33"] == emv_config.capabilities
    assert tags["9F1E"] == emv_config.ifd_serial
    assert tags["84"] == bytes.fromhex("A0000000041010")
    assert issuer_verifies(result.card)


def test_card_data_for_the_engine(emv_config, state_dir):
    kernel = ContactlessKernel(emv_config)
    card = kernel.run(app("unionpay-debit", state_dir), sale()).card
    assert card.pan == "6214830000000000015"
    assert card.track2 == "6214830000000000015D301220100000000"
    assert (card.expiry, card.psn, card.label, card.source) == ("3012", "01", "UnionPay Debit", "nfc")
    assert "6214830000000000015" not in repr(card)


# --- data object lists -------------------------------------------------------------------------
def test_dol_values_are_fitted_to_the_length_the_card_asks():
    dol = bytes.fromhex("9F0204" "9F3706" "9F1A03" "DF0102" "9C01")
    values = {"9F02": bytes.fromhex("000000012345"), "9F37": bytes.fromhex("A1B2C3D4"),
              "9F1A": bytes.fromhex("0156"), "9C": bytes.fromhex("00")}
    assert parse_dol(dol) == [("9F02", 4), ("9F37", 6), ("9F1A", 3), ("DF01", 2), ("9C", 1)]
    # numeric cut/padded on the left, binary padded on the right, unknown = zeros
    assert build_dol_data(dol, values) == bytes.fromhex("00012345" "A1B2C3D40000" "000156" "0000" "00")
