"""Golden bytes: whole frames as another terminal would put them on the wire.

Every byte below was worked out by hand from docs/payment-standards.md ("The POS link") (field by
field, bitmap bit by bit) and only then compared with what the builders,
`codec` and `framing` produce. The two MACs were cross-checked when the vectors
were written: the ECB one by running the steps of docs/payment-standards.md with a bare DES from
`cryptography`, the X9.19 ones with `pyemv.mac.mac_iso9797_3`.
"""
from acquirer.protocol import codec, framing
from acquirer.protocol.messages import CardInput, FinancialRequest, SignOn, Terminal, reversal_of
from acquirer.protocol.transactions import TxnType

MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # TEST KEY
TERMINAL = Terminal(tid="10000001", mid="898310048990001")

TPDU_HEADER = (
    "60 0003 0000"        # TPDU: id 60, destination 0003, source 0000
    " 60 31 0 0 000000"   # header: app type 60, version 31, status 0, requirement 0, sub-version
)
TID = "31 30 30 30 30 30 30 31"                                # 41 "10000001" ASCII
MID = "38 39 38 33 31 30 30 34 38 39 39 30 30 30 31"           # 42 "898310048990001" ASCII


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def sale_request() -> FinancialRequest:
    card = CardInput(
        entry_mode="072",
        track2="6212345678901234D25122011",
        expiry="2512",
        psn="001",
        icc=hexbytes("9F26 08 0102030405060708 9F36 02 0001"),
        pin_block=hexbytes("1122334455667788"),
    )
    return FinancialRequest(TxnType.SALE, TERMINAL, stan="000123", batch="000001", card=card,
                            amount=12345, terminal_capability="5", ic_condition="0")


def test_sign_on_0800_frame():
    expected = hexbytes(
        "00 3C"                   # length 60
        + TPDU_HEADER
        + " 08 00"                # MTI 0800
        + " 00 20 00 00 00 C0 00 12"  # bitmap: 11 | 41 42 | 60 63
        + " 00 00 01"             # 11 STAN 000001
        + " " + TID
        + " " + MID
        + " 00 11 00 00 00 01 00 30"  # 60 LLLVAR 11 digits: 00 000001 003 + pad nibble 0
        + " 00 03 30 31 20"       # 63 LLLVAR 3 bytes: "01 "
    )
    message = SignOn(TERMINAL, stan="000001", batch="000001", key_mode="003", operator="01 ").to_message()
    assert framing.frame(codec.encode(message)) == expected


def test_sale_0200_frame_with_ecb_mac():
    expected = hexbytes(
        "00 83"                   # length 131
        + TPDU_HEADER
        + " 02 00"                # MTI 0200
        + " 30 24 06 80 20 C0 9A 11"  # bitmap: 3 4 | 11 14 | 22 23 | 25 | 35 | 41 42 | 49 52 53 55 | 60 64
        + " 00 00 00"             # 3 processing code 000000
        + " 00 00 00 01 23 45"    # 4 amount 123.45 CNY = 12345 fen
        + " 00 01 23"             # 11 STAN 000123
        + " 25 12"                # 14 expiry YYMM 2512
        + " 07 20"                # 22 entry mode 072, LEFT-aligned
        + " 00 01"                # 23 PSN 001, right-aligned
        + " 00"                   # 25 condition code 00
        + " 25 62 12 34 56 78 90 12 34 D2 51 22 01 10"  # 35 LLVAR 25 digits, D separator, pad 0
        + " " + TID
        + " " + MID
        + " 31 35 36"             # 49 currency "156" ASCII
        + " 11 22 33 44 55 66 77 88"  # 52 PIN block (binary)
        + " 26 00 00 00 00 00 00 00"  # 53 security control 2600000000000000
        + " 00 16 9F 26 08 01 02 03 04 05 06 07 08 9F 36 02 00 01"  # 55 LLLVAR 16 bytes TLV
        + " 00 13 22 00 00 01 00 05 00"  # 60 LLLVAR 13 digits: 22 000001 000 5 0 + pad 0
        + " 39 37 30 34 46 46 35 44"  # 64 ECB MAC "9704FF5D" as ASCII
    )
    payload = codec.sign(sale_request().to_message(), "ecb", MAC_KEY)
    assert framing.frame(payload) == expected
    assert codec.verify(payload, "ecb", MAC_KEY)


def test_reversal_0400_frame_with_x919_mac():
    expected = hexbytes(
        "00 5E"                   # length 94
        + TPDU_HEADER
        + " 04 00"                # MTI 0400
        + " 70 24 06 80 02 C0 80 11"  # bitmap: 2 3 4 | 11 14 | 22 23 | 25 | 39 | 41 42 | 49 | 60 64
        + " 16 62 12 34 56 78 90 12 34"  # 2 LLVAR 16 digits, PAN taken from track 2
        + " 00 00 00"             # 3 original processing code
        + " 00 00 00 01 23 45"    # 4 original amount
        + " 00 01 23"             # 11 the ORIGINAL STAN
        + " 25 12"                # 14
        + " 07 20"                # 22
        + " 00 01"                # 23
        + " 00"                   # 25
        + " 39 38"                # 39 reason "98" (no answer)
        + " " + TID
        + " " + MID
        + " 31 35 36"             # 49
        + " 00 13 22 00 00 01 00 05 00"  # 60, the original's
        + " AE 69 BB 66 37 C8 C1 CF"  # 64 X9.19 MAC, 8 binary bytes
    )
    payload = codec.sign(reversal_of(sale_request(), "98").to_message(), "x919", MAC_KEY)
    assert framing.frame(payload) == expected
    assert codec.verify(payload, "x919", MAC_KEY)


def test_reversal_0400_frame_without_pan():
    # A reversal rebuilt after a restart: the terminal keeps no full PAN, so no
    # field 2 (and never 35); the host finds the original by TID, MID, batch, STAN.
    expected = hexbytes(
        "00 55"                   # length 85
        + TPDU_HEADER
        + " 04 00"                # MTI 0400
        + " 30 24 06 80 02 C0 80 11"  # bitmap: 3 4 | 11 14 | 22 23 | 25 | 39 | 41 42 | 49 | 60 64
        + " 00 00 00"             # 3 original processing code
        + " 00 00 00 01 23 45"    # 4 original amount
        + " 00 01 23"             # 11 the ORIGINAL STAN
        + " 25 12"                # 14
        + " 07 20"                # 22
        + " 00 01"                # 23
        + " 00"                   # 25
        + " 39 38"                # 39 reason "98" (no answer)
        + " " + TID
        + " " + MID
        + " 31 35 36"             # 49
        + " 00 13 22 00 00 01 00 05 00"  # 60, the original's: batch 000001 in 60.2
        + " AA 56 46 0F C9 99 D7 FD"  # 64 X9.19 MAC, 8 binary bytes
    )
    reversal = FinancialRequest(TxnType.SALE, TERMINAL, stan="000123", batch="000001",
                                card=CardInput(entry_mode="072", expiry="2512", psn="001"),
                                amount=12345, terminal_capability="5", ic_condition="0",
                                reversal_reason="98")
    payload = codec.sign(reversal.to_message(), "x919", MAC_KEY)
    assert framing.frame(payload) == expected
    assert codec.verify(payload, "x919", MAC_KEY)


def test_mac_block_runs_from_mti_to_the_byte_before_field_64():
    payload = codec.sign(sale_request().to_message(), "ecb", MAC_KEY)
    mab = codec.mac_block(payload)
    assert mab[:2] == b"\x02\x00"                      # starts at the MTI, TPDU/header excluded
    assert mab[2:10] == hexbytes("30 24 06 80 20 C0 9A 11")  # bitmap with bit 64 set
    assert mab.endswith(hexbytes("00 13 22 00 00 01 00 05 00"))  # ends with field 60
    assert len(mab) == len(payload) - 11 - 8
