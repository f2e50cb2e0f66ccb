"""Textual messages of the checkout app (dataclasses, as Textual allows)."""
from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


@dataclass
class DeviceProblem(Message):
    """A device reported a problem (reader, camera or printer) outside any engine call."""

    device: str
    text: str
    bubble = False
