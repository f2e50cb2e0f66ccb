"""`pos daemon`: register request to answer, memory after many payments, start to READY.

The daemon runs as its own process (`--simulate`, the simulated customer
presenting at once: `customer_delay_s = 0`) against a real `acquirer serve`
on loopback, as on the counter box. The register is a Python HTTPS client on
one kept-alive connection (the TLS handshake is paid once, as by a register
that keeps its connection); each nexo Payment is timed from the request's
first byte to the answer's last: the tap on the simulated PN532 (nfcpy,
kernel, ARQC), the ECR log and journal writes, the host round trip, the
receipt text. That is software time only: the simulated customer presents
at once (`customer_delay_s = 0`, where `--simulate` waits 0.3 s as a person
would), the simulated card answers each APDU at once, and the receipt's paper
comes out after the answer (the daemon's printer prints in the background).
The details also give the daemon's CPU time per payment (user + system, from
/proc/<pid>/stat; it includes the simulated reader and printer, which run in
the daemon's process), a figure a loaded machine does not inflate as much as
wall time. RSS is the daemon process's VmRSS after the payments; start to
READY is from process spawn to the READY=1 datagram on a fake NOTIFY_SOCKET.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from tests.bench import Row
from tests.daemon.support import API_KEY, Daemon, payment
from tests.pos.support import AcquirerServer, make_config


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of the process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _payments(daemon: Daemon, count: int) -> list[float]:
    context = ssl.create_default_context(cafile=str(daemon.cert))
    conn = http.client.HTTPSConnection(*daemon.address, context=context, timeout=60)
    times = []
    for _ in range(count):
        body = json.dumps(payment("0.01", f"BENCH-{uuid.uuid4().hex}"), default=float).encode()
        start = time.perf_counter()
        conn.request("POST", "/nexo", body, {"X-API-Key": API_KEY, "Content-Type": "application/json"})
        answer = json.loads(conn.getresponse().read())
        times.append(time.perf_counter() - start)
        result = answer["SaleToPOIResponse"]["PaymentResponse"]["Response"]
        if result["Result"] != "Success":
            raise RuntimeError(f"benchmark payment failed: {result}")
    conn.close()
    return times


def _start_to_ready(root: Path, config_dir: Path, host: str) -> float:
    path = root / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(120)
    daemon = Daemon(root / "ready-state", config_dir=config_dir, host=host, env={"NOTIFY_SOCKET": str(path)})
    start = time.perf_counter()
    daemon.start()
    try:
        while b"READY=1" not in sock.recv(4096):
            pass
        return time.perf_counter() - start
    finally:
        daemon.stop()
        sock.close()


def run(quick: bool) -> list[Row]:
    count = 100 if quick else 1000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config_dir = make_config(root / "config")
        (config_dir / "daemon.toml").write_text("[daemon]\ncustomer_delay_s = 0.0\n")
        with AcquirerServer(config_dir, root / "acquirer.db") as server:
            ready_s = _start_to_ready(root, config_dir, server.address)
            daemon = Daemon(root / "state", config_dir=config_dir, host=server.address).start()
            try:
                assert daemon.proc is not None
                times = _payments(daemon, 10)
                rss_start, cpu_start = _rss_mb(daemon.proc.pid), _cpu_s(daemon.proc.pid)
                times = _payments(daemon, count)
                rss, cpu_ms = _rss_mb(daemon.proc.pid), (_cpu_s(daemon.proc.pid) - cpu_start) * 1000 / count
            finally:
                daemon.stop()
    ms = sorted(t * 1000 for t in times)
    p50, p99 = statistics.median(ms), ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return [
        Row("pos daemon: nexo Payment, tapped virtual card", f"{p50:.1f} ms p50",
            f"p99 {p99:.1f} ms, daemon CPU {cpu_ms:.1f} ms/payment, {count} payments, HTTPS keep-alive, "
            "loopback acquirer serve",
            "p99 < 150 ms"),
        Row("pos daemon: RSS after the payments", f"{rss:.0f} MB", f"after {count} payments ({rss_start:.0f} MB after the first 10)", "< 100 MB"),
        Row("pos daemon: start to READY", f"{ready_s:.2f} s", "spawn to READY=1 (reader, sign-on, listener)", ""),
    ]
