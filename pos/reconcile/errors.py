"""Why a reconciliation could not be made, as opposed to one that found exceptions.

Why one class: every face turns it into one line and the "could not
reconcile" exit code (4, kind `terminal` in docs/errors.md), without a
traceback, whatever the cause -- a statement refused by its checks, another
merchant's file, a wrong API key, a day the acquirer has not cleared yet, an
unreadable journal export. Exceptions found are not errors: they are the
report (exit 1).
"""
from __future__ import annotations

from acquirer.protocol.errors import ErrorKind, TillkitError

__all__ = ["ReconcileError"]


class ReconcileError(TillkitError):
    """The reconciliation cannot be made; the message says why and what to do."""

    kind = ErrorKind.TERMINAL
    message_key = "reconcile.failed"
