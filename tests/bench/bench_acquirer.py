"""Acquirer throughput and latency: N simulated terminals over loopback against `acquirer serve`.

What is measured: contactless UnionPay sales (field 55 with a real ARQC, a
real MAC, one card per terminal with rising ATCs) against a real `acquirer
serve` subprocess with a fresh database in WAL mode, synchronous=NORMAL, whose
replies are sent only after their postings are committed (group commit).

The load runs in a separate process (multiprocessing, spawn) so it has the
other core, and is kept light so it leaves the host its own: it signs every
terminal on, signs every frame before the clock starts, and reads each reply
only as far as its STAN and response code (bitmap + fixed field widths). Every
reply must match a request in flight by STAN; only 39 = 00 counts as an
authorization (other codes are reported). Then

1. max throughput: every connection keeps `WINDOW` requests in flight;
2. half rate: open loop at half the measured throughput, spread over the
   connections, to see latency when the host is not saturated;
3. the cost of `[limits]`: phase 1 on hosts whose limits never bind
   (`UNBOUNDED_LIMITS`), one run before and one after the measured host,
   against the host with the default limits.

Beside them, the ceiling of the protocol layer alone in the same run: one
sale request encoded and decoded by pyiso8583 (through `codec`) per loop.
"""
from __future__ import annotations

import asyncio
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from acquirer.protocol.spec import BITMAP_OFFSET, FIELDS, FIELDS_OFFSET
from tests.bench import Row

#: bytes on the wire of each fixed field (None: variable), for reading replies cheaply
_WIRE_LEN = {f.number: f.wire_len for f in FIELDS}
TERMINALS = 16
WINDOW = 8                     # requests in flight per connection at max throughput
REPO = Path(__file__).resolve().parents[2]
IMK = "17B06C51B1B846FC60C3FB1DDA2DB78A"   # TEST KEY (the UnionPay test issuer's)
MID = "898310048990001"


def _terminal(i: int) -> dict:
    return {"tid": f"{90000000 + i}", "mid": MID, "tmk": f"{i:02X}" * 16,
            "mac": "ecb" if i % 2 else "x919"}


def _card(i: int) -> dict:
    return {"name": f"bench-{i}", "pan": f"62148399{i:010d}0", "psn": "01", "expiry": "3012"}


def _bench_config(directory: Path, terminals: int) -> Path:
    directory.mkdir()
    shutil.copy(REPO / "config" / "acquirer.toml", directory / "acquirer.toml")
    shutil.copy(REPO / "config" / "cards.toml", directory / "cards.toml")
    with (directory / "acquirer.toml").open("a") as f:
        for i in range(terminals):
            t = _terminal(i)
            f.write(f'\n[[terminal]]\ntid = "{t["tid"]}"\nmid = "{MID}"\ntmk = "{t["tmk"]}"   # TEST KEY\n'
                    f'mac = "{t["mac"]}"\n')
    with (directory / "cards.toml").open("a") as f:
        for i in range(terminals):
            c = _card(i)
            f.write(f'\n[[card]]\nname = "{c["name"]}"\nscheme = "unionpay"\nproduct = "debit"\n'
                    f'issuer = "cup-bank"\npan = "{c["pan"]}"\npsn = "01"\nexpiry = "3012"\n'
                    f'pin = "123456"\nbalance = 100000000000\nimk_ac = "{IMK}"   # TEST KEY\n')
    return directory


def _codec_ceiling(seconds: float) -> float:
    """Sale requests encoded + decoded per second by the protocol layer alone."""
    from acquirer.protocol import codec
    msg = _sample_sale()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(200):
            codec.decode(codec.encode(msg))
        count += 200
    return count / (time.perf_counter() - start)


def _sample_sale() -> dict[str, str]:
    from acquirer.protocol.messages import CardInput, FinancialRequest, Terminal
    from acquirer.protocol.transactions import TxnType
    from tests.acquirer.terminal import TestCard
    card = TestCard(_card_config(0))
    request = FinancialRequest(TxnType.SALE, Terminal("90000000", MID), "000001", "000001",
                               CardInput("072", track2=card.track2(), psn="001", icc=card.icc(100)), 100)
    msg = request.to_message()
    msg["64"] = "00" * 8
    return msg


def _card_config(i: int):
    from acquirer.config import Card
    c = _card(i)
    return Card(name=c["name"], scheme="unionpay", product="debit", issuer="cup-bank", pan=c["pan"],
                psn="01", expiry="3012", pin="123456", opening_balance=10**11, per_txn_limit=None,
                aid="", label="", imk_ac=bytes.fromhex(IMK), cvn=None, status="active")


# --- the load process -------------------------------------------------------------------

def _sign_on(address, i: int):
    """A connected socket whose terminal is signed on, its working keys and the host's batch."""
    from acquirer.protocol import codec
    from acquirer.protocol.fields import Field60
    from acquirer.protocol.framing import recv_frame, send_frame
    from acquirer.protocol.keys import unpack_field62
    from acquirer.protocol.messages import SignOn, Terminal
    t = _terminal(i)
    sock = socket.create_connection(address)
    send_frame(sock, codec.encode(SignOn(Terminal(t["tid"], MID), "000001", "000001").to_message()))
    reply = codec.decode(recv_frame(sock, 4096))
    assert reply["39"] == "00", f"sign-on of {t['tid']}: {reply['39']}"
    keys = unpack_field62(bytes.fromhex(t["tmk"]), bytes.fromhex(reply["62"]))
    return sock, keys, Field60.parse(reply["60"]).batch


def _frames(i: int, keys, batch: str, count: int, first_stan: int, card) -> list[tuple[str, bytes]]:
    from acquirer.protocol import codec
    from acquirer.protocol.framing import frame
    from acquirer.protocol.messages import CardInput, FinancialRequest, Terminal
    from acquirer.protocol.transactions import TxnType
    t = _terminal(i)
    out = []
    for n in range(count):
        stan = f"{first_stan + n:06d}"
        request = FinancialRequest(TxnType.SALE, Terminal(t["tid"], MID), stan, batch,
                                   CardInput("072", track2=card.track2(), psn="001", icc=card.icc(1)), 1)
        out.append((stan, frame(codec.sign(request.to_message(), t["mac"], keys.mac))))
    return out


def _stan_and_code(payload: bytes) -> tuple[str, str]:
    """STAN (11) and response code (39) of a reply, read by the bitmap and the fixed
    widths of the fields before 39 -- a fraction of a whole decode, so the load
    process stays light. Replies with a variable field before 39 (none of the
    host's do) fall back to the codec."""
    bitmap = int.from_bytes(payload[BITMAP_OFFSET:FIELDS_OFFSET], "big")
    offset, stan = FIELDS_OFFSET, ""
    for number in range(2, 40):
        if not bitmap >> (64 - number) & 1:
            continue
        width = _WIRE_LEN[number]
        if width is None:
            from acquirer.protocol import codec
            reply = codec.decode(payload)
            return reply["11"], reply["39"]
        if number == 11:
            stan = payload[offset:offset + width].hex()
        elif number == 39:
            return stan, payload[offset:offset + width].decode("ascii")
        offset += width
    raise ValueError("reply without field 39")


class _LoadConnection(asyncio.Protocol):
    """One simulated terminal: sends its signed frames, matches every reply by STAN.

    Windowed (`window` requests in flight, the next sent as each reply arrives;
    the frames freed by one read go out in one write, as a pipelining terminal
    would send what it has ready) or paced (frame n sent at `start + n *
    interval`). A reply counts as an
    authorization only with 39 = 00; any other code is tallied, and a reply
    whose STAN is not in flight fails the run.
    """

    def __init__(self) -> None:
        self.buffer = b""
        self.done: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def run(self, frames: list[tuple[str, bytes]], window: int | None, interval: float | None,
            start: float) -> asyncio.Future[None]:
        self.frames, self.next, self.window = frames, 0, window
        self.sent: dict[str, float] = {}
        self.latencies: list[float] = []
        self.codes: dict[str, int] = {}
        loop = asyncio.get_running_loop()
        self.done = loop.create_future()
        if window:
            self.transport.write(b"".join(self._take() for _ in range(min(window, len(frames)))))
        else:
            for n in range(len(frames)):
                loop.call_at(start + n * interval, self._send)
        return self.done

    def _take(self) -> bytes:
        """The next frame, timed from now."""
        stan, data = self.frames[self.next]
        self.next += 1
        self.sent[stan] = time.perf_counter()
        return data

    def _send(self) -> None:
        self.transport.write(self._take())

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data
        now = time.perf_counter()
        start = 0
        ready = []
        while len(buffer) - start >= 2:
            end = start + 2 + int.from_bytes(buffer[start:start + 2], "big")
            if len(buffer) < end:
                break
            stan, code = _stan_and_code(buffer[start + 2:end])
            self.latencies.append(now - self.sent.pop(stan))   # KeyError: a reply nobody asked for
            self.codes[code] = self.codes.get(code, 0) + 1
            start = end
            if self.window and self.next < len(self.frames):
                ready.append(self._take())
        if ready:
            self.transport.write(b"".join(ready))
        self.buffer = buffer[start:]
        if len(self.latencies) == len(self.frames) and not self.done.done():
            self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.done is not None and not self.done.done():
            self.done.set_exception(ConnectionError(f"host closed a connection: {exc}"))


async def _phase(connections: list[_LoadConnection], frames_per_connection, window, interval) -> dict:
    loop = asyncio.get_running_loop()
    begin = loop.time() + 0.01
    start = time.perf_counter()
    cpu = time.process_time()
    await asyncio.gather(*(c.run(f, window, interval, begin + (i / len(connections)) * (interval or 0))
                           for i, (c, f) in enumerate(zip(connections, frames_per_connection))))
    elapsed = time.perf_counter() - start
    latencies = sorted(x for c in connections for x in c.latencies)
    codes: dict[str, int] = {}
    for c in connections:
        for code, count in c.codes.items():
            codes[code] = codes.get(code, 0) + count
    return {"rate": codes.get("00", 0) / elapsed, "n": len(latencies), "codes": codes,
            "load_cpu": (time.process_time() - cpu) / len(latencies),
            "p50": latencies[len(latencies) // 2] * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000}


async def _load_async(address, terminals: int, warmup: int, full: int) -> dict:
    from tests.acquirer.terminal import TestCard
    sessions = [_sign_on(address, i) for i in range(terminals)]
    cards = [TestCard(_card_config(i)) for i in range(terminals)]
    plan = []
    for i, (_, keys, batch) in enumerate(sessions):
        frames = _frames(i, keys, batch, warmup + 2 * full, 2, cards[i])
        plan.append((frames[:warmup], frames[warmup:warmup + full], frames[warmup + full:]))
    loop = asyncio.get_running_loop()
    connections = []
    for sock, _, _ in sessions:   # each signed-on socket goes to a light protocol
        sock.setblocking(False)
        _, protocol = await loop.create_connection(_LoadConnection, sock=sock)
        connections.append(protocol)
    warm = await _phase(connections, [p[0] for p in plan], WINDOW, None)
    peak = await _phase(connections, [p[1] for p in plan], WINDOW, None)
    half_rate = peak["rate"] / 2
    half = await _phase(connections, [p[2][:max(1, int(len(p[2]) * 0.6))] for p in plan], None,
                        terminals / half_rate)
    for connection in connections:
        connection.transport.close()
    return {"peak": peak, "half": half, "half_target": half_rate, "warmup_n": warm["n"]}


def _load(address, terminals: int, warmup: int, full: int) -> dict:
    return asyncio.run(_load_async(tuple(address), terminals, warmup, full))


# --- the host process ---------------------------------------------------------------------

def _start_host(config_dir: Path, workdir: Path, db: str | None = None,
                processes: int = 1) -> tuple[subprocess.Popen, tuple[str, int], Path]:
    log_path = workdir / "acquirer.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "acquirer", "serve", "--port", "0", "--db", db or str(workdir / "bench.db"),
             "--processes", str(processes), "--config", str(config_dir), "--log-level", "INFO"],
            stdout=subprocess.PIPE, stderr=log, text=True, cwd=REPO)
    line = process.stdout.readline()
    if not line.startswith("acquirer listening on "):
        process.kill()
        raise RuntimeError(f"acquirer serve did not start: {line!r} {log_path.read_text()}")
    host, port = line.rsplit(" ", 1)[1].strip().rsplit(":", 1)
    return process, (host, int(port)), log_path


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _host_processes(pid: int) -> list[int]:
    """The host and its descendants (protocol workers; with --processes, the host processes
    and theirs): all of their CPU is the host's. The first is the one that serves alone."""
    return [pid, *(p for child in _children(pid) for p in _host_processes(child))]


def _cpu_by_process(pids: list[int]) -> list[float]:
    return [_cpu_seconds(pid) for pid in pids]


#: `[limits]` so high that none of them ever stops a connection: the host as it was without them
UNBOUNDED_LIMITS = ("\n[limits]\nmax_in_flight = 1000000\nmax_in_flight_total = 1000000\n"
                    "max_reply_buffer = 1000000000\nrate_per_s = 1000000000\nburst = 1000000000\n"
                    "strikes = 1000000000\n")


def _postgres_cpu(datadir: Path) -> float:
    """CPU seconds of a PostgreSQL cluster: the postmaster and every process it started
    (backends, WAL writer, checkpointer, autovacuum)."""
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    total = 0.0
    for pid in [postmaster, *(int(c) for c in Path(f"/proc/{postmaster}/task/{postmaster}/children").read_text().split())]:
        try:
            total += _cpu_seconds(pid)
        except FileNotFoundError:   # a backend that ended meanwhile
            pass
    return total


def _measure(quick: bool, limits: str = "", db: str | None = None, processes: int = 1,
             terminals: int = TERMINALS, pg_datadir: Path | None = None) -> tuple[dict, list[float], list[str]]:
    """One host (with `limits` appended to its configuration; on SQLite, or on the PostgreSQL
    database `db` with `processes` host processes) under the load process. With `pg_datadir`,
    the cluster's CPU over the run is the last item of the CPU list."""
    full = (100 if quick else 800) * TERMINALS // terminals   # sales per terminal at max throughput
    warmup = 10 if quick else 50
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config_dir = _bench_config(workdir / "config", terminals)
        with (config_dir / "acquirer.toml").open("a") as f:
            f.write(limits)
        process, address, log_path = _start_host(config_dir, workdir, db, processes)
        try:
            pids = _host_processes(process.pid)
            # with a supervisor, each host process with its protocol workers, to show the spread
            groups = ([_host_processes(child) for child in _children(process.pid)] if processes > 1 else [])
            cpu_before = _cpu_by_process(pids)
            pg_before = _postgres_cpu(pg_datadir) if pg_datadir else 0.0
            with multiprocessing.get_context("spawn").Pool(1) as pool:
                result = pool.apply_async(_load, (address, terminals, warmup, full)).get(timeout=900)
            cpu_used = [after - before for after, before in zip(_cpu_by_process(pids), cpu_before)]
            by_pid = dict(zip(pids, cpu_used))
            result["split"] = [sum(by_pid[pid] for pid in group) for group in groups]
            if pg_datadir:
                cpu_used.append(_postgres_cpu(pg_datadir) - pg_before)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        stats = [line for line in log_path.read_text().splitlines() if "group commit" in line]
    return result, cpu_used, stats


def _answered(result: dict, terminals: int = TERMINALS) -> int:
    """Requests the host answered in a run: sign-ons and sales."""
    return terminals + result["warmup_n"] + result["peak"]["n"] + result["half"]["n"]


#: host processes on PostgreSQL that `make bench` measures
PG_PROCESSES = (1, 2, 4)


def run(quick: bool) -> list[Row]:
    """The rows of `make bench`: SQLite as before, then PostgreSQL with 1, 2 and 4 processes."""
    return _sqlite_rows(quick) + postgres_rows(quick)


def _sqlite_rows(quick: bool) -> list[Row]:
    ceiling = _codec_ceiling(0.5 if quick else 2.0)
    # the cost of the limits: the same load on a host whose limits never bind, before and after
    unbounded = [_measure(quick, UNBOUNDED_LIMITS)]
    result, cpu_used, stats = _measure(quick)
    unbounded.append(_measure(quick, UNBOUNDED_LIMITS))
    peak, half = result["peak"], result["half"]
    answered = _answered(result)
    cpu_per_request = sum(cpu_used) / answered * 1e6
    cpu_split = (f" (host process {cpu_used[0] / answered * 1e6:.0f}, protocol workers "
                 f"{sum(cpu_used[1:]) / answered * 1e6:.0f})" if len(cpu_used) > 1 else "")
    declined = {k: v for k, v in {**peak["codes"], **half["codes"]}.items() if k != "00"}
    free_rate = sum(u[0]["peak"]["rate"] for u in unbounded) / len(unbounded)
    free_cpu = sum(sum(u[1]) / _answered(u[0]) * 1e6 for u in unbounded) / len(unbounded)
    commit_note = stats[-1].split("group commit: ", 1)[1] if stats else ""
    conditions = (f"{TERMINALS} terminals x {WINDOW} in flight, WAL + synchronous=NORMAL, "
                  f"reply after commit; {os.cpu_count()} CPUs")
    return [
        Row(f"acquirer: durable sales, max throughput ({TERMINALS} terminals)",
            f"{peak['rate']:,.0f} auth/s",
            f"p50 {peak['p50']:.1f} ms, p99 {peak['p99']:.1f} ms, n={peak['n']}; "
            f"host CPU {cpu_per_request:.0f} µs per request{cpu_split}, load {peak['load_cpu'] * 1e6:.0f} µs; "
            f"{conditions}"
            + (f"; declines {declined}" if declined else ""),
            ">= 2,000 auth/s"),
        Row("acquirer: durable sales at half that rate",
            f"p99 {half['p99']:.1f} ms",
            f"p50 {half['p50']:.1f} ms at {half['rate']:,.0f} auth/s (target {result['half_target']:,.0f}), "
            f"n={half['n']}; {commit_note}",
            "p99 < 20 ms"),
        Row("acquirer: cost of the limits at their defaults",
            f"{cpu_per_request / free_cpu - 1:+.1%} host CPU per request",
            f"{cpu_per_request:.0f} vs {free_cpu:.0f} µs per request, max throughput "
            f"{peak['rate']:,.0f} vs {free_rate:,.0f} auth/s ({peak['rate'] / free_rate - 1:+.1%}): the default "
            f"limits vs limits that never bind (mean of a run before and one after)",
            "< 5%"),
        Row("pyiso8583 encode+decode ceiling (same run)", f"{ceiling:,.0f} msg/s",
            "one sale request with field 55 through acquirer.protocol.codec, one core", ""),
    ]


def postgres_rows(quick: bool, processes: tuple[int, ...] = PG_PROCESSES, terminals: int = TERMINALS) -> list[Row]:
    """The same load on PostgreSQL (a throw-away cluster on this machine, fsync on, a fresh
    database per run) with each number of host processes."""
    from tests.pgcluster import running_cluster

    rows = []
    with running_cluster() as cluster:
        for count in processes:
            result, cpu_used, stats = _measure(quick, db=cluster.create_database(), processes=count,
                                               terminals=terminals, pg_datadir=cluster.datadir)
            answered = _answered(result, terminals)
            host_cpu, pg_cpu = sum(cpu_used[:-1]) / answered * 1e6, cpu_used[-1] / answered * 1e6
            units = sum(int(line.split("group commit: ", 1)[1].split()[0]) for line in stats)
            commits = sum(int(line.rsplit(" in ", 1)[1].split()[0]) for line in stats)
            peak, half = result["peak"], result["half"]
            declined = {k: v for k, v in {**peak["codes"], **half["codes"]}.items() if k != "00"}
            split = result["split"]
            spread = ("; host CPU split over the processes " + "/".join(
                f"{100 * cpu / max(sum(split), 1e-9):.0f}" for cpu in split) + " %") if split else ""
            rows.append(Row(
                f"acquirer on PostgreSQL, {count} process{'es' if count > 1 else ''}: durable sales",
                f"{peak['rate']:,.0f} auth/s",
                f"p50 {peak['p50']:.1f} ms, p99 {peak['p99']:.1f} ms at peak; half rate "
                f"({half['rate']:,.0f} auth/s) p50 {half['p50']:.1f} ms, p99 {half['p99']:.1f} ms; "
                f"CPU per request: host {host_cpu:.0f} µs, PostgreSQL {pg_cpu:.0f} µs; "
                f"{units / max(commits, 1):.1f} requests per COMMIT{spread}; "
                f"{terminals} terminals x {WINDOW} in flight; {os.cpu_count()} CPUs"
                + (f"; declines {declined}" if declined else ""),
                ">= 2,000 auth/s"))
    return rows


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.bench.bench_acquirer [--quick] [--processes 1,2,4] [--terminals 16] [--postgres-only]`:
    the rows of `make bench`, sized for another machine."""
    import argparse

    from rich.console import Console
    from rich.table import Table

    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_acquirer")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--processes", default=",".join(map(str, PG_PROCESSES)),
                        help="host process counts to run on PostgreSQL, comma-separated")
    parser.add_argument("--terminals", type=int, default=TERMINALS, help="simulated terminals (connections)")
    parser.add_argument("--postgres-only", action="store_true", help="skip the SQLite rows")
    args = parser.parse_args(argv)
    processes = tuple(int(p) for p in args.processes.split(",") if p)
    rows = [] if args.postgres_only else _sqlite_rows(args.quick)
    rows += postgres_rows(args.quick, processes, args.terminals)
    table = Table(title="acquirer benchmarks")
    for column in ("benchmark", "result", "detail", "target"):
        table.add_column(column)
    for row in rows:
        table.add_row(row.name, row.value, row.detail, row.target)
    Console().print(table)


if __name__ == "__main__":
    main()
