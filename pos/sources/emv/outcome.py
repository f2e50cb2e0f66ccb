"""What the kernel concludes, and what the cardholder is told.

The messages are EMV Contactless Book A's standard user interface messages
(identifier in hex), so a face can show them as they are or translate them by
identifier. `reason` is for the cashier and the journal: it says what went
wrong in terms of the card's answers and never holds card data.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from drivers.nfc.errors import CardError, CollisionDetected, UnsupportedCard
from pos.core.payment import CardData


class OutcomeKind(enum.Enum):
    ONLINE_REQUEST = "online request"          # card read: ask the issuer (field 55 ready)
    APPROVED = "approved"                      # after the host's answer
    DECLINED = "declined"                      # by the card (AAC) or the host
    TRY_ANOTHER_INTERFACE = "try another interface"  # insert, swipe or use another card
    PRESENT_CARD_AGAIN = "present card again"  # the tap failed: tap again
    PRESENT_ONE_CARD = "present one card"      # several cards answered the poll


# EMV Contactless Book A, standard messages
MSG_APPROVED = (0x03, "Approved")
MSG_NOT_AUTHORISED = (0x07, "Not authorised")
MSG_CARD_READ_OK = (0x17, "Card read OK, please remove card")
MSG_INSERT_OR_SWIPE = (0x18, "Please insert or swipe card")
MSG_ONE_CARD_ONLY = (0x19, "Please present one card only")
MSG_INSERT_SWIPE_OR_OTHER = (0x1C, "Insert, swipe or try another card")
MSG_SEE_PHONE = (0x20, "See phone for instructions")
MSG_PRESENT_AGAIN = (0x21, "Present card again")


@dataclass(frozen=True)
class Outcome:
    kind: OutcomeKind
    message_id: int
    message: str      # what the cardholder sees
    reason: str       # why (for the cashier and the journal; no card data)

    @classmethod
    def of(cls, kind: OutcomeKind, message: tuple[int, str], reason: str) -> Outcome:
        return cls(kind, message[0], message[1], reason)


def online_request(reason: str = "ARQC: authorise online") -> Outcome:
    return Outcome.of(OutcomeKind.ONLINE_REQUEST, MSG_CARD_READ_OK, reason)


def approved(reason: str) -> Outcome:
    return Outcome.of(OutcomeKind.APPROVED, MSG_APPROVED, reason)


def declined(reason: str) -> Outcome:
    return Outcome.of(OutcomeKind.DECLINED, MSG_NOT_AUTHORISED, reason)


def try_another_interface(reason: str, *, insert: bool = False) -> Outcome:
    """The card cannot pay by contactless; `insert` when only the amount is the problem."""
    return Outcome.of(OutcomeKind.TRY_ANOTHER_INTERFACE,
                      MSG_INSERT_OR_SWIPE if insert else MSG_INSERT_SWIPE_OR_OTHER, reason)


def present_card_again(reason: str, *, see_phone: bool = False) -> Outcome:
    return Outcome.of(OutcomeKind.PRESENT_CARD_AGAIN,
                      MSG_SEE_PHONE if see_phone else MSG_PRESENT_AGAIN, reason)


def present_one_card(reason: str) -> Outcome:
    return Outcome.of(OutcomeKind.PRESENT_ONE_CARD, MSG_ONE_CARD_ONLY, reason)


def outcome_for_card_error(error: CardError) -> Outcome:
    """What the cardholder is told when the reader or the radio link fails them."""
    if isinstance(error, CollisionDetected):
        return present_one_card(str(error))
    if isinstance(error, UnsupportedCard):
        return try_another_interface(str(error))
    return present_card_again(str(error))  # removed mid-read, or garbled blocks


@dataclass(frozen=True)
class KernelResult:
    """One tap's result: the outcome, and the card data.

    `card` is set for an online request (with field 55 in `icc_data`, ready to
    authorise) and for a card's own decline (without field 55, for the journal).
    """

    outcome: Outcome
    card: CardData | None = None
