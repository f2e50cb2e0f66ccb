"""The one error clearing raises for anything a user or operator must fix.

Why one class: the commands turn it into a one-line message and exit code
without a traceback, whatever the cause (a bad date, an unknown merchant, a
day not over yet, a year the settlement calendar does not know).
"""
from __future__ import annotations

__all__ = ["ClearingError", "UnknownYear"]


class ClearingError(ValueError):
    """Clearing cannot do what was asked; the message says why and what to do."""


class UnknownYear(ClearingError):
    """The settlement calendar has no holiday data for this year: refused, never guessed."""

    def __init__(self, year: int, covered: str) -> None:
        self.year = year
        super().__init__(f"no holiday calendar for {year} (known: {covered}); add the year's holidays "
                         f"and make-up working days to the holidays file")
