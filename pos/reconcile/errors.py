"""Why a reconciliation could not be made (exit code 4), as opposed to one that found exceptions (1).

Why one class: every face turns it into one line and the "could not
reconcile" exit code, without a traceback, whatever the cause -- a statement
refused by its checks, another merchant's file, a wrong API key, a day the
acquirer has not cleared yet, an unreadable journal export.
"""
from __future__ import annotations

__all__ = ["ReconcileError"]


class ReconcileError(Exception):
    """The reconciliation cannot be made; the message says why and what to do."""
