"""The checkout screen's PIN pad: the engine asks it mid-transaction, the cardholder types in a dialog.

The engine calls `request_pin` from the payment screen's worker while the
card stays read; the dialog's answer (or None when the cardholder pressed
Esc) goes straight back to the engine. No second tap.
"""
from __future__ import annotations

from typing import Any, Protocol

from pos.core.pinpad import PinRequest


class DialogHost(Protocol):
    """What the pad needs of the app: its words, and a dialog awaited from a worker."""

    def t(self, key: str, **values: object) -> str: ...

    async def push_screen_wait(self, screen: Any) -> Any: ...


class DialogPinPad:
    def __init__(self, app: DialogHost) -> None:
        self.app = app

    async def request_pin(self, request: PinRequest) -> str | None:
        from pos.tui.screens.dialogs import CardPinScreen  # the screens load with the app

        prompt = self.app.t("pay.pin_for", card=request.masked_pan)
        pin: str | None = await self.app.push_screen_wait(CardPinScreen(prompt))
        return pin or None
