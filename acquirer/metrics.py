"""The host's counters: what its limits and rules refused, for an operator to watch.

prometheus-client counters in the default registry (`prometheus_client.generate_latest()`
renders them). Labels are reasons and message kinds, never card data. Each
event is also logged by the module that counts it (logger `acquirer.*`),
with the peer address or TID and STAN, never a PAN.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "AUTHORIZATIONS",
    "CONNECTIONS",
    "CONNECTIONS_CLOSED",
    "CRYPTOGRAM_MISMATCHES",
    "DATABASE_ERRORS",
    "FINANCIAL_MTIS",
    "GROUP_COMMIT_UNITS",
    "REQUESTS_THROTTLED",
    "REQUEST_SECONDS",
    "REVERSALS_REFUSED",
    "SIGNON_KEYS",
    "TRACE_REUSES",
    "UNITS_RERUN",
]

CONNECTIONS_CLOSED = Counter(
    "acquirer_connections_closed_total",
    "Connections the host closed for a reason other than the peer's own close",
    ["reason"])   # idle, slow_frame, not_reading, rate, protocol, frame_error, unanswerable
REQUESTS_THROTTLED = Counter(
    "acquirer_requests_throttled_total",
    "Times a connection's reading was stopped by a limit",
    ["limit"])    # in_flight, in_flight_total, rate, reply_buffer
CRYPTOGRAM_MISMATCHES = Counter(
    "acquirer_cryptogram_mismatches_total",
    "Requests declined because a message field differs from what the ARQC covers",
    ["field"])    # 4 (amount), 49 (currency), 3 (transaction type)
TRACE_REUSES = Counter(
    "acquirer_trace_reuses_total",
    "Requests refused because their STAN was already used by another transaction")
REVERSALS_REFUSED = Counter(
    "acquirer_reversals_refused_total",
    "Reversals that undid nothing because they do not match their original",
    ["outcome"])
SIGNON_KEYS = Counter(
    "acquirer_signon_keys_total",
    "Sign-on key sets issued, taken into use, or dropped unused",
    ["event"])    # issued, used, dropped


# --- throughput, latency and the database (issue 13) ----------------------------------------------
#
# Several host processes (`acquirer serve --processes N`) each count in files under
# PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode, set by `serve` before this
# module is imported); `--metrics-port` serves the sum over the processes (`metrics_app`).

AUTHORIZATIONS = Counter(
    "acquirer_authorizations_total",
    "Financial requests (0100/0200) answered, by request MTI and response code",
    ["mti", "code"])
REQUEST_SECONDS = Histogram(
    "acquirer_request_seconds",
    "Time from a request's payload to its reply (every message kind), durable writes included",
    buckets=(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0))
GROUP_COMMIT_UNITS = Histogram(
    "acquirer_group_commit_units",
    "Requests' units committed together by one COMMIT (group commit)",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512))
CONNECTIONS = Gauge(
    "acquirer_connections", "Terminal connections open", multiprocess_mode="livesum")
DATABASE_ERRORS = Counter(
    "acquirer_database_errors_total",
    "Requests the database failed: unavailable (answered 96), commit failed (96), outcome unknown (not answered)",
    ["kind"])   # unavailable, commit_failed, outcome_unknown
UNITS_RERUN = Counter(
    "acquirer_units_rerun_total",
    "Financial requests whose speculative unit found an assumed check false (a decline, a duplicate) "
    "and ran again reading each result (PostgreSQL)")

FINANCIAL_MTIS = frozenset({"0100", "0200"})
