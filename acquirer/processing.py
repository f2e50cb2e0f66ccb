"""What each financial transaction does to the records and the ledger, and how a reversal undoes it.

The host calls `Processor.financial` for a request that passed its checks
(registered terminal, current sign-on, MAC, batch, permitted type). The
switch leg comes first (`Switch.reach`: 91 / 98 end the request unrecorded),
then the pure part of the issuer's cryptogram check (`Issuer.check_cryptogram`,
whose answer the issuer uses in its turn); then one synchronous
`GroupCommit.unit` lets the issuer check the card, moves
the money, and writes the request's record last. The record's UNIQUE key
makes a duplicate raise there (94), which rolls the whole unit back: nothing
of a duplicate stays. A duplicate that is not the holder sent again (another
card, amount, type or field 55) is a reused trace number: it is remembered
in `trace_reuses`, so that its reversal cannot undo the holder. A decline is recorded with its code and keeps the
issuer's side effects (ATC, PIN tries); any other error rolls the unit back.
The record's id is taken before the postings that name it.

Money (ledger legs; `card`, `hold` are the card's accounts, `merchant` the MID's):

| transaction     | finds its original by             | legs                                                    |
| --------------- | --------------------------------- | ------------------------------------------------------- |
| sale            | -                                 | card -A, merchant +A                                    |
| void            | 37 RRN (+61, 38), same terminal   | the opposite of the sale's legs                         |
| refund          | 37 RRN (+61), same merchant       | merchant -R, card +R; R <= amount - refunded so far     |
| pre-auth        | -                                 | card -P, hold +P                                        |
| pre-auth void   | 37 or 61 (+38), same merchant     | the opposite of the pre-auth's legs                     |
| completion      | 37 or 61 (+38), same merchant     | hold -P, merchant +C, card +(P - C); C <= P             |
| completion void | 37 RRN (+61, 38), same terminal   | the opposite of the completion's legs: the hold is back |
| balance inquiry | -                                 | none; field 54 = available funds                        |

Codes for originals: not found, another card, another merchant / terminal,
or a tombstone **25**; found but declined, already voided / completed /
reversed, refunded (for a void), or in a settled batch (void) **12**; a void
whose amount differs from the original **64**; a refund above what remains or
a completion above the hold **61**; a zero amount **13**.

Reversal (0400) -- `Processor.reversal`, always answered 00 and idempotent.
It looks the original up by TID, MID, batch (the 0400's 60.2) and STAN
(received today or yesterday) -- no PAN needed -- and:

- original approved: posts the opposite of its net legs (booked to the
  original, whose legs then net to zero), marks it `reversed`, and restores
  what it had changed (a reversed void gives its sale back `approved`, a
  reversed completion or pre-auth void its pre-auth, a reversed completion
  void its completion);
- original already reversed, declined, or superseded (voided, completed):
  nothing to undo;
- no original: `tombstone` rows take its key for today and tomorrow (an
  original on its way at midnight arrives tomorrow), so a late original is a
  duplicate (94) by the UNIQUE index and never posts;
- amount or type differs from the original: nothing is undone (logged);
- the 0400 names a card (field 2 or track 2) other than the original's:
  nothing is undone (`other_card`);
- a request with the 0400's type and amount (and card, when it names one)
  was refused 94 under this key because the original holds it
  (`trace_reuses`, see `_duplicate`): the 0400 is that request's, nothing
  is undone (`for_refused_request`). A reversal never touches another
  card's money;
- undoing would take a card below zero (the money of a reversed void was
  spent since): nothing is undone, the outcome `refused_funds` is recorded
  for the operator. Reversals never go through the switch: in this simulation
  the acquirer applies them to the shared ledger at once.

Every reversal received is logged in `reversals` with its outcome.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from acquirer.commit import GroupCommit, Misspeculation
from acquirer.config import Terminal
from acquirer.decline import Decline
from acquirer.icc_fingerprint import icc_fingerprint
from acquirer.issuer import (
    CardPresented,
    Cryptogram,
    CryptogramCheck,
    IccDataError,
    IssuedCard,
    Issuer,
)
from acquirer.ledger import InsufficientFunds, Ledger, merchant_account
from acquirer.metrics import REVERSALS_REFUSED, TRACE_REUSES, UNITS_RERUN
from acquirer.protocol.cardholder import mask_pan, pan_token
from acquirer.protocol.clock import CHINA
from acquirer.protocol.keys import WorkingKeys
from acquirer.protocol.messages import FinancialRequest
from acquirer.protocol.pinblock import PinBlockError, translate_pin_block
from acquirer.protocol.transactions import EMV_TRANSACTION_TYPES, TxnType
from acquirer.protocol_workers import ProtocolWork
from acquirer.records import Duplicate, Records, TxnKey, TxnRow
from acquirer.sessions import Sessions
from acquirer.switch import LinkFault, NoRoute, Switch

__all__ = ["Outcome", "Processor", "ReversalOutcome"]

log = logging.getLogger("acquirer.processing")


@dataclass(frozen=True)
class Outcome:
    """What the reply to a financial request or reversal carries besides the echo."""

    code: str
    rrn: str | None = None
    auth_code: str | None = None
    icc: bytes | None = None       # field 55: tag 91
    balance: int | None = None     # field 54 (fen)
    reason: str = ""               # for the log (no card data)


class ReversalOutcome:
    """Values of `reversals.outcome`."""

    REVERSED = "reversed"
    NO_ORIGINAL = "no_original"            # tombstone written
    REPEATED = "repeated"                  # tombstone already there
    NOTHING_TO_UNDO = "nothing_to_undo"    # original declined or already reversed
    SUPERSEDED = "superseded"              # original voided or completed since
    MISMATCH = "mismatch"                  # amount or type differs from the original
    OTHER_CARD = "other_card"              # the 0400's card (field 2 or 35) is not the original's
    FOR_REFUSED = "for_refused_request"    # for a request refused because its STAN was taken (94)
    REFUSED_FUNDS = "refused_funds"        # undoing would take a card below zero


@dataclass
class _Request:
    """One financial request while it is processed."""

    req: FinancialRequest
    terminal: Terminal
    keys: WorkingKeys
    issuer: Issuer          # the BIN route's issuer (no route: declined 14 before a request is made)
    card: IssuedCard        # the card on that issuer's file (not on file: 14)
    pan: str = field(repr=False)
    key: TxnKey
    yymm: str           # the current month, for expiry
    stamp: str          # UTC ISO timestamp of the request, for created_at
    txn_id: int = 0
    icc_check: CryptogramCheck | None = None   # field 55 read and checked before the unit
    cryptogram: Cryptogram | None = None       # what the issuer's checks made of it (for tag 91)

    @property
    def amount(self) -> int:
        return self.req.amount or 0

    @property
    def merchant(self) -> str:
        return merchant_account(self.terminal.mid)


class Processor:
    def __init__(self, store: GroupCommit, ledger: Ledger, records: Records, switch: Switch,
                 issuers: dict[str, Issuer], sessions: Sessions, token_key: bytes,
                 protocol: ProtocolWork) -> None:
        """`protocol` computes ARQCs (in worker processes when the host has them)."""
        self.store = store
        self.protocol = protocol
        self.ledger = ledger
        self.records = records
        self.switch = switch
        self.issuers = issuers
        self.sessions = sessions
        self.token_key = token_key
        self._handlers = {
            TxnType.SALE: self._sale,
            TxnType.VOID: self._void,
            TxnType.REFUND: self._refund,
            TxnType.PREAUTH: self._preauth,
            TxnType.PREAUTH_VOID: self._preauth_void,
            TxnType.COMPLETION: self._completion,
            TxnType.COMPLETION_VOID: self._completion_void,
            TxnType.BALANCE: self._balance,
        }

    # --- financial requests -----------------------------------------------------------

    async def financial(self, req: FinancialRequest, terminal: Terminal, keys: WorkingKeys,
                        now: datetime) -> Outcome:
        """Process a financial request; raises `Decline` for 91/98 (switch) and 94 (duplicate).
        Returns once the outcome is durable (`GroupCommit.durable`)."""
        pan = req.card.account_number or ""
        try:
            issuer = self.issuers[self.switch.route(pan)]
        except NoRoute:
            issuer = None
        card = icc_check = None
        if issuer is not None:
            try:
                await self.switch.reach(issuer.name)
            except LinkFault as e:  # the issuer never saw the request
                raise Decline(e.code, str(e)) from None
            card = issuer.card(pan)
            if card is not None and req.card.icc is not None:   # pure: before the unit
                icc_check = await issuer.check_cryptogram(card, req.card.icc, self.protocol)
        key = TxnKey(terminal.tid, terminal.mid, req.batch, req.stan, _date(now))
        fingerprint = icc_fingerprint(self.token_key, req.card.icc) if req.card.icc is not None else None
        process = functools.partial(self._process, req, terminal, keys, issuer, card, icc_check, pan, key, now,
                                    fingerprint)
        try:
            try:   # assuming its checks pass (no round trip of its own on PostgreSQL), ...
                with self.store.unit(speculative=True) as unit:
                    outcome = process()
                await self.store.durable(unit)
            except Misspeculation:   # ... and when one did not, again, reading each result
                UNITS_RERUN.inc()
                with self.store.unit():
                    outcome = process()
                await self.store.durable()
            return outcome
        except Duplicate:
            with self.store.unit():
                self._duplicate(req, key, card.token if card else pan_token(self.token_key, pan), fingerprint,
                                now)
            await self.store.durable()   # a reversal that follows must find it
            raise

    def _duplicate(self, req: FinancialRequest, key: TxnKey, token: str, fingerprint: str | None,
                   now: datetime) -> None:
        """A request whose key is taken (94): a resent request, or another transaction reusing the STAN.

        Resent: the same card, amount, type and field 55 as the transaction
        holding the key -- a reversal after the 94 is for that transaction.
        Anything else is another transaction: it is remembered in
        `trace_reuses`, so that a reversal sent for it never undoes the holder.
        """
        holder = self.records.by_key(key)
        if holder is None or holder.status == "tombstone":
            return   # the key was taken by a reversal that came first: nothing to protect
        if (holder.card_token == token and holder.amount == (req.amount or 0)
                and holder.txn_type == req.txn.value and holder.fingerprint == fingerprint):
            return
        self.records.add_trace_reuse(key, req.txn.value, req.amount or 0, token, holder.id,
                                     now.astimezone(UTC).isoformat())
        TRACE_REUSES.inc()
        log.warning("terminal %s batch %s STAN %s: trace number reused by another transaction (refused 94; "
                    "transaction %s keeps it)", key.tid, key.batch, key.stan, holder.id)

    def _process(self, req: FinancialRequest, terminal: Terminal, keys: WorkingKeys, issuer: Issuer | None,
                 card: IssuedCard | None, icc_check: CryptogramCheck | None, pan: str, key: TxnKey,
                 now: datetime, fingerprint: str | None = None) -> Outcome:
        """Checks and postings first, the record last: a duplicate key rolls it all back."""
        local = now.astimezone(CHINA)
        stamp, txn_id = now.astimezone(UTC).isoformat(), self.records.new_id()
        r: _Request | None = None   # a request is processed only once its issuer and card are known
        original_id = balance = rrn = auth_code = None
        try:
            if issuer is None or card is None:
                raise Decline("14", "card not routable" if issuer is None else "card not on file")
            r = _Request(req, terminal, keys, issuer, card, pan, key, f"{local.year % 100:02d}{local.month:02d}",
                         stamp, txn_id, icc_check)
            balance, original_id = self._handlers[req.txn](r)
            outcome = Outcome("00", rrn=self.records.next_rrn(), auth_code=self.records.new_auth_code(),
                              icc=self._reply_icc(r, "00"), balance=balance)
            status, rrn, auth_code = "approved", outcome.rrn, outcome.auth_code
        except Decline as d:
            outcome = Outcome(d.code, icc=self._reply_icc(r, d.code), reason=d.reason)
            status = "declined"
        self.records.insert(
            txn_id, key, req.txn.value, req.amount or 0, req.currency, status=status,
            created_at=stamp, response_code=outcome.code,
            card_token=card.token if card else pan_token(self.token_key, pan),
            masked_pan=card.masked_pan if card else mask_pan(pan),
            scheme=card.card.scheme if card else None, issuer=issuer.name if issuer else None,
            entry_mode=req.card.entry_mode, rrn=rrn, auth_code=auth_code, original_id=original_id,
            fingerprint=fingerprint)
        return outcome

    @staticmethod
    def _reply_icc(r: _Request | None, code: str) -> bytes | None:
        """Tag 91 of the reply, when the issuer's checks made a cryptogram of field 55."""
        return r.cryptogram.reply_icc(code) if r is not None and r.cryptogram is not None else None

    # --- the checks the handlers share -------------------------------------------------

    def _verify(self, r: _Request, *, debit: bool) -> None:
        """The issuer's card checks (cryptogram, ATC, status, expiry, PIN)."""
        card_in = r.req.card
        pin_block = None
        if card_in.pin_block is not None:
            try:
                pin_block = translate_pin_block(r.keys.pin, r.issuer.settings.zpk, card_in.pin_block)
            except PinBlockError:
                pin_block = None  # not format 0 under the terminal's PIN key: a wrong PIN
        expiry = card_in.expiry
        if expiry is None and card_in.track2 and "D" in card_in.track2:
            expiry = card_in.track2.split("D", 1)[1][:4] or None
        presented = CardPresented(r.pan, expiry, r.icc_check, card_in.pin_block is not None, pin_block,
                                  amount=r.amount, currency=r.req.currency,
                                  emv_type=EMV_TRANSACTION_TYPES.get(r.req.txn),
                                  qr_code=card_in.entry_mode.startswith("03"))
        try:
            verdict = r.issuer.verify(r.card, presented, r.yymm, r.key.local_date, debit=debit)
        except IccDataError as e:
            raise Decline("30", str(e)) from None
        r.cryptogram = verdict.cryptogram
        if verdict.code is not None:
            raise Decline(verdict.code, "declined by the issuer's card checks")

    @staticmethod
    def _require_amount(r: _Request) -> int:
        if not r.amount:
            raise Decline("13", "amount is zero")
        return r.amount

    def _post(self, r: _Request, kind: str, legs: list[tuple[str, int]]) -> None:
        try:
            self.ledger.post(kind, legs, r.txn_id, r.stamp)
        except InsufficientFunds as e:
            raise Decline("51", str(e)) from None

    def _original(self, r: _Request, types: tuple[TxnType, ...], *, same_terminal: bool) -> TxnRow:
        """The original named by 37 and/or 61 (+38); raises `Decline` 25 or 12."""
        o = r.req.original
        if o is None:
            raise Decline("25", "original transaction not found")
        row = None
        if o.rrn:
            row = self.records.by_rrn(o.rrn)
        elif o.batch and o.stan:
            row = self.records.by_stan(r.terminal.tid, r.terminal.mid, o.batch, o.stan, "")
        if (row is None or row.status == "tombstone" or row.mid != r.terminal.mid
                or (same_terminal and row.tid != r.terminal.tid)
                or row.txn_type not in {t.value for t in types} or row.card_token != r.card.token
                or (o.batch and (row.batch, row.stan) != (o.batch, o.stan))
                or (o.date and row.local_date[5:7] + row.local_date[8:10] != o.date)
                or (o.auth_code and row.auth_code != o.auth_code)):
            raise Decline("25", "original transaction not found")
        if row.status != "approved":
            raise Decline("12", f"original transaction is {row.status}")
        return row

    # --- one handler per transaction type: (balance for field 54, original id) ---------

    def _sale(self, r: _Request) -> tuple[None, None]:
        amount = self._require_amount(r)
        self._verify(r, debit=True)
        self._check_funds(r, amount)
        self._post(r, "sale", [(r.card.account, -amount), (r.merchant, amount)])
        return None, None

    def _preauth(self, r: _Request) -> tuple[None, None]:
        amount = self._require_amount(r)
        self._verify(r, debit=True)
        self._check_funds(r, amount)
        self._post(r, "preauth", [(r.card.account, -amount), (r.card.hold, amount)])
        return None, None

    def _balance(self, r: _Request) -> tuple[int, None]:
        self._verify(r, debit=True)
        return r.issuer.available(r.card), None

    @staticmethod
    def _check_funds(r: _Request, amount: int) -> None:
        """61 above the card's limit; the funds themselves are checked by the posting (51)."""
        limit = r.card.card.per_txn_limit
        if limit is not None and amount > limit:
            raise Decline("61", f"amount above the card's per-transaction limit {limit}")

    def _void_of(self, r: _Request, original: TxnRow, kind: str) -> None:
        """Post the opposite of the original's legs as this void's own posting."""
        if r.amount != original.amount:
            raise Decline("64", f"void amount {r.amount} differs from the original's {original.amount}")
        self._verify(r, debit=False)
        self._post(r, kind, self.ledger.opposite(original.id))
        self.records.set_status(original.id, "voided")

    def _in_open_batch(self, r: _Request, original: TxnRow) -> None:
        if original.batch != self.sessions.batch(r.terminal):
            raise Decline("12", f"original is in batch {original.batch}, which is settled")

    def _void(self, r: _Request) -> tuple[None, int]:
        self._require_amount(r)
        sale = self._original(r, (TxnType.SALE,), same_terminal=True)
        self._in_open_batch(r, sale)
        if sale.refunded:
            raise Decline("12", "the sale was partly refunded; refund the rest instead")
        self._void_of(r, sale, "void")
        return None, sale.id

    def _preauth_void(self, r: _Request) -> tuple[None, int]:
        self._require_amount(r)
        preauth = self._original(r, (TxnType.PREAUTH,), same_terminal=False)
        self._void_of(r, preauth, "preauth_void")
        return None, preauth.id

    def _completion(self, r: _Request) -> tuple[None, int]:
        amount = self._require_amount(r)
        preauth = self._original(r, (TxnType.PREAUTH,), same_terminal=False)
        if amount > preauth.amount:
            raise Decline("61", f"completion {amount} above the pre-authorized {preauth.amount}")
        self._verify(r, debit=True)
        self._post(r, "completion", [(r.card.hold, -preauth.amount), (r.merchant, amount),
                                     (r.card.account, preauth.amount - amount)])
        self.records.set_status(preauth.id, "completed")
        return None, preauth.id

    def _completion_void(self, r: _Request) -> tuple[None, int]:
        self._require_amount(r)
        completion = self._original(r, (TxnType.COMPLETION,), same_terminal=True)
        self._in_open_batch(r, completion)
        self._void_of(r, completion, "completion_void")
        if completion.original_id is not None:
            self.records.set_status(completion.original_id, "approved")  # the hold is back
        return None, completion.id

    def _refund(self, r: _Request) -> tuple[None, int]:
        amount = self._require_amount(r)
        original = self._original(r, (TxnType.SALE, TxnType.COMPLETION), same_terminal=False)
        remaining = original.amount - original.refunded
        if amount > remaining:
            raise Decline("61", f"refund {amount} above the {remaining} left to refund")
        self._verify(r, debit=False)
        self._post(r, "refund", [(r.merchant, -amount), (r.card.account, amount)])
        self.records.add_refunded(original.id, amount)
        return None, original.id

    # --- reversals ---------------------------------------------------------------------

    def reversal(self, req: FinancialRequest, terminal: Terminal, now: datetime) -> str:
        """Apply a 0400 (call inside a unit); returns its `ReversalOutcome`. Always answered 00."""
        stamp = now.astimezone(UTC).isoformat()
        row = self.records.by_stan(terminal.tid, terminal.mid, req.batch, req.stan,
                                   _date(now - timedelta(days=1)))
        outcome = self._undo(row, req, terminal, now, stamp)
        if outcome in _REFUSED:
            REVERSALS_REFUSED.labels(outcome).inc()
            log.warning("reversal from %s batch %s STAN %s undoes nothing: %s", terminal.tid, req.batch,
                        req.stan, outcome)
        self.store.store.insert_reversal(terminal.tid, terminal.mid, req.batch, req.stan, req.txn.value,
                                         req.amount or 0, req.reversal_reason, row.id if row else None,
                                         outcome, stamp)
        return outcome

    def _undo(self, row: TxnRow | None, req: FinancialRequest, terminal: Terminal, now: datetime,
              stamp: str) -> str:
        if row is None:
            # today's and tomorrow's key: an original still on its way arrives on
            # one of them (a reversal at 23:59:59, its original at 00:00:01)
            for day in (now, now + timedelta(days=1)):
                key = TxnKey(terminal.tid, terminal.mid, req.batch, req.stan, _date(day))
                self.records.insert(self.records.new_id(), key, req.txn.value, req.amount or 0,
                                    req.currency, status="tombstone", created_at=stamp,
                                    entry_mode=req.card.entry_mode)
            return ReversalOutcome.NO_ORIGINAL
        if row.status == "tombstone":
            return ReversalOutcome.REPEATED
        pan = req.card.account_number
        token = pan_token(self.token_key, pan) if pan else None
        if token is not None and row.card_token is not None and token != row.card_token:
            return ReversalOutcome.OTHER_CARD
        if row.txn_type != req.txn.value or row.amount != (req.amount or 0):
            return ReversalOutcome.MISMATCH
        if self.records.reused_by(terminal.tid, terminal.mid, req.batch, req.stan,
                                  _date(now - timedelta(days=1)), req.txn.value, req.amount or 0, token):
            return ReversalOutcome.FOR_REFUSED
        if row.status in ("declined", "reversed"):
            return ReversalOutcome.NOTHING_TO_UNDO
        if row.status != "approved":
            return ReversalOutcome.SUPERSEDED
        try:
            self.ledger.undo(row.id, "reversal", stamp)
        except InsufficientFunds:
            return ReversalOutcome.REFUSED_FUNDS
        self.records.set_status(row.id, "reversed")
        if row.txn_type in _RESTORES_ORIGINAL and row.original_id is not None:
            self.records.set_status(row.original_id, "approved")
        if row.txn_type in _RETURNS_REFUNDED and row.original_id is not None:
            self.records.add_refunded(row.original_id, -row.amount)
        return ReversalOutcome.REVERSED


#: reversal outcomes that refuse to touch the transaction holding the STAN (counted, logged)
_REFUSED = frozenset({ReversalOutcome.MISMATCH, ReversalOutcome.OTHER_CARD, ReversalOutcome.FOR_REFUSED})

#: transactions whose reversal gives their original back its `approved` state
_RESTORES_ORIGINAL = frozenset(t.value for t in (
    TxnType.VOID, TxnType.PREAUTH_VOID, TxnType.COMPLETION, TxnType.COMPLETION_VOID, TxnType.WALLET_VOID))

#: transactions whose reversal gives back what they counted as refunded of their original
_RETURNS_REFUNDED = frozenset(t.value for t in (TxnType.REFUND, TxnType.WALLET_REFUND))


def _date(moment: datetime) -> str:
    """YYYY-MM-DD in Asia/Shanghai (an f-string: strftime costs more on the hot path)."""
    local = moment.astimezone(CHINA)
    return f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
