"""EMVCo consumer-presented codes: published examples, every 61 template kept, a chip-like authorization out."""
import base64
import tomllib
from pathlib import Path

import pytest

from acquirer.protocol.cryptogram import cryptogram_for
from acquirer.protocol.tlv import as_dict, build, parse
from drivers.sim.wallet import VirtualWallet
from pos.sources.qr import MalformedCpm, UnsupportedApplication, classify_payload, parse_cpm

CARDS_FILE = Path(__file__).parents[2] / "config" / "cards.toml"
CARDS = {c["name"]: c for c in tomllib.loads(CARDS_FILE.read_text())["card"]}


def phone(tmp_path: Path, seed: int) -> VirtualWallet:
    return VirtualWallet(seed=seed, clock=lambda: 1_750_000_000.0, cards_file=CARDS_FILE, state_dir=tmp_path)

# The two examples of the EMV QR Code Specification for Payment Systems (Consumer-Presented Mode),
# as pinned by public EMVCo QR libraries (mvallim/emv-qrcode ConsumerPresentedModeDecoderTest,
# kenmaz JPQRReader CPMDecoderTests).
EMVCO_CPM_TRACK2 = "hQVDUFYwMWEaTwegAAAAVVVVVw8SNFZ4kBI0WNGRIgESNF8="
EMVCO_CPM_TWO_APPS = ("hQVDUFYwMWETTwegAAAAVVVVUAhQcm9kdWN0MWETTwegAAAAZmZmUAhQcm9kdWN0MmJJWggSNFZ4kBI0WF8gDkNBUkR"
                      "IT0xERVIvRU1WXy0IcnVlc2RlZW5kIZ8QBwYBCgMAAACfJghYT9OF+iNLzJ82AgABnzcEbVjvEw==")
EMVCO_CPM_TWO_APPS_HEX = (
    "8505435056303161134F07A0000000555555500850726F647563743161134F07A0000000666666500850726F6475637432"
    "62495A0812345678901234585F200E43415244484F4C4445522F454D565F2D08727565736465656E64219F100706010A"
    "030000009F2608584FD385FA234BCC9F360200019F37046D58EF13")

CRYPTOGRAM = [("9F26", bytes.fromhex("1122334455667788")), ("9F27", b"\x80"),
              ("9F10", bytes.fromhex("07010103A0000001")), ("9F36", b"\x00\x07"), ("9F37", b"\x01\x02\x03\x04")]
UNIONPAY_AID = bytes.fromhex("A000000333010101")


def cpm(*objects: tuple[str, bytes]) -> str:
    return base64.b64encode(build([("85", b"CPV01"), *objects])).decode()


def app(*objects: tuple[str, bytes], aid: bytes = UNIONPAY_AID) -> tuple[str, bytes]:
    return ("61", build([("4F", aid), *objects]))


def test_emvco_example_with_two_application_templates_keeps_both() -> None:
    assert base64.b64decode(EMVCO_CPM_TWO_APPS).hex().upper() == EMVCO_CPM_TWO_APPS_HEX
    payload = parse_cpm(EMVCO_CPM_TWO_APPS)
    assert payload.version == "CPV01"
    assert [(a.aid, a.label) for a in payload.applications] == [
        ("A0000000555555", "Product1"), ("A0000000666666", "Product2")]
    assert as_dict(payload.common)["5A"].hex() == "1234567890123458"
    assert as_dict(payload.common)["5F20"] == b"CARDHOLDER/EMV"
    assert {t.tag: t.value.hex().upper() for t in payload.common_transparent} == {
        "9F10": "06010A03000000", "9F26": "584FD385FA234BCC", "9F36": "0001", "9F37": "6D58EF13"}


def test_emvco_example_with_track2() -> None:
    (application,) = parse_cpm(EMVCO_CPM_TRACK2).applications
    assert application.aid == "A0000000555555"
    assert as_dict(application.objects)["57"].hex().upper() == "1234567890123458D191220112345F"


@pytest.mark.parametrize("payload", [EMVCO_CPM_TRACK2, EMVCO_CPM_TWO_APPS])
def test_emvco_examples_name_no_scheme_the_terminal_accepts(payload: str) -> None:
    with pytest.raises(UnsupportedApplication, match="A0000000555555") as caught:
        classify_payload(payload)
    assert "not accepted" in caught.value.message


def test_wallet_cpm_is_a_chip_like_authorization_the_issuer_can_verify(tmp_path: Path) -> None:
    code = phone(tmp_path, 7).cpm_code(["unionpay-debit"])
    card = classify_payload(code.payload)
    debit = CARDS["unionpay-debit"]
    assert (card.pan, card.expiry, card.psn) == (debit["pan"], debit["expiry"], debit["psn"])
    assert (card.entry_mode, card.source, card.scheme) == ("03", "qr-cpm", "unionpay")
    assert (card.aid, card.label) == (debit["aid"], debit["label"])
    assert card.track2 == f"{debit['pan']}D{debit['expiry']}20100000000"
    field55 = parse(card.icc_data)
    assert [t.tag for t in field55][:13] == ["9F26", "9F27", "9F10", "9F37", "9F36", "95", "9A", "9C",
                                            "9F02", "5F2A", "82", "9F1A", "9F03"]
    tags = as_dict(field55)
    assert tags["9A"].hex() == "250615"          # the phone's date in China when it made the code
    assert (card.extra["cryptogram"], card.extra["atc"]) == ("ARQC", tags["9F36"].hex().upper())
    version = cryptogram_for("unionpay")
    icc_mk = version.icc_mk(bytes.fromhex(debit["imk_ac"]), card.pan, card.psn)
    assert version.verify_arqc(icc_mk, tags, tags["9F26"])
    assert not version.verify_arqc(icc_mk, {**tags, "9F37": b"\x00\x00\x00\x00"}, tags["9F26"])


def test_every_application_template_is_kept_and_the_first_accepted_one_pays(tmp_path: Path) -> None:
    code = phone(tmp_path, 3).cpm_code(["visa", "unionpay-credit", "mastercard"])
    payload = parse_cpm(code.payload)
    assert [a.aid for a in payload.applications] == [CARDS[n]["aid"] for n in ("visa", "unionpay-credit", "mastercard")]
    assert all(as_dict(a.transparent)["9F26"] for a in payload.applications)
    card = classify_payload(code.payload)
    assert (card.scheme, card.pan, card.extra["cpm_applications"]) == ("visa", CARDS["visa"]["pan"], "3")
    version = cryptogram_for("visa", CARDS["visa"]["cvn"])
    tags = as_dict(parse(card.icc_data))
    icc_mk = version.icc_mk(bytes.fromhex(CARDS["visa"]["imk_ac"]), card.pan, card.psn)
    assert version.verify_arqc(icc_mk, tags, tags["9F26"])


def test_an_unaccepted_first_application_is_skipped() -> None:
    jcb = app(("50", b"JCB"), aid=bytes.fromhex("A0000000651010"))
    unionpay = app(("57", bytes.fromhex("6214830000000000015D3012201000")), ("63", build(CRYPTOGRAM)))
    card = classify_payload(cpm(jcb, unionpay))
    assert (card.scheme, card.pan, card.expiry) == ("unionpay", "6214830000000000015", "3012")
    assert card.extra["cpm_applications"] == "2"


def test_card_and_cryptogram_data_may_come_from_the_common_templates() -> None:
    common = ("62", build([("5A", bytes.fromhex("6214830000000000015F")), ("5F24", bytes.fromhex("301231")),
                           ("5F34", b"\x01"), ("64", build(CRYPTOGRAM))]))
    card = classify_payload(cpm(app(("50", b"UnionPay")), common))
    assert (card.pan, card.expiry, card.psn, card.track2) == ("6214830000000000015", "3012", "01", None)
    assert [t.tag for t in parse(card.icc_data)] == ["9F26", "9F27", "9F10", "9F37", "9F36"]


def test_application_transparent_data_overrides_common() -> None:
    own = [("9F26", bytes.fromhex("AAAAAAAAAAAAAAAA")), *CRYPTOGRAM[1:]]
    common = ("62", build([("64", build(CRYPTOGRAM))]))
    payload = cpm(app(("57", bytes.fromhex("6214830000000000015D3012201000")), ("63", build(own))), common)
    assert as_dict(parse(classify_payload(payload).icc_data))["9F26"].hex() == "aaaaaaaaaaaaaaaa"


TRACK2 = ("57", bytes.fromhex("6214830000000000015D3012201000"))


@pytest.mark.parametrize(("payload", "match"), [
    ("hQVDUFYwMWE=", r"not valid BER-TLV: TLV at byte \d+"),
    (base64.b64encode(build([("85", b"CPV02"), app(TRACK2)])).decode(), "CPV02"),
    (cpm(), r"no application template \(61\)"),
    (cpm(app(TRACK2, ("63", build(CRYPTOGRAM))), ("9F26", bytes(8))), "unexpected tag 9F26 at byte"),
    (cpm(app(("63", build(CRYPTOGRAM)))), r"no PAN \(5A\) or track 2"),
    (cpm(app(TRACK2, ("5A", bytes.fromhex("6214830000000000023F")), ("63", build(CRYPTOGRAM)))), "differs"),
    (cpm(app(TRACK2, ("63", build(CRYPTOGRAM[1:])))), r"no application cryptogram \(9F26\)"),
    (cpm(app(TRACK2, ("63", build(CRYPTOGRAM[:3] + CRYPTOGRAM[4:])))), r"\(9F36\)"),
    (cpm(app(TRACK2, ("63", build([CRYPTOGRAM[0], ("9F27", b"\x00"), *CRYPTOGRAM[2:]])))), "not an ARQC"),
    (cpm(app(("5A", bytes.fromhex("6214830000000000015F")), ("63", build(CRYPTOGRAM)))), "no expiry"),
    (cpm(app(("57", bytes.fromhex("621483000000000001530122010000")), ("63", build(CRYPTOGRAM)))), "one D separator"),
    (cpm(app(TRACK2, ("63", build(CRYPTOGRAM)), ("63", build(CRYPTOGRAM)))), "two 63 templates"),
])
def test_broken_cpm_is_refused_with_the_reason(payload: str, match: str) -> None:
    with pytest.raises(MalformedCpm, match=match) as caught:
        classify_payload(payload)
    assert "refresh the code" in caught.value.message
    assert "6214830000000000015" not in str(caught.value)   # no full PAN in the log line


def test_parsed_payload_repr_shows_no_card_data(tmp_path: Path) -> None:
    code = phone(tmp_path, 1).cpm_code(["unionpay-debit"])
    shown = repr(parse_cpm(code.payload)) + repr(code) + repr(classify_payload(code.payload))
    assert "A000000333010101" in shown
    assert CARDS["unionpay-debit"]["pan"] not in shown and code.payload not in shown
