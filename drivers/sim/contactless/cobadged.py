"""A card carrying several payment applications (dual-brand, e.g. UnionPay and Visa).

The card's PPSE lists every application with the priority its issuer gave
it; SELECT AID switches to one of them, which then answers everything up to
the next SELECT. This is what the kernel's selection by priority is tested
against.
"""
from __future__ import annotations

from collections.abc import Sequence

from drivers.sim.contactless.application import (
    PPSE_NAME,
    SW_CONDITIONS_NOT_SATISFIED,
    SW_FILE_NOT_FOUND,
    SW_OK,
    PaymentApplication,
    encode,
    ppse_fci,
)


class CoBadgedCard:
    """Applications with their priorities (1 = highest), in the order the PPSE lists them."""

    def __init__(self, applications: Sequence[tuple[PaymentApplication, int]]) -> None:
        self.applications = list(applications)
        self._current: PaymentApplication | None = None

    def exchange(self, apdu: bytes) -> bytes:
        if apdu[:4] == b"\x00\xA4\x04\x00" and len(apdu) > 5:
            name = apdu[5:5 + apdu[4]]
            if name == PPSE_NAME:
                self._current = None
                entries = [app.directory_entry(priority) for app, priority in self.applications]
                return encode([ppse_fci(entries)]) + SW_OK
            chosen = next((app for app, _ in self.applications if app.profile.aid.startswith(name)), None)
            if chosen is None:
                return SW_FILE_NOT_FOUND
            self._current = chosen
        if self._current is None:
            return SW_CONDITIONS_NOT_SATISFIED
        return self._current.exchange(apdu)

