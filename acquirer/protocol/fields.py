"""Named structures inside fields 48, 54, 60 and 61 (docs/payment-standards.md, "The POS link" and "Settlement").

Each class has `encode() -> str` (the field value as it goes into a message
dict) and `parse(value) -> instance`; `parse(x.encode()) == x`. Money is integer
fen. Field 62 of the sign-on reply (working keys) is `keys.pack_field62` /
`keys.unpack_field62`.
"""
from __future__ import annotations

from dataclasses import dataclass

from acquirer.protocol.codec import ProtocolError

__all__ = [
    "BalanceAmount",
    "CardTotals",
    "Field60",
    "Field61",
    "FieldFormatError",
    "SettlementTotals",
    "UploadCount",
]


class FieldFormatError(ProtocolError):
    """A field value whose inner structure is wrong; `position` is the character index."""

    def __init__(self, field: int, position: int, reason: str) -> None:
        self.field = field
        self.position = position
        self.reason = reason
        super().__init__(f"field {field} at character {position}: {reason}")


def _digits(field: int, value: str, start: int, width: int, what: str) -> str:
    part = value[start:start + width]
    if len(part) != width or not (part.isascii() and part.isdigit()):
        raise FieldFormatError(field, start, f"{what} must be {width} digits, got {part!r}")
    return part


def _check_width(field: int, value: int | str, width: int, what: str) -> None:
    text = str(value)
    if isinstance(value, int):
        if value < 0 or len(text) > width:
            raise FieldFormatError(field, 0, f"{what} {value} does not fit in {width} digits")
    elif len(text) != width or not (text.isascii() and text.isdigit()):
        raise FieldFormatError(field, 0, f"{what} must be {width} digits, got {value!r}")


@dataclass(frozen=True)
class Field60:
    """Field 60: 60.1 type code N2, 60.2 batch N6, 60.3 network management code N3,
    optional 60.4 terminal capability N1 and 60.5 IC condition N1.

    Examples: sale `22` `000001` `000` (+ `5` `0`), sign-on `00` `000001` `003`,
    settlement `00` `000001` `201`. `rest` keeps any later sub-fields verbatim.
    A sign-on reply may carry only 60.1 + 60.2 (8 digits): then `network_code`
    is "".
    """

    type_code: str
    batch: str
    network_code: str = "000"
    terminal_capability: str | None = None
    ic_condition: str | None = None
    rest: str = ""

    def encode(self) -> str:
        _check_width(60, self.type_code, 2, "60.1 type code")
        _check_width(60, self.batch, 6, "60.2 batch number")
        if self.network_code:
            _check_width(60, self.network_code, 3, "60.3 network management code")
        elif self.terminal_capability is not None:
            raise FieldFormatError(60, 8, "60.4 needs 60.3")
        value = self.type_code + self.batch + self.network_code
        if self.terminal_capability is not None:
            _check_width(60, self.terminal_capability, 1, "60.4 terminal capability")
            value += self.terminal_capability
        if self.ic_condition is not None:
            if self.terminal_capability is None:
                raise FieldFormatError(60, 12, "60.5 IC condition needs 60.4 terminal capability")
            _check_width(60, self.ic_condition, 1, "60.5 IC condition")
            value += self.ic_condition
        elif self.rest:
            raise FieldFormatError(60, 13, "sub-fields after 60.5 need 60.5")
        return value + self.rest

    @classmethod
    def parse(cls, value: str) -> Field60:
        type_code = _digits(60, value, 0, 2, "60.1 type code")
        batch = _digits(60, value, 2, 6, "60.2 batch number")
        if len(value) == 8:
            return cls(type_code, batch, "")
        network = _digits(60, value, 8, 3, "60.3 network management code")
        capability = _digits(60, value, 11, 1, "60.4 terminal capability") if len(value) > 11 else None
        condition = _digits(60, value, 12, 1, "60.5 IC condition") if len(value) > 12 else None
        return cls(type_code, batch, network, capability, condition, value[13:])


@dataclass(frozen=True)
class Field61:
    """Field 61, the original transaction: batch N6, STAN N6, optional date MMDD N4."""

    batch: str
    stan: str
    date: str | None = None

    def encode(self) -> str:
        _check_width(61, self.batch, 6, "61.1 original batch")
        _check_width(61, self.stan, 6, "61.2 original STAN")
        if self.date is None:
            return self.batch + self.stan
        _check_width(61, self.date, 4, "61.3 original date")
        return self.batch + self.stan + self.date

    @classmethod
    def parse(cls, value: str) -> Field61:
        if len(value) not in (12, 16):
            raise FieldFormatError(61, 0, f"must be 12 or 16 digits, got {len(value)}")
        batch = _digits(61, value, 0, 6, "61.1 original batch")
        stan = _digits(61, value, 6, 6, "61.2 original STAN")
        date = _digits(61, value, 12, 4, "61.3 original date") if len(value) == 16 else None
        return cls(batch, stan, date)


#: field 48 result flags of settlement (terminal sends 0; host answers 1, 2 or 3)
RESULT_REQUEST = "0"
RESULT_BALANCED = "1"
RESULT_OUT_OF_BALANCE = "2"
RESULT_ERROR = "3"


@dataclass(frozen=True)
class CardTotals:
    """One half of field 48: debit amount N12 + count N3, credit amount N12 + count N3, result N1.

    Debits are sales and completions, credits refunds; voided and reversed
    transactions are left out of both.
    """

    debit_amount: int = 0
    debit_count: int = 0
    credit_amount: int = 0
    credit_count: int = 0
    result: str = RESULT_REQUEST

    WIDTH = 31

    def encode(self) -> str:
        _check_width(48, self.debit_amount, 12, "debit amount")
        _check_width(48, self.debit_count, 3, "debit count")
        _check_width(48, self.credit_amount, 12, "credit amount")
        _check_width(48, self.credit_count, 3, "credit count")
        _check_width(48, self.result, 1, "result flag")
        return (f"{self.debit_amount:012d}{self.debit_count:03d}"
                f"{self.credit_amount:012d}{self.credit_count:03d}{self.result}")

    @classmethod
    def parse_at(cls, value: str, start: int) -> CardTotals:
        return cls(
            debit_amount=int(_digits(48, value, start, 12, "debit amount")),
            debit_count=int(_digits(48, value, start + 12, 3, "debit count")),
            credit_amount=int(_digits(48, value, start + 15, 12, "credit amount")),
            credit_count=int(_digits(48, value, start + 27, 3, "credit count")),
            result=_digits(48, value, start + 30, 1, "result flag"),
        )


@dataclass(frozen=True)
class SettlementTotals:
    """Field 48 of settlement 0500/0510 and of the 0330 ending a batch upload: domestic
    totals then foreign totals (62 digits)."""

    domestic: CardTotals = CardTotals()
    foreign: CardTotals = CardTotals()

    def encode(self) -> str:
        return self.domestic.encode() + self.foreign.encode()

    @classmethod
    def parse(cls, value: str) -> SettlementTotals:
        if len(value) != 2 * CardTotals.WIDTH:
            raise FieldFormatError(48, 0, f"settlement totals must be {2 * CardTotals.WIDTH} digits, "
                                          f"got {len(value)}")
        return cls(CardTotals.parse_at(value, 0), CardTotals.parse_at(value, CardTotals.WIDTH))


@dataclass(frozen=True)
class UploadCount:
    """Field 48 of batch-upload end (0320, 60.3 = 202/207): transactions uploaded, N4."""

    count: int

    def encode(self) -> str:
        _check_width(48, self.count, 4, "upload count")
        return f"{self.count:04d}"

    @classmethod
    def parse(cls, value: str) -> UploadCount:
        if len(value) != 4:
            raise FieldFormatError(48, 0, f"upload count must be 4 digits, got {len(value)}")
        return cls(int(_digits(48, value, 0, 4, "upload count")))


@dataclass(frozen=True)
class BalanceAmount:
    """Field 54 of a balance-inquiry reply (20 characters).

    account type (2, e.g. "00"), amount type (2, "02" available balance),
    currency (3, "156"), sign ("C" credit balance / "D" debit balance), amount
    (12 digits, fen). `amount` is signed: "D" balances parse as negative.
    """

    amount: int
    currency: str = "156"
    account_type: str = "00"
    amount_type: str = "02"

    def encode(self) -> str:
        _check_width(54, self.account_type, 2, "account type")
        _check_width(54, self.amount_type, 2, "amount type")
        _check_width(54, self.currency, 3, "currency")
        _check_width(54, abs(self.amount), 12, "amount")
        sign = "C" if self.amount >= 0 else "D"
        return f"{self.account_type}{self.amount_type}{self.currency}{sign}{abs(self.amount):012d}"

    @classmethod
    def parse(cls, value: str) -> BalanceAmount:
        if len(value) != 20:
            raise FieldFormatError(54, 0, f"balance amount must be 20 characters, got {len(value)}")
        sign = value[7]
        if sign not in ("C", "D"):
            raise FieldFormatError(54, 7, f"sign must be C or D, got {sign!r}")
        amount = int(_digits(54, value, 8, 12, "amount"))
        return cls(
            amount=amount if sign == "C" else -amount,
            currency=_digits(54, value, 4, 3, "currency"),
            account_type=_digits(54, value, 0, 2, "account type"),
            amount_type=_digits(54, value, 2, 2, "amount type"),
        )
