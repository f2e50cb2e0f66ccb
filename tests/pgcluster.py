"""A throw-away PostgreSQL cluster on loopback, for the tests and the benchmarks.

Why by hand: the Debian `postgresql` package (installed by `make setup`) ships
`initdb` and `pg_ctl` but no way to run a private cluster from a test run, and
PostgreSQL refuses to run as root, which is how CI runs. So a cluster is made
with `initdb` in a fresh directory under /tmp, owned by the `postgres` user when
we are root (by us otherwise), and started with `pg_ctl` listening on 127.0.0.1
only, on a port the kernel just handed out, with its socket in the directory.
Trust authentication is safe here: only loopback, only for the run's lifetime.

Each test gets its own database (`create_database`), copied from a template the
cluster keeps, so tests never see each other's rows.
"""
from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["Cluster", "start_cluster"]

_SUPERUSER = "tillkit"


def _bindir() -> Path:
    """The newest installed server's programs (Debian keeps them out of PATH)."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parent.parent.name))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("PostgreSQL is not installed: run `make setup` (it installs the Debian `postgresql` package)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A running cluster: `url(name)` of a database in it, `create_database()`, `restart()`, `stop()`."""

    def __init__(self, datadir: Path, port: int, as_user: str | None) -> None:
        self.datadir = datadir
        self.port = port
        self._as_user = as_user
        self._bin = _bindir()

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self._bin / args[0]), *args[1:]]
        if self._as_user:
            command = ["runuser", "-u", self._as_user, "--", *command]
        return subprocess.run(command, check=check, capture_output=True, text=True, cwd="/")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{_SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.datadir} "
                   "-c max_connections=200 -c shared_buffers=32MB -c fsync=on")
        result = self._run("pg_ctl", "-D", str(self.datadir), "-l", str(self.datadir / "server.log"),
                           "-o", options, "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            log = (self.datadir / "server.log").read_text() if (self.datadir / "server.log").exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{log[-2000:]}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def restart(self, down_for: float = 0.0) -> None:
        """Stop the server (fast: open connections are cut) and start it again after `down_for` s."""
        self.stop()
        time.sleep(down_for)
        self.start()

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql,
                                 self.url(database)], check=True, capture_output=True, text=True)
        return result.stdout.strip()

    def create_database(self, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); returns its URL."""
        name = f"t_{uuid.uuid4().hex[:16]}"
        self.psql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def start_cluster(base: str | None = None) -> Cluster:
    """initdb + start a cluster in a new directory under `base` (default: the temp dir)."""
    root = Path(tempfile.mkdtemp(prefix="tillkit-pg-", dir=base))
    datadir = root / "data"
    as_user = "postgres" if os.geteuid() == 0 else None
    if as_user:
        shutil.chown(root, user=as_user)
        os.chmod(root, 0o755)
    cluster = Cluster(datadir, _free_port(), as_user)
    result = cluster._run("initdb", "-D", str(datadir), "-U", _SUPERUSER, "--auth=trust",
                          "--encoding=UTF8", "--locale=C", "--no-sync", check=False)
    if result.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {result.stderr}")
    for attempt in range(5):   # the port may be taken between picking and binding it
        try:
            cluster.start()
            break
        except RuntimeError:
            if attempt == 4:
                raise
            cluster.port = _free_port()
    return cluster


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.destroy()
