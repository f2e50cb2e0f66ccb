"""The statement over the acquirer's authenticated HTTP endpoint (`pos reconcile --fetch`).

Why the standard library's `urllib.request`: one GET with one header and a
timeout is all this needs, and the terminal's core must stay free of HTTP
code (this module is imported by the command line only, when `--fetch` is
given). The acquirer serves each merchant's statement of a cleared day at

    GET <acquirer_url>/statements/<merchant>/<YYYY-MM-DD>      X-API-Key: <the merchant's key>

(docs/reconcile.md). Every failure becomes a `ReconcileError` that says what
to do: a wrong key (401/403), a day not cleared yet (404 or 409), the
acquirer unreachable. The bytes fetched are checked like a file would be.
"""
from __future__ import annotations

import urllib.error
import urllib.request
from datetime import date
from urllib.parse import quote, urlsplit

from pos.reconcile.errors import ReconcileError

__all__ = ["TIMEOUT_S", "fetch_statement", "statement_url"]

TIMEOUT_S = 10.0
MAX_BYTES = 256 * 1024 * 1024


def statement_url(base: str, merchant: str, day: date) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ReconcileError(f"acquirer_url {base!r} is not an http(s) address (reconcile.toml)")
    return f"{base.rstrip('/')}/statements/{quote(merchant)}/{day.isoformat()}"


def fetch_statement(base: str, merchant: str, api_key: str | None, day: date) -> bytes:
    """The fixed-width statement of `day`, as the acquirer serves it (not yet checked)."""
    if not api_key:
        raise ReconcileError("--fetch needs the merchant's api_key in reconcile.toml")
    url = statement_url(base, merchant, day)
    request = urllib.request.Request(url, headers={"X-API-Key": api_key, "Accept": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as e:
        detail = _detail(e)
        if e.code in (401, 403):
            raise ReconcileError(f"the acquirer refused the API key for merchant {merchant} ({e.code}): "
                                 f"check api_key in reconcile.toml{detail}") from None
        if e.code in (404, 409, 425):
            raise ReconcileError(f"the acquirer has no statement of {day} for merchant {merchant} yet "
                                 f"({e.code}): the day is not cleared{detail}") from None
        raise ReconcileError(f"the acquirer answered {e.code} for the statement of {day}{detail}") from None
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise ReconcileError(f"cannot reach the acquirer at {base}: {reason}") from None
    if len(data) > MAX_BYTES:
        raise ReconcileError(f"the statement of {day} is larger than {MAX_BYTES} bytes: refused")
    return data


def _detail(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read(300).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f" -- {text.splitlines()[0]}" if text else ""
