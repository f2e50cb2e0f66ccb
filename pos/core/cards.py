"""Card payments: from the card data a source read to the journalled, answered transaction.

The card must be the original's for a void, refund or completion (compared
by PAN token). When its CVM asks for the online PIN, the engine asks the
face's PIN pad there and then -- the card stays read, nothing is sent yet --
and a cardholder who cancels ends it with nothing sent (`PinNotEntered`).
The row and its armed reversal are journalled before the 0200 leaves.
"""
from __future__ import annotations

from typing import Any

from acquirer.protocol import codec
from acquirer.protocol.cardholder import pan_token
from acquirer.protocol.clock import mmdd
from acquirer.protocol.keys import WorkingKeys
from acquirer.protocol.messages import CardInput, FinancialRequest, Reply
from acquirer.protocol.pinblock import encrypt_pin
from acquirer.protocol.transactions import TxnTable, TxnType
from pos.core import events as ev
from pos.core.errors import CardMismatch, PinNotEntered
from pos.core.outcome import Outcome
from pos.core.payment import CardData
from pos.core.pinpad import PinPad, PinRequest
from pos.core.recording import Authorizer
from pos.core.reversals import original_fields
from pos.journal.receipts import card_columns
from pos.journal.store import Txn
from pos.sources.emv import complete_online


class CardPayments:
    def __init__(self, authorizer: Authorizer, table: TxnTable) -> None:
        self.authorizer = authorizer
        self.session = authorizer.session
        self.journal = authorizer.journal
        self.reversals = authorizer.reversals
        self.config = self.session.config
        self.table = table

    async def pay(self, txn_type: TxnType, amount: int | None, card: CardData, original: Txn | None,
                  pinpad: PinPad) -> Outcome:
        token = pan_token(self.config.terminal.token_key, card.pan)
        if original is not None and original.pan_token != token:
            raise CardMismatch(f"this card ({card.masked_pan}) is not the card of the original "
                               f"transaction ({original.masked_pan})",
                               card=card.masked_pan, original=original.masked_pan)
        pin: str | None = None
        if card.pin_required and not card.cardholder_verified:
            self.session.emit(ev.PinRequested(txn_type.value, card.masked_pan))
            pin = await pinpad.request_pin(PinRequest(txn_type.value, amount, card.masked_pan))
            if not pin:
                raise PinNotEntered(f"the card {card.masked_pan} asks for its online PIN and none was "
                                    f"entered: nothing was sent", card=card.masked_pan)
        entry_mode = card.entry_mode + ("1" if pin else "2")
        self.session.emit(ev.CardRead(card.masked_pan, card.scheme, entry_mode, card.source, card.label))
        keys = await self.session.working_keys()
        return await self._authorize(txn_type, amount, card, keys, entry_mode, original, pin)

    async def _authorize(self, txn_type: TxnType, amount: int | None, card: CardData, keys: WorkingKeys,
                         entry_mode: str, original: Txn | None, pin: str | None) -> Outcome:
        d = self.table[txn_type]
        with_icc = txn_type in (TxnType.SALE, TxnType.PREAUTH, TxnType.BALANCE) and card.icc_data is not None

        def card_input_under(keys: WorkingKeys) -> CardInput:
            return CardInput(
                entry_mode=entry_mode, pan=None if card.track2 else card.pan, track2=card.track2,
                expiry=card.expiry, psn=card.psn.zfill(3) if card.psn else None,
                icc=card.icc_data if with_icc else None,
                pin_block=encrypt_pin(keys.pin, pin, card.pan) if pin else None)

        card_input = card_input_under(keys)
        columns: dict[str, Any] = {**original_columns(original), **card_columns(card, pin, with_icc)}
        txn = self.journal.begin(
            type=txn_type.value, amount=amount or 0, currency=self.config.terminal.currency,
            processing_code=d.processing_code, condition_code=d.condition_code, reversible=d.reversible,
            entry_mode=entry_mode, masked_pan=card.masked_pan,
            pan_token=pan_token(self.config.terminal.token_key, card.pan), scheme=card.scheme,
            expiry=card.expiry, psn=card_input.psn, aid=card.aid, app_label=card.label,
            cryptogram="ARQC" if with_icc else None,
            txn_date=mmdd(),   # the China business date (acquirer.protocol.clock)
            **columns,
        )
        self.reversals.remember_pan(txn.id, card.pan)

        def request_under(keys: WorkingKeys) -> tuple[dict[str, str], bytes]:
            message = FinancialRequest(
                txn=txn_type, terminal=self.session.terminal, stan=txn.stan, batch=txn.batch,
                card=card_input_under(keys), amount=amount, currency=txn.currency, original=original_fields(txn),
            ).to_message(self.table)
            return message, codec.sign(message, self.config.terminal.mac, keys.mac)

        try:
            message, payload = request_under(keys)
        except Exception:
            self.journal.abandon(txn.id)
            raise
        answer = await self.authorizer.send(txn, message, payload, request_under)
        if isinstance(answer, Outcome):
            return answer
        arpc_check = arpc_line(card, answer) if with_icc and "cryptogram" in card.extra else None
        outcome = self.authorizer.record(txn, txn_type, answer, arpc_check)
        await self.authorizer.print_receipt(outcome)
        return outcome


def original_columns(original: Txn | None) -> dict[str, object]:
    """The journal columns that link a void, refund or completion to its original."""
    if original is None:
        return {}
    return {"original_id": original.id, "original_rrn": original.rrn,
            "original_auth_code": original.auth_code, "original_stan": original.stan,
            "original_batch": original.batch, "original_date": original.txn_date}


def arpc_line(card: CardData, reply: Reply) -> str:
    """The journal's line on the issuer's answer to the ARQC (tag 91, `pos.sources.emv.complete_online`).

    The terminal holds no issuer key, so it checks the form of tag 91 and that
    its ARC (or CSU) agrees with field 39; a problem is recorded, and the
    MAC'd response code still decides the outcome.
    """
    auth = complete_online(card, reply.response_code, reply.icc).issuer_authentication
    if auth.problems:
        return "failed: " + "; ".join(auth.problems)
    if not auth.present:
        return "absent"
    if auth.method == 2:
        return f"ok (method 2, CSU {auth.csu.hex().upper() if auth.csu else ''})"
    return f"ok (method 1, ARC {auth.arc})"
