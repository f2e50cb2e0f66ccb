"""The customer in front of `pos daemon --simulate`: what they do when a payment starts.

With no hardware the daemon runs on the simulated reader, and this source
stands in for the person at the counter: a moment after each payment starts
it presents the default test card on the simulated reader (the real reader
and kernel path: `pos.virtual_card`), unless `pos sim customer ...` queued a
different action in `<state dir>/customer/`:

- `card NAME`     a test card of cards.toml (e.g. unionpay-lost: the issuer declines)
- `wallet KIND`   a fresh payment code of the wallet app (alipay, wechat, unionpay)
- `refuse`        the customer cancels on the terminal (nothing is sent)
- `walk-away`     nobody presents anything (the payment ends by timeout or Abort)

Each queued action is used by one payment, oldest first; a file claimed by
renaming it, so two payments never take the same one.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from pos.core.payment import CardData, PaymentRequest, PaymentSource, ReadFailed, WalletCode
from pos.simulated.virtual_card import VirtualCards

QUEUE_DIR = "customer"
DEFAULT_CARD = "unionpay-debit"
ACTIONS = ("card", "wallet", "refuse", "walk-away")


class QueueError(ValueError):
    pass


def queue_action(state_dir: Path, action: str, argument: str | None = None) -> Path:
    """Queue one customer action for the next payment; returns the file written."""
    if action not in ACTIONS:
        raise QueueError(f"unknown customer action {action!r}: one of {', '.join(ACTIONS)}")
    if action in ("card", "wallet") and not argument:
        raise QueueError(f"`{action}` needs a {'card name' if action == 'card' else 'wallet kind'}")
    directory = state_dir / QUEUE_DIR
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{time.time_ns():020d}-{os.getpid()}.json"
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"action": action, "argument": argument}))
    temporary.rename(path)   # appears whole or not at all
    return path


def take_action(state_dir: Path) -> dict[str, Any] | None:
    """The oldest queued action, removed from the queue; None when nothing is queued."""
    directory = state_dir / QUEUE_DIR
    for path in sorted(directory.glob("*.json")) if directory.is_dir() else []:
        claimed = path.with_suffix(".claimed")
        try:
            path.rename(claimed)
        except FileNotFoundError:
            continue
        try:
            action: dict[str, Any] = json.loads(claimed.read_text())
        except ValueError:
            action = {"action": "refuse", "argument": None}
        claimed.unlink(missing_ok=True)
        return action
    return None


class SimulatedCustomer:
    """A `PaymentSource`: the customer's next action on the simulated devices."""

    name = "simulated customer"

    def __init__(self, cards: VirtualCards, state_dir: Path, config_dir: Path, *, delay_s: float = 0.3,
                 card: str | None = None) -> None:
        self.cards = cards
        self.state_dir = state_dir
        self.config_dir = config_dir
        self.delay_s = delay_s
        self.card = card   # the card to present instead of the default (the original's, for a void)

    def for_card(self, name: str | None) -> SimulatedCustomer:
        return SimulatedCustomer(self.cards, self.state_dir, self.config_dir, delay_s=self.delay_s, card=name)

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        await asyncio.sleep(self.delay_s)
        action = take_action(self.state_dir) or {"action": "card", "argument": self.card or DEFAULT_CARD}
        kind, argument = action.get("action"), action.get("argument")
        if kind == "walk-away":
            await asyncio.Event().wait()   # until the payment is aborted or times out
        if kind == "refuse":
            raise ReadFailed("cancelled", "Cancelled", "the customer cancelled on the terminal")
        if kind == "wallet":
            return await asyncio.to_thread(self._wallet_code, str(argument))
        source: PaymentSource = self.cards.card(str(argument or DEFAULT_CARD))
        return await source.read(request)

    def _wallet_code(self, kind: str) -> WalletCode:
        from acquirer.protocol.wallets import WALLETS_FILE
        from drivers.sim.wallet import VirtualWallet  # numpy loads only for a wallet code

        issued = VirtualWallet(wallets_file=self.config_dir / WALLETS_FILE).issue(kind)
        return WalletCode(kind, issued.payload)
