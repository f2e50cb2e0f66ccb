"""Terminal registry and sign-on sessions: who may talk to the host, with which keys, in which batch.

Decisions (documented in docs/acquirer.md):

- Only TID/MID pairs of the configuration are served. An unknown MID is
  **03** (invalid merchant); a known MID with a TID that is not registered
  under it is **97** (terminal not registered).
- Sign-on (0800, 60.3 = 003 or 004) issues fresh random double-length PIN and
  MAC keys (and a track key for 004) under the terminal's TMK in field 62.
  The link has no single-length key mode: an 0800 with 60.3 = 001 is not a
  message of the link (`messages.classify`) and is answered 30.
- A sign-on cannot knock a terminal off. The 0800 carries no MAC, so anyone
  who knows a TID and MID (printed on every receipt) can send one; only the
  holder of the TMK can read the keys in the reply. So the new keys are
  *pending*: the working keys in use stay valid, and a pending set replaces
  them only when a request arrives MACed with it -- proof that its sender
  decrypted field 62. A request is checked under the working keys first,
  then the pending sets, newest first; its reply is MACed with the set that
  verified it. The newest `[host] signon_pending` (default 4) pending sets
  are kept (older ones are dropped unused); using one drops the rest. A
  terminal that signed on for real during a storm of forged sign-ons has
  that many forged sign-ons' time to use its keys, else it signs on again.
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
  under the TMK, never in clear) and the sign-on time, of the working keys
  (`terminal_state`) and of the pending sets (`pending_signons`).
- On a shared database (PostgreSQL, several host processes) a terminal may
  sign on through one process and be served by another: its keys, pending
  sign-ons and batch are read from the database (one query), and kept while
  PostgreSQL announces no change of them (`listening`, `changed`:
  acquirer.storage.pg_listen); without the announcements, whenever a request
  needs them. Before a request is refused for its session (77, A0) state
  kept from an earlier request is read again, so a change announced a moment
  late never refuses a terminal. Unpacked keys are reused while their field
  62 is the same.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from acquirer.config import Terminal
from acquirer.decline import Decline
from acquirer.metrics import SIGNON_KEYS
from acquirer.protocol.keys import (
    KeyCheckError,
    KeyFormatError,
    WorkingKeys,
    generate_working_keys,
    pack_field62,
    unpack_field62,
)
from acquirer.storage.store import Store

__all__ = ["Session", "Sessions", "next_batch"]

log = logging.getLogger("acquirer.sessions")

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
    field62: bytes = field(default=b"", repr=False)   # the keys under the TMK, as sent


@dataclass
class _State:
    batch: str
    session: Session | None                                   # the working keys
    pending: list[Session] = field(default_factory=list)     # newer sign-ons, oldest first


class Sessions:
    """Registry lookups plus each terminal's batch and session (memory mirrors the database)."""

    def __init__(self, terminals: Mapping[tuple[str, str], Terminal], store: Store,
                 ttl_s: int, clock: Callable[[], float] = time.time, pending: int = 4) -> None:
        self.terminals = terminals
        self.pending = pending
        self.mids = {mid for _, mid in terminals}
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._state: dict[tuple[str, str], _State] = {}
        self._fresh: set[tuple[str, str]] = set()   # terminals read from a shared database this request
        self._listening = False                      # a shared database announces changes (`listening`)
        self._known: set[tuple[str, str]] = set()    # read since, and no change announced
        self._load()

    def _load(self) -> None:
        for tid, mid, batch, field62, signed_on_at in self.store.terminal_states():
            terminal = self.terminals.get((tid, mid))
            if terminal is None:
                continue  # removed from the configuration: not served any more
            session = None
            if field62 is not None and signed_on_at is not None:
                session = _session(terminal, field62, signed_on_at)
            self._state[(tid, mid)] = _State(batch, session)
        for tid, mid, field62, signed_on_at in self.store.pending_signons():
            state = self._state.get((tid, mid))
            pending = _session(self.terminals.get((tid, mid)), field62, signed_on_at)
            if state is not None and pending is not None:
                state.pending.append(pending)

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
        """The terminal's session (the working keys, else the newest pending sign-on);
        raises `Decline` 77 when it must sign on."""
        state = self._refresh(terminal)   # memory, or the shared database's rows
        working = state.session if state is not None else None
        if working is not None and self.clock() - working.signed_on_at <= self.ttl_s:
            return working   # the usual case
        sessions = self._valid(terminal)
        if not sessions:
            if self._kept(terminal):
                return self.current(terminal)
            raise Decline("77", f"terminal {terminal.tid} is not signed on, or its sign-on is older "
                                f"than {self.ttl_s} s")
        return sessions[-1]   # the working keys expired or absent: the newest pending sign-on

    def signed_with(self, terminal: Terminal, verifies: Callable[[WorkingKeys], bool]) -> Session | None:
        """The session whose keys `verifies` accepts: the working keys first, then the pending
        sign-ons newest first; None if none does (A0)."""
        state = self._refresh(terminal)
        if state is None:
            return None
        working = state.session
        if (working is not None and self.clock() - working.signed_on_at <= self.ttl_s
                and verifies(working.keys)):
            return working   # the usual case: one MAC check, no list built
        sessions = self._valid(terminal)
        for session in reversed(sessions):
            if session is not working and verifies(session.keys):
                return session
        if self._kept(terminal):
            return self.signed_with(terminal, verifies)
        return None

    def is_pending(self, session: Session) -> bool:
        return session is not self._working(session.terminal)

    def use(self, session: Session) -> None:
        """A request was MACed with a pending sign-on's keys: they become the working keys
        (call inside a unit; memory follows at once, the request's own commit makes it durable)."""
        terminal = session.terminal
        self.store.use_signon(terminal.tid, terminal.mid, session.field62, session.signed_on_at)
        state = self._state[(terminal.tid, terminal.mid)]
        dropped = len(state.pending) - 1
        state.session, state.pending = session, []
        SIGNON_KEYS.labels("used").inc()
        if dropped:
            SIGNON_KEYS.labels("dropped").inc(dropped)
        log.info("terminal %s: the keys of its latest proven sign-on are in use (%d other pending dropped)",
                 terminal.tid, dropped)

    def _working(self, terminal: Terminal) -> Session | None:
        state = self._state.get((terminal.tid, terminal.mid))
        return state.session if state else None

    def listening(self, active: bool) -> None:
        """The shared database announces (or, `False`, no longer announces) every change of
        a terminal's session rows; either way what is kept is read again once."""
        self._listening = active
        self._known.clear()

    def changed(self, tid: str, mid: str) -> None:
        """A terminal's session rows changed (through any process): read them again."""
        self._known.discard((tid, mid))

    def _kept(self, terminal: Terminal) -> bool:
        """Before refusing: True (and forgotten) when the terminal's state was kept from an
        earlier request rather than read for this one, so that the caller reads it again."""
        key = (terminal.tid, terminal.mid)
        if not self.store.shared or key in self._fresh:
            return False
        self._known.discard(key)
        return True

    def _refresh(self, terminal: Terminal) -> _State | None:
        """The terminal's state: memory in one process; on a shared database (another process
        may have signed it on, used a pending sign-on or settled) read again unless it was read
        for this request or since without a change announced."""
        key = (terminal.tid, terminal.mid)
        if not self.store.shared or key in self._fresh or (self._listening and key in self._known):
            return self._state.get(key)
        self._fresh.add(key)
        if self._listening:
            self._known.add(key)
        found = self.store.terminal_sessions(terminal.tid, terminal.mid)
        if found is None:
            self._state.pop(key, None)
            return None
        batch, working, pending = found
        known = self._state.get(key)
        cached = {} if known is None else {s.field62: s for s in
                                           ([known.session] if known.session else []) + known.pending}

        def session(stored: tuple[bytes, float] | None) -> Session | None:
            if stored is None:
                return None
            field62, signed_on_at = stored
            same = cached.get(field62)
            if same is not None and same.signed_on_at == signed_on_at:
                return same
            return _session(terminal, field62, signed_on_at)
        state = _State(batch, session(working), [s for s in map(session, pending) if s is not None])
        self._state[key] = state
        return state

    def new_request(self) -> None:
        """A request starts: a shared database's rows are read again when it needs them (once:
        its checks run without awaiting in between)."""
        self._fresh.clear()

    def _valid(self, terminal: Terminal) -> list[Session]:
        """Sessions younger than the TTL: the working one first, then the pending, oldest first."""
        state = self._refresh(terminal)
        if state is None:
            return []
        oldest = self.clock() - self.ttl_s
        candidates = ([state.session] if state.session is not None else []) + state.pending
        return [s for s in candidates if s.signed_on_at >= oldest]

    def batch(self, terminal: Terminal) -> str | None:
        state = self._refresh(terminal)
        return state.batch if state else None

    def check_batch(self, terminal: Terminal, batch: str) -> None:
        """Raise `Decline` 77 unless `batch` is the host's open batch for the terminal."""
        current = self.batch(terminal)
        if batch != current and self._kept(terminal):
            current = self.batch(terminal)
        if batch != current:
            raise Decline("77", f"terminal {terminal.tid} sent batch {batch}, host batch is {current}")

    def sign_on(self, terminal: Terminal, terminal_batch: str, key_mode: str) -> tuple[Session, str, bytes]:
        """Write a new pending sign-on (call inside a unit); returns it, the batch and field 62.

        The caller adds it with `activate` once the unit is durable; it becomes
        the working keys when a request is MACed with them (`use`).
        """
        keys = generate_working_keys(with_track=key_mode == KEY_MODE_WITH_TRACK)
        field62 = pack_field62(terminal.tmk, keys)
        batch = self.batch(terminal) or (terminal_batch if terminal_batch != "000000" else "000001")
        session = Session(terminal, keys, self.clock(), field62)
        self.store.add_signon(terminal.tid, terminal.mid, batch, field62, session.signed_on_at, self.pending)
        return session, batch, field62

    def activate(self, session: Session, batch: str) -> None:
        """Add a durable sign-on to the pending ones (the oldest beyond `pending` are dropped)."""
        key = (session.terminal.tid, session.terminal.mid)
        state = self._state.setdefault(key, _State(batch, None))
        state.batch = batch
        state.pending.append(session)
        SIGNON_KEYS.labels("issued").inc()
        if len(state.pending) > self.pending:
            SIGNON_KEYS.labels("dropped").inc(len(state.pending) - self.pending)
            del state.pending[:-self.pending]

    def sign_off(self, terminal: Terminal) -> None:
        """Forget the session and pending sign-ons (call inside a unit, then `deactivate` once durable)."""
        self.store.clear_session(terminal.tid, terminal.mid)

    def deactivate(self, terminal: Terminal) -> None:
        state = self._state.get((terminal.tid, terminal.mid))
        if state is not None:
            state.session = None
            state.pending = []

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


def _session(terminal: Terminal | None, field62: bytes, signed_on_at: float) -> Session | None:
    """A stored session; None when its terminal is gone or the TMK changed (sign on again)."""
    if terminal is None:
        return None
    try:
        return Session(terminal, unpack_field62(terminal.tmk, field62), signed_on_at, field62)
    except (KeyCheckError, KeyFormatError):
        return None
