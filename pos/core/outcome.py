"""What a transaction or a settlement ended as, for the face to show; and the printer the engine calls."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from acquirer.protocol.fields import CardTotals, SettlementTotals
from pos.journal import store as j
from pos.journal.store import Txn


@dataclass(frozen=True)
class Outcome:
    """How a transaction ended: the journal row, and why in English (logs, `--json`).

    Faces show the row's state and response code in their own words; `message`
    is the engine's account for logs and scripts, not a screen text.
    """

    txn: Txn
    message: str
    balance: int | None = None

    @property
    def state(self) -> str:
        return self.txn.state

    @property
    def approved(self) -> bool:
        return self.txn.state == j.APPROVED


@dataclass(frozen=True)
class SettlementOutcome:
    batch: str
    balanced: bool
    uploaded: int
    next_batch: str
    totals: SettlementTotals          # what the terminal counted
    closed_on: CardTotals             # the figures the batch was closed on (the host's)


class Printer(Protocol):
    """Prints receipts (`pos.devices.printing.ReceiptPrinter`); a printer fault never changes what the engine did."""

    async def start(self) -> object:
        """At start: print what is still queued."""

    async def transaction(self, txn: Txn) -> object:
        """The receipt of an answered transaction (approved or declined)."""

    async def settlement(self, batch: str) -> object:
        """The summary of a batch just closed."""
