"""The financial transaction table of the POS link (docs/payment-standards.md, "The POS link"), as data.

Each transaction type is told apart on the wire by MTI, processing code (field
3), POS condition code (field 25) and the type code in field 60.1. Some
acquirers use private processing codes (e.g. sale 190000, void 280000), so the
codes can be overridden from configuration through `TxnTable`; everything else
is fixed by the link.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

from acquirer.protocol.codec import ProtocolError

__all__ = ["DEFAULT_TABLE", "EMV_TRANSACTION_TYPES", "WALLET_TYPES", "TxnDef", "TxnTable", "TxnType", "UnknownTransaction"]


class TxnType(Enum):
    """Financial transaction types (values are stable names for config and storage)."""

    BALANCE = "balance"
    PREAUTH = "preauth"
    PREAUTH_VOID = "preauth_void"
    COMPLETION = "completion"
    COMPLETION_VOID = "completion_void"
    SALE = "sale"
    VOID = "void"
    REFUND = "refund"
    WALLET_SALE = "wallet_sale"      # a customer's wallet payment code (docs/protocol.md section 11)
    MPM_SALE = "mpm_sale"            # an order for a merchant-presented code the terminal shows
    WALLET_QUERY = "wallet_query"    # the state of a wallet order (polling "user paying")
    WALLET_VOID = "wallet_void"      # cancel a paid wallet or MPM sale of the open batch: the whole amount back
    WALLET_REFUND = "wallet_refund"  # give back (part of) a paid wallet or MPM sale, any later day


@dataclass(frozen=True)
class TxnDef:
    """How one transaction type appears on the wire.

    `reversible`: the terminal stores a reversal (0400) before sending it and
    sends that reversal when no answer arrives.
    """

    txn: TxnType
    processing_code: str
    condition_code: str
    mti: str
    type_code: str
    reversible: bool


_DEFAULTS: tuple[TxnDef, ...] = (
    TxnDef(TxnType.BALANCE, "310000", "00", "0200", "01", False),
    TxnDef(TxnType.PREAUTH, "030000", "06", "0100", "10", True),
    TxnDef(TxnType.PREAUTH_VOID, "200000", "06", "0100", "11", True),
    TxnDef(TxnType.COMPLETION, "000000", "06", "0200", "20", True),
    TxnDef(TxnType.COMPLETION_VOID, "200000", "06", "0200", "21", True),
    TxnDef(TxnType.SALE, "000000", "00", "0200", "22", True),
    TxnDef(TxnType.VOID, "200000", "00", "0200", "23", True),
    TxnDef(TxnType.REFUND, "200000", "00", "0220", "25", False),
    # the wallet channel: private processing codes (19 private debit, 39 private inquiry) and type codes
    TxnDef(TxnType.WALLET_SALE, "190000", "00", "0200", "70", True),
    TxnDef(TxnType.MPM_SALE, "190000", "00", "0200", "71", True),
    TxnDef(TxnType.WALLET_QUERY, "390000", "00", "0200", "72", False),
    TxnDef(TxnType.WALLET_VOID, "290000", "00", "0200", "73", True),
    TxnDef(TxnType.WALLET_REFUND, "290000", "00", "0200", "74", True),
)

#: transactions of the wallet channel: no card, the wallet back end answers
WALLET_TYPES = frozenset({TxnType.WALLET_SALE, TxnType.MPM_SALE, TxnType.WALLET_QUERY,
                          TxnType.WALLET_VOID, TxnType.WALLET_REFUND})

#: EMV transaction type (tag 9C) a card's cryptogram carries for each card transaction: 00 goods
#: and services, 20 returns (voids and refunds), 31 balance inquiry. The terminal's kernel puts it
#: in the ARQC's data; the issuers check it against the request's transaction type (field 3).
EMV_TRANSACTION_TYPES: Mapping[TxnType, str] = {
    TxnType.SALE: "00", TxnType.PREAUTH: "00", TxnType.COMPLETION: "00",
    TxnType.VOID: "20", TxnType.PREAUTH_VOID: "20", TxnType.COMPLETION_VOID: "20", TxnType.REFUND: "20",
    TxnType.BALANCE: "31",
}

#: MTI of a reversal of any reversible transaction
REVERSAL_MTI = "0400"


class UnknownTransaction(ProtocolError):
    """No transaction type matches the request's MTI, field 3, 25 and 60.1."""

    def __init__(self, mti: str, processing_code: str, condition_code: str, type_code: str) -> None:
        self.mti = mti
        super().__init__(
            f"no transaction with MTI {mti}, processing code (field 3) {processing_code!r}, "
            f"condition code (field 25) {condition_code!r}, type code (field 60.1) {type_code!r}")


class TxnTable:
    """The transaction table in force, with optional processing-code overrides.

    `TxnTable({"sale": "190000", "void": "280000"})` (keys: `TxnType` values)
    replaces those codes for building and for recognising requests.
    """

    def __init__(self, processing_codes: Mapping[str, str] | None = None) -> None:
        overrides = dict(processing_codes or {})
        defs: dict[TxnType, TxnDef] = {}
        for d in _DEFAULTS:
            code = overrides.pop(d.txn.value, d.processing_code)
            if not (len(code) == 6 and code.isascii() and code.isdigit()):
                raise ValueError(f"processing code for {d.txn.value} must be 6 digits, got {code!r}")
            defs[d.txn] = replace(d, processing_code=code)
        if overrides:
            raise ValueError(f"unknown transaction types in processing-code overrides: "
                             f"{', '.join(sorted(overrides))} (known: {', '.join(t.value for t in TxnType)})")
        self._defs = defs
        self._by_type_code = {d.type_code: d for d in defs.values()}

    def __getitem__(self, txn: TxnType) -> TxnDef:
        return self._defs[txn]

    def __iter__(self):
        return iter(self._defs.values())

    def lookup(self, mti: str, processing_code: str, condition_code: str, type_code: str) -> TxnType:
        """The transaction type of a request; raises `UnknownTransaction`.

        For a reversal (MTI 0400) pass the 0400's fields: they are the original's,
        and the original type is returned.
        """
        d = self._by_type_code.get(type_code)
        if (d is None or d.processing_code != processing_code or d.condition_code != condition_code
                or mti not in (d.mti, REVERSAL_MTI) or (mti == REVERSAL_MTI and not d.reversible)):
            raise UnknownTransaction(mti, processing_code, condition_code, type_code)
        return d.txn

    def lookup_message(self, msg: Mapping[str, str]) -> TxnType:
        """`lookup` on a decoded request dict (fields t, 3, 25 and 60.1)."""
        return self.lookup(msg.get("t", ""), msg.get("3", ""), msg.get("25", ""), msg.get("60", "")[:2])


DEFAULT_TABLE = TxnTable()
