"""The wallet apps' endpoint: how a customer's wallet app pays a merchant-presented code.

In life the customer's app talks to its own wallet's servers, which then pay
the merchant through the acquirer. In the kit the acquirer simulates the
wallets' back ends, so the app's request goes to the acquirer's wallet-apps
endpoint (`acquirer serve` prints `wallet apps listening on HOST:PORT`; an
embedded host writes the address to `<state dir>/wallet-apps.addr`).

Wire: TCP on loopback, one JSON object per line (UTF-8) each way; a
connection may carry several requests, each answered in order.

    request  {"pay": "merchant-code", "wallet": "alipay", "code": "<a fresh payment code of the
              paying account>", "merchant_code": "<the EMVCo MPM payload scanned>"}
    answer   {"response_code": "00", "message": "Paid", "amount": 1234,
              "merchant": "Tiantian Convenience Store", "rrn": "000000000012"}

The payment code is how the app proves which account pays: the same
self-authenticating code a terminal would scan (`wallet_codes`), with the
same rules (60 s, once). `response_code` has the wallet channel's meanings
(`codes.WALLET_MEANINGS`). Shared by the virtual wallet app
(`drivers.sim.wallet`) and the endpoint (`acquirer.wallet_apps`).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["MAX_LINE", "PAY_MERCHANT_CODE", "AppAnswer", "AppMessageError", "MerchantCodePayment"]

MAX_LINE = 8192                  # bytes of one JSON line, newline included
PAY_MERCHANT_CODE = "merchant-code"


class AppMessageError(ValueError):
    """A line that is not a well-formed request or answer (names the key at fault)."""


def _load(line: bytes, what: str) -> dict[str, Any]:
    try:
        data = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise AppMessageError(f"{what} is not a JSON line: {e}") from None
    if not isinstance(data, dict):
        raise AppMessageError(f"{what} must be a JSON object")
    return data


def _text(data: dict[str, Any], key: str, what: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value:
        raise AppMessageError(f"{what}: {key!r} must be a non-empty string")
    return value


@dataclass(frozen=True)
class MerchantCodePayment:
    """The app pays the merchant-presented code it scanned from `wallet`, proving its account by `code`."""

    wallet: str
    code: str
    merchant_code: str

    def to_line(self) -> bytes:
        return (json.dumps({"pay": PAY_MERCHANT_CODE, **asdict(self)}, ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_line(cls, line: bytes) -> MerchantCodePayment:
        data = _load(line, "request")
        if data.get("pay") != PAY_MERCHANT_CODE:
            raise AppMessageError(f"request: 'pay' must be {PAY_MERCHANT_CODE!r}")
        return cls(*(_text(data, key, "request") for key in ("wallet", "code", "merchant_code")))

    def __repr__(self) -> str:  # the code is a bearer credential while it is fresh
        return f"MerchantCodePayment({self.wallet}, {len(self.merchant_code)}-character merchant code)"


@dataclass(frozen=True)
class AppAnswer:
    """The wallet's answer to the app: its response code and message, and what was paid."""

    response_code: str
    message: str
    amount: int | None = None
    merchant: str | None = None
    rrn: str | None = None

    @property
    def paid(self) -> bool:
        return self.response_code == "00"

    def to_line(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False) + "\n").encode()

    @classmethod
    def from_line(cls, line: bytes) -> AppAnswer:
        data = _load(line, "answer")
        amount = data.get("amount")
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
            raise AppMessageError("answer: 'amount' must be integer fen or null")
        return cls(_text(data, "response_code", "answer"), _text(data, "message", "answer"), amount,
                   data.get("merchant"), data.get("rrn"))
