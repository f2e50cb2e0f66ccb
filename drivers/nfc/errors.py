"""What can go wrong with a contactless reader or a card in its field.

Two families, because the terminal reacts differently: a `ReaderError` needs a
person to fix the set-up (plug the reader in, install the udev rule, stop the
other program); a `CardError` needs the cardholder to tap again or use another
card. The kernel maps card errors to the standard EMV messages.
"""
from __future__ import annotations

UDEV_RULE = "config/99-tillkit-nfc.rules"


class NfcError(Exception):
    """Base of every error raised by `drivers.nfc`."""


class ReaderError(NfcError):
    """The reader cannot be used: the message says what to fix."""


class ReaderMissing(ReaderError):
    """Nothing answers at the configured reader path."""

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        super().__init__(
            f"no contactless reader at {path!r}" + (f": {detail}" if detail else "")
            + " (check the cable and the `nfc.reader` setting)"
        )


class ReaderBusy(ReaderError):
    """Another process (or another reader object) holds the device."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"contactless reader {path!r} is busy: another program has it open "
            "(stop it, or for ACR122/PN533 readers unload the kernel's pn533 NFC driver)"
        )


class ReaderPermissionDenied(ReaderError):
    """The device exists but this user may not open it."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"permission denied opening contactless reader {path!r}: install {UDEV_RULE} "
            "into /etc/udev/rules.d/ (then `udevadm control --reload` and replug the reader), "
            "or add this user to the group the rule names"
        )


class ReaderGone(ReaderError):
    """The reader stopped answering while in use (unplugged, powered off)."""

    def __init__(self, path: str, detail: str = "") -> None:
        self.path = path
        super().__init__(f"contactless reader {path!r} stopped answering" + (f": {detail}" if detail else ""))


class CardError(NfcError):
    """The card (or phone) in the field cannot be read this time."""


class CollisionDetected(CardError):
    """More than one card answered the poll: the cardholder must present one."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"{count} cards in the field: present one card only")


class UnsupportedCard(CardError):
    """A tag that does not speak ISO-DEP (a transit or access tag, not a payment card)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"{kind} is not an ISO-DEP (ISO 14443-4) card: it cannot pay")


class CardRemoved(CardError):
    """The card stopped answering mid-exchange: it left the field (or is too slow)."""

    def __init__(self, during: str) -> None:
        self.during = during
        super().__init__(f"card left the field (no answer to {during})")


class CardCommunicationError(CardError):
    """Garbled or out-of-protocol blocks from the card that retries did not cure."""

    def __init__(self, during: str, detail: str) -> None:
        self.during = during
        super().__init__(f"card communication failed during {during}: {detail}")
