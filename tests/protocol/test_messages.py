"""messages: every builder round-trips through the wire; layouts match the interop contract."""
from dataclasses import replace
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acquirer.protocol import codec
from acquirer.protocol.codec import Header, Tpdu
from acquirer.protocol.fields import BalanceAmount, CardTotals, SettlementTotals
from acquirer.protocol.messages import (
    LAYOUTS,
    BatchUpload,
    BatchUploadEnd,
    CardInput,
    Echo,
    FinancialRequest,
    LayoutError,
    MessageKind,
    Original,
    Reply,
    ReplyError,
    Settlement,
    SignOff,
    SignOn,
    Terminal,
    UnknownMessage,
    check_layout,
    classify,
    financial_reply,
    parse_request,
    reply,
    reversal_of,
    settlement_reply,
    sign_on_reply,
)
from acquirer.protocol.transactions import DEFAULT_TABLE, WALLET_TYPES, TxnTable, TxnType, UnknownTransaction

MAC_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")  # TEST KEY
TERMINAL = Terminal("10000001", "898310048990001")
TRACK2 = "6212345678901234D25122011"


def wire(msg: dict[str, str], mac: bool) -> dict[str, str]:
    """Through the wire and back: signed when the message carries a MAC."""
    payload = codec.sign(msg, "x919", MAC_KEY) if mac else codec.encode(msg)
    if mac:
        assert codec.verify(payload, "x919", MAC_KEY)
    return codec.decode(payload)


def fields_of(msg: dict[str, str]) -> set[int]:
    return {int(k) for k in msg if k.isdigit()}


# --- strategies ------------------------------------------------------------------------

def digits(n: int, m: int | None = None):
    return st.text("0123456789", min_size=n, max_size=m if m is not None else n)


alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
terminals = st.builds(
    Terminal,
    tid=st.text(alnum, min_size=8, max_size=8),
    mid=st.text(alnum, min_size=15, max_size=15),
    tpdu=st.builds(Tpdu, destination=digits(4), source=digits(4)),
    header=st.builds(Header, app_type=st.sampled_from(["60", "61"]), sub_version=digits(6)),
)
amounts = st.integers(0, 10**12 - 1)
rrns = st.text(alnum, min_size=12, max_size=12)
auth_codes = st.text(alnum, min_size=6, max_size=6)


@st.composite
def cards(draw, icc_allowed: bool, pin_allowed: bool):
    pan = draw(digits(13, 19))
    track2 = pan + "D" + draw(digits(4)) + draw(digits(3)) + draw(digits(0, 8))
    with_pan, with_track = draw(st.sampled_from([(True, False), (False, True), (True, True)]))
    return CardInput(
        entry_mode=draw(digits(3)),
        pan=pan if with_pan else None,
        track2=track2 if with_track else None,
        expiry=draw(st.none() | digits(4)),
        psn=draw(st.none() | digits(3)),
        icc=draw(st.none() | st.binary(min_size=1, max_size=255)) if icc_allowed else None,
        pin_block=draw(st.none() | st.binary(min_size=8, max_size=8)) if pin_allowed else None,
    )


@st.composite
def originals(draw, txn: TxnType):
    layout = LAYOUTS[MessageKind.of(txn)]
    if 61 not in layout.required:
        return None
    needs_date = txn in (TxnType.REFUND, TxnType.PREAUTH_VOID, TxnType.COMPLETION)
    return Original(
        rrn=draw(rrns) if 37 in layout.required else draw(st.none() | rrns) if 37 in layout.optional else None,
        auth_code=draw(auth_codes) if 38 in layout.required
        else draw(st.none() | auth_codes) if 38 in layout.optional else None,
        batch=draw(digits(6)),
        stan=draw(digits(6)),
        date=draw(digits(4)) if needs_date else draw(st.none() | digits(4)),
    )


@st.composite
def financial_requests(draw, txn: TxnType | None = None):
    txn = txn or draw(st.sampled_from(list(TxnType)))
    layout = LAYOUTS[MessageKind.of(txn)]
    capability = draw(st.none() | digits(1))
    wallet = txn in WALLET_TYPES   # no card: an entry mode, and 63 (code or bill number) for an order
    return FinancialRequest(
        txn=txn,
        terminal=draw(terminals),
        stan=draw(digits(6)),
        batch=draw(digits(6)),
        card=CardInput(draw(digits(3))) if wallet else draw(cards(55 in layout.optional, 52 in layout.optional)),
        wallet_data=draw(st.text(alnum, min_size=1, max_size=40)) if 63 in layout.required else None,
        amount=None if txn is TxnType.BALANCE else draw(amounts),
        currency=draw(digits(3)),
        original=draw(originals(txn)),
        terminal_capability=capability,
        ic_condition=draw(digits(1)) if capability is not None else None,
    )


# --- round trips ----------------------------------------------------------------------

@settings(max_examples=150)
@given(financial_requests())
def test_financial_requests_round_trip(request):
    msg = request.to_message()
    assert parse_request(wire(msg, mac=True)) == request


@given(financial_requests().filter(lambda r: DEFAULT_TABLE[r.txn].reversible), st.sampled_from(["98", "96", "A0"]))
def test_reversals_round_trip(request, reason):
    reversal = reversal_of(request, reason)
    msg = reversal.to_message()
    assert msg["t"] == "0400" and msg["39"] == reason and msg["11"] == request.stan
    assert msg.get("2") == request.card.account_number
    assert not fields_of(msg) & {35, 52, 53, 55}
    back = parse_request(wire(msg, mac=True))
    assert back == reversal and back.txn is request.txn


@given(financial_requests().filter(lambda r: DEFAULT_TABLE[r.txn].reversible), st.sampled_from(["98", "96", "A0"]))
def test_reversals_without_pan_round_trip(request, reason):
    # rebuilt from a journal that keeps no full PAN: no field 2, found by TID, MID, batch, STAN
    card = CardInput(request.card.entry_mode, expiry=request.card.expiry, psn=request.card.psn)
    reversal = reversal_of(replace(request, card=card), reason)
    msg = reversal.to_message()
    assert not fields_of(msg) & {2, 35, 52, 53, 55}
    assert (msg["41"], msg["42"], msg["60"][2:8], msg["11"]) == (
        request.terminal.tid, request.terminal.mid, request.batch, request.stan)
    back = parse_request(wire(msg, mac=True))
    assert back == reversal and back.card.account_number is None


@given(terminals, digits(6), digits(6), st.sampled_from(["003", "004"]), st.text(alnum + " ", min_size=3, max_size=3))
def test_sign_on_round_trip(terminal, stan, batch, mode, operator):
    request = SignOn(terminal, stan, batch, mode, operator)
    assert parse_request(wire(request.to_message(), mac=False)) == request


@given(st.sampled_from([SignOff, Echo]), terminals, digits(6), digits(6))
def test_sign_off_and_echo_round_trip(cls, terminal, stan, batch):
    request = cls(terminal, stan, batch)
    back = parse_request(wire(request.to_message(), mac=False))
    assert back == request and type(back) is cls


card_totals = st.builds(CardTotals, amounts, st.integers(0, 999), amounts, st.integers(0, 999))


@given(terminals, digits(6), digits(6), st.builds(SettlementTotals, card_totals, card_totals),
       st.none() | st.just("01 "))
def test_settlement_round_trip(terminal, stan, batch, totals, operator):
    request = Settlement(terminal, stan, batch, totals, operator=operator)
    assert parse_request(wire(request.to_message(), mac=False)) == request


@given(terminals, digits(6), digits(6), st.sampled_from([TxnType.SALE, TxnType.COMPLETION, TxnType.REFUND]),
       st.none() | digits(13, 19), amounts, digits(3), rrns, st.none() | auth_codes, digits(6), digits(6), digits(4),
       st.none() | st.binary(min_size=1, max_size=255))
def test_batch_upload_round_trip(terminal, stan, batch, txn, pan, amount, mode, rrn, auth, obatch, ostan, odate, icc):
    request = BatchUpload(terminal, stan, batch, txn, pan, amount, mode,
                          Original(rrn, auth, obatch, ostan, odate), icc=icc)
    msg = request.to_message()
    assert msg["60"][8:11] == ("203" if icc else "201")
    assert ("2" in msg) is (pan is not None)
    assert parse_request(wire(msg, mac=False)) == request


@given(terminals, digits(6), digits(6), st.integers(0, 9999), st.booleans())
def test_batch_upload_end_round_trip(terminal, stan, batch, count, ic):
    request = BatchUploadEnd(terminal, stan, batch, count, ic)
    msg = request.to_message()
    assert msg["60"][8:11] == ("207" if ic else "202") and msg["48"] == f"{count:04d}"
    assert parse_request(wire(msg, mac=False)) == request


# --- the interop contract (issue 2) -------------------------------------------------------

def sale(**card_fields) -> FinancialRequest:
    card = CardInput("072", track2=TRACK2, expiry="2512", psn="001", icc=b"\x9f\x36\x02\x00\x01",
                     **card_fields)
    return FinancialRequest(TxnType.SALE, TERMINAL, "000010", "000001", card, amount=100)


def test_sale_carries_the_contract_fields():
    assert fields_of(sale().to_message()) == {3, 4, 11, 14, 22, 23, 25, 35, 41, 42, 49, 55, 60}
    with_pin = sale(pin_block=bytes(8)).to_message()
    assert fields_of(with_pin) == {3, 4, 11, 14, 22, 23, 25, 35, 41, 42, 49, 52, 53, 55, 60}
    assert with_pin["53"] == "2600000000000000"
    assert fields_of(codec.decode(codec.sign(with_pin, "ecb", MAC_KEY))) >= {64}


def test_void_carries_the_contract_fields():
    card = CardInput("072", track2=TRACK2, expiry="2512", psn="001")
    void = FinancialRequest(TxnType.VOID, TERMINAL, "000011", "000001", card, amount=100,
                            original=Original("123456789012", "A1B2C3", "000001", "000010"))
    msg = void.to_message()
    assert fields_of(msg) == {3, 4, 11, 14, 22, 23, 25, 35, 37, 38, 41, 42, 49, 60, 61}
    assert (msg["3"], msg["37"], msg["38"], msg["61"], msg["60"][:2]) == (
        "200000", "123456789012", "A1B2C3", "000001000010", "23")


def test_void_rejects_pin_and_icc():
    card = CardInput("072", track2=TRACK2, icc=b"\x9f\x36\x02\x00\x01")
    void = FinancialRequest(TxnType.VOID, TERMINAL, "000011", "000001", card, amount=100,
                            original=Original("123456789012", "A1B2C3", "000001", "000010"))
    with pytest.raises(LayoutError) as err:
        void.to_message()
    assert err.value.field == "55"


def test_reversal_carries_the_contract_fields():
    msg = reversal_of(sale(pin_block=bytes(8)), "98").to_message()
    assert fields_of(msg) == {2, 3, 4, 11, 14, 22, 23, 25, 39, 41, 42, 49, 60}
    assert msg["60"] == sale().to_message()["60"]


def test_reversal_never_carries_track2():
    msg = reversal_of(sale(), "98").to_message()
    with pytest.raises(LayoutError) as err:
        check_layout(MessageKind.REVERSAL, {**msg, "35": TRACK2}, signed=False)
    assert err.value.field == "35"


def test_sign_on_carries_the_contract_fields():
    msg = SignOn(TERMINAL, "000001", "000001", "004").to_message()
    assert fields_of(msg) == {11, 41, 42, 60, 63}
    assert (msg["t"], msg["60"], msg["63"]) == ("0800", "00000001004", "01 ")


def test_mac_rule():
    signed = {k for k, layout in LAYOUTS.items() if layout.mac}
    assert signed == {MessageKind.BALANCE, MessageKind.PREAUTH, MessageKind.PREAUTH_VOID,
                      MessageKind.COMPLETION, MessageKind.COMPLETION_VOID, MessageKind.SALE,
                      MessageKind.VOID, MessageKind.REFUND, MessageKind.REVERSAL,
                      MessageKind.WALLET_SALE, MessageKind.MPM_SALE, MessageKind.WALLET_QUERY,
                      MessageKind.WALLET_VOID, MessageKind.WALLET_REFUND}
    for kind, layout in LAYOUTS.items():
        assert layout.mti in {"0100", "0200", "0220", "0400"} or not layout.mac, kind


def test_private_processing_codes_round_trip():
    table = TxnTable({"sale": "190000"})
    msg = sale().to_message(table)
    assert msg["3"] == "190000"
    assert parse_request(wire(msg, mac=True), table).txn is TxnType.SALE
    with pytest.raises(UnknownTransaction):
        parse_request(wire(msg, mac=True))


# --- classification and layout errors -------------------------------------------------------

def test_classify():
    assert classify(sale().to_message()) is MessageKind.SALE
    assert classify(Echo(TERMINAL, "000001", "000001").to_message()) is MessageKind.ECHO
    msg = sale().to_message()
    with pytest.raises(UnknownMessage):
        classify({**msg, "t": "0600"})
    with pytest.raises(UnknownTransaction):
        classify({**msg, "60": "99000001000"})
    with pytest.raises(UnknownMessage):
        classify({**Echo(TERMINAL, "000001", "000001").to_message(), "60": "00000001999"})


def test_check_layout_errors():
    msg = sale().to_message()
    check_layout(MessageKind.SALE, msg, signed=False)
    with pytest.raises(LayoutError, match="MAC is missing"):
        check_layout(MessageKind.SALE, msg)
    missing = dict(msg)
    del missing["4"]
    with pytest.raises(LayoutError) as err:
        check_layout(MessageKind.SALE, missing, signed=False)
    assert err.value.field == "4"
    with pytest.raises(LayoutError) as err:
        check_layout(MessageKind.SALE, {**msg, "48": "12"}, signed=False)
    assert err.value.field == "48"
    no_pan = {k: v for k, v in msg.items() if k != "35"}
    with pytest.raises(LayoutError) as err:
        check_layout(MessageKind.SALE, no_pan, signed=False)
    assert err.value.field == "2"
    with pytest.raises(LayoutError) as err:
        check_layout(MessageKind.SALE, {**msg, "52": "00" * 8}, signed=False)
    assert err.value.field == "53"


def _layout_verdict(kind: MessageKind, msg: dict[str, str], signed: bool) -> str | None:
    try:
        check_layout(kind, msg, signed=signed)
    except LayoutError as e:
        return str(e)
    return None


_SOME_FIELDS = [2, 3, 4, 11, 14, 22, 23, 25, 35, 37, 38, 39, 41, 42, 48, 49, 52, 53, 55, 60, 61, 62, 63, 64]


@settings(max_examples=400)
@given(data=st.data(), kind=st.sampled_from(sorted(LAYOUTS, key=lambda k: k.value)), signed=st.booleans(),
       stray=st.sets(st.sampled_from(_SOME_FIELDS), max_size=1),
       removed=st.sets(st.sampled_from(_SOME_FIELDS), max_size=1))
def test_check_layout_fast_accept_agrees_with_the_field_by_field_check(data, kind, signed, stray, removed):
    # a key that is not a field sends check_layout past its fast accept to the
    # field-by-field check (which ignores such keys): both must give one verdict
    layout = LAYOUTS[kind]
    added = data.draw(st.sets(st.sampled_from(sorted(layout.optional | {64}))))
    numbers = (layout.required | added | stray) - removed
    msg = {"h": "6000030000603100000000", "t": LAYOUTS[kind].mti, **{str(n): "0" for n in numbers}}
    assert _layout_verdict(kind, msg, signed) == _layout_verdict(kind, {**msg, "x": ""}, signed)


def test_pan_comes_from_track2_when_field_2_is_absent():
    back = parse_request(wire(sale().to_message(), mac=True))
    assert back.card.pan is None and back.card.account_number == "6212345678901234"


# --- replies -------------------------------------------------------------------------------

def test_financial_reply_echoes_and_swaps_tpdu():
    request = wire(sale().to_message(), mac=True)
    answer = financial_reply(request, "00", rrn="000000000001", auth_code="123456",
                             icc=bytes.fromhex("910A11223344556677883030"),
                             when=datetime(2024, 11, 22, 13, 5, 9))
    payload = codec.sign(answer, "ecb", MAC_KEY)
    assert payload[:5] == bytes.fromhex("6000000003")  # addresses swapped
    view = Reply.from_message(codec.decode(payload))
    assert view.approved and view.mti == "0210"
    assert (view.processing_code, view.amount, view.stan, view.tid, view.mid) == (
        "000000", 100, "000010", "10000001", "898310048990001")
    assert (view.rrn, view.auth_code, view.local_time, view.local_date) == (
        "000000000001", "123456", "130509", "1122")
    assert view.icc == bytes.fromhex("910A11223344556677883030")
    check_layout_reply(MessageKind.SALE, answer)


def check_layout_reply(kind: MessageKind, answer: dict[str, str]) -> None:
    layout = LAYOUTS[kind]
    present = fields_of(answer)
    assert layout.reply_required <= present
    assert present <= layout.reply_required | layout.reply_optional | ({64} if layout.mac else set())


def test_balance_reply_carries_field_54():
    card = CardInput("072", track2=TRACK2)
    request = FinancialRequest(TxnType.BALANCE, TERMINAL, "000012", "000001", card).to_message()
    answer = financial_reply(request, "00", rrn="000000000002", balance=BalanceAmount(98765))
    assert answer["54"] == "0002156C000000098765"
    view = Reply.from_message(wire(answer, mac=True))
    assert view.balance == BalanceAmount(98765) and view.amount is None
    check_layout_reply(MessageKind.BALANCE, answer)


def test_decline_reply():
    answer = reply(wire(sale().to_message(), mac=True), "51")
    view = Reply.from_message(wire(answer, mac=True))
    assert not view.approved and view.rrn is None and view.mti == "0210"


def test_sign_on_reply_with_keys_and_batch():
    request = SignOn(TERMINAL, "000001", "000001", "003").to_message()
    answer = sign_on_reply(request, "00", field62=bytes(range(40)), batch="000007")
    view = Reply.from_message(wire(answer, mac=False))
    assert view.mti == "0810" and view.field62 == bytes(range(40))
    assert (view.field60.batch, view.field60.network_code) == ("000007", "003")
    check_layout_reply(MessageKind.SIGN_ON, answer)


def test_settlement_reply_flags():
    totals = SettlementTotals(CardTotals(100, 1, 0, 0))
    request = Settlement(TERMINAL, "000002", "000001", totals).to_message()
    answered = SettlementTotals(CardTotals(100, 1, 0, 0, "2"), CardTotals(result="1"))
    answer = settlement_reply(request, "00", answered, settlement_date="1122")
    view = Reply.from_message(wire(answer, mac=False))
    assert view.mti == "0510" and view.totals == answered and view.settlement_date == "1122"
    check_layout_reply(MessageKind.SETTLEMENT, answer)


def test_batch_upload_end_reply_carries_the_hosts_totals():
    request = BatchUploadEnd(TERMINAL, "000003", "000001", 2).to_message()
    host_totals = SettlementTotals(CardTotals(4_200, 2, 100, 1))
    answer = settlement_reply(request, "00", host_totals)
    assert answer["t"] == "0330" and answer["48"] == host_totals.encode() and len(answer["48"]) == 62
    view = Reply.from_message(wire(answer, mac=False))
    assert view.totals == host_totals
    check_layout_reply(MessageKind.BATCH_UPLOAD_END, answer)
    # a 0330 whose 48 is not 62 digits (an echoed upload count) carries no totals
    echoed = reply(request, "00", {"48": "0002"})
    assert Reply.from_message(wire(echoed, mac=False)).totals is None


def test_reply_to_a_reply_is_refused():
    with pytest.raises(UnknownMessage):
        reply({"h": "6000030000603100000000", "t": "0210"}, "00")


def test_reply_without_response_code_is_a_reply_error():
    answer = reply(wire(sale().to_message(), mac=True), "00")
    del answer["39"]
    with pytest.raises(ReplyError, match="field 39"):
        Reply.from_message(wire(answer, mac=True))
