"""What the checkout screen knows about the till between engine events (no payment logic)."""
from __future__ import annotations

from dataclasses import dataclass, field

from pos.journal.store import Txn
from pos.tui.i18n import translate

_LEVEL_STYLE = {"error": "bold white on dark_red", "warning": "bold black on yellow",
                "information": "black on cyan"}
#: how long a notice stays, by level: it only has to be read -- the status bar keeps the state
#: (host down, printer fault) for as long as it lasts, and a stale notice must not sit beside a result
NOTICE_SECONDS = {"error": 8.0, "warning": 6.0, "information": 4.0}


@dataclass(frozen=True)
class Notice:
    """A device or host problem as the cashier reads it: what happened and what to do."""

    key: str                      # i18n key (notice.*)
    values: dict[str, object] = field(default_factory=dict)
    level: str = "error"          # "error", "warning" or "information"

    def text(self, language: str) -> str:
        return translate(language, self.key, **self.values)

    @property
    def style(self) -> str:
        return _LEVEL_STYLE[self.level]


@dataclass
class Till:
    host: str = "offline"         # offline, signing_on, online, down, reversal
    batch: str = ""
    operator: str = ""
    devices: dict[str, str] = field(default_factory=dict)
    notice: Notice | None = None
    last: Txn | None = None       # the latest transaction shown, for the amount screen and F5
