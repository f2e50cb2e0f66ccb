"""Crash points for the terminal's crash tests.

The reversal guarantees are about what survives a process dying at the worst
moment. A random external SIGKILL rarely lands inside a short window such as
"between the host's reply and the journal commit", so the engine names those
windows with `fault_point(name)`; when `$TILLKIT_FAULT` equals the name, the
process kills itself there with SIGKILL (no cleanup, no flush: a real crash).
Unset, a fault point costs one environment lookup.

Points: before_send, after_send, after_reply, journal_write, after_reversal_send.
"""
from __future__ import annotations

import os
import signal

FAULT_ENV = "TILLKIT_FAULT"


def fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
