"""Issuer simulators: each issuer's cards, their keys and state, and its authorization rules.

An issuer knows its cards from the card file (`cards.toml`, held in memory
only: the database keys cards by token). For every card it derives the ICC
master key once (`IssuedCard.icc_mk`), so checking a cryptogram costs one
session-key derivation and one MAC.

What an issuer decides, in this order (the first failing check answers):

1. Cryptogram (field 55 present): the ARQC in 9F26 must verify under the
   card's key for its scheme and CVN (UnionPay CVN 01, Visa and Mastercard
   through pyemv) -- else **05**; the ATC in 9F36 must be higher than the last
   ATC accepted for the card -- a replayed or lower ATC is **05**. A verified
   ATC is remembered even if a later check declines the transaction.
2. Card status: lost **41**, stolen **43** (`status` in the card file).
3. Expiry: the card file's expiry, and field 14 when sent, must not be before
   the current month (Asia/Shanghai) -- else **54**.
4. Online PIN (field 52, already translated by the host to this issuer's
   zone PIN key): ISO 9564 format 0 decrypted with the PAN and compared.
   A wrong PIN is **55** and counts a try; the try that reaches the limit
   (`[host] pin_try_limit`, default 3) and every PIN attempt after it that day
   is **75**. Tries reset on a correct PIN and at the next local date. A
   block that does not decrypt to format 0 counts as a wrong PIN.
5. Amount (checked by `processing`): above the card's `per_txn_limit` **61**;
   above the available funds **51** (debit: balance; credit: limit - used),
   which the ledger's posting refuses (`InsufficientFunds`).

Steps 2 and 3 apply when money leaves the card (sale, pre-auth, completion,
balance inquiry); money going back to it (voids, refunds) skips them.

Every reply to a request with field 55 carries tag 91 = ARPC + ARC (the two
ASCII bytes of field 39), computed with the final response code, when the
card is known (an unknown card, 14, has no key to compute it with).
"""
from __future__ import annotations

import hmac
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from acquirer.config import Card, IssuerSettings
from acquirer.ledger import (
    Ledger,
    card_account,
    hold_account,
    issuer_account,
)
from acquirer.protocol import tlv
from acquirer.protocol.cardholder import mask_pan, pan_token
from acquirer.protocol.cryptogram import CryptogramError, CryptogramVersion, cryptogram_for
from acquirer.protocol.pinblock import PinBlockError, decrypt_pin
from acquirer.protocol_workers import ProtocolWork

__all__ = ["CardPresented", "Cryptogram", "CryptogramCheck", "IccDataError", "IssuedCard", "Issuer"]


class IccDataError(ValueError):
    """Field 55 cannot be used: malformed TLV or a missing / mis-sized tag (answered 30)."""


@dataclass(frozen=True)
class IssuedCard:
    """One card of the card file with what the issuer derived from it once."""

    card: Card = field(repr=False)
    token: str
    masked_pan: str
    version: CryptogramVersion
    icc_mk: bytes = field(repr=False)

    @property
    def account(self) -> str:
        return card_account(self.token)

    @property
    def hold(self) -> str:
        return hold_account(self.token)


@dataclass(frozen=True)
class CardPresented:
    """What a request tells the issuer about the card (never stored or logged).

    `cryptogram` is field 55 as `Issuer.check_cryptogram` read it (None: no field 55).
    """

    pan: str = field(repr=False)
    expiry: str | None = None
    cryptogram: CryptogramCheck | None = field(default=None, repr=False)
    pin_entered: bool = False
    # field 52 translated to the issuer's ZPK; None when it was entered but did
    # not translate (not a format 0 block under the terminal's PIN key)
    pin_block: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Cryptogram:
    """A request's ARQC and tags, kept to answer tag 91 once the response code is known.

    `approval` is tag 91 for response code 00, computed with the ARQC check
    (see `ProtocolWork.cryptogram`): most replies are approvals.
    """

    card: IssuedCard
    tags: dict[str, bytes]
    arqc: bytes
    approval: bytes | None = field(default=None, repr=False)

    def reply_icc(self, response_code: str) -> bytes:
        """The reply's field 55: tag 91 = ARPC + ARC (ARPC method 1 for CVN 01)."""
        if response_code == "00" and self.approval is not None:
            data = self.approval
        else:
            data = self.card.version.issuer_authentication_data(
                self.card.icc_mk, self.tags, self.arqc, response_code.encode("ascii"))
        return tlv.build([("91", data)])


@dataclass(frozen=True)
class CryptogramCheck:
    """Field 55 read and its ARQC checked: `Issuer.check_cryptogram`, before the request's unit.

    `error` is why field 55 cannot be used; `Issuer.verify` raises it at its
    own step, so checking early changes neither the order of the checks nor
    their answers.
    """

    cryptogram: Cryptogram | None
    genuine: bool
    error: IccDataError | None = None


@dataclass
class Verdict:
    """Outcome of the card checks: `code` None means the card passed."""

    code: str | None
    cryptogram: Cryptogram | None = None


class Issuer:
    """One simulated issuer: its settings, its cards and its decisions."""

    def __init__(self, settings: IssuerSettings, cards: Iterable[Card], token_key: bytes,
                 ledger: Ledger, pin_try_limit: int = 3) -> None:
        self.settings = settings
        self.name = settings.name
        self.ledger = ledger
        self.conn: sqlite3.Connection = ledger.conn
        self.pin_try_limit = pin_try_limit
        self.cards: dict[str, IssuedCard] = {}
        for card in cards:
            if card.issuer != self.name:
                continue
            version = cryptogram_for(card.scheme, card.cvn)
            self.cards[card.pan] = IssuedCard(
                card=card, token=pan_token(token_key, card.pan), masked_pan=mask_pan(card.pan),
                version=version, icc_mk=version.icc_mk(card.imk_ac, card.pan, card.psn))

    # --- set-up -------------------------------------------------------------------

    def seed(self) -> None:
        """Create the card rows and accounts; fund a card account when it is new.

        Balances are the database's after the first start: a card's opening
        balance (debit) or credit limit is posted once, from the issuer's
        account, when its account is created.
        """
        self.ledger.open_account(issuer_account(self.name), "issuer")
        for issued in self.cards.values():
            card = issued.card
            self.conn.execute(
                "INSERT OR IGNORE INTO cards (token, masked_pan, name, issuer, scheme, product) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (issued.token, issued.masked_pan, card.name, self.name, card.scheme, card.product))
            self.ledger.open_account(issued.hold, "hold")
            if self.ledger.open_account(issued.account, "cardholder") and card.opening_balance:
                self.ledger.post("open", [(issuer_account(self.name), -card.opening_balance),
                                          (issued.account, card.opening_balance)])

    # --- look-ups -----------------------------------------------------------------

    def card(self, pan: str) -> IssuedCard | None:
        return self.cards.get(pan)

    def available(self, card: IssuedCard) -> int:
        return self.ledger.balance(card.account)

    # --- checks -------------------------------------------------------------------

    def verify(self, card: IssuedCard, presented: CardPresented, yymm: str, local_date: str,
               *, debit: bool) -> Verdict:
        """Cryptogram + ATC, status, expiry and PIN (module docstring, steps 1-4).

        `yymm` is the current month (YYMM), `local_date` today (YYYY-MM-DD),
        both Asia/Shanghai. Money going back to the card (`debit=False`: void,
        refund) skips the status and expiry checks. Raises `IccDataError` for
        unusable field 55.
        """
        cryptogram = None
        if presented.cryptogram is not None:
            if presented.cryptogram.error is not None:
                raise presented.cryptogram.error
            cryptogram = presented.cryptogram.cryptogram
            if not presented.cryptogram.genuine:
                return Verdict("05", cryptogram)
            if not self._advance_atc(card, int.from_bytes(cryptogram.tags["9F36"], "big")):
                return Verdict("05", cryptogram)
        if debit and card.card.status_code is not None:
            return Verdict(card.card.status_code, cryptogram)
        if debit and (card.card.expiry < yymm or (presented.expiry is not None and presented.expiry < yymm)):
            return Verdict("54", cryptogram)
        if presented.pin_entered:
            code = self._check_pin(card, presented.pin_block, local_date)
            if code is not None:
                return Verdict(code, cryptogram)
        return Verdict(None, cryptogram)

    @staticmethod
    async def check_cryptogram(card: IssuedCard, icc: bytes, work: ProtocolWork) -> CryptogramCheck:
        """Field 55 read, and whether its ARQC is genuine under the card's key.

        Pure (no state is read or changed), so the host does it before the
        request's database unit, through `work` (in a worker process when the
        host has them). `verify` then uses the result in its turn, and
        remembers the ATC only there.
        """
        try:
            tags, expected, approval = await work.cryptogram(card.version, card.icc_mk, icc)
        except (tlv.TlvError, CryptogramError) as e:
            return CryptogramCheck(None, False, IccDataError(f"field 55: {e}"))
        arqc = tags["9F26"]
        return CryptogramCheck(Cryptogram(card, tags, arqc, approval), hmac.compare_digest(expected, arqc))

    def _advance_atc(self, card: IssuedCard, atc: int) -> bool:
        """Accept `atc` only above the last accepted one, and remember it (one statement)."""
        return self.conn.execute("UPDATE cards SET last_atc = ? WHERE token = ? AND last_atc < ?",
                                 (atc, card.token, atc)).rowcount == 1

    def _check_pin(self, card: IssuedCard, pin_block: bytes | None, local_date: str) -> str | None:
        failures, last_date = self.conn.execute(
            "SELECT pin_failures, pin_failure_date FROM cards WHERE token = ?", (card.token,)).fetchone()
        if last_date != local_date:
            failures = 0
        if failures >= self.pin_try_limit:
            return "75"
        try:
            pin = decrypt_pin(self.settings.zpk, pin_block, card.card.pan) if pin_block else ""
        except PinBlockError:
            pin = ""
        if hmac.compare_digest(pin.encode(), card.card.pin.encode()):
            if failures:
                self.conn.execute("UPDATE cards SET pin_failures = 0 WHERE token = ?", (card.token,))
            return None
        failures += 1
        self.conn.execute("UPDATE cards SET pin_failures = ?, pin_failure_date = ? WHERE token = ?",
                          (failures, local_date, card.token))
        return "75" if failures >= self.pin_try_limit else "55"
