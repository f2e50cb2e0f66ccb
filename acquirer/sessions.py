"""Terminal registry and sign-on sessions: who may talk to the host, with which keys, in which batch.

Decisions (documented in docs/acquirer.md):

- Only TID/MID pairs of the configuration are served. An unknown MID is
  **03** (invalid merchant); a known MID with a TID that is not registered
  under it is **97** (terminal not registered).
- Sign-on (0800, 60.3 = 003 or 004) issues fresh random double-length PIN and
  MAC keys (and a track key for 004) under the terminal's TMK in field 62.
  The link has no single-length key mode: an 0800 with 60.3 = 001 is not a
  message of the link (`messages.classify`) and is answered 30.
- Every other message needs a current sign-on: one not followed by sign-off
  (0820/002) and younger than `[host] signon_ttl_s`. Without one the host
  answers **77** ("sign on again", the UnionPay code for a terminal whose
  session or batch does not match the host's), without a MAC: there is no
  MAC key to compute one with.
- The host keeps each terminal's open batch. At the terminal's first sign-on
  the host adopts the batch in its 60.2 (000000 becomes 000001); afterwards
  the host's batch is returned in the 0810's 60.2 and a financial request in
  another batch is answered **77** too. Settlement moves the host to the next
  batch.
- Sessions survive a host restart: the database keeps field 62 as sent (keys
  under the TMK, never in clear) and the sign-on time.
- On a shared database (PostgreSQL, several host processes) a terminal may
  sign on through one process and be served by another: the session and batch
  are then read from the database on every request (one primary-key lookup;
  the unpacked keys are reused while field 62 is unchanged).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from acquirer.config import Terminal
from acquirer.decline import Decline
from acquirer.protocol.keys import KeyCheckError, KeyFormatError, WorkingKeys, generate_working_keys
from acquirer.protocol.keys import pack_field62, unpack_field62
from acquirer.storage.store import Store

__all__ = ["Session", "Sessions", "next_batch"]

#: 60.3 of a sign-on that asks for a track key as well
KEY_MODE_WITH_TRACK = "004"


def next_batch(batch: str) -> str:
    """The batch after `batch`: 000001 .. 999999, then 000001 again."""
    return f"{int(batch) % 999999 + 1:06d}"


@dataclass(frozen=True)
class Session:
    terminal: Terminal
    keys: WorkingKeys
    signed_on_at: float


@dataclass
class _State:
    batch: str
    session: Session | None
    field62: bytes | None = None


class Sessions:
    """Registry lookups plus each terminal's batch and session (memory mirrors the database;
    on a shared database memory is refreshed from it for every request)."""

    def __init__(self, terminals: Mapping[tuple[str, str], Terminal], store: Store,
                 ttl_s: int, clock=time.time) -> None:
        self.terminals = terminals
        self.mids = {mid for _, mid in terminals}
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._state: dict[tuple[str, str], _State] = {}
        self._load()

    def _load(self) -> None:
        for tid, mid, batch, field62, signed_on_at in self.store.terminal_states():
            terminal = self.terminals.get((tid, mid))
            if terminal is None:
                continue  # removed from the configuration: not served any more
            self._state[(tid, mid)] = _state(terminal, batch, field62, signed_on_at)

    def _read(self, terminal: Terminal) -> _State | None:
        """The terminal's state: memory in one process, the database's when it is shared."""
        key = (terminal.tid, terminal.mid)
        cached = self._state.get(key)
        if not self.store.shared:
            return cached
        row = self.store.terminal_state(terminal.tid, terminal.mid)
        if row is None:
            return None
        batch, field62, signed_on_at = row
        if cached is not None and cached.field62 == field62 and cached.session is not None \
                and cached.session.signed_on_at == signed_on_at:
            cached.batch = batch
            return cached
        state = self._state[key] = _state(terminal, batch, field62, signed_on_at)
        return state

    # --- registry -----------------------------------------------------------------

    def identify(self, tid: str, mid: str) -> Terminal:
        """The registered terminal; raises `Decline` 03 (unknown MID) or 97."""
        terminal = self.terminals.get((tid, mid))
        if terminal is not None:
            return terminal
        if mid not in self.mids:
            raise Decline("03", f"merchant {mid!r} is not registered")
        raise Decline("97", f"terminal {tid!r} is not registered under merchant {mid}")

    # --- sessions -----------------------------------------------------------------

    def current(self, terminal: Terminal) -> Session:
        """The terminal's current session; raises `Decline` 77 when it must sign on."""
        state = self._read(terminal)
        session = state.session if state else None
        if session is None:
            raise Decline("77", f"terminal {terminal.tid} is not signed on")
        if self.clock() - session.signed_on_at > self.ttl_s:
            raise Decline("77", f"terminal {terminal.tid}: sign-on older than {self.ttl_s} s")
        return session

    def batch(self, terminal: Terminal) -> str | None:
        state = self._read(terminal)
        return state.batch if state else None

    def check_batch(self, terminal: Terminal, batch: str) -> None:
        """Raise `Decline` 77 unless `batch` is the host's open batch for the terminal."""
        current = self.batch(terminal)
        if batch != current:
            raise Decline("77", f"terminal {terminal.tid} sent batch {batch}, host batch is {current}")

    def sign_on(self, terminal: Terminal, terminal_batch: str, key_mode: str) -> tuple[Session, str, bytes]:
        """Write a new session (call inside a unit); returns it, the batch and field 62.

        The caller makes it current with `activate` once the unit is durable.
        """
        keys = generate_working_keys(with_track=key_mode == KEY_MODE_WITH_TRACK)
        field62 = pack_field62(terminal.tmk, keys)
        batch = self.batch(terminal) or (terminal_batch if terminal_batch != "000000" else "000001")
        session = Session(terminal, keys, self.clock())
        self.store.save_session(terminal.tid, terminal.mid, batch, field62, session.signed_on_at)
        return session, batch, field62

    def activate(self, session: Session, batch: str, field62: bytes | None = None) -> None:
        self._state[(session.terminal.tid, session.terminal.mid)] = _State(batch, session, field62)

    def sign_off(self, terminal: Terminal) -> None:
        """Forget the session (call inside a unit, then `deactivate` once durable)."""
        self.store.clear_session(terminal.tid, terminal.mid)

    def deactivate(self, terminal: Terminal) -> None:
        state = self._state.get((terminal.tid, terminal.mid))
        if state is not None:
            state.session = None

    def advance_batch(self, terminal: Terminal, settled: str) -> str:
        """Move the terminal to the batch after `settled` (inside a unit); returns it.

        The caller applies it with `set_batch` once durable.
        """
        batch = next_batch(settled)
        self.store.set_terminal_batch(terminal.tid, terminal.mid, batch)
        return batch

    def set_batch(self, terminal: Terminal, batch: str) -> None:
        state = self._state.get((terminal.tid, terminal.mid))
        if state is not None:
            state.batch = batch


def _state(terminal: Terminal, batch: str, field62: bytes | None, signed_on_at: float | None) -> _State:
    session = None
    if field62 is not None and signed_on_at is not None:
        try:
            session = Session(terminal, unpack_field62(terminal.tmk, field62), signed_on_at)
        except (KeyCheckError, KeyFormatError):
            session = None  # the TMK changed in the configuration: sign on again
    return _State(batch, session, field62)
