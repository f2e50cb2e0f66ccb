"""`acquirer`: run the terminal host and show what integrators need to test against it.

- `acquirer serve [--host 127.0.0.1] [--port P] [--wallet-port P] [--db PATH|URL] [--processes N]
  [--config DIR]` starts the host: on SQLite (a file path, the default) or on PostgreSQL
  (`postgresql://...`, then `--processes N` runs N host processes on the port, restarted if
  one dies; docs/operations.md). It prints `acquirer listening on HOST:PORT` once it
  accepts connections (with `--port 0` that line tells the chosen port), then,
  with a wallet channel (`wallets.toml`), `wallet apps listening on HOST:PORT`
  (the endpoint where customers' wallet apps pay merchant-presented codes),
  and re-reads the issuers' `mode` / `delay_ms` from the configuration on SIGHUP.
- `acquirer migrate [--db PATH|URL]`: bring the database to this code's schema.
- `acquirer terminals [--json]`: registered terminals with their test TMKs and
  MAC algorithm.
- `acquirer clear | statement | payouts | dispute`: clearing (acquirer.clearing.commands,
  docs/clearing.md).
- `acquirer cards [--json]`: the test cards of the issuers' card file, with
  PAN, PSN, expiry, PIN, keys and opening balance (credit cards: the limit).

Configuration: `--config DIR`, else `TILLKIT_CONFIG`, else the repository's
`config/`. Every key and card printed is test data.

For tests only, `TILLKIT_TEST_HOST_CLOCK_OFFSET_S` (seconds, may be negative)
sets the host's clock -- the moments it stamps on transactions and the cut-off
its automatic clearing waits for -- that far off the machine's, so an
end-to-end test can have tills whose clocks disagree with the acquirer's at a
cut-off (docs/reconcile.md, "Through live traffic"). Unset, the host keeps the
machine's time.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from acquirer.cli_errors import ConfigFailure
from acquirer.config import AcquirerConfig, ConfigError, load_config

if TYPE_CHECKING:   # the protocol workers, clearing and the hand-over load with `serve` only
    from acquirer.clearing.serving import ClearingServer
    from acquirer.handoff import HandedConnections
    from acquirer.protocol_workers import ProtocolWork

__all__ = ["main"]

log = logging.getLogger("acquirer")


#: for tests only (see the module docstring): the host's clock this many seconds off the machine's
CLOCK_OFFSET_ENV = "TILLKIT_TEST_HOST_CLOCK_OFFSET_S"


def _host_clock() -> Callable[[], datetime]:
    """The host's clock (UTC, aware): the machine's, shifted by `CLOCK_OFFSET_ENV` when a test sets it."""
    text = os.environ.get(CLOCK_OFFSET_ENV, "")
    if not text:
        return lambda: datetime.now(UTC)
    try:
        offset = timedelta(seconds=float(text))
    except ValueError:
        raise click.ClickException(f"{CLOCK_OFFSET_ENV}={text!r} is not a number of seconds") from None
    return lambda: datetime.now(UTC) + offset


def _load(config_dir: str | None) -> AcquirerConfig:
    try:
        return load_config(config_dir)
    except ConfigError as e:
        raise ConfigFailure(str(e)) from None


config_option = click.option("--config", "config_dir", metavar="DIR", default=None,
                             help="configuration directory (default: $TILLKIT_CONFIG or the repo's config/)")


@click.group()
def main() -> None:
    """tillkit acquirer: terminal host, switch, issuer simulators and ledger (test keys only)."""


@main.command()
@click.option("--host", "address", default=None, help="listen address (default from config: 127.0.0.1)")
@click.option("--port", type=int, default=None, help="TCP port (default from config; 0 = any free port)")
@click.option("--wallet-port", type=int, default=None,
              help="wallet apps' port (default: wallets.toml [apps] port; 0 = any free port)")
@click.option("--db", "db_target", default=None, metavar="PATH|URL",
              help="SQLite database file or postgresql:// URL (default from config [database])")
@click.option("--processes", type=click.IntRange(1, 256), default=1, show_default=True,
              help="host processes on the port (more than 1 needs PostgreSQL)")
@click.option("--metrics-port", type=int, default=None,
              help="serve Prometheus metrics (all processes summed) on this port (0 = any free port)")
@config_option
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def serve(address: str | None, port: int | None, wallet_port: int | None, db_target: str | None,
          processes: int, metrics_port: int | None, config_dir: str | None, log_level: str) -> None:
    """Run the terminal host until interrupted."""
    from acquirer import metrics_http

    metrics_dir = metrics_http.use_multiprocess_dir() if metrics_port is not None else None
    try:
        _serve_command(address, port, wallet_port, db_target, processes, metrics_port, config_dir, log_level)
    finally:
        if metrics_dir is not None:
            metrics_http.remove_multiprocess_dir(metrics_dir)


def _serve_command(address: str | None, port: int | None, wallet_port: int | None, db_target: str | None,
                   processes: int, metrics_port: int | None, config_dir: str | None, log_level: str) -> None:
    from acquirer import metrics_http
    from acquirer.storage import MigrationError, is_postgres_url, migrate_target
    from acquirer.supervisor import Supervisor, listening_socket

    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = _load(config_dir)
    if wallet_port is None and config.wallets is not None:
        wallet_port = config.wallets.app_port
    target = db_target or config.database.target
    if processes > 1 and not is_postgres_url(target):
        raise click.ClickException("--processes above 1 needs PostgreSQL (--db postgresql://...): "
                                   "an SQLite database has one writer")
    address = address or config.server.host
    port = config.server.port if port is None else port
    if processes == 1:
        _run_host(config, config_dir, target, address, port, wallet_port, metrics_port=metrics_port)
        return
    try:
        migrate_target(target)   # once, before the children open it
    except MigrationError as e:
        raise click.ClickException(str(e)) from None
    sock = listening_socket(address, port)
    apps = listening_socket(address, wallet_port) if config.wallets is not None and wallet_port is not None else None
    statements = _statement_socket(config)   # bound once; process 0 serves it and clears

    def announce() -> None:   # once every process accepts connections
        bound = sock.getsockname()
        click.echo(f"acquirer listening on {bound[0]}:{bound[1]}")
        if apps is not None:
            apps_bound = apps.getsockname()
            click.echo(f"wallet apps listening on {apps_bound[0]}:{apps_bound[1]}")
        if metrics_port is not None:
            metrics_address, bound_metrics = metrics_http.start(address, metrics_port)
            click.echo(f"metrics listening on {metrics_address}:{bound_metrics}")
        if statements is not None:
            statements_bound = statements.getsockname()
            click.echo(f"statements listening on {statements_bound[0]}:{statements_bound[1]}")
        sys.stdout.flush()

    Supervisor(processes, sock,
               lambda index, handed: _run_host(config, config_dir, target, address, port, wallet_port,
                                               handed=handed, apps_sock=apps, clearing=index == 0,
                                               statements_sock=statements, processes=processes),
               on_ready=announce, on_death=metrics_http.process_dead if metrics_port is not None else None).run()


@main.command()
@click.option("--db", "db_target", default=None, metavar="PATH|URL",
              help="SQLite database file or postgresql:// URL (default from config [database])")
@config_option
def migrate(db_target: str | None, config_dir: str | None) -> None:
    """Bring the database to this code's schema (a database newer than the code is refused)."""
    from acquirer.storage import MigrationError, migrate_target

    target = db_target or _load(config_dir).database.target
    try:
        version = migrate_target(target)
    except MigrationError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"database at schema version {version}")


def _run_host(config: AcquirerConfig, config_dir: str | None, target: str, address: str, port: int,
              wallet_port: int | None, *, handed: HandedConnections | None = None,
              apps_sock: socket.socket | None = None,
              metrics_port: int | None = None, clearing: bool = True,
              statements_sock: socket.socket | None = None, processes: int = 1) -> None:
    """One host process (of `processes`): its protocol workers, its database connection, its
    event loop (and, alone, its metrics endpoint; with `clearing`, automatic clearing and the
    statements). `handed`: under the supervisor, the terminal connections it hands this process."""
    from acquirer.protocol_workers import ProtocolWork, ProtocolWorkers
    from acquirer.settings_schema import default_protocol_workers

    count = config.server.protocol_workers
    if count is None:
        count = default_protocol_workers(processes)
    # workers first: forked before the event loop, the database and any thread exist
    workers = ProtocolWorkers(count).start() if count else None
    try:
        with suppress(KeyboardInterrupt):
            asyncio.run(_serve(config, config_dir, address, port, wallet_port, target, workers or ProtocolWork(),
                               handed, apps_sock, metrics_port, clearing, statements_sock))
    finally:
        if workers is not None:
            workers.close()


async def _serve(config: AcquirerConfig, config_dir: str | None, address: str, port: int,
                 wallet_port: int | None, target: str, protocol: ProtocolWork,
                 handed: HandedConnections | None, apps_sock: socket.socket | None,
                 metrics_port: int | None = None, clearing_here: bool = True,
                 statements_sock: socket.socket | None = None) -> None:
    """One host process's event loop. Alone it listens and prints its listening lines; under a
    supervisor (`handed` given) it serves the connections handed to it, and the supervisor prints
    the lines once every process said it is ready."""
    from acquirer.host import Host
    from acquirer.protocol.clock import CHINA
    from acquirer.server import Server
    from acquirer.storage import (
        Checkpointer,
        MigrationError,
        is_postgres_url,
        open_store,
    )
    from acquirer.wallet_apps import WalletAppServer

    await protocol.attach()
    try:
        store = open_store(target, config.database.synchronous, auto_checkpoint=False)
    except MigrationError as e:
        raise click.ClickException(str(e)) from None
    checkpointer = None if is_postgres_url(target) else Checkpointer(target).start()
    clock = _host_clock()
    host = Host(config, store, protocol=protocol, clock=lambda: clock().astimezone(CHINA))
    session_changes = None
    if is_postgres_url(target):   # other processes change sessions too: PostgreSQL announces it
        from acquirer.storage.pg_listen import SessionChanges
        session_changes = SessionChanges(target, host.sessions.changed, host.sessions.listening).start()
    server = Server(host, config.server.max_frame, config.server.idle_timeout_s, config.limits)
    if handed is None:
        bound_address, bound_port = await server.start(address, port)
    else:
        server.serve_handed(handed)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, _reload_links, host, config_dir)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    if handed is None:
        click.echo(f"acquirer listening on {bound_address}:{bound_port}")
    apps = WalletAppServer(host) if config.wallets is not None and wallet_port is not None else None
    if apps is not None and wallet_port is not None:
        apps_address, apps_port = await apps.start(address, wallet_port, sock=apps_sock)
        if handed is None:
            click.echo(f"wallet apps listening on {apps_address}:{apps_port}")
    if metrics_port is not None:
        from acquirer import metrics_http
        metrics_address, bound_metrics = metrics_http.start(address, metrics_port)
        click.echo(f"metrics listening on {metrics_address}:{bound_metrics}")
    clearing = await _start_clearing(config, target, clock, statements_sock) if clearing_here else None
    sys.stdout.flush()
    if handed is not None:
        handed.ready()
    serving = asyncio.create_task(server.serve_forever())
    await stop.wait()
    log.info("shutting down")
    await server.close()
    if apps is not None:
        await apps.close()
    if clearing is not None:
        await clearing.close()
    serving.cancel()
    host.store.commit_now()
    log.info("group commit: %d units in %d commits", host.store.units, host.store.commits)
    if checkpointer is not None:
        checkpointer.stop()
    if session_changes is not None:
        session_changes.close()
    store.close()


def _statement_socket(config: AcquirerConfig) -> socket.socket | None:
    """The statement endpoint's socket, bound by the supervisor before it forks (None: no endpoint)."""
    from acquirer.clearing.serving import statement_socket
    from acquirer.protocol.settings_file import SettingsError

    try:
        return statement_socket(config.directory)
    except SettingsError as e:
        raise ConfigFailure(str(e)) from None
    except OSError as e:   # the port is taken, or the address is not this machine's
        raise click.ClickException(f"statement endpoint: cannot listen: {e.strerror or e}") from None


async def _start_clearing(config: AcquirerConfig, target: str, clock: Callable[[], datetime],
                          sock: socket.socket | None = None) -> ClearingServer | None:
    """Automatic clearing and the statement endpoint, when the configuration has `clearing.toml`.

    Alone, the host binds the endpoint itself and prints where; under the supervisor only
    process 0 runs this, on the socket the supervisor bound (and printed) once.
    """
    from acquirer.clearing.serving import ClearingServer
    from acquirer.clearing.terms import CLEARING_FILE, load_clearing
    from acquirer.protocol.settings_file import SettingsError
    from acquirer.storage import open_store

    if not (config.directory / CLEARING_FILE).exists():
        log.info("no %s: no clearing in this host", CLEARING_FILE)
        return None
    try:
        clearing_config, calendar = load_clearing(config.directory)
    except SettingsError as e:
        raise ConfigFailure(str(e)) from None
    server = ClearingServer(clearing_config, calendar, config.host.institution,
                            lambda: open_store(target, config.database.synchronous), clock)
    bound = await server.start(sock=sock)
    if bound is not None and sock is None:
        click.echo(f"statements listening on {bound[0]}:{bound[1]}")
    return server


def _reload_links(host, config_dir: str | None) -> None:
    try:
        fresh = load_config(config_dir)
    except ConfigError as e:
        log.error("SIGHUP: configuration not reloaded: %s", e)
        return
    host.switch.reload_links(fresh.issuers)
    log.info("SIGHUP: issuer links now %s",
             ", ".join(f"{link.name}={link.mode}/{link.delay_ms}ms" for link in host.switch.links.values()))


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts and other terminals)")
@config_option
def terminals(as_json: bool, config_dir: str | None) -> None:
    """List the registered terminals (TEST TMKs)."""
    config = _load(config_dir)
    rows = [{"tid": t.tid, "mid": t.mid, "tmk": t.tmk.hex().upper(), "mac": t.mac,
             "merchant": config.merchants[t.mid].name_en,
             "transactions": sorted(x.value for x in t.transactions) if t.transactions else None}
            for t in config.terminals.values()]
    _print(rows, as_json, "Terminals (test keys)")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="print JSON (for scripts and other terminals)")
@config_option
def cards(as_json: bool, config_dir: str | None) -> None:
    """List the test cards of the issuers' card file (TEST PANs, PINs and keys)."""
    config = _load(config_dir)
    rows = [{"name": c.name, "scheme": c.scheme, "product": c.product, "issuer": c.issuer,
             "pan": c.pan, "psn": c.psn, "expiry": c.expiry, "imk_ac": c.imk_ac.hex().upper(),
             "cvn": c.cvn, "pin": c.pin, "balance": c.opening_balance,
             "per_txn_limit": c.per_txn_limit, "aid": c.aid, "status": c.status}
            for c in config.cards]
    _print(rows, as_json, "Test cards (test data)")


def _print(rows: list[dict], as_json: bool, title: str) -> None:
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    table = Table(title=title)
    columns = list(rows[0]) if rows else []
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    Console().print(table)


def _add_clearing_commands() -> None:
    """`clear`, `statement`, `payouts`, `dispute` (acquirer.clearing.commands)."""
    from acquirer.clearing.commands import COMMANDS
    for command in COMMANDS:
        main.add_command(command)


_add_clearing_commands()
