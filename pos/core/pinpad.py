"""The PIN pad a face lends the engine: asked mid-transaction when the card's CVM is online PIN.

The engine reads the card, sees that it asks for its online PIN, and awaits
`PinPad.request_pin` -- the card stays read, nothing is sent yet, and no
second tap is needed. The TUI answers with its PIN dialog, the command line
with `--pin`, the daemon with its PIN pad. The PIN lives in memory only: it
is enciphered into the PIN block at once (`acquirer.protocol.pinblock`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class PinRequest:
    """What the PIN pad shows the cardholder (display-safe: a masked PAN)."""

    kind: str                  # "sale", "preauth", "balance"
    amount: int | None         # fen; None for a balance inquiry
    masked_pan: str


class PinPad(Protocol):
    async def request_pin(self, request: PinRequest) -> str | None:
        """The PIN the cardholder entered, or None when they cancelled."""
        ...


class NoPinPad:
    """A terminal without a PIN pad: a card asking for its PIN is refused (nothing sent)."""

    async def request_pin(self, request: PinRequest) -> str | None:
        return None


class FixedPin:
    """A PIN given up front (`pos sale --pin`): handed over only if the card asks for one."""

    def __init__(self, pin: str | None) -> None:
        self._pin = pin

    async def request_pin(self, request: PinRequest) -> str | None:
        return self._pin

    def __repr__(self) -> str:   # never the PIN itself
        return "FixedPin(set)" if self._pin else "FixedPin(none)"
