"""`acquirer`: run the terminal host and show what integrators need to test against it.

- `acquirer serve [--host 127.0.0.1] [--port P] [--wallet-port P] [--db PATH] [--config DIR]`
  starts the host. It prints `acquirer listening on HOST:PORT` once it
  accepts connections (with `--port 0` that line tells the chosen port), then,
  with a wallet channel (`wallets.toml`), `wallet apps listening on HOST:PORT`
  (the endpoint where customers' wallet apps pay merchant-presented codes),
  and re-reads the issuers' `mode` / `delay_ms` from the configuration on SIGHUP.
- `acquirer terminals [--json]`: registered terminals with their test TMKs and
  MAC algorithm.
- `acquirer cards [--json]`: the test cards of the issuers' card file, with
  PAN, PSN, expiry, PIN, keys and opening balance (credit cards: the limit).

Configuration: `--config DIR`, else `TILLKIT_CONFIG`, else the repository's
`config/`. Every key and card printed is test data.
"""
from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from acquirer.config import AcquirerConfig, ConfigError, load_config
from acquirer.protocol.errors import KIND_TABLE, ErrorKind

if TYPE_CHECKING:   # the protocol workers load with `serve` only
    from acquirer.protocol_workers import ProtocolWork

__all__ = ["main"]

log = logging.getLogger("acquirer")


class ConfigFailure(click.ClickException):
    """A configuration file refused: its one line, and the exit status of kind "terminal" (docs/errors.md)."""

    exit_code = KIND_TABLE[ErrorKind.TERMINAL].exit_code


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
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None,
              help="SQLite database (default from config)")
@config_option
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False))
def serve(address: str | None, port: int | None, wallet_port: int | None, db_path: str | None,
          config_dir: str | None, log_level: str) -> None:
    """Run the terminal host until interrupted."""
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = _load(config_dir)
    if wallet_port is None and config.wallets is not None:
        wallet_port = config.wallets.app_port
    from acquirer.protocol_workers import ProtocolWork, ProtocolWorkers
    # workers first: forked before the event loop, the database and any thread exist
    workers = ProtocolWorkers(config.server.protocol_workers).start() if config.server.protocol_workers else None
    try:
        with suppress(KeyboardInterrupt):
            asyncio.run(_serve(config, config_dir, address or config.server.host,
                               config.server.port if port is None else port, wallet_port,
                               Path(db_path) if db_path else config.database.path,
                               workers or ProtocolWork()))
    finally:
        if workers is not None:
            workers.close()


async def _serve(config: AcquirerConfig, config_dir: str | None, address: str, port: int,
                 wallet_port: int | None, db_path: Path, protocol: ProtocolWork) -> None:
    from acquirer.host import Host
    from acquirer.server import Server
    from acquirer.storage import Checkpointer, open_database
    from acquirer.wallet_apps import WalletAppServer

    await protocol.attach()
    db = open_database(db_path, config.database.synchronous, auto_checkpoint=False)
    checkpointer = Checkpointer(db_path).start()
    host = Host(config, db, protocol=protocol)
    server = Server(host, config.server.max_frame, config.server.idle_timeout_s)
    bound_address, bound_port = await server.start(address, port)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGHUP, _reload_links, host, config_dir)
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    click.echo(f"acquirer listening on {bound_address}:{bound_port}")
    apps = WalletAppServer(host) if config.wallets is not None and wallet_port is not None else None
    if apps is not None and wallet_port is not None:
        apps_address, apps_port = await apps.start(address, wallet_port)
        click.echo(f"wallet apps listening on {apps_address}:{apps_port}")
    sys.stdout.flush()
    serving = asyncio.create_task(server.serve_forever())
    await stop.wait()
    log.info("shutting down")
    await server.close()
    if apps is not None:
        await apps.close()
    serving.cancel()
    host.store.commit_now()
    log.info("group commit: %d units in %d commits", host.store.units, host.store.commits)
    checkpointer.stop()
    db.conn.close()


def _reload_links(host, config_dir: str | None) -> None:  # noqa: ANN001 - Host, imported lazily
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
