"""The acquirer on PostgreSQL: migrations, several `acquirer serve` on one database, and faults.

The kill tests count, from the terminals' side, every sale answered 00 and
check it against the database: 0 approved sales missing from the ledger, 0
posted twice, every sale the terminal had no answer for reversed, nothing
posted for a 96.
"""
from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest

from acquirer.protocol import codec
from acquirer.protocol.framing import ConnectionClosed, frame, recv_frame
from acquirer.protocol.transactions import TxnType
from acquirer.storage import MIGRATIONS, MigrationError
from acquirer.storage.postgres import DUPLICATE_KEY, migrate_postgres
from tests.acquirer.conftest import (
    RunningHost,
    assert_ledger_consistent,
    make_config,
    start_host,
)
from tests.acquirer.terminal import TestCard, TestTerminal
from tests.pgcluster import Cluster, running_cluster

MID = "898310048990001"
SALE = 100   # fen
OPENING = 10**9


def _load_config(directory: Path, terminals: int) -> Path:
    """The repository's configuration plus `terminals` terminals with a card each."""
    extra_terminals = "".join(
        f'\n[[terminal]]\ntid = "{91000000 + i}"\nmid = "{MID}"\ntmk = "{f"{i + 16:02X}" * 16}"   # TEST KEY\n'
        f'mac = "{"ecb" if i % 2 else "x919"}"\n' for i in range(terminals))
    extra_cards = "".join(
        f'\n[[card]]\nname = "load-{i}"\nscheme = "unionpay"\nproduct = "debit"\nissuer = "cup-bank"\n'
        f'pan = "62148398{i:010d}0"\npsn = "01"\nexpiry = "3012"\npin = "123456"\nbalance = {OPENING}\n'
        f'imk_ac = "17B06C51B1B846FC60C3FB1DDA2DB78A"   # TEST KEY\n' for i in range(terminals))
    return make_config(directory, acquirer_extra=extra_terminals, cards_extra=extra_cards)


@dataclass
class Till:
    """One load terminal: its sales and what it was told about each."""

    host: RunningHost
    index: int
    addresses: list[tuple[str, int]]
    answers: dict[str, str | None] = field(default_factory=dict)   # STAN -> 39, None: no answer
    reversed: set[str] = field(default_factory=set)
    failure: BaseException | None = None

    @property
    def tid(self) -> str:
        return f"{91000000 + self.index}"

    def _connect(self, previous: TestTerminal | None, attempt: int) -> TestTerminal:
        t = next(t for (tid, _), t in self.host.config.terminals.items() if tid == self.tid)
        address = self.addresses[attempt % len(self.addresses)]
        terminal = TestTerminal(address, t.tid, t.mid, t.tmk, t.mac,
                                stans=previous._stans if previous else None)
        if previous is None:
            assert terminal.sign_on()["39"] == "00"
        else:   # the session lives in the database: any process serves it
            terminal.keys, terminal.batch = previous.keys, previous.batch
        return terminal

    def run(self, card: TestCard, sales: int, stop: threading.Event) -> None:
        try:
            terminal = self._connect(None, 0)
            attempt = 0
            for _ in range(sales):
                if stop.is_set():
                    break
                request = terminal.request(TxnType.SALE, card, SALE)
                try:
                    code = self.answers[request.stan] = terminal.send(request)["39"]
                    if code != "00":
                        time.sleep(0.1)   # a till whose sale failed does not retry at once
                except (OSError, ConnectionClosed):
                    self.answers[request.stan] = None   # cut off: reverse it, as a terminal must
                    terminal.close()
                    terminal, attempt = self._reverse(terminal, request, attempt)
            terminal.close()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.failure = e

    def _reverse(self, terminal: TestTerminal, request, attempt: int) -> tuple[TestTerminal, int]:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            attempt += 1
            try:
                terminal = self._connect(terminal, attempt)
                if terminal.reverse(request)["39"] == "00":
                    self.reversed.add(request.stan)
                    return terminal, attempt
            except (OSError, ConnectionClosed):
                pass
            terminal.close()
            time.sleep(0.2)
        raise AssertionError(f"terminal {self.tid}: reversal of STAN {request.stan} never acknowledged")


def _run_load(host: RunningHost, tills: list[Till], sales: int, during) -> None:
    stop = threading.Event()
    cards = {t.index: TestCard(next(c for c in host.config.cards if c.name == f"load-{t.index}")) for t in tills}
    threads = [threading.Thread(target=t.run, args=(cards[t.index], sales, stop)) for t in tills]
    for thread in threads:
        thread.start()
    try:
        during()
    finally:
        for thread in threads:
            thread.join(300)
    for t in tills:
        if t.failure is not None:
            raise t.failure


def _reconcile(host: RunningHost, tills: list[Till]) -> dict[str, int]:
    """Check every sale of every till against the database; returns counts by outcome."""
    counts = {"approved": 0, "no answer": 0, "96": 0, "other": 0}
    with host.db() as db:
        for till in tills:
            rows = {stan: (status, txn_id) for stan, status, txn_id in db.execute(
                "SELECT stan, status, id FROM transactions WHERE tid = ? AND txn_type = 'sale'", (till.tid,))}
            card_legs = {txn_id: int(total) for txn_id, total in db.execute(
                "SELECT p.txn_id, SUM(l.amount) FROM legs l JOIN postings p ON p.id = l.posting_id "
                "JOIN transactions t ON t.id = p.txn_id WHERE t.tid = ? AND substr(l.account_id, 1, 5) = 'card:' "
                "GROUP BY p.txn_id", (till.tid,))}
            postings = {txn_id: int(n) for txn_id, n in db.execute(
                "SELECT p.txn_id, COUNT(*) FROM postings p JOIN transactions t ON t.id = p.txn_id "
                "WHERE t.tid = ? AND p.kind = 'sale' GROUP BY p.txn_id", (till.tid,))}
            for stan, code in till.answers.items():
                status, txn_id = rows.get(stan, (None, None))
                if code == "00":
                    counts["approved"] += 1
                    assert status == "approved", f"{till.tid} STAN {stan} answered 00 but is {status}"
                    assert postings.get(txn_id) == 1, f"{till.tid} STAN {stan}: {postings.get(txn_id)} sale postings"
                    assert card_legs.get(txn_id) == -SALE
                elif code is None:
                    counts["no answer"] += 1
                    assert stan in till.reversed
                    assert status in (None, "reversed", "tombstone"), f"{till.tid} STAN {stan} is {status}"
                    assert card_legs.get(txn_id, 0) == 0
                else:
                    counts["96" if code == "96" else "other"] += 1
                    assert status in (None, "declined", "reversed", "tombstone")
                    assert card_legs.get(txn_id, 0) == 0, f"{till.tid} STAN {stan} got {code} but moved money"
            balance = db.execute("SELECT balance FROM accounts a JOIN cards c ON a.id = 'card:' || c.token "
                                 "WHERE c.name = ?", (f"load-{till.index}",)).fetchone()[0]
            approved = sum(1 for code in till.answers.values() if code == "00")
            assert balance == OPENING - SALE * approved
    assert_ledger_consistent(host)
    return counts


def _children(pid: int) -> list[int]:
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


# --- migrations ----------------------------------------------------------------------------

def test_migrations_are_recorded_and_a_newer_database_is_refused(pg_cluster: Cluster) -> None:
    url = pg_cluster.create_database()   # empty: `acquirer migrate` creates the schema
    result = subprocess.run([sys.executable, "-m", "acquirer", "migrate", "--db", url],
                            capture_output=True, text=True, check=True)
    assert result.stdout.strip() == f"database at schema version {MIGRATIONS[-1][0]}"
    assert migrate_postgres(url) == MIGRATIONS[-1][0]   # idempotent
    with psycopg.connect(url, autocommit=True) as conn:
        assert [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY version")] == \
            [m[0] for m in MIGRATIONS]
        assert conn.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", (DUPLICATE_KEY,)).fetchone()
        conn.execute("INSERT INTO schema_migrations VALUES (999, 'from the future', 'now')")
    with pytest.raises(MigrationError, match="newer than this code"):
        migrate_postgres(url)
    refused = subprocess.run([sys.executable, "-m", "acquirer", "migrate", "--db", url],
                             capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "newer than this code" in refused.stderr


def test_both_backends_have_the_same_tables_and_columns(pg_url: str, tmp_path: Path) -> None:
    from acquirer.storage import open_database
    db = open_database(tmp_path / "s.db")
    # each backend keeps its own record of the steps applied (sqlite-utils' on SQLite)
    sqlite_columns = {(t, c.name) for t in db.table_names() if t != "_sqlite_migrations" for c in db[t].columns}
    with psycopg.connect(pg_url) as conn:
        pg_columns = set(conn.execute("SELECT table_name, column_name FROM information_schema.columns "
                                      "WHERE table_schema = 'public' AND table_name <> 'schema_migrations'")
                          .fetchall())
    assert sqlite_columns == pg_columns


def test_processes_above_one_need_postgresql(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "acquirer", "serve", "--port", "0", "--processes", "2",
                             "--db", str(tmp_path / "a.db")], capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode != 0 and "needs PostgreSQL" in result.stderr


# --- several hosts on one database -----------------------------------------------------------

def _two_hosts(pg_url: str, tmp_path: Path, config: Path | None = None,
               processes: int = 1) -> tuple[RunningHost, RunningHost]:
    """Two `acquirer serve` on different ports, one configuration, one PostgreSQL database."""
    config = config or make_config(tmp_path / "config")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    return (start_host(config, tmp_path / "a", pg_url, processes=processes),
            start_host(config, tmp_path / "b", pg_url, processes=processes))


def _through(host: RunningHost, t: TestTerminal) -> TestTerminal:
    """Terminal `t` (signed on elsewhere) connected to `host` instead, with its keys, batch and STANs."""
    other = TestTerminal(host.address, t.terminal.tid, t.terminal.mid, t.tmk, t.mac, stans=t._stans)
    other.keys, other.batch = t.keys, t.batch
    return other


def test_two_hosts_on_one_database_serve_the_same_terminal(pg_url: str, tmp_path: Path) -> None:
    first, second = _two_hosts(pg_url, tmp_path)
    try:
        assert first.address[1] != second.address[1]
        card = first.card("unionpay-debit")
        before, merchant = first.available(card), first.merchant()
        t = first.terminal("10000001")                       # signs on through the first
        through_second = _through(second, t)
        sale = through_second.request(TxnType.SALE, card, 2_500)
        assert through_second.send(sale)["39"] == "00"       # sells through the second
        assert through_second.send(sale)["39"] == "94"       # resent there: a duplicate
        assert t.send(sale)["39"] == "94"                     # and through the first too
        assert first.available(card) == before - 2_500
        assert t.reverse(sale)["39"] == "00"                  # reverses through the first
        assert through_second.reverse(sale)["39"] == "00"     # the repeat changes nothing
        assert first.available(card) == before and first.merchant() == merchant
        with first.db() as db:
            assert db.execute("SELECT status FROM transactions WHERE tid = '10000001' AND stan = ?",
                              (sale.stan,)).fetchall() == [("reversed",)]
            assert db.execute("SELECT COUNT(*) FROM postings p JOIN transactions t ON t.id = p.txn_id "
                              "WHERE t.stan = ? AND t.tid = '10000001'", (sale.stan,)).fetchone()[0] == 2
        assert_ledger_consistent(first)
        t.close()
        through_second.close()
    finally:
        first.stop()
        second.stop()


def test_a_settlement_through_one_host_closes_the_batch_another_host_had_kept(pg_url: str, tmp_path: Path) -> None:
    """A host keeps a terminal's session between requests; PostgreSQL announces every change
    of it (LISTEN/NOTIFY). A terminal sells through the second host (which keeps its session
    and batch), settles through the first: the second then refuses the closed batch (77),
    and after a sign-on through the first it sells through the second in the new batch."""
    from acquirer.protocol.fields import CardTotals, SettlementTotals
    from acquirer.protocol.messages import Settlement

    first, second = _two_hosts(pg_url, tmp_path)
    try:
        card = first.card("unionpay-debit")
        t = first.terminal("10000001")
        through_second = _through(second, t)
        old_batch = t.batch
        assert through_second.sale(card, 1_000)["39"] == "00"
        assert through_second.sale(card, 2_000)["39"] == "00"   # the session kept from the first sale
        totals = SettlementTotals(CardTotals(3_000, 2, 0, 0), CardTotals(0, 0, 0, 0))
        reply = t.exchange(Settlement(t.terminal, t.next_stan(), old_batch, totals).to_message(), sign=False)
        assert reply["39"] == "00"
        time.sleep(1)   # the announcement reaches the second host within milliseconds
        assert through_second.sale(card, 500)["39"] == "77"     # the closed batch, refused
        assert t.sign_on()["39"] == "00" and t.batch != old_batch
        through_second.close()
        through_second = _through(second, t)
        assert through_second.sale(card, 500)["39"] == "00"     # new keys and batch, through the second
        with first.db() as db:
            assert db.execute("SELECT batch, response_code FROM transactions WHERE tid = '10000001' "
                              "ORDER BY id").fetchall() == [(old_batch, "00"), (old_batch, "00"), (t.batch, "00")]
        assert "listening for session changes" in second.log()
        t.close()
        through_second.close()
    finally:
        first.stop()
        second.stop()


def test_terminals_spread_over_two_hosts_and_three_processes_each(pg_url: str, tmp_path: Path) -> None:
    first, second = _two_hosts(pg_url, tmp_path, _load_config(tmp_path / "config", 6), processes=3)
    try:
        tills = [Till(first, i, [first.address, second.address][i % 2:] + [first.address][:i % 2])
                 for i in range(6)]
        _run_load(first, tills, 25, lambda: None)
        counts = _reconcile(first, tills)
        assert counts["approved"] == 6 * 25
    finally:
        first.stop()
        second.stop()


def _connections_on(port: int) -> dict[str, int]:
    """Inode -> the peer's port, for every TCP socket on local port `port` but a listening one
    (Linux /proc/net): the host's ends of the terminals' connections, closing ones included."""
    sockets = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            fields = row.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] != "0A":
                sockets[fields[9]] = int(fields[2].rsplit(":", 1)[1], 16)
    return sockets


def _holders(pids: list[int], port: int) -> dict[int, int]:
    """A terminal's port -> which of `pids` holds the host's end of its connection on `port`."""
    sockets = _connections_on(port)
    held = {}
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                link = os.readlink(fd)
            except FileNotFoundError:
                continue
            if link.startswith("socket:[") and link[8:-1] in sockets:
                held[sockets[link[8:-1]]] = pid
    return held


def _held_when(pids: list[int], port: int, done) -> dict[int, int]:
    """`_holders` once `done(holders)` is true (a handed connection is in no process's hands
    while it travels, and a closed one lingers until its process notices): fails after 30 s."""
    held: dict[int, int] = {}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        held = _holders(pids, port)
        if done(held):
            return held
        time.sleep(0.05)
    raise AssertionError(f"connections held: {held}")


def _port_of(t: TestTerminal) -> int:
    return t.sock.getsockname()[1]


def _per_process(held: dict[int, int], pids: list[int]) -> dict[int, int]:
    return {pid: sum(1 for holder in held.values() if holder == pid) for pid in pids}


def _connect(host: RunningHost, terminals: list[TestTerminal], count: int, pids: list[int] | None = None,
             total: int | None = None) -> tuple[list[TestTerminal], list[int], dict[int, int]]:
    """`count` more terminals connect (added to `terminals`, which the test closes); returns
    them, the host processes (`pids`, or the supervisor's children) and, once `total`
    connections (default `count`) are held, which process holds which (`_holders`)."""
    arriving = [host.terminal("10000001", sign_on=False) for _ in range(count)]
    terminals += arriving
    pids = pids or _children(host.process.pid)
    return arriving, pids, _held_when(pids, host.address[1], lambda held: len(held) == (total or count))


@pytest.mark.skipif(sys.platform != "linux", reason="reads who holds which connection from /proc")
def test_terminal_connections_spread_evenly_and_new_ones_go_to_the_process_with_fewest(
        pg_url: str, tmp_path: Path) -> None:
    """The supervisor hands each connection to the process with the fewest open ones: 40
    terminals connecting at once land 13, 13 and 14 on 3 processes, whatever their addresses.
    6 terminals of one process leave, and the next 6 to connect all go to that process."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=3)
    terminals: list[TestTerminal] = []
    try:
        _, pids, held = _connect(host, terminals, 40)
        port = host.address[1]
        assert len(pids) == 3
        assert sorted(_per_process(held, pids).values()) == [13, 13, 14]
        for t in terminals:   # and each process serves its terminals
            assert t.sign_on()["39"] == "00"

        fewer = next(pid for pid, count in _per_process(held, pids).items() if count == 13)
        leaving = [t for t in terminals if held[_port_of(t)] == fewer][:6]
        for t in leaving:
            t.close()
            terminals.remove(t)
        _held_when(pids, port, lambda held: _per_process(held, pids)[fewer] == 7)
        arriving, _, held = _connect(host, terminals, 6, pids, total=40)
        assert [held[_port_of(t)] for t in arriving] == [fewer] * 6
        assert sorted(_per_process(held, pids).values()) == [13, 13, 14]
        for t in arriving:
            assert t.sign_on()["39"] == "00"
    finally:
        for t in terminals:
            t.close()
        host.stop()


# --- metrics -------------------------------------------------------------------------------------

def _metrics_address(host: RunningHost) -> str:
    """Where a host started with `--metrics-port 0` serves its metrics (its announcement line)."""
    line = ""
    while not line.startswith("metrics listening on "):
        line = host.process.stdout.readline()
        assert line, "no metrics line"
    return line.rsplit(" ", 1)[1].strip()


def _unlabelled_samples(address: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
            if not s.labels}


def test_metrics_are_summed_over_the_host_processes(pg_url: str, tmp_path: Path) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=2,
                      extra=("--metrics-port", "0"))
    try:
        metrics_address = _metrics_address(host)
        card, poor = host.card("unionpay-debit"), host.card("unionpay-low-balance")
        for _ in range(3):   # a connection each: the supervisor hands them to either process
            t = host.terminal("10000001")
            assert t.sale(card, 100)["39"] == "00"
            assert t.sale(poor, 5_000)["39"] == "51"
            t.close()
        with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
                   for family in text_string_to_metric_families(text) for s in family.samples}
        approved = samples[("acquirer_authorizations_total", (("code", "00"), ("mti", "0200")))]
        declined = sum(v for (name, labels), v in samples.items()
                       if name == "acquirer_authorizations_total" and ("code", "00") not in labels)
        assert (approved, declined) == (3, 3)
        assert samples[("acquirer_request_seconds_count", ())] >= 9   # 3 sign-ons, 6 sales
        assert samples[("acquirer_group_commit_units_count", ())] >= 1
    finally:
        host.stop()


def test_speculative_units_find_the_decline_the_duplicate_and_the_replayed_atc(pg_url: str, tmp_path: Path) -> None:
    """On PostgreSQL a sale's unit assumes its ATC advances, its posting is covered and its key
    is free, and does not wait for them: each fails in PostgreSQL when it does not pass, found
    at the group's COMMIT. Then the unit is rolled back and run again reading each result: the terminal gets the same answer as without speculation,
    the ledger holds only the approved sale, and the metric counts each rerun."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, extra=("--metrics-port", "0"))
    try:
        metrics_address = _metrics_address(host)
        poor = host.card("unionpay-low-balance")   # ¥10.00
        t = host.terminal("10000001")
        cards = "SELECT id, balance FROM accounts WHERE kind = 'cardholder'"
        before = dict(host.db().execute(cards).fetchall())
        first = t.request(TxnType.SALE, poor, 100)
        assert t.send(first)["39"] == "00"           # the accounts' kinds are learnt here
        assert t.sale(poor, 5_000)["39"] == "51"     # assumed covered: it is not
        assert t.send(first)["39"] == "94"           # assumed a free key: it is the first sale's
        assert t.sale(poor, 100, icc=poor.icc(100, atc=1))["39"] == "05"   # assumed a new ATC
        assert t.sale(poor, 200)["39"] == "00"       # assumed all three, rightly
        t.close()
        assert _unlabelled_samples(metrics_address)["acquirer_units_rerun_total"] == 3
        db = host.db()
        after = dict(db.execute(cards).fetchall())
        assert sorted(after[a] - before[a] for a in before if after[a] != before[a]) == [-300]
        assert db.execute("SELECT response_code, COUNT(*) FROM transactions GROUP BY 1 ORDER BY 1"
                          ).fetchall() == [("00", 2), ("05", 1), ("51", 1)]
        assert db.execute("SELECT COUNT(*) FROM postings WHERE kind = 'sale'").fetchone() == (2,)
        assert_ledger_consistent(host)
    finally:
        host.stop()


def _samples(address: str, name: str) -> dict[str, float]:
    """The samples of one metric family, by sample name."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return {s.name: s.value for family in text_string_to_metric_families(text) if family.name == name
            for s in family.samples if "le" not in s.labels}


def test_a_speculative_unit_that_fails_inside_a_group_leaves_the_units_after_it_approved(
        pg_url: str, tmp_path: Path) -> None:
    """Five sales pipelined on one connection land in one group (the group waits 300 ms for
    more). The second is not covered and the fourth resends the first's STAN: both are found
    out only when the group's statements reach PostgreSQL, after the units behind them were
    sent. Those two are rolled back and run again (51, 94), the three others keep their work
    and are committed in that same group, and nothing is posted twice."""
    config = make_config(tmp_path / "config", replace={'synchronous = "NORMAL"':
                                                        'synchronous = "NORMAL"\ncommit_interval_ms = 300'})
    host = start_host(config, tmp_path, pg_url, extra=("--metrics-port", "0"))
    try:
        metrics_address = _metrics_address(host)
        rich, poor = host.card("unionpay-debit"), host.card("unionpay-low-balance")   # poor: ¥10.00
        t = host.terminal("10000001")
        assert t.sale(poor, 100)["39"] == "00"   # the accounts' kinds are learnt here
        before = _samples(metrics_address, "acquirer_group_commit_units")
        cards = "SELECT id, balance FROM accounts WHERE kind = 'cardholder'"
        balances = dict(host.db().execute(cards).fetchall())
        first = t.request(TxnType.SALE, rich, 1_000)
        requests = [first, t.request(TxnType.SALE, poor, 5_000), t.request(TxnType.SALE, rich, 2_000),
                    first, t.request(TxnType.SALE, rich, 3_000)]
        assert t.sock is not None and t.keys is not None
        t.sock.sendall(b"".join(frame(codec.sign(r.to_message(), t.mac, t.keys.mac)) for r in requests))
        codes = [codec.decode(recv_frame(t.sock, 4096)) for _ in requests]
        assert sorted((r["11"], r["39"]) for r in codes) == sorted(
            [(first.stan, "00"), (requests[1].stan, "51"), (requests[2].stan, "00"), (first.stan, "94"),
             (requests[4].stan, "00")])
        t.close()
        assert _unlabelled_samples(metrics_address)["acquirer_units_rerun_total"] == 2
        after = _samples(metrics_address, "acquirer_group_commit_units")
        # one group of the three approved sales, then one of the two run again
        assert after["acquirer_group_commit_units_count"] - before["acquirer_group_commit_units_count"] == 2
        assert after["acquirer_group_commit_units_sum"] - before["acquirer_group_commit_units_sum"] == 5
        db = host.db()
        moved = dict(db.execute(cards).fetchall())
        assert sorted(moved[a] - balances[a] for a in balances if moved[a] != balances[a]) == [-6_000]
        assert db.execute("SELECT response_code, COUNT(*) FROM transactions GROUP BY 1 ORDER BY 1"
                          ).fetchall() == [("00", 4), ("51", 1)]
        assert db.execute("SELECT COUNT(*) FROM postings WHERE kind = 'sale'").fetchone() == (4,)
        assert_ledger_consistent(host)
    finally:
        host.stop()


# --- faults ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_sigkill_of_a_host_process_under_load_loses_no_approved_sale(pg_url: str, tmp_path: Path) -> None:
    host = start_host(_load_config(tmp_path / "config", 6), tmp_path, pg_url, processes=3)
    try:
        supervisor = host.process.pid
        tills = [Till(host, i, [host.address]) for i in range(6)]
        killed: list[int] = []

        def kill_one() -> None:
            while sum(len(t.answers) for t in tills) < 60:
                time.sleep(0.01)
            victim = _children(supervisor)[0]
            os.kill(victim, 9)
            killed.append(victim)

        _run_load(host, tills, 60, kill_one)
        counts = _reconcile(host, tills)
        assert killed and counts["approved"] > 0
        deadline = time.monotonic() + 30   # the supervisor started another in its place
        while len([p for p in _children(supervisor) if p not in killed]) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len([p for p in _children(supervisor) if p not in killed]) == 3
        assert "ended (signal SIGKILL); starting another" in host.log()
    finally:
        host.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="reads who holds which connection from /proc")
def test_a_killed_host_process_loses_its_connections_and_its_replacement_gets_the_next_ones(
        pg_url: str, tmp_path: Path) -> None:
    """SIGKILL to one of 3 processes holding 10 terminals each: its terminals find their
    connections gone, the others are served on; the supervisor starts another process, and
    the next 10 terminals to connect all go to it (it holds none)."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=3)
    terminals: list[TestTerminal] = []
    try:
        _, pids, held = _connect(host, terminals, 30)
        assert sorted(_per_process(held, pids).values()) == [10, 10, 10]
        victim = pids[1]
        os.kill(victim, 9)
        for t in terminals:
            if held[_port_of(t)] == victim:
                with pytest.raises((ConnectionClosed, ConnectionResetError, BrokenPipeError)):
                    t.sign_on()
            else:
                assert t.sign_on()["39"] == "00"

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(set(_children(host.process.pid)) - set(pids)) < 1:
            time.sleep(0.1)
        replacement = (set(_children(host.process.pid)) - set(pids)).pop()
        while time.monotonic() < deadline and f"(pid {replacement}) serves" not in host.log():
            time.sleep(0.1)
        assert f"(pid {replacement}) serves" in host.log()
        assert "ended (signal SIGKILL); starting another" in host.log()
        survivors = [pid for pid in pids if pid != victim] + [replacement]
        arriving, _, held = _connect(host, terminals, 10, survivors, total=30)
        assert [held[_port_of(t)] for t in arriving] == [replacement] * 10
        for t in arriving:
            assert t.sign_on()["39"] == "00"
    finally:
        for t in terminals:
            t.close()
        host.stop()


def _reset(peer: socket.socket) -> None:
    """Close with an RST (SO_LINGER 0), as a peer that drops its connection abruptly."""
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()


@pytest.mark.skipif(sys.platform != "linux", reason="reads who holds which connection from /proc")
def test_connections_reset_by_their_peers_are_counted_closed(pg_url: str, tmp_path: Path) -> None:
    """One terminal connects, then 50 peers connect and, once their processes hold them, reset
    them (SO_LINGER 0): they leave no count behind, so the next 2 terminals go to the 2
    processes that hold none (had the resets been left counted, 17 each, the first would go
    to the process handed a connection longest ago: the terminal's). 50 more peers resetting
    at once, before the supervisor even accepts them, cost it nothing."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=3)
    terminals: list[TestTerminal] = []
    try:
        port = host.address[1]
        pids = _children(host.process.pid)
        terminals = [host.terminal("10000001")]
        first = _held_when(pids, port, lambda held: len(held) == 1)[_port_of(terminals[0])]
        peers = [socket.create_connection(host.address, timeout=15) for _ in range(50)]
        _held_when(pids, port, lambda held: len(held) == 51)
        for peer in peers:
            _reset(peer)
        _held_when(pids, port, lambda held: len(held) == 1)   # each process told the supervisor first
        arriving = [host.terminal("10000001", sign_on=False) for _ in range(2)]
        terminals += arriving
        held = _held_when(pids, port, lambda held: len(held) == 3)
        assert {held[_port_of(t)] for t in arriving} == set(pids) - {first}

        for _ in range(50):
            _reset(socket.create_connection(host.address, timeout=15))
        for t in terminals:
            assert t.sign_on()["39"] == "00"
        assert host.process.poll() is None
    finally:
        for t in terminals:
            t.close()
        host.stop()


@pytest.mark.skipif(sys.platform != "linux", reason="finds the host processes in /proc")
def test_when_the_supervisor_dies_its_processes_serve_their_terminals_and_new_ones_are_refused(
        pg_url: str, tmp_path: Path) -> None:
    """The supervisor is in the path of new connections only: SIGKILL to it leaves the host
    processes serving the terminals they hold, while the port, closed with it, refuses new
    ones (a service manager starts the host again; docs/operations.md)."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=2)
    pids = _children(host.process.pid)
    try:
        terminals = [host.terminal("10000001", sign_on=False) for _ in range(4)]
        assert sorted(_per_process(_held_when(pids, host.address[1], lambda held: len(held) == 4),
                                   pids).values()) == [2, 2]
        host.process.kill()
        host.process.wait()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(host.address, timeout=15)
        card = host.card("unionpay-debit")
        for t in terminals:   # one TID: each signs on just before its sale
            assert t.sign_on()["39"] == "00"
            assert t.sale(card, 100)["39"] == "00"
            t.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and host.log().count("the supervisor closed its socket pair") < 2:
            time.sleep(0.05)
        assert host.log().count("the supervisor closed its socket pair: no new connections") == 2
    finally:
        for pid in pids:   # as a service manager stops what is left of the service
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in pids:
            while Path(f"/proc/{pid}").exists() and Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z":
                time.sleep(0.05)


@pytest.mark.skipif(sys.platform != "linux", reason="sets another process's descriptor limit (prlimit)")
def test_a_supervisor_out_of_descriptors_pauses_accepting_then_goes_on(pg_url: str, tmp_path: Path) -> None:
    """With its descriptor limit at the descriptors it holds, the supervisor cannot accept: it
    logs it and pauses, the terminal waits in the port's backlog, and once the limit is back
    the terminal is handed on and served."""
    host = start_host(make_config(tmp_path / "config"), tmp_path, pg_url, processes=2)
    try:
        supervisor = host.process.pid
        held = {int(fd) for fd in os.listdir(f"/proc/{supervisor}/fd")}
        lowest_free = next(n for n in range(len(held) + 1) if n not in held)
        soft, hard = resource.prlimit(supervisor, resource.RLIMIT_NOFILE)
        resource.prlimit(supervisor, resource.RLIMIT_NOFILE, (lowest_free, hard))
        try:
            t = host.terminal("10000001", sign_on=False)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and "cannot accept connections" not in host.log():
                time.sleep(0.05)
            assert "cannot accept connections (Too many open files): pausing" in host.log()
        finally:
            resource.prlimit(supervisor, resource.RLIMIT_NOFILE, (soft, hard))
        assert t.sign_on()["39"] == "00"
        t.close()
        assert host.process.poll() is None
    finally:
        host.stop()


@pytest.mark.slow
def test_postgresql_restarted_under_load_gets_96_then_the_host_reconnects(tmp_path: Path) -> None:
    with running_cluster() as cluster:
        url = cluster.create_database()
        host = start_host(_load_config(tmp_path / "config", 4), tmp_path, url, processes=2)
        try:
            tills = [Till(host, i, [host.address]) for i in range(4)]

            def restart() -> None:
                while sum(len(t.answers) for t in tills) < 40:
                    time.sleep(0.01)
                cluster.restart(down_for=1.5)

            _run_load(host, tills, 150, restart)
            counts = _reconcile(host, tills)
            assert counts["96"] > 0, counts                     # the outage was seen
            last = [t.answers[max(t.answers)] for t in tills]
            assert last == ["00"] * len(tills), counts          # and the host came back by itself
            assert host.process.poll() is None
        finally:
            host.stop()


# --- group commit in pipeline mode ------------------------------------------------------------

def test_a_statement_postgresql_cannot_prepare_leaves_the_connection_usable(pg_url: str) -> None:
    """Statements are prepared on first use, several in one round trip: one PostgreSQL refuses
    raises its error, PostgreSQL skips the rest of that round trip, and each skipped statement
    is prepared again when it is sent again."""
    from acquirer.storage.postgres import PostgresStore

    store = PostgresStore(pg_url)
    try:
        store._x("SELECT no_such_column FROM accounts", wait=False)
        with pytest.raises(psycopg.errors.UndefinedColumn):
            store._x("SELECT COUNT(*) + 1 FROM accounts")
        assert store._x("SELECT COUNT(*) + 1 FROM accounts").fetchone() == (1,)
        assert store._x("SELECT COUNT(*) + 2 FROM accounts").fetchone() == (2,)
    finally:
        store.close()


def test_group_commit_in_pipeline_mode_rolls_back_a_failing_unit_alone(pg_url: str) -> None:
    """A unit that fails after writing, one whose statement PostgreSQL refuses inside the
    pipeline, and one that fails before the statement PostgreSQL refuses was even sent are
    rolled back alone; the group's other units commit, in one COMMIT."""
    from acquirer.commit import GroupCommit
    from acquirer.ledger import Ledger
    from acquirer.storage.postgres import PostgresStore

    store = PostgresStore(pg_url)
    try:
        ledger = Ledger(store)
        for account, kind in (("issuer:test", "issuer"), ("card:a", "cardholder"), ("merchant:m", "merchant")):
            ledger.open_account(account, kind)
        ledger.post("open", [("issuer:test", -1_000), ("card:a", 1_000)])
        group = GroupCommit(store)
        with group.unit():
            ledger.post("sale", [("card:a", -100), ("merchant:m", 100)])
        with pytest.raises(RuntimeError), group.unit():
            ledger.post("sale", [("card:a", -200), ("merchant:m", 200)])
            raise RuntimeError("the request failed after its posting")
        with pytest.raises(psycopg.errors.CheckViolation), group.unit():
            ledger.post("sale", [("card:a", -400), ("merchant:m", 400)])
            store.open_account("card:b", "no such kind", False)   # refused by the kind's CHECK
        with pytest.raises(RuntimeError), group.unit():   # a queued statement fails, nothing waited yet
            store.insert_posting(None, "sale", "now", [("card:a", -5), ("card:a", 5)])   # one leg per account
            raise RuntimeError("the request failed before anything was read")
        with group.unit():
            ledger.post("sale", [("card:a", -300), ("merchant:m", 300)])
        group.commit_now()
        assert group.commits == 1 and group.units == 2
    finally:
        store.close()
    with psycopg.connect(pg_url) as conn:
        assert dict(conn.execute("SELECT id, balance FROM accounts").fetchall()) == \
            {"issuer:test": -1_000, "card:a": 600, "merchant:m": 400}
        assert conn.execute("SELECT kind, COUNT(*) FROM postings GROUP BY kind ORDER BY kind").fetchall() == \
            [("open", 1), ("sale", 2)]
        assert conn.execute("SELECT COUNT(*) FROM accounts WHERE id = 'card:b'").fetchone() == (0,)
