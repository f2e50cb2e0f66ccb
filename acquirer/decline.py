"""`Decline`: how every layer of the host says "answer this request with code X".

Why one exception: the checks that can end a request sit at different depths
(terminal registry, sign-on, MAC, duplicate index, issuer rules, originals),
and each must yield exactly one response code plus a reason for the log. The
host turns a `Decline` into a reply with that code; anything else that escapes
a handler is a defect, logged and answered 96.
"""
from __future__ import annotations

__all__ = ["Decline"]


class Decline(Exception):
    """Answer the request with `code` (field 39); `reason` is for the log only (no card data)."""

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code}: {reason}")
