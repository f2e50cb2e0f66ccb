"""The one error taxonomy of tillkit: a root exception, six kinds, and what each kind means to a face.

Every error a user or a peer can meet derives from `TillkitError`. It carries

- a **kind** (`ErrorKind`): refused before sending, declined, no trustworthy
  answer, the terminal cannot work, busy, cancelled -- the only thing a face
  needs to decide what to do;
- a **message key** (`message_key`, e.g. ``"engine.original_not_found"``) and its
  **data** (`data`, display-safe values such as a trace number or a masked
  PAN): a face translates the key into the cashier's language; the
  exception's `str()` is the English sentence for logs and the command line.

`KIND_TABLE` derives each face's answer from the kind: the `pos` exit code,
the TUI's notice key and the nexo `ErrorCondition` a cash register gets.
It is the table of docs/errors.md; tests/pos/test_errors.py checks that the
two agree, so the document cannot drift from the code.

It lives in the standards layer because the terminal, the acquirer's
command line and the drivers' adapters all raise it, and this layer is the
one they may all import.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass


class ErrorKind(enum.StrEnum):
    """What happened, as far as the person at the counter (or the cash register) is concerned."""

    REFUSED = "refused"          # refused before anything was sent: bad input, no such original, no card data
    DECLINED = "declined"        # the card or the issuer said no
    NO_ANSWER = "no_answer"      # sent, but no trustworthy answer: reversed, reversal due, or outcome unknown
    TERMINAL = "terminal"        # the terminal cannot work: host unreachable, config, device, reversal outstanding
    BUSY = "busy"                # another transaction is running on this terminal
    CANCELLED = "cancelled"      # the cashier or the register aborted it before anything was sent


@dataclass(frozen=True)
class KindRow:
    """How each face answers an error of one kind."""

    exit_code: int               # `pos` (and `acquirer`) exit status
    notice: str                  # the TUI's message key for the result line
    nexo: str                    # nexo Retailer ErrorCondition (the daemon's answer to a register)


#: docs/errors.md, "Kinds": one row per kind (checked against the document by a test)
KIND_TABLE: dict[ErrorKind, KindRow] = {
    ErrorKind.REFUSED: KindRow(2, "kind.refused", "NotAllowed"),
    ErrorKind.DECLINED: KindRow(1, "kind.declined", "Refusal"),
    ErrorKind.NO_ANSWER: KindRow(3, "kind.no_answer", "UnreachableHost"),
    ErrorKind.TERMINAL: KindRow(4, "kind.terminal", "UnavailableService"),
    ErrorKind.BUSY: KindRow(5, "kind.busy", "Busy"),
    ErrorKind.CANCELLED: KindRow(6, "kind.cancelled", "Cancel"),
}


class TillkitError(Exception):
    """The root of every tillkit error: a kind, a message key and display-safe data.

    Subclasses set `kind` and `message_key` as class attributes; one instance may
    name a more precise one (`message_key=`, `kind=`). `data` never holds a full PAN, track 2 or PIN.
    """

    kind: ErrorKind = ErrorKind.TERMINAL
    message_key: str = "error.terminal"

    def __init__(self, message: str, *, message_key: str | None = None, kind: ErrorKind | None = None,
                 **data: object) -> None:
        super().__init__(message)
        if message_key is not None:
            self.message_key = message_key
        if kind is not None:
            self.kind = kind
        self.data: dict[str, object] = data

    @property
    def row(self) -> KindRow:
        return KIND_TABLE[self.kind]


def kind_of(error: BaseException) -> ErrorKind:
    """The kind of any exception: a `TillkitError`'s own, anything else "the terminal cannot work"."""
    return error.kind if isinstance(error, TillkitError) else ErrorKind.TERMINAL
