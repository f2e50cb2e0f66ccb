"""The host's counters: what its limits and rules refused, for an operator to watch.

prometheus-client counters in the default registry (`prometheus_client.generate_latest()`
renders them). Labels are reasons and message kinds, never card data. Each
event is also logged by the module that counts it (logger `acquirer.*`),
with the peer address or TID and STAN, never a PAN.
"""
from __future__ import annotations

from prometheus_client import Counter, Gauge

__all__ = [
    "CONNECTIONS_CLOSED",
    "CRYPTOGRAM_MISMATCHES",
    "REQUESTS_IN_FLIGHT",
    "REQUESTS_THROTTLED",
    "REVERSALS_REFUSED",
    "SIGNON_KEYS",
    "TRACE_REUSES",
]

CONNECTIONS_CLOSED = Counter(
    "acquirer_connections_closed_total",
    "Connections the host closed for a reason other than the peer's own close",
    ["reason"])   # idle, slow_frame, not_reading, rate, protocol, frame_error, unanswerable
REQUESTS_THROTTLED = Counter(
    "acquirer_requests_throttled_total",
    "Times a connection's reading was stopped by a limit",
    ["limit"])    # in_flight, in_flight_total, rate, reply_buffer
REQUESTS_IN_FLIGHT = Gauge(
    "acquirer_requests_in_flight", "Requests under way on the whole host")
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
