"""`pos sim`: the customer's side of a QR payment, simulated.

- `pos sim wallet-code KIND --out FILE`: the virtual wallet app shows a code
  (KIND alipay, wechat, unionpay: a payment code of a `wallets.toml` account;
  cpm: an EMVCo consumer-presented code of a test card) as a .png image or an
  .avi camera video, for `pos sale --camera FILE`.
- `pos sim pay-mpm PAYLOAD_OR_PNG --wallet KIND`: the customer scans the code
  a terminal shows (`pos sale --show-code`) and pays it from a wallet account,
  through the acquirer's wallet-apps endpoint.

These commands are the customer, not the till: they take no terminal lock and
may run beside a `pos sale` on the same state directory (the CPM card's ATC
store there is the virtual contactless card's, so the two never repeat one).

Exit status of `pay-mpm`: 0 paid, 1 the wallet declined, 2 the code could not
be read or is not a merchant-presented code (nothing sent), 4 the endpoint
cannot be reached.
"""
from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from acquirer.config import CARDS_FILE
from acquirer.protocol.mpm import MalformedMpm, parse_mpm
from acquirer.protocol.errors import KIND_TABLE, ErrorKind
from acquirer.protocol.settings_file import SettingsError
from acquirer.protocol.wallets import WALLETS_FILE, load_wallets
from pos.core.amount import format_amount
from pos.core.config import PosConfig
from pos.daemon.cli import customer
from pos.devices.terminal import WALLET_APPS_FILE
from pos.simulated.virtual_card import ATC_DIR

EXIT_DECLINED, EXIT_REFUSED, EXIT_UNREACHABLE = 1, 2, 4
WALLETS = ("alipay", "wechat", "unionpay")


class Refused(click.ClickException):
    exit_code = EXIT_REFUSED


class Unreachable(click.ClickException):
    exit_code = EXIT_UNREACHABLE


class BadSettings(click.ClickException):
    """A settings file refused (`file: key: reason`): exit 4, as every command line of the kit (docs/errors.md)."""

    exit_code = KIND_TABLE[ErrorKind.TERMINAL].exit_code


@click.group()
def sim() -> None:
    """The customer's side, simulated: a wallet app's codes, and paying a shop's code."""


@sim.command("wallet-code")
@click.argument("kind", type=click.Choice(WALLETS + ("cpm",)))
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the code: FILE.png (an image) or FILE.avi (a camera video).")
@click.option("--account", metavar="NAME", help="The wallets.toml account paying (default: the wallet's first).")
@click.option("--card", metavar="NAME", default="unionpay-debit", show_default=True,
              help="cpm: the test card of cards.toml in the wallet.")
@click.option("--seed", type=int, help="Seed of the wallet's random choices (same seed, same video).")
@click.pass_obj
def wallet_code(config: PosConfig, kind: str, out: Path, account: str | None, card: str, seed: int | None) -> None:
    """Write a new payment code of KIND (alipay, wechat, unionpay or cpm) from the virtual wallet app."""
    from drivers.sim.video import VideoError
    from drivers.sim.wallet import WalletError, write_wallet_code  # OpenCV loads for the drawing

    try:
        code = write_wallet_code(kind, out, seed=seed, card=card, account=account,
                                 wallets_file=config.config_dir / WALLETS_FILE,
                                 cards_file=config.config_dir / CARDS_FILE,
                                 state_dir=config.state_dir / ATC_DIR)
    except SettingsError as e:   # wallets.toml or cards.toml refused
        raise BadSettings(str(e)) from None
    except (WalletError, VideoError) as e:
        raise Refused(str(e)) from None
    until = datetime.fromtimestamp(code.expires_at).strftime("%H:%M:%S")
    what = f"payment code of {code.account}, valid until {until}" if kind != "cpm" else f"CPM code of {code.account}"
    click.echo(f"{kind} {what}: {out}")


@sim.command("pay-mpm")
@click.argument("code")
@click.option("--wallet", "wallet", required=True, type=click.Choice(WALLETS), help="The wallet app paying.")
@click.option("--account", metavar="NAME", help="The wallets.toml account paying (default: the wallet's first).")
@click.option("--acquirer", "endpoint", metavar="HOST:PORT",
              help="The acquirer's wallet-apps endpoint (default: the embedded host of the running terminal, "
                   "or [host] address's host with wallets.toml [apps] port).")
@click.pass_obj
def pay_mpm(config: PosConfig, code: str, wallet: str, account: str | None, endpoint: str | None) -> None:
    """Pay the merchant-presented CODE (its text, or a PNG of it) from a wallet app."""
    from drivers.sim.wallet import VirtualWallet, WalletError, WalletUnreachable

    payload = _scanned(config, code)
    try:
        shown = parse_mpm(payload)
    except MalformedMpm as e:
        raise Refused(f"not a merchant-presented code: {e}; nothing was paid") from None
    address = _endpoint(config, endpoint)
    amount = format_amount(shown.amount_fen) if shown.amount_fen is not None else "no amount"
    click.echo(f"paying {shown.merchant_name} {amount} from {wallet} ...", err=True)
    app = VirtualWallet(account=account, wallets_file=config.config_dir / WALLETS_FILE)
    try:
        answer = app.pay_merchant_code(payload, wallet, address)
    except WalletUnreachable as e:
        raise Unreachable(str(e)) from None
    except WalletError as e:
        raise Refused(str(e)) from None
    except SettingsError as e:
        raise BadSettings(str(e)) from None
    if not answer.paid:
        click.echo(f"DECLINED {answer.response_code} {answer.message}")
        sys.exit(EXIT_DECLINED)
    paid = format_amount(answer.amount) if answer.amount is not None else ""
    click.echo(f"PAID {paid} to {answer.merchant or shown.merchant_name} (RRN {answer.rrn})")


def _scanned(config: PosConfig, code: str) -> str:
    """The code's text: read from a PNG (the camera's decoder) or given as it is."""
    path = Path(code)
    if not path.suffix.lower() == ".png":
        return code
    import cv2

    from drivers.camera import make_decoder, to_gray

    image = cv2.imread(str(path))
    if image is None:
        raise Refused(f"cannot read the image {path}")
    found = make_decoder(config.qr.camera_backend).decode(to_gray(image))
    if not found:
        raise Refused(f"no QR code found in {path}")
    return found[0]


def _endpoint(config: PosConfig, option: str | None) -> tuple[str, int]:
    """Where the wallet apps' endpoint listens (see `--acquirer`)."""
    if option is None and config.host.embedded:
        address_file = config.state_dir / WALLET_APPS_FILE
        if not address_file.exists():
            raise Unreachable(f"no terminal with an embedded host is running on {config.state_dir} "
                              f"({address_file} is absent): start `pos sale AMOUNT --show-code` first, "
                              f"or give --acquirer HOST:PORT")
        option = address_file.read_text().strip()
    if option is None:
        try:
            port = load_wallets(config.config_dir / WALLETS_FILE).app_port
        except SettingsError as e:
            raise BadSettings(str(e)) from None
        option = f"{config.host.host_port[0]}:{port}"
    host, _, port_text = option.rpartition(":")
    if not host or not port_text.isdigit():
        raise click.UsageError(f"--acquirer must be HOST:PORT, got {option!r}")
    return host, int(port_text)


sim.add_command(customer)
