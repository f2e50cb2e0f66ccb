"""A response code's meaning in English and Chinese, from the standards layer's tables.

The words are data of the protocol (acquirer.protocol.codes: the card
network's and the wallet channel's tables), not text the engine makes up; the
engine passes them on in `Declined` so any face can show either language.
"""
from __future__ import annotations

from acquirer.protocol.codes import WALLET_MEANINGS, UnknownResponseCode, lookup


def code_words(code: str, wallet: bool = False) -> tuple[str, str]:
    """English and Chinese words for a response code (the wallet channel's meaning for a wallet payment)."""
    if wallet and code in WALLET_MEANINGS:
        return WALLET_MEANINGS[code]
    try:
        entry = lookup(code)
    except UnknownResponseCode:
        return f"unknown response code {code}", "未知应答码"
    return entry.en, entry.zh
