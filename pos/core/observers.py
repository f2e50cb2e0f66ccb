"""The engine's observers: every face that watches the terminal gets every event, in order.

A TUI, a daemon and a log can watch one engine at once. An observer that
raises is logged and skipped: a face's bug must not stop a payment half way.
"""
from __future__ import annotations

import logging

from pos.core import events as ev

log = logging.getLogger(__name__)


class Observers:
    def __init__(self, *initial: ev.Observer | None) -> None:
        self._observers: list[ev.Observer] = [o for o in initial if o is not None]

    def add(self, observer: ev.Observer) -> None:
        self._observers.append(observer)

    def remove(self, observer: ev.Observer) -> None:
        if observer in self._observers:
            self._observers.remove(observer)

    def __call__(self, event: ev.Event) -> None:
        for observer in tuple(self._observers):
            try:
                observer(event)
            except Exception:
                log.exception("observer %r failed on %s", observer, type(event).__name__)
