"""`acquirer serve --metrics-port`: the host's Prometheus metrics over HTTP, summed over its processes.

Why a module of its own: prometheus-client's multiprocess mode must be chosen
(PROMETHEUS_MULTIPROC_DIR) before `prometheus_client` is first imported in a
process, so `serve` calls `use_multiprocess_dir` before anything imports
`acquirer.metrics`; every host process then writes its counters to files in
that directory, and `start` serves their sum (`MultiProcessCollector`) from
the supervisor (or from the only process). A dead process's live gauges are
dropped with `process_dead`.
"""
from __future__ import annotations

import os
import shutil
import tempfile

__all__ = ["process_dead", "start", "use_multiprocess_dir"]

_ENV = "PROMETHEUS_MULTIPROC_DIR"


def use_multiprocess_dir() -> str:
    """A fresh, empty directory for this host's metric files (set in the environment)."""
    directory = tempfile.mkdtemp(prefix="acquirer-metrics-")
    os.environ[_ENV] = directory
    return directory


def remove_multiprocess_dir(directory: str) -> None:
    shutil.rmtree(directory, ignore_errors=True)


def start(address: str, port: int) -> tuple[str, int]:
    """Serve GET /metrics on `address:port` from a thread; returns the bound address."""
    from prometheus_client import CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    server, _ = start_http_server(port, address, registry=registry)
    bound = server.server_address
    return str(bound[0]), int(bound[1])


def process_dead(pid: int) -> None:
    from prometheus_client import multiprocess
    multiprocess.mark_process_dead(pid)
