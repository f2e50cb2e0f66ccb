"""The schema of the issuers' card file (`cards.toml`): every key a `[[card]]` may hold, with its type.

Why in the standards layer: the file has two readers, the acquirer's
simulated issuers (`acquirer.config`) and the virtual cards that show the
same cards to a reader (`drivers.sim`, which may import only
`acquirer.protocol`). Read by the kit's one settings loader
(`acquirer.protocol.settings_file`): a typo, a wrong type or an unreadable
file is one line `cards.toml: card[3].pin: reason`. Secrets (PAN, PIN,
keys) are never echoed back in those lines. What needs more than one row
or the acquirer's own tables (unique names and PANs, a card's BIN routing
to its issuer, the balance key matching the product) its readers check.
"""
from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from acquirer.protocol.settings_file import SettingsModel

__all__ = ["CARD_STATUSES", "CardRow", "CardsFile"]

#: card status -> the response code a card of that status is declined with (None: active)
CARD_STATUSES: dict[str, str | None] = {"active": None, "lost": "41", "stolen": "43"}


def _expiry(value: str) -> str:
    if not re.fullmatch(r"[0-9]{2}(0[1-9]|1[0-2])", value):
        raise ValueError("must be YYMM with month 01-12")
    return value


class CardRow(SettingsModel):
    """One `[[card]]`: a test card of the simulated issuers."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    scheme: Literal["unionpay", "visa", "mastercard"]
    product: Literal["debit", "credit"]
    issuer: str
    pan: Annotated[str, Field(pattern=r"^[0-9]{12,19}$")]
    psn: Annotated[str, Field(pattern=r"^[0-9]{2}$")]
    expiry: Annotated[str, AfterValidator(_expiry)]
    pin: Annotated[str, Field(pattern=r"^[0-9]{4,12}$")]
    balance: Annotated[int, Field(ge=0)] | None = None         # a debit card's opening balance, fen
    credit_limit: Annotated[int, Field(ge=0)] | None = None    # a credit card's limit, fen
    per_txn_limit: Annotated[int, Field(ge=1)] | None = None
    aid: Annotated[str, Field(pattern=r"^(([0-9A-Fa-f]{2}){5,16})?$")] = ""
    label: Annotated[str, Field(pattern=r"^[ -~]{0,16}$")] = ""
    imk_ac: Annotated[str, Field(pattern=r"^[0-9A-Fa-f]{32}$")]
    cvn: Annotated[int, Field(ge=1, le=255)] | None = None
    status: Literal["active", "lost", "stolen"] = "active"
    form: Literal["card", "phone", "wearable"] = "card"        # how the virtual card shows itself to a reader
    cdcvm: bool = False                                        # the device verifies its holder
    token: bool = False                                        # the PAN is a payment token


class CardsFile(SettingsModel):
    """The whole of cards.toml."""

    card: list[CardRow] = []
