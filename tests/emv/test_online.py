"""After the host answers: tag 91 from the reply, checked for form against field 39."""
from __future__ import annotations

from pathlib import Path

import pytest

from acquirer.protocol import tlv
from acquirer.protocol.cryptogram import cryptogram_for
from drivers.sim.contactless import virtual_application
from pos.core.payment import PaymentRequest
from pos.sources.emv import OutcomeKind, complete_online
from tests.emv.conftest import field55, issuer_card
from tests.nfc.conftest import CARDS_FILE


def online(kernel, state_dir, name="unionpay-debit", cards_file=CARDS_FILE):
    card = virtual_application(name, cards_file=cards_file, state_dir=state_dir)
    return kernel.run(card, PaymentRequest(kind="sale", amount=1234))


def issuer_91(result, arc: bytes) -> bytes:
    """Tag 91 as the issuer builds it, with the card's key from the card file."""
    entry = issuer_card(result.card.pan)
    version = cryptogram_for(entry["scheme"], entry.get("cvn"))
    icc_mk = version.icc_mk(bytes.fromhex(entry["imk_ac"]), entry["pan"], entry["psn"])
    tags = field55(result.card)
    return version.issuer_authentication_data(icc_mk, tags, tags["9F26"], arc)


@pytest.mark.parametrize("name", ["unionpay-debit", "visa", "mastercard"])
def test_approval_with_a_method_1_arpc(kernel, state_dir, name):
    result = online(kernel, state_dir, name)
    final = complete_online(result.card, "00", tlv.build([("91", issuer_91(result, b"00"))]))
    assert (final.outcome.kind, final.outcome.message) == (OutcomeKind.APPROVED, "Approved")
    report = final.issuer_authentication
    assert (report.present, report.method, report.arc, report.well_formed) == (True, 1, "00", True)
    assert len(report.arpc) == 8


def test_decline_with_its_arc(kernel, state_dir):
    result = online(kernel, state_dir)
    final = complete_online(result.card, "51", tlv.build([("91", issuer_91(result, b"51"))]))
    assert (final.outcome.kind, final.outcome.message) == (OutcomeKind.DECLINED, "Not authorised")
    assert final.issuer_authentication.well_formed


def test_arc_contradicting_the_response_code_is_reported(kernel, state_dir):
    result = online(kernel, state_dir)
    final = complete_online(result.card, "00", tlv.build([("91", issuer_91(result, b"05"))]))
    assert final.outcome.kind is OutcomeKind.APPROVED   # the host's answer stands
    assert final.issuer_authentication.problems == ("ARC 05 in tag 91 contradicts response code 00",)


@pytest.mark.parametrize(("reply", "problem"), [
    (bytes.fromhex("9108") + bytes(8), "tag 91 is 8 bytes; ARPC method 1 needs 10"),
    (bytes.fromhex("910A") + bytes(10), "ARC 0000 in tag 91 is not two letters or digits"),
    (bytes.fromhex("9110") + bytes(4), "reply field 55 is not valid TLV"),
])
def test_malformed_issuer_data_is_reported(kernel, state_dir, reply, problem):
    final = complete_online(online(kernel, state_dir).card, "00", reply)
    assert final.outcome.kind is OutcomeKind.APPROVED
    assert final.issuer_authentication.problems[0].startswith(problem)


def test_no_issuer_data_and_scripts_the_card_cannot_receive(kernel, state_dir):
    result = online(kernel, state_dir)
    assert complete_online(result.card, "00", None).issuer_authentication.present is False
    scripts = tlv.build([("91", issuer_91(result, b"00")), ("72", bytes.fromhex("9F180400000001")),
                         ("71", bytes.fromhex("9F180400000002"))])
    assert complete_online(result.card, "00", scripts).issuer_authentication.scripts == 2


def test_visa_cvn18_method_2(kernel, state_dir, tmp_path: Path):
    text = CARDS_FILE.read_text()
    start = text.index('name = "visa"')
    entry = text[start:text.index("[[card]]", start)].replace("cvn = 10", "cvn = 18")
    cards = tmp_path / "cards.toml"
    cards.write_text("[[card]]\n" + entry)
    result = online(kernel, state_dir, "visa", cards)
    assert result.card.extra["cryptogram_version"] == "visa-cvn18"
    entry_keys = issuer_card(result.card.pan)
    version = cryptogram_for("visa", 18)
    icc_mk = version.icc_mk(bytes.fromhex(entry_keys["imk_ac"]), entry_keys["pan"], entry_keys["psn"])
    tags = field55(result.card)
    assert version.verify_arqc(icc_mk, tags, tags["9F26"])
    approval = version.issuer_authentication_data(icc_mk, tags, tags["9F26"], b"00")
    final = complete_online(result.card, "00", tlv.build([("91", approval)]))
    assert (final.issuer_authentication.method, final.issuer_authentication.well_formed) == (2, True)
    contradicted = complete_online(result.card, "05", tlv.build([("91", approval)]))
    assert "contradicts response code 05" in contradicted.issuer_authentication.problems[0]


def test_only_an_online_request_completes_online(kernel, tmp_path):
    declined = kernel.run(virtual_application("visa", cards_file=CARDS_FILE, state_dir=tmp_path,
                                              fault="declining"), PaymentRequest(kind="sale", amount=1))
    with pytest.raises(ValueError, match="only a contactless online request"):
        complete_online(declined.card, "00", None)
