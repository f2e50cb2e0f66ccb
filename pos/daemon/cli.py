"""`pos daemon` and `pos sim customer`: the command line of the headless terminal."""
from __future__ import annotations

import asyncio
from pathlib import Path

import click

from acquirer.protocol.errors import KIND_TABLE, ErrorKind
from pos.core.config import PosConfig
from pos.daemon.customer import ACTIONS, QueueError, queue_action
from pos.daemon.settings import SettingsError, load_settings

EXIT_TERMINAL = KIND_TABLE[ErrorKind.TERMINAL].exit_code


@click.command("daemon")
@click.option("--listen", metavar="HOST:PORT", help="Where the nexo HTTPS server listens (default 127.0.0.1:8443).")
@click.option("--api-key", help="The X-API-Key the register must send.")
@click.option("--cert", type=click.Path(dir_okay=False, path_type=Path), help="TLS certificate (PEM).")
@click.option("--key", type=click.Path(dir_okay=False, path_type=Path), help="TLS private key (PEM).")
@click.option("--key-id", help="Security envelope: the key identifier the register uses.")
@click.option("--key-version", type=int, help="Security envelope: the key version.")
@click.option("--passphrase", help="Security envelope: the shared passphrase.")
@click.option("--serial", "serial_device", metavar="DEVICE", help="Concert: the register's serial line.")
@click.option("--camera", metavar="SOURCE",
              help="Also scan this camera for a payment code: a device index, a device path, a video or image file.")
@click.option("--simulate", is_flag=True, default=None,
              help="Simulated reader and customer (presents the default test card; see `pos sim customer`).")
@click.pass_obj
def daemon(config: PosConfig, listen: str | None, api_key: str | None, cert: Path | None, key: Path | None,
           key_id: str | None, key_version: int | None, passphrase: str | None, serial_device: str | None,
           camera: str | None, simulate: bool | None) -> None:
    """Run the headless terminal a cash register drives: nexo over HTTPS, Concert over serial."""
    from pos.daemon import logs
    from pos.daemon.app import run

    try:
        settings = load_settings(config.config_dir, {
            "listen": listen, "api_key": api_key, "cert": cert, "key": key, "key_id": key_id,
            "key_version": key_version, "passphrase": passphrase, "serial": serial_device, "camera": camera,
            "simulate": simulate})
    except SettingsError as e:
        click.echo(f"pos daemon: {e}", err=True)
        raise SystemExit(EXIT_TERMINAL) from None
    logs.configure()
    try:
        asyncio.run(run(config, settings))
    except Exception as e:   # start-up failed: say why, exit non-zero for systemd to restart
        from pos.daemon.logs import scrub
        click.echo(f"pos daemon: cannot start: {scrub(str(e))}", err=True)
        raise SystemExit(EXIT_TERMINAL) from None


@click.command("customer")
@click.argument("action", type=click.Choice(ACTIONS))
@click.argument("argument", required=False)
@click.pass_obj
def customer(config: PosConfig, action: str, argument: str | None) -> None:
    """Queue what the customer does at the next payment of `pos daemon --simulate`.

    ACTION: card NAME (a test card of cards.toml), wallet KIND (alipay, wechat,
    unionpay), refuse (cancels on the terminal), walk-away (presents nothing).
    """
    try:
        path = queue_action(config.state_dir, action, argument)
    except QueueError as e:
        raise click.UsageError(str(e)) from None
    click.echo(f"queued for the next payment: {action}{' ' + argument if argument else ''} ({path.name})")
