"""Requests and replies of the POS link: which fields each message carries, builders, parsers.

`LAYOUTS` is the table of messages as data: MTI, the fields a request must and
may carry, whether it carries a MAC, and the fields its reply must and may
carry. Tests and docs/protocol.md are checked against it, and a host can call
`check_layout` on a decoded request to answer 30 (format error) to anything else.

Requests are dataclasses with `to_message()` (the dict for `codec.encode` /
`codec.sign`) and `from_message(msg)`; `parse_request(msg)` classifies a decoded
request (`classify`) and returns the right one. All financial requests (sale,
void, refund, balance, pre-auth and its void, completion and its void) are one
class, `FinancialRequest`, told apart by `txn`; a reversal is a
`FinancialRequest` with `reversal_reason` set (see `reversal_of`).

Replies are dicts built by `reply` (and the typed helpers after it) and read
through `Reply.from_message`.

MAC (field 64): financial requests 0100/0200/0220, reversals 0400 and their
replies carry one; sign-on/sign-off/echo (08xx), settlement (05xx) and batch
upload (03xx) do not. This follows the UnionPay-style terminal code in the
wild (e.g. the `HaveMacData` list of public CUP POS applications: sale, void,
pre-auth family, refund, balance inquiry, reversal, offline and script advices
are MACed; sign-on, settlement and batch upload are not). Sign-on cannot be
MACed anyway: it is what delivers the MAC key.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import ClassVar, Self

from acquirer.protocol.codec import (
    DEFAULT_HEADER,
    DEFAULT_TPDU,
    Header,
    ProtocolError,
    Tpdu,
    join_h,
    reply_h,
    split_h,
)
from acquirer.protocol.codes import is_approved
from acquirer.protocol.fields import (
    BalanceAmount,
    CardTotals,
    Field60,
    Field61,
    FieldFormatError,
    SettlementTotals,
    UploadCount,
)
from acquirer.protocol.transactions import (
    DEFAULT_TABLE,
    REVERSAL_MTI,
    TxnTable,
    TxnType,
    UnknownTransaction,
)

__all__ = [
    "BatchUpload",
    "BatchUploadEnd",
    "CardInput",
    "Echo",
    "ECHOED_FIELDS",
    "FinancialRequest",
    "LAYOUTS",
    "Layout",
    "LayoutError",
    "MessageKind",
    "Original",
    "PIN_SECURITY_CONTROL",
    "Reply",
    "ReplyError",
    "Request",
    "Settlement",
    "SignOff",
    "SignOn",
    "Terminal",
    "UnknownMessage",
    "check_layout",
    "classify",
    "financial_reply",
    "parse_request",
    "reply",
    "reply_mti",
    "reversal_of",
    "settlement_reply",
    "sign_on_reply",
]

#: field 53 sent with an online PIN (field 52): ISO format 0, double-length key
PIN_SECURITY_CONTROL = "2600000000000000"
#: fields a reply copies from its request (the reply may override 60)
ECHOED_FIELDS = ("3", "4", "11", "41", "42", "60")
#: 60.3 network management codes
SIGN_ON_KEY_MODES = ("003", "004")  # double-length PIN + MAC keys / plus a track key
NMC_SIGN_OFF = "002"
NMC_ECHO = "301"
NMC_SETTLEMENT = "201"
NMC_UPLOAD_MAGSTRIPE = "201"
NMC_UPLOAD_IC = "203"
NMC_UPLOAD_END_MAGSTRIPE = "202"
NMC_UPLOAD_END_IC = "207"
#: 60.1 of management messages
TYPE_MANAGEMENT = "00"


class MessageKind(Enum):
    SIGN_ON = "sign_on"
    SIGN_OFF = "sign_off"
    ECHO = "echo"
    BALANCE = "balance"
    PREAUTH = "preauth"
    PREAUTH_VOID = "preauth_void"
    COMPLETION = "completion"
    COMPLETION_VOID = "completion_void"
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    REVERSAL = "reversal"
    SETTLEMENT = "settlement"
    BATCH_UPLOAD = "batch_upload"
    BATCH_UPLOAD_END = "batch_upload_end"
    WALLET_SALE = "wallet_sale"
    MPM_SALE = "mpm_sale"
    WALLET_QUERY = "wallet_query"
    WALLET_VOID = "wallet_void"
    WALLET_REFUND = "wallet_refund"

    @classmethod
    def of(cls, txn: TxnType) -> MessageKind:
        return cls[txn.name]


@dataclass(frozen=True)
class Layout:
    """Fields of one request kind and of its reply (field numbers; 64 listed via `mac`).

    A financial request also needs the PAN in field 2 or field 35 (`needs_pan`),
    and field 53 whenever it carries 52. Reversals and batch uploads do not
    need the PAN: the host finds the original by terminal, batch and STAN.
    """

    mti: str
    required: frozenset[int]
    optional: frozenset[int]
    mac: bool
    reply_required: frozenset[int]
    reply_optional: frozenset[int]
    needs_pan: bool = False

    @property
    def reply_mti(self) -> str:
        return reply_mti(self.mti)


def _f(*numbers: int) -> frozenset[int]:
    return frozenset(numbers)


_CARD = _f(2, 14, 23, 35)                      # card fields the PAN rule picks from
_PIN = _f(52, 53)
_FIN_REPLY = _f(3, 4, 11, 39, 41, 42)
_FIN_REPLY_OPT = _f(12, 13, 15, 25, 37, 38, 44, 55, 60, 63)
_MGMT_REPLY = _f(11, 39, 41, 42)
_MGMT_REPLY_OPT = _f(12, 13, 15, 37, 60)
#: a wallet-channel request: no card fields; 63 carries the wallet code or the bill number
_WALLET = _f(3, 4, 11, 22, 25, 41, 42, 49, 60)


def _financial(mti: str, required: frozenset[int], optional: frozenset[int]) -> Layout:
    return Layout(mti, _f(3, 11, 22, 25, 41, 42, 49, 60) | required, _CARD | optional, True,
                  _FIN_REPLY, _FIN_REPLY_OPT, needs_pan=True)


LAYOUTS: dict[MessageKind, Layout] = {
    MessageKind.SIGN_ON: Layout("0800", _f(11, 41, 42, 60, 63), _f(), False,
                                _MGMT_REPLY, _MGMT_REPLY_OPT | _f(62)),
    MessageKind.SIGN_OFF: Layout("0820", _f(11, 41, 42, 60), _f(), False,
                                 _MGMT_REPLY, _MGMT_REPLY_OPT),
    MessageKind.ECHO: Layout("0820", _f(11, 41, 42, 60), _f(), False,
                             _MGMT_REPLY, _MGMT_REPLY_OPT),
    MessageKind.BALANCE: Layout("0200", _f(3, 11, 22, 25, 41, 42, 49, 60), _CARD | _PIN | _f(55), True,
                                _f(3, 11, 39, 41, 42), _FIN_REPLY_OPT | _f(54), needs_pan=True),
    MessageKind.PREAUTH: _financial("0100", _f(4), _PIN | _f(55)),
    MessageKind.PREAUTH_VOID: _financial("0100", _f(4, 38, 61), _PIN | _f(37)),
    MessageKind.COMPLETION: _financial("0200", _f(4, 38, 61), _PIN | _f(37)),
    MessageKind.COMPLETION_VOID: _financial("0200", _f(4, 37, 38, 61), _f()),
    MessageKind.SALE: _financial("0200", _f(4), _PIN | _f(55)),
    MessageKind.VOID: _financial("0200", _f(4, 37, 38, 61), _f()),
    MessageKind.REFUND: _financial("0220", _f(4, 37, 61), _f(38, 55)),
    MessageKind.REVERSAL: Layout("0400", _f(3, 4, 11, 22, 25, 39, 41, 42, 49, 60),
                                 _f(2, 14, 23, 37, 38, 61), True,
                                 _FIN_REPLY, _FIN_REPLY_OPT),
    MessageKind.SETTLEMENT: Layout("0500", _f(11, 41, 42, 48, 49, 60), _f(63), False,
                                   _MGMT_REPLY | _f(48), _MGMT_REPLY_OPT | _f(49)),
    MessageKind.BATCH_UPLOAD: Layout("0320", _f(3, 4, 11, 22, 25, 37, 41, 42, 49, 60, 61),
                                     _f(2, 14, 23, 38, 55), False,
                                     _MGMT_REPLY, _MGMT_REPLY_OPT | _f(3, 4)),
    MessageKind.BATCH_UPLOAD_END: Layout("0320", _f(11, 41, 42, 48, 60), _f(), False,
                                         _MGMT_REPLY, _MGMT_REPLY_OPT | _f(48)),
    MessageKind.WALLET_SALE: Layout("0200", _WALLET | _f(63), _f(), True, _FIN_REPLY, _FIN_REPLY_OPT),
    MessageKind.MPM_SALE: Layout("0200", _WALLET | _f(63), _f(), True, _FIN_REPLY, _FIN_REPLY_OPT),
    MessageKind.WALLET_QUERY: Layout("0200", _WALLET | _f(61), _f(), True, _FIN_REPLY, _FIN_REPLY_OPT),
    MessageKind.WALLET_VOID: Layout("0200", _WALLET | _f(37, 61), _f(), True, _FIN_REPLY, _FIN_REPLY_OPT),
    MessageKind.WALLET_REFUND: Layout("0200", _WALLET | _f(37, 61), _f(), True, _FIN_REPLY, _FIN_REPLY_OPT),
}


class UnknownMessage(ProtocolError):
    """A request that is none of the messages in `LAYOUTS`."""


class ReplyError(ProtocolError):
    """A reply that lacks what every reply carries (39, 41, 42)."""


class LayoutError(ProtocolError):
    """A message that lacks a required field or carries one its kind does not allow."""

    def __init__(self, kind: MessageKind, field: str, reason: str) -> None:
        self.kind = kind
        self.field = field
        super().__init__(f"{kind.value} message, field {field}: {reason}")


def reply_mti(mti: str) -> str:
    """The MTI answering a request MTI: 0200 -> 0210, 0820 -> 0830."""
    if len(mti) != 4 or not mti.isdigit() or int(mti[2]) % 2:
        raise UnknownMessage(f"MTI {mti!r} is not a request MTI")
    return f"{int(mti) + 10:04d}"


def classify(msg: Mapping[str, str], table: TxnTable = DEFAULT_TABLE) -> MessageKind:
    """Which request a decoded message is (MTI, 60.3, and for financial ones 3/25/60.1).

    Raises `UnknownMessage` (or `transactions.UnknownTransaction`, also a
    `ProtocolError`) for anything else: the host answers 30 or 12.
    """
    mti = msg.get("t", "")
    nmc = msg.get("60", "")[8:11]
    if mti == "0800" and nmc in SIGN_ON_KEY_MODES:
        return MessageKind.SIGN_ON
    if mti == "0820" and nmc == NMC_SIGN_OFF:
        return MessageKind.SIGN_OFF
    if mti == "0820" and nmc == NMC_ECHO:
        return MessageKind.ECHO
    if mti == "0500" and nmc == NMC_SETTLEMENT:
        return MessageKind.SETTLEMENT
    if mti == "0320" and nmc in (NMC_UPLOAD_MAGSTRIPE, NMC_UPLOAD_IC):
        return MessageKind.BATCH_UPLOAD
    if mti == "0320" and nmc in (NMC_UPLOAD_END_MAGSTRIPE, NMC_UPLOAD_END_IC):
        return MessageKind.BATCH_UPLOAD_END
    if mti == REVERSAL_MTI:
        table.lookup_message(msg)  # the original must be a reversible transaction
        return MessageKind.REVERSAL
    if mti in ("0100", "0200", "0220"):
        return MessageKind.of(table.lookup_message(msg))
    raise UnknownMessage(f"no request with MTI {mti!r} and network management code (60.3) {nmc!r}")


def check_layout(kind: MessageKind, msg: Mapping[str, str], *, signed: bool = True) -> None:
    """Raise `LayoutError` unless `msg` carries exactly what a `kind` request may.

    `signed=False` checks a message before `codec.sign` adds field 64.
    """
    required, required_signed, allowed = _LAYOUT_KEYS[kind]
    present_keys = msg.keys() - _NOT_FIELDS
    # fast accept (the host checks every request): set operations on the keys
    # as they are; anything else goes the long way below, which names the field
    if ((required_signed if signed else required) <= present_keys <= allowed
            and ("2" in present_keys or "35" in present_keys or not LAYOUTS[kind].needs_pan)
            and ("52" not in present_keys or "53" in present_keys)):
        return
    layout = LAYOUTS[kind]
    present: set[int] = {int(k) for k in msg if k.isdigit()}
    allowed_numbers = layout.required | layout.optional | ({64} if layout.mac else set())
    for number in sorted(layout.required - present):
        raise LayoutError(kind, str(number), "required field is missing")
    if layout.mac and signed and 64 not in present:
        raise LayoutError(kind, "64", "MAC is missing")
    for number in sorted(present - allowed_numbers):
        raise LayoutError(kind, str(number), "field not allowed in this message")
    if layout.needs_pan and 2 not in present and 35 not in present:
        raise LayoutError(kind, "2", "either field 2 (PAN) or field 35 (track 2) is required")
    if 52 in present and 53 not in present:
        raise LayoutError(kind, "53", "field 53 must accompany the PIN block in field 52")


#: keys of a message dict that are not fields
_NOT_FIELDS = frozenset({"h", "t", "p"})
#: per kind, as message keys: required fields, the same with 64 for a signed message, allowed fields
_LAYOUT_KEYS = {
    kind: (frozenset(map(str, layout.required)),
           frozenset(map(str, layout.required | ({64} if layout.mac else set()))),
           frozenset(map(str, layout.required | layout.optional | ({64} if layout.mac else set()))))
    for kind, layout in LAYOUTS.items()}


# --- the pieces requests share ----------------------------------------------------

@dataclass(frozen=True)
class Terminal:
    """The sending terminal as the link sees it: TID (8), MID (15), TPDU and header."""

    tid: str
    mid: str
    tpdu: Tpdu = DEFAULT_TPDU
    header: Header = DEFAULT_HEADER

    def fields(self) -> dict[str, str]:
        return {"h": join_h(self.tpdu, self.header), "41": self.tid, "42": self.mid}

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> Terminal:
        tpdu, header = split_h(msg["h"])
        return cls(msg["41"], msg["42"], tpdu, header)


@dataclass(frozen=True)
class CardInput:
    """What the terminal read from the card: entry mode (22) and card fields.

    `pan` (2), `track2` (35, `D` separator), `expiry` (14, YYMM), `psn` (23, 3
    digits), `icc` (55, BER-TLV bytes), `pin_block` (52; 53 is then
    `PIN_SECURITY_CONTROL`). Field 2 may be absent when 35 is present.
    """

    entry_mode: str
    pan: str | None = None
    track2: str | None = None
    expiry: str | None = None
    psn: str | None = None
    icc: bytes | None = None
    pin_block: bytes | None = field(default=None, repr=False)

    @property
    def account_number(self) -> str | None:
        """The PAN from field 2, else from track 2 (the digits before `D`)."""
        if self.pan:
            return self.pan
        if self.track2:
            return self.track2.split("D", 1)[0]
        return None

    def fields(self) -> dict[str, str]:
        msg = {"22": self.entry_mode}
        for key, value in (("2", self.pan), ("14", self.expiry), ("23", self.psn), ("35", self.track2)):
            if value is not None:
                msg[key] = value
        if self.icc is not None:
            msg["55"] = self.icc.hex().upper()
        if self.pin_block is not None:
            msg["52"] = self.pin_block.hex().upper()
            msg["53"] = PIN_SECURITY_CONTROL
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> CardInput:
        return cls(
            entry_mode=msg["22"],
            pan=msg.get("2"),
            track2=msg.get("35"),
            expiry=msg.get("14"),
            psn=msg.get("23"),
            icc=bytes.fromhex(msg["55"]) if "55" in msg else None,
            pin_block=bytes.fromhex(msg["52"]) if "52" in msg else None,
        )


@dataclass(frozen=True)
class Original:
    """The transaction a void, refund, completion or their voids refer to.

    `rrn` goes to 37, `auth_code` to 38, `batch` + `stan` (+ `date`, MMDD) to 61.
    Which of them a request must carry is in `LAYOUTS`: a void needs 37, 38 and
    61; a refund 37 and 61 (with the original date); a completion 38 and 61.
    """

    rrn: str | None = None
    auth_code: str | None = None
    batch: str | None = None
    stan: str | None = None
    date: str | None = None

    def fields(self) -> dict[str, str]:
        msg: dict[str, str] = {}
        if self.rrn is not None:
            msg["37"] = self.rrn
        if self.auth_code is not None:
            msg["38"] = self.auth_code
        if self.batch is not None or self.stan is not None:
            if self.batch is None or self.stan is None:
                raise FieldFormatError(61, 0, "original batch and STAN go together")
            msg["61"] = Field61(self.batch, self.stan, self.date).encode()
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> Original | None:
        if not any(k in msg for k in ("37", "38", "61")):
            return None
        f61 = Field61.parse(msg["61"]) if "61" in msg else None
        return cls(
            rrn=msg.get("37"),
            auth_code=msg.get("38"),
            batch=f61.batch if f61 else None,
            stan=f61.stan if f61 else None,
            date=f61.date if f61 else None,
        )


def _amount(value: int) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 10**12:
        raise FieldFormatError(4, 0, f"amount must be an integer 0..999999999999 fen, got {value!r}")
    return f"{value:012d}"


# --- requests ---------------------------------------------------------------------

@dataclass(frozen=True)
class FinancialRequest:
    """Any financial request, or its reversal when `reversal_reason` is set.

    `amount` is fen (None only for a balance inquiry). `wallet_data` is field
    63 of the wallet channel: the customer's wallet code (wallet sale) or the
    bill number of the merchant-presented code (MPM sale). `batch` is 60.2;
    `terminal_capability` / `ic_condition` are the optional 60.4 / 60.5. A
    reversal (0400) carries the original's 3, 4, 11, 22, 25, 49 and 60 and 39 =
    the reason (98 timeout, 96, A0); it never carries track 2, PIN or field 55,
    and carries the PAN (2) only when the terminal still has it: the host finds
    the original by TID (41), MID (42), batch (60.2) and STAN (11).
    """

    txn: TxnType
    terminal: Terminal
    stan: str
    batch: str
    card: CardInput
    amount: int | None = None
    currency: str = "156"
    original: Original | None = None
    terminal_capability: str | None = None
    ic_condition: str | None = None
    reversal_reason: str | None = None
    wallet_data: str | None = field(default=None, repr=False)

    @property
    def kind(self) -> MessageKind:
        return MessageKind.REVERSAL if self.reversal_reason is not None else MessageKind.of(self.txn)

    def to_message(self, table: TxnTable = DEFAULT_TABLE) -> dict[str, str]:
        """The unsigned message dict (sign it with `codec.sign`)."""
        d = table[self.txn]
        msg = self.terminal.fields()
        msg["t"] = REVERSAL_MTI if self.reversal_reason is not None else d.mti
        msg["3"] = d.processing_code
        msg["11"] = self.stan
        msg["25"] = d.condition_code
        msg["49"] = self.currency
        msg["60"] = Field60(d.type_code, self.batch, "000",
                            self.terminal_capability, self.ic_condition).encode()
        if self.amount is not None:
            msg["4"] = _amount(self.amount)
        msg.update(self.card.fields())
        if self.original is not None:
            msg.update(self.original.fields())
        if self.reversal_reason is not None:
            msg["39"] = self.reversal_reason
        elif self.wallet_data is not None:
            msg["63"] = self.wallet_data
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str], table: TxnTable = DEFAULT_TABLE) -> FinancialRequest:
        f60 = Field60.parse(msg["60"])
        return cls(
            txn=table.lookup_message(msg),
            terminal=Terminal.from_message(msg),
            stan=msg["11"],
            batch=f60.batch,
            card=CardInput.from_message(msg),
            amount=int(msg["4"]) if "4" in msg else None,
            currency=msg["49"],
            original=Original.from_message(msg),
            terminal_capability=f60.terminal_capability,
            ic_condition=f60.ic_condition,
            reversal_reason=msg.get("39") if msg["t"] == REVERSAL_MTI else None,
            wallet_data=msg.get("63"),
        )


def reversal_of(request: FinancialRequest, reason: str = "98") -> FinancialRequest:
    """The 0400 reversing `request`: same STAN, amount and field 60.

    Track 2, PIN and field 55 are dropped (a terminal must not keep them to
    resend later); field 2 carries the request's PAN (from track 2 when the
    request had no 2) and is left out when the request has none, e.g. one
    rebuilt from a journal that keeps no full PAN.
    """
    if request.reversal_reason is not None:
        raise LayoutError(MessageKind.REVERSAL, "39", "a reversal is not itself reversible")
    card = request.card
    return FinancialRequest(
        txn=request.txn,
        terminal=request.terminal,
        stan=request.stan,
        batch=request.batch,
        card=CardInput(entry_mode=card.entry_mode, pan=card.account_number, expiry=card.expiry,
                       psn=card.psn),
        amount=request.amount,
        currency=request.currency,
        original=request.original,
        terminal_capability=request.terminal_capability,
        ic_condition=request.ic_condition,
        reversal_reason=reason,
    )


@dataclass(frozen=True)
class SignOn:
    """0800: 60 = "00" + batch + key mode (003 PIN + MAC key, 004 also a track key; all double length);
    63 = operator number (3 characters, e.g. "01 ")."""

    terminal: Terminal
    stan: str
    batch: str
    key_mode: str = "003"
    operator: str = "01 "

    kind: ClassVar[MessageKind] = MessageKind.SIGN_ON

    def to_message(self) -> dict[str, str]:
        if self.key_mode not in SIGN_ON_KEY_MODES:
            raise LayoutError(self.kind, "60", f"key mode must be one of {SIGN_ON_KEY_MODES}")
        msg = self.terminal.fields()
        msg.update({"t": "0800", "11": self.stan, "63": self.operator,
                    "60": Field60(TYPE_MANAGEMENT, self.batch, self.key_mode).encode()})
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> SignOn:
        f60 = Field60.parse(msg["60"])
        return cls(Terminal.from_message(msg), msg["11"], f60.batch, f60.network_code, msg["63"])


@dataclass(frozen=True)
class _LinkManagement:
    """0820 messages: terminal, STAN and batch; 60.3 tells them apart."""

    terminal: Terminal
    stan: str
    batch: str

    kind: ClassVar[MessageKind]
    _nmc: ClassVar[str]

    def to_message(self) -> dict[str, str]:
        msg = self.terminal.fields()
        msg.update({"t": "0820", "11": self.stan,
                    "60": Field60(TYPE_MANAGEMENT, self.batch, self._nmc).encode()})
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> Self:
        return cls(Terminal.from_message(msg), msg["11"], Field60.parse(msg["60"]).batch)


@dataclass(frozen=True)
class SignOff(_LinkManagement):
    """0820 with 60.3 = 002."""

    kind: ClassVar[MessageKind] = MessageKind.SIGN_OFF
    _nmc = NMC_SIGN_OFF


@dataclass(frozen=True)
class Echo(_LinkManagement):
    """0820 with 60.3 = 301 (link test)."""

    kind: ClassVar[MessageKind] = MessageKind.ECHO
    _nmc = NMC_ECHO


@dataclass(frozen=True)
class Settlement:
    """0500: 48 = settlement totals, 49 currency, 60 = "00" + batch + "201", 63 operator."""

    terminal: Terminal
    stan: str
    batch: str
    totals: SettlementTotals
    currency: str = "156"
    operator: str | None = "01 "

    kind: ClassVar[MessageKind] = MessageKind.SETTLEMENT

    def to_message(self) -> dict[str, str]:
        msg = self.terminal.fields()
        msg.update({"t": "0500", "11": self.stan, "48": self.totals.encode(), "49": self.currency,
                    "60": Field60(TYPE_MANAGEMENT, self.batch, NMC_SETTLEMENT).encode()})
        if self.operator is not None:
            msg["63"] = self.operator
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> Settlement:
        return cls(Terminal.from_message(msg), msg["11"], Field60.parse(msg["60"]).batch,
                   SettlementTotals.parse(msg["48"]), msg["49"], msg.get("63"))


#: transactions a batch upload may carry (debits and credits of the batch)
UPLOADABLE = (TxnType.SALE, TxnType.COMPLETION, TxnType.REFUND)


@dataclass(frozen=True)
class BatchUpload:
    """0320, one transaction of the batch: 60 = type code of `txn` + batch + 201
    (magstripe) or 203 (IC, when `icc` is given).

    Carries 3, 4, 11 (a new STAN), 22, 25, 37 (the transaction's RRN), 38,
    49 and 61 (its batch, STAN and MMDD date); 2, 14, 23 and 55 when known.
    60.1 names the uploaded transaction (22 sale, 20 completion, 25 refund).
    `pan` is None when the terminal no longer has it (it keeps no full PAN on
    disk): the host matches the upload by 61 and 37, not by the PAN.
    """

    terminal: Terminal
    stan: str
    batch: str
    txn: TxnType
    pan: str | None
    amount: int
    entry_mode: str
    original: Original
    currency: str = "156"
    expiry: str | None = None
    psn: str | None = None
    icc: bytes | None = None

    kind: ClassVar[MessageKind] = MessageKind.BATCH_UPLOAD

    def to_message(self, table: TxnTable = DEFAULT_TABLE) -> dict[str, str]:
        if self.txn not in UPLOADABLE:
            raise LayoutError(self.kind, "60", f"{self.txn.value} is not uploaded in a batch")
        d = table[self.txn]
        nmc = NMC_UPLOAD_IC if self.icc is not None else NMC_UPLOAD_MAGSTRIPE
        msg = self.terminal.fields()
        msg.update({"t": "0320", "3": d.processing_code, "11": self.stan, "25": d.condition_code,
                    "49": self.currency, "4": _amount(self.amount),
                    "60": Field60(d.type_code, self.batch, nmc).encode()})
        msg.update(CardInput(self.entry_mode, pan=self.pan, expiry=self.expiry, psn=self.psn,
                             icc=self.icc).fields())
        msg.update(self.original.fields())
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str], table: TxnTable = DEFAULT_TABLE) -> BatchUpload:
        f60 = Field60.parse(msg["60"])
        txn = next((t for t in UPLOADABLE if table[t].type_code == f60.type_code), None)
        if txn is None or (table[txn].processing_code, table[txn].condition_code) != (msg["3"], msg["25"]):
            raise UnknownTransaction(msg["t"], msg["3"], msg["25"], f60.type_code)
        card = CardInput.from_message(msg)
        original = Original.from_message(msg) or Original()
        return cls(
            terminal=Terminal.from_message(msg), stan=msg["11"], batch=f60.batch, txn=txn,
            pan=msg.get("2"), amount=int(msg["4"]), entry_mode=card.entry_mode, original=original,
            currency=msg["49"], expiry=card.expiry, psn=card.psn, icc=card.icc,
        )


@dataclass(frozen=True)
class BatchUploadEnd:
    """0320 closing an upload: 60.3 = 202 (magstripe) / 207 (IC), 48 = count uploaded (N4)."""

    terminal: Terminal
    stan: str
    batch: str
    count: int
    ic: bool = True

    kind: ClassVar[MessageKind] = MessageKind.BATCH_UPLOAD_END

    def to_message(self) -> dict[str, str]:
        nmc = NMC_UPLOAD_END_IC if self.ic else NMC_UPLOAD_END_MAGSTRIPE
        msg = self.terminal.fields()
        msg.update({"t": "0320", "11": self.stan, "48": UploadCount(self.count).encode(),
                    "60": Field60(TYPE_MANAGEMENT, self.batch, nmc).encode()})
        check_layout(self.kind, msg, signed=False)
        return msg

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> BatchUploadEnd:
        f60 = Field60.parse(msg["60"])
        return cls(Terminal.from_message(msg), msg["11"], f60.batch,
                   UploadCount.parse(msg["48"]).count, f60.network_code == NMC_UPLOAD_END_IC)


Request = FinancialRequest | SignOn | SignOff | Echo | Settlement | BatchUpload | BatchUploadEnd

_VIEWS: dict[MessageKind, type[SignOn | SignOff | Echo | Settlement | BatchUploadEnd]] = {
    MessageKind.SIGN_ON: SignOn,
    MessageKind.SIGN_OFF: SignOff,
    MessageKind.ECHO: Echo,
    MessageKind.SETTLEMENT: Settlement,
    MessageKind.BATCH_UPLOAD_END: BatchUploadEnd,
}


def parse_request(msg: Mapping[str, str], table: TxnTable = DEFAULT_TABLE, *,
                  signed: bool = True, kind: MessageKind | None = None) -> Request:
    """Classify a decoded request, check its layout, and return its typed view.

    `kind` is `classify(msg, table)` when the caller has it already (the host
    classifies first to pick its checks). Raises a `ProtocolError`
    (`UnknownMessage`, `UnknownTransaction`, `LayoutError` or
    `fields.FieldFormatError`) for anything the host should answer with 30 (or
    12 for an unknown transaction).
    """
    if kind is None:
        kind = classify(msg, table)
    check_layout(kind, msg, signed=signed)
    if kind in _VIEWS:
        return _VIEWS[kind].from_message(msg)
    if kind is MessageKind.BATCH_UPLOAD:
        return BatchUpload.from_message(msg, table)
    return FinancialRequest.from_message(msg, table)


# --- replies ----------------------------------------------------------------------

def reply(request: Mapping[str, str], response_code: str,
          fields: Mapping[str, str] | None = None) -> dict[str, str]:
    """The reply dict to `request`: MTI + 10, TPDU addresses swapped, `ECHOED_FIELDS`
    copied, 39 = `response_code`, then `fields` (which may add or override)."""
    msg = {"h": reply_h(request["h"]), "t": reply_mti(request["t"])}
    for key in ECHOED_FIELDS:
        if key in request:
            msg[key] = request[key]
    msg["39"] = response_code
    if fields:
        msg.update(fields)
    return msg


def _clock(when: datetime | None) -> dict[str, str]:
    if when is None:
        return {}
    return {"12": when.strftime("%H%M%S"), "13": when.strftime("%m%d")}


def financial_reply(request: Mapping[str, str], response_code: str, *,
                    rrn: str | None = None, auth_code: str | None = None,
                    icc: bytes | None = None, balance: BalanceAmount | None = None,
                    settlement_date: str | None = None,
                    when: datetime | None = None) -> dict[str, str]:
    """Reply to a financial request or reversal (sign it with `codec.sign`).

    An approval carries 37 (RRN, 12 characters) and 38 (auth code, 6); `icc`
    is the reply's field 55 (tag 91 ARPC + ARC, scripts); `balance` field 54;
    `settlement_date` (MMDD) field 15; `when` the host's local time in 12/13.
    """
    fields = _clock(when)
    for key, value in (("15", settlement_date), ("37", rrn), ("38", auth_code)):
        if value is not None:
            fields[key] = value
    if icc is not None:
        fields["55"] = icc.hex().upper()
    if balance is not None:
        fields["54"] = balance.encode()
    return reply(request, response_code, fields)


def sign_on_reply(request: Mapping[str, str], response_code: str, *, field62: bytes | None = None,
                  batch: str | None = None, when: datetime | None = None) -> dict[str, str]:
    """0810: 62 = the working keys under the TMK (`keys.pack_field62`); 60.2 may
    carry the host's batch number (`batch`)."""
    fields = _clock(when)
    if batch is not None:
        f60 = Field60.parse(request["60"])
        fields["60"] = Field60(f60.type_code, batch, f60.network_code).encode()
    if field62 is not None:
        fields["62"] = field62.hex().upper()
    return reply(request, response_code, fields)


def settlement_reply(request: Mapping[str, str], response_code: str, totals: SettlementTotals, *,
                     settlement_date: str | None = None, when: datetime | None = None) -> dict[str, str]:
    """A reply whose field 48 carries settlement totals.

    0510: the request's totals with the host's result flags (1 balanced, 2 out
    of balance, 3 error) in each half. 0330 to a batch-upload end: the host's
    own totals of the batch (flags 0), so the terminal closes on the host's
    figures.
    """
    fields = _clock(when)
    fields["48"] = totals.encode()
    if settlement_date is not None:
        fields["15"] = settlement_date
    return reply(request, response_code, fields)


@dataclass(frozen=True)
class Reply:
    """Typed view of any reply, for the terminal side.

    `totals` is field 48 of a 0510, or of the 0330 ending a batch upload when
    the host sends its figures there.
    """

    mti: str
    response_code: str
    tid: str
    mid: str
    tpdu: Tpdu
    stan: str | None = None
    processing_code: str | None = None
    amount: int | None = None
    rrn: str | None = None
    auth_code: str | None = None
    local_time: str | None = None
    local_date: str | None = None
    settlement_date: str | None = None
    icc: bytes | None = None
    balance: BalanceAmount | None = None
    field60: Field60 | None = None
    field62: bytes | None = field(default=None, repr=False)
    totals: SettlementTotals | None = None

    @property
    def approved(self) -> bool:
        return is_approved(self.response_code)

    @classmethod
    def from_message(cls, msg: Mapping[str, str]) -> Reply:
        """Read a decoded reply; raises `ReplyError` when 39, 41 or 42 is missing."""
        for key in ("39", "41", "42"):
            if key not in msg:
                raise ReplyError(f"reply {msg.get('t', '?')} lacks field {key}")
        tpdu, _ = split_h(msg["h"])
        mti = msg["t"]
        return cls(
            mti=mti, response_code=msg["39"], tid=msg["41"], mid=msg["42"], tpdu=tpdu,
            stan=msg.get("11"), processing_code=msg.get("3"),
            amount=int(msg["4"]) if "4" in msg else None,
            rrn=msg.get("37"), auth_code=msg.get("38"),
            local_time=msg.get("12"), local_date=msg.get("13"), settlement_date=msg.get("15"),
            icc=bytes.fromhex(msg["55"]) if "55" in msg else None,
            balance=BalanceAmount.parse(msg["54"]) if "54" in msg else None,
            field60=Field60.parse(msg["60"]) if "60" in msg else None,
            field62=bytes.fromhex(msg["62"]) if "62" in msg else None,
            totals=SettlementTotals.parse(msg["48"]) if _carries_totals(mti, msg.get("48")) else None,
        )


def _carries_totals(mti: str, field48: str | None) -> bool:
    """Field 48 is settlement totals in a 0510, and in a 0330 when it has their 62 digits
    (the answer to a batch-upload end; other 0330s carry no 48)."""
    if field48 is None:
        return False
    return mti == "0510" or (mti == "0330" and len(field48) == 2 * CardTotals.WIDTH)
