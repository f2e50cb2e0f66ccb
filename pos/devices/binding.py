"""A terminal is bound to one acquirer: the binding lives in the terminal's state (its journal).

A batch belongs to the host that authorized its transactions: settling it
with another host would upload sales that host never authorized (and the
journal could end up holding one RRN twice). So the terminal remembers its
host -- at the first sign-on, or `pos init --host ADDRESS` -- and every later
command uses it, whatever pos.toml's `[host] address` (the default for a new
terminal) says. A command that names a different host (`--host`) is refused
while the open batch holds transactions (`HostBindingRefused`, kind
refused: nothing is sent); once the batch is settled, naming another host
moves the binding there.
"""
from __future__ import annotations

from dataclasses import replace

from acquirer.protocol.errors import ErrorKind, TillkitError
from pos.core.config import PosConfig
from pos.journal.store import Journal


class HostBindingRefused(TillkitError):
    kind = ErrorKind.REFUSED
    message_key = "terminal.host_binding"


def bind(config: PosConfig, journal: Journal) -> PosConfig:
    """The configuration with the terminal's own host: bound now if new, checked against `--host`."""
    bound = journal.bound_host()
    requested = config.host.address
    if bound is None or (bound != requested and config.host_named and not journal.open_batch_in_use()):
        journal.bind_host(requested)
        return config
    if bound == requested:
        return config
    if config.host_named:
        raise HostBindingRefused(
            f"this terminal is bound to the acquirer {bound}: --host {requested} is refused while batch "
            f"{journal.batch} is open (settle it with {bound} first)",
            bound=bound, requested=requested, batch=journal.batch)
    return replace(config, host=config.host.model_copy(update={"address": bound}))
