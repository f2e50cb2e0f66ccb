"""EMVCo merchant-presented codes: published vectors, build -> parse round trips, damaged codes refused."""
import pytest

from acquirer.protocol.mpm import MalformedMpm, build_dynamic_mpm, crc16_ccitt_false, parse_mpm, with_crc

# The example payload of the EMV QR Code Specification for Payment Systems (Merchant-Presented
# Mode), as pinned by the public EMVCo QR libraries (e.g. mvallim/emv-qrcode, Crc16ValidateTest).
EMVCO_EXAMPLE = (
    "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN"
    "5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***"
    "0708A60086670902ME91320016A0112233449988770708123456786304A13A"
)
# README example of phannaly/emv-qr-code (decoder with CRC check), CRC 1FF2.
KHQR_EXAMPLE = ("00020101021252044131153137210116372101160123456789ABCDE6016Banteay Meanchey"
                "5913Kuntheas Shop5802KH540510.005303840621201081234567863041FF2")


def sale_code(**overrides: object) -> str:
    args = dict(amount_fen=1234, merchant_id="898310048990001", terminal_id="10000001",
                merchant_name="Tiantian Store", merchant_city="Shanghai", mcc="5411",
                bill_number="20250615000123", name_local="天天便利店", city_local="上海")
    args.update(overrides)
    return build_dynamic_mpm(**args)  # type: ignore[arg-type]


def test_crc16_ccitt_false_check_value() -> None:
    # the catalogue check value of CRC-16/CCITT-FALSE (alias CRC-16/IBM-3740): poly 1021, init FFFF
    assert crc16_ccitt_false(b"123456789") == 0x29B1


def test_emvco_example_parses_with_its_crc() -> None:
    code = parse_mpm(EMVCO_EXAMPLE)
    assert code.dynamic
    assert code.amount_fen == 2372 and code.currency == "156" and code.country == "CN"
    assert (code.merchant_name, code.merchant_city, code.mcc) == ("BEST TRANSPORT", "BEIJING", "4111")
    assert code.language == {"00": "ZH", "01": "最佳运输", "02": "北京"}  # lengths count characters
    assert code.template("29") == {"00": "D15600000000", "05": "A93FO3230Q"}
    assert code.template("31") == {"00": "D15600000001", "03": "12345678"}
    assert code.additional == {"03": "1234", "06": "***", "07": "A6008667", "09": "ME"}
    assert code.fields[-1] == ("63", "A13A")


def test_second_published_example() -> None:
    code = parse_mpm(KHQR_EXAMPLE)
    assert (code.amount_fen, code.currency, code.country) == (1000, "840", "KH")
    assert code.merchant_accounts == {"15": "37210116372101160123456789ABCDE"}
    assert code.bill_number == "12345678"


def test_dynamic_sale_code_round_trip() -> None:
    payload = sale_code()
    assert payload.startswith("000201" "010212")
    assert payload[-8:-4] == "6304"
    assert payload[-4:] == f"{crc16_ccitt_false(payload[:-4].encode('utf-8')):04X}"
    code = parse_mpm(payload)
    assert code.dynamic and code.amount_fen == 1234
    assert (code.mcc, code.currency, code.country) == ("5411", "156", "CN")
    assert (code.merchant_name, code.merchant_city) == ("Tiantian Store", "Shanghai")
    assert code.template("26") == {"00": "cn.tillkit.acquirer", "01": "898310048990001", "02": "10000001"}
    assert code.bill_number == "20250615000123" and code.terminal_label == "10000001"
    assert code.language == {"00": "ZH", "01": "天天便利店", "02": "上海"}
    assert "0105天天便利店" in payload     # five characters, fifteen UTF-8 bytes


@pytest.mark.parametrize(("fen", "text"), [(1, "0.01"), (100, "1.00"), (123456789, "1234567.89")])
def test_amount_is_written_in_yuan_without_floats(fen: int, text: str) -> None:
    payload = sale_code(amount_fen=fen)
    assert f"54{len(text):02d}{text}" in payload
    assert parse_mpm(payload).amount_fen == fen


def test_long_names_are_cut_to_the_emvco_maxima() -> None:
    code = parse_mpm(sale_code(merchant_name="Tiantian Convenience Store", merchant_city="Shanghai Pudong New Area"))
    assert code.merchant_name == "Tiantian Convenience Stor"
    assert code.merchant_city == "Shanghai Pudong"


@pytest.mark.parametrize(("overrides", "match"), [
    ({"amount_fen": 0}, "amount must be positive"),
    ({"bill_number": "B" * 26}, r"bill number \(62.01\)"),
    ({"mcc": "541"}, r"merchant category code \(52\)"),
])
def test_build_refuses_bad_input(overrides: dict, match: str) -> None:
    with pytest.raises(MalformedMpm, match=match):
        sale_code(**overrides)


def test_one_changed_character_fails_the_crc() -> None:
    payload = sale_code()
    damaged = payload.replace("Tiantian", "Tiantain")
    with pytest.raises(MalformedMpm, match="CRC mismatch"):
        parse_mpm(damaged)


def test_changed_crc_is_refused() -> None:
    payload = sale_code()
    wrong = payload[:-4] + f"{(int(payload[-4:], 16) + 1) % 0x10000:04X}"
    with pytest.raises(MalformedMpm, match="CRC mismatch"):
        parse_mpm(wrong)


@pytest.mark.parametrize(("body", "match"), [
    ("000201010212" "5204541153031565802CN5905Store6008Shanghai", "no merchant account information"),
    ("000201010212" "26080004test" "53031565802CN5905Store6008Shanghai", r"field 52 \(merchant category code\)"),
    ("000201010212" "26080004test" "520454115303156540612.3455802CN5905Store6008Shanghai", "amount"),
    ("000201010212" "26080004test" "5204541153031565802CN5905Store6030Shanghai", "field 60 .* declares 30"),
    ("000201" "010213" "26080004test" "5204541153031565802CN5905Store6008Shanghai", "point of initiation"),
    ("000202" "26080004test" "5204541153031565802CN5905Store6008Shanghai", "must start with"),
    ("000201" "26080004test" "52045411" "52045411" "53031565802CN5905Store6008Shanghai", "appears twice"),
])
def test_structurally_broken_codes_are_refused_even_with_a_good_crc(body: str, match: str) -> None:
    with pytest.raises(MalformedMpm, match=match):
        parse_mpm(with_crc(body))


@pytest.mark.parametrize("payload", ["", "000201", EMVCO_EXAMPLE[:-8], EMVCO_EXAMPLE + "00"])
def test_payload_without_a_final_crc_is_refused(payload: str) -> None:
    with pytest.raises(MalformedMpm, match="CRC"):
        parse_mpm(payload)
