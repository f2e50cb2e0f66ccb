"""Contactless reader driver: nfcpy readers opened from config, ISO-DEP cards, typed errors.

`open_reader(path)` gives an `NfcReader`; `reader.poll(cancel)` (threads) or
`await wait_for_card(reader)` (asyncio) gives an `IsoDepCard`, whose
`exchange(apdu) -> bytes` is the transport the EMV kernel runs on.
"""
from drivers.nfc.errors import (
    UDEV_RULE,
    CardCommunicationError,
    CardError,
    CardRemoved,
    CollisionDetected,
    NfcError,
    ReaderBusy,
    ReaderError,
    ReaderGone,
    ReaderMissing,
    ReaderPermissionDenied,
    UnsupportedCard,
)
from drivers.nfc.poller import wait_for_card
from drivers.nfc.reader import InvalidReaderPath, IsoDepCard, NfcReader, open_reader, parse_reader_path

__all__ = [
    "UDEV_RULE", "CardCommunicationError", "CardError", "CardRemoved", "CollisionDetected",
    "InvalidReaderPath", "IsoDepCard", "NfcError", "NfcReader", "ReaderBusy", "ReaderError",
    "ReaderGone", "ReaderMissing", "ReaderPermissionDenied", "UnsupportedCard",
    "open_reader", "parse_reader_path", "wait_for_card",
]
