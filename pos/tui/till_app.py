"""What the screens and bars may use of the checkout app, as a type they can import.

Screens are pushed by the app (`pos.tui.app` imports them) and reach back to
it through `self.app`. Typing that back-reference with `CheckoutApp` itself
would make each screen import the app, an import cycle (even if only for the
type checker); this Protocol names the part of the app they use instead, and
`CheckoutApp` satisfies it structurally (mypy checks that in `pos.tui.app`).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:   # types only; none of these modules imports a screen
    from acquirer.protocol.errors import TillkitError
    from pos.core import events as ev
    from pos.core.config import PosConfig
    from pos.core.engine import Engine
    from pos.devices.station import Station
    from pos.journal.store import Txn
    from pos.tui.paper import PaperTrail
    from pos.tui.settings import TuiSettings
    from pos.tui.state import Till


class TransactionView(Protocol):
    """A screen running an engine call: it follows the engine's events while the call runs."""

    def follow(self, event: ev.Event) -> None: ...


class TillApp(Protocol):
    """The checkout app as its screens see it."""

    config: PosConfig
    settings: TuiSettings
    language: str
    till: Till
    station: Station
    engine: Engine | None
    paper: PaperTrail
    txn_listener: TransactionView | None   # the screen running a transaction

    def t(self, key: str, **values: object) -> str: ...

    def error_text(self, error: TillkitError) -> str: ...

    def show_notice(self, key: str, *, level: str = "error", lasting: bool = False, **values: object) -> None: ...

    def clear_notice(self) -> None: ...

    async def sign_on(self, operator: str) -> bool: ...

    async def wait_engine(self) -> Engine | None: ...

    def call_from_thread(self, callback: Callable[..., Any], *args: Any, **kwargs: Any) -> Any: ...

    @property
    def signed_on(self) -> bool: ...

    async def reprint(self, txn: Txn) -> bool: ...
