"""`pos daemon --simulate` as a process on loopback, and a plain HTTPS client for it."""
from __future__ import annotations

import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
API_KEY = "register-key-1"
KEY_ID, KEY_VERSION, PASSPHRASE = "CryptoKeyIdentifier12345", 1, "p@ssw0rd123456"
POS = [sys.executable, "-m", "pos.cli.main"]


def pos_command(state_dir: Path, *args: str) -> list[str]:
    return [*POS, "--state-dir", str(state_dir), *args]


class Daemon:
    """One daemon on a state directory (kept across restarts)."""

    def __init__(self, state_dir: Path, *extra: str, env: dict[str, str] | None = None,
                 python: str = sys.executable, config_dir: Path | None = None, host: str | None = None) -> None:
        self.state_dir = state_dir
        self.extra = extra
        self.globals = [*(["--config", str(config_dir)] if config_dir else []), *(["--host", host] if host else [])]
        self.env = {**os.environ, **(env or {})}
        self.python = python
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = state_dir / "daemon-test.log"

    def command(self) -> list[str]:
        return [self.python, "-m", "pos.cli.main", *self.globals, "--state-dir", str(self.state_dir), "daemon", "--simulate",
                "--listen", "127.0.0.1:0", "--api-key", API_KEY, "--key-id", KEY_ID,
                "--key-version", str(KEY_VERSION), "--passphrase", PASSPHRASE, *self.extra]

    def start(self, timeout_s: float = 60.0) -> Daemon:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "daemon.addr").unlink(missing_ok=True)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.command(), cwd=REPO, env=self.env, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout_s
        while not (self.state_dir / "daemon.addr").exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited {self.proc.returncode}: {self.log_path.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"daemon not ready: {self.log_path.read_text()[-3000:]}")
            time.sleep(0.05)
        return self

    @property
    def address(self) -> tuple[str, int]:
        host, _, port = (self.state_dir / "daemon.addr").read_text().strip().rpartition(":")
        return host, int(port)

    @property
    def cert(self) -> Path:
        return self.state_dir / "tls" / "daemon.crt"

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def post(self, body: bytes | dict[str, Any], *, api_key: str | None = API_KEY, path: str = "/nexo",
             headers: dict[str, str] | None = None, timeout_s: float = 60.0) -> tuple[int, Any]:
        context = ssl.create_default_context(cafile=str(self.cert))
        host, port = self.address
        conn = http.client.HTTPSConnection(host, port, context=context, timeout=timeout_s)
        data = body if isinstance(body, bytes) else json.dumps(body, default=float).encode()
        sent = {"Content-Type": "application/json", **(headers or {})}
        if api_key is not None:
            sent["X-API-Key"] = api_key
        try:
            conn.request("POST", path, data, sent)
            reply = conn.getresponse()
            raw = reply.read()
        finally:
            conn.close()
        if reply.getheader("Content-Type", "").startswith("application/json"):
            return reply.status, json.loads(raw, parse_float=Decimal)
        return reply.status, raw or None


def header(category: str, service_id: str | None = None, sale_id: str = "REG1") -> dict[str, str]:
    return {"ProtocolVersion": "3.0", "MessageClass": "Service", "MessageCategory": category,
            "MessageType": "Request", "SaleID": sale_id, "ServiceID": service_id or uuid.uuid4().hex[:10],
            "POIID": "TILLKIT-10000001"}


def payment(amount: str, transaction_id: str, *, refund: bool = False, service_id: str | None = None,
            currency: str = "CNY") -> dict[str, Any]:
    body: dict[str, Any] = {
        "SaleData": {"SaleTransactionID": {"TransactionID": transaction_id, "TimeStamp": "2026-12-04T10:00:00Z"}},
        "PaymentTransaction": {"AmountsReq": {"Currency": currency, "RequestedAmount": Decimal(amount)}}}
    if refund:
        body["PaymentData"] = {"PaymentType": "Refund"}
    return {"SaleToPOIRequest": {"MessageHeader": header("Payment", service_id), "PaymentRequest": body}}


def request(category: str, body: dict[str, Any], service_id: str | None = None) -> dict[str, Any]:
    return {"SaleToPOIRequest": {"MessageHeader": header(category, service_id), f"{category}Request": body}}


def response_of(answer: Any, category: str) -> dict[str, Any]:
    body: dict[str, Any] = answer["SaleToPOIResponse"][f"{category}Response"]
    return body


def queue(state_dir: Path, *action: str, config_dir: Path | None = None) -> None:
    config = ["--config", str(config_dir)] if config_dir else []
    subprocess.run([*POS, *config, "--state-dir", str(state_dir), "sim", "customer", *action], cwd=REPO,
                   check=True, capture_output=True)
