"""fields: sub-field structures of 48, 54, 60 and 61; transaction table; response codes."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from acquirer.protocol import codes
from acquirer.protocol.fields import (
    BalanceAmount,
    CardTotals,
    Field60,
    Field61,
    FieldFormatError,
    SettlementTotals,
    UploadCount,
)
from acquirer.protocol.transactions import DEFAULT_TABLE, TxnTable, TxnType, UnknownTransaction


def digits(n: int):
    return st.text("0123456789", min_size=n, max_size=n)


def test_field60_examples():
    assert Field60("22", "000001", "000").encode() == "22000001000"
    assert Field60("22", "000001", "000", "5", "0").encode() == "2200000100050"
    assert Field60.parse("00000001003") == Field60("00", "000001", "003")
    assert Field60.parse("00000001") == Field60("00", "000001", "")
    with pytest.raises(FieldFormatError) as err:
        Field60.parse("22000001A00")
    assert err.value.position == 8
    with pytest.raises(FieldFormatError):
        Field60("22", "000001", "000", None, "0").encode()


@given(digits(2), digits(6), digits(3), st.none() | digits(1), st.none() | digits(1))
def test_field60_round_trip(type_code, batch, nmc, capability, condition):
    if capability is None:
        condition = None
    f = Field60(type_code, batch, nmc, capability, condition)
    assert Field60.parse(f.encode()) == f


@given(digits(6), digits(6), st.none() | digits(4))
def test_field61_round_trip(batch, stan, date):
    f = Field61(batch, stan, date)
    assert Field61.parse(f.encode()) == f
    assert len(f.encode()) == (16 if date else 12)


def test_field61_rejects_other_lengths():
    with pytest.raises(FieldFormatError):
        Field61.parse("00000100000")


def test_settlement_totals_layout():
    totals = SettlementTotals(CardTotals(123456, 7, 2000, 1), CardTotals(0, 0, 0, 0))
    assert totals.encode() == ("000000123456" "007" "000000002000" "001" "0"
                               "000000000000" "000" "000000000000" "000" "0")
    answered = SettlementTotals(CardTotals(123456, 7, 2000, 1, result="1"), CardTotals(result="1"))
    assert SettlementTotals.parse(answered.encode()) == answered


amounts = st.integers(0, 10**12 - 1)
counts = st.integers(0, 999)
card_totals = st.builds(CardTotals, amounts, counts, amounts, counts, st.sampled_from("0123"))


@given(card_totals, card_totals)
def test_settlement_totals_round_trip(domestic, foreign):
    t = SettlementTotals(domestic, foreign)
    assert len(t.encode()) == 62
    assert SettlementTotals.parse(t.encode()) == t


def test_settlement_totals_errors():
    with pytest.raises(FieldFormatError):
        SettlementTotals.parse("0" * 31)
    with pytest.raises(FieldFormatError):
        CardTotals(debit_count=1000).encode()
    with pytest.raises(FieldFormatError):
        CardTotals(debit_amount=-1).encode()


def test_balance_amount():
    assert BalanceAmount(123456).encode() == "0002156C000000123456"
    assert BalanceAmount.parse("0002156D000000000100") == BalanceAmount(-100)
    with pytest.raises(FieldFormatError) as err:
        BalanceAmount.parse("0002156X000000000100")
    assert err.value.position == 7


@given(st.integers(-(10**12) + 1, 10**12 - 1), digits(3), digits(2))
def test_balance_round_trip(amount, currency, account_type):
    b = BalanceAmount(amount, currency, account_type)
    assert BalanceAmount.parse(b.encode()) == b


def test_upload_count():
    assert UploadCount(12).encode() == "0012"
    assert UploadCount.parse("0012") == UploadCount(12)
    with pytest.raises(FieldFormatError):
        UploadCount(10000).encode()


# --- transaction table ---------------------------------------------------------------

def test_default_table_matches_the_docs():
    rows = {(d.txn, d.processing_code, d.condition_code, d.mti, d.type_code, d.reversible)
            for d in DEFAULT_TABLE}
    assert rows == {
        (TxnType.BALANCE, "310000", "00", "0200", "01", False),
        (TxnType.PREAUTH, "030000", "06", "0100", "10", True),
        (TxnType.PREAUTH_VOID, "200000", "06", "0100", "11", True),
        (TxnType.COMPLETION, "000000", "06", "0200", "20", True),
        (TxnType.COMPLETION_VOID, "200000", "06", "0200", "21", True),
        (TxnType.SALE, "000000", "00", "0200", "22", True),
        (TxnType.VOID, "200000", "00", "0200", "23", True),
        (TxnType.REFUND, "200000", "00", "0220", "25", False),
        # the wallet channel's private codes (docs/protocol.md section 11)
        (TxnType.WALLET_SALE, "190000", "00", "0200", "70", True),
        (TxnType.MPM_SALE, "190000", "00", "0200", "71", True),
        (TxnType.WALLET_QUERY, "390000", "00", "0200", "72", False),
        (TxnType.WALLET_VOID, "290000", "00", "0200", "73", True),
        (TxnType.WALLET_REFUND, "290000", "00", "0200", "74", True),
    }


def test_lookup_and_reversal_lookup():
    assert DEFAULT_TABLE.lookup("0200", "000000", "00", "22") is TxnType.SALE
    assert DEFAULT_TABLE.lookup("0400", "000000", "00", "22") is TxnType.SALE
    assert DEFAULT_TABLE.lookup("0100", "200000", "06", "11") is TxnType.PREAUTH_VOID
    with pytest.raises(UnknownTransaction):
        DEFAULT_TABLE.lookup("0200", "000000", "00", "23")   # void's type code, sale's code
    with pytest.raises(UnknownTransaction):
        DEFAULT_TABLE.lookup("0400", "200000", "00", "25")   # refunds are not reversed
    with pytest.raises(UnknownTransaction):
        DEFAULT_TABLE.lookup("0220", "000000", "00", "22")   # wrong MTI


def test_private_processing_codes_from_config():
    table = TxnTable({"sale": "190000", "void": "280000"})
    assert table[TxnType.SALE].processing_code == "190000"
    assert table.lookup("0200", "190000", "00", "22") is TxnType.SALE
    assert table.lookup("0200", "280000", "00", "23") is TxnType.VOID
    with pytest.raises(UnknownTransaction):
        table.lookup("0200", "000000", "00", "22")
    with pytest.raises(ValueError, match="sael"):
        TxnTable({"sael": "190000"})
    with pytest.raises(ValueError, match="6 digits"):
        TxnTable({"sale": "19000"})


# --- response codes --------------------------------------------------------------------

def test_response_codes():
    for code in ("00 01 03 05 12 13 14 25 30 41 43 51 54 55 58 61 75 91 94 95 96 97 98 A0").split():
        entry = codes.lookup(code)
        assert entry.en and entry.zh
        assert entry.approved is (code == "00")
    assert codes.describe("51") == "51 Insufficient funds / 余额不足"
    assert not codes.is_approved("ZZ")
    with pytest.raises(codes.UnknownResponseCode):
        codes.lookup("ZZ")
