"""How the checkout screen writes transactions: kinds, states, cards and times in the cashier's language."""
from __future__ import annotations

from datetime import datetime, UTC

from acquirer.protocol.clock import CHINA
from pos.core.amount import format_amount
from pos.journal.store import Txn
from pos.tui.i18n import translate

#: the till's wall clock: China Standard Time (acquirer.protocol.clock)
LOCAL_ZONE = CHINA   # display time: China Standard Time (acquirer.protocol.clock)

__all__ = ["LOCAL_ZONE", "format_amount", "kind_text", "local_time", "short_card", "state_text", "txn_summary"]


def kind_text(language: str, kind: str) -> str:
    return translate(language, f"kind.{kind}")


def state_text(language: str, state: str) -> str:
    return translate(language, f"state.{state}")


def short_card(masked_pan: str | None) -> str:
    """621483*********0015 -> 621483…0015: first 6 and last 4, the masked PAN's own digits."""
    if not masked_pan:
        return ""
    return f"{masked_pan[:6]}…{masked_pan[-4:]}" if len(masked_pan) > 10 else masked_pan


def local_time(utc_stamp: str) -> str:
    """A journal timestamp (UTC, ISO 8601 with Z) as the till's local date and time."""
    moment = datetime.strptime(utc_stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_ZONE).strftime("%m-%d %H:%M")


def txn_summary(language: str, txn: Txn) -> str:
    """One line: kind, amount, state, trace -- for "last transaction" and notices."""
    return (f"{kind_text(language, txn.type)} {format_amount(txn.amount)} "
            f"{state_text(language, txn.state)} · {translate(language, 'field.trace')} {txn.stan}")
