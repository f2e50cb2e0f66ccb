"""`pos`: the terminal's command line, a thin face over the engine.

Progress (engine events) goes to stderr, the outcome to stdout -- as Rich
text, or as JSON with `--json` for scripts. Exit status: 0 approved (or the
command did what it says); otherwise the status of the error's kind, from the
one table in docs/errors.md (1 declined, 2 refused before anything was sent,
3 no trustworthy answer, 4 the terminal cannot work, 5 busy, 6 cancelled).
A card that asks for its online PIN gets `--pin` through the engine's PIN pad.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.markup import escape

from acquirer.protocol.errors import KIND_TABLE, ErrorKind, TillkitError
from pos.cli.lazy import Deferred, LazyChoice, LazyGroup
from pos.messages import cli_text, error_text

if TYPE_CHECKING:
    from pos.cli.reprints import KeptSlip
    from pos.core import events as ev
    from pos.core.config import PosConfig
    from pos.core.engine import Engine, Outcome
    from pos.core.payment import PaymentSource
    from pos.journal.store import Journal, Txn
    from pos.sources.qr.errors import QrPayloadError

# Each command imports what it uses when it runs, so that `pos history` or
# `pos --help` does not pay for the engine, the devices and the simulator
# (docs/terminal.md, "Start-up"); so do the subcommand groups below.
DEFERRED = {
    "daemon": Deferred("pos.daemon.cli", "daemon",
                       "Run the headless terminal a cash register drives: nexo over HTTPS, Concert over serial."),
    "operator": Deferred("pos.cli.operators", "operator",
                         "The till's cashiers: who may sign on, and who is signed on (recorded on every row and "
                         "slip)."),
    "reconcile": Deferred("pos.cli.reconcile", "reconcile_command",
                          "Match the journal against the acquirer's merchant statement of the clearing day(s)."),
    "sim": Deferred("pos.cli.sim", "sim",
                    "The customer's side, simulated: a wallet app's codes, and paying a shop's code."),
}

#: exit statuses, from the one table of kinds (docs/errors.md)
EXIT_APPROVED = 0
EXIT_DECLINED, EXIT_REFUSED, EXIT_NO_ANSWER, EXIT_TERMINAL = (
    KIND_TABLE[k].exit_code for k in (ErrorKind.DECLINED, ErrorKind.REFUSED, ErrorKind.NO_ANSWER, ErrorKind.TERMINAL))
DEFAULT_CARD = "unionpay-debit"
TEXT_COLUMNS = 32   # `pos reprint --text` without a printer: as wide as 58 mm paper
#: fields of `pos history --json` (and of a transaction's `--json` outcome)
HISTORY_FIELDS = ("id", "stan", "batch", "type", "amount", "currency", "masked_pan", "wallet", "wallet_code",
                  "scheme", "entry_mode", "aid", "app_label", "cryptogram", "arpc_check", "response_code", "rrn",
                  "auth_code", "state", "original_rrn", "original_stan", "late_reply_code", "created_at", "updated_at")

out = Console()
err = Console(stderr=True)


class Failure(click.ClickException):
    """An error as the command line reports it: its message in the command's language, the exit status of its kind."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.language = language()   # click shows the error after the command's context has closed

    def show(self, file: Any = None) -> None:
        if self.language != "zh":
            super().show(file)
            return
        click.echo(f"错误：{self.format_message()}", file=file, err=file is None)


#: one failure class per exit status of the kinds table (click reads `exit_code` from the class)
FAILURES: dict[int, type[Failure]] = {
    row.exit_code: type(f"Failure{row.exit_code}", (Failure,), {"exit_code": row.exit_code})
    for row in KIND_TABLE.values()}


class Refused(Failure):
    """Input refused before anything was sent."""

    exit_code = EXIT_REFUSED


class TerminalFailure(Failure):
    """The terminal cannot work (set-up, printer, host)."""

    exit_code = EXIT_TERMINAL


#: where the command's language is kept for its helpers (`click.Context.meta`)
LANGUAGE = "pos.language"
LANGUAGES = ("en", "zh")


def language() -> str:
    """The language of this `pos` command: `--lang`, $TILLKIT_LANG, else pos.toml `[tui] language`."""
    context = click.get_current_context(silent=True)
    return context.meta.get(LANGUAGE, "en") if context is not None else "en"


def t(key: str, **values: object) -> str:
    """The command line's words for `key` in this command's language (`pos.messages.CLI_TEXTS`)."""
    return cli_text(language(), key, **values)


def failure(error: TillkitError) -> Failure:
    """Any tillkit error as the command line's message and exit status (by its kind, docs/errors.md).

    In Chinese the message is the error's key worded by `pos.messages`; in
    English it stays the error's own sentence, as `pos` always printed it.
    """
    if language() == "zh":
        return FAILURES[error.row.exit_code](error_text("zh", error))
    from pos.core.errors import CardNotRead

    message = str(error)
    if isinstance(error, CardNotRead):
        message = f"{error.prompt} ({error.reason}); nothing was sent"
    elif error.kind is ErrorKind.REFUSED and error.message_key == "device.camera":
        message = f"{message}; nothing was sent"
    return FAILURES[error.row.exit_code](message)


@click.group(cls=LazyGroup, invoke_without_command=True, deferred=DEFERRED)
@click.option("--config", "config_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Configuration directory (default: $TILLKIT_CONFIG, else the repository's config/).")
@click.option("--state-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Journal, counters and virtual-card state (default: [state] dir of pos.toml).")
@click.option("--host", "host_address", metavar="ADDRESS",
              help='"embedded" or HOST:PORT of `acquirer serve` (default: [host] address of pos.toml).')
@click.option("-v", "--verbose", is_flag=True, help="Log the link and the engine to stderr.")
@click.option("--lang", "lang", type=click.Choice(LANGUAGES), envvar="TILLKIT_LANG",
              help="Language of what pos prints: en or zh (default: $TILLKIT_LANG, else pos.toml [tui] language, "
                   "else en).")
@click.pass_context
def main(ctx: click.Context, config_dir: Path | None, state_dir: Path | None,
         host_address: str | None, verbose: bool, lang: str | None) -> None:
    """tillkit terminal: sales, voids, refunds, pre-auths, balance, history and settlement.

    With no command, `pos` opens the checkout screen (the TUI).
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if not verbose:   # nfcpy logs a card leaving the field as an error; the outcome line says it
        logging.getLogger("nfc").setLevel(logging.CRITICAL)
    from acquirer.config import resolve_config_dir   # the kit's one rule for where the files are
    from pos.core.config import load_config, load_pos_file

    directory = resolve_config_dir(config_dir)
    ctx.meta[LANGUAGE] = lang or "en"
    try:
        ctx.obj = load_config(directory, state_dir=state_dir, host_address=host_address)
        if lang is None:   # the till's display language, as the checkout screen starts in it
            tui = load_pos_file(directory).tui
            ctx.meta[LANGUAGE] = tui.language if tui is not None else "en"
    except TillkitError as e:
        raise failure(e) from None
    if ctx.invoked_subcommand is None:
        if not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise click.UsageError(t("cli.no_tty"))
        from pos.tui import run as run_tui  # Textual loads only for the checkout screen

        with _failures():
            run_tui(ctx.obj, verbose=verbose)


# --- running the engine ----------------------------------------------------------

@contextmanager
def _failures() -> Iterator[None]:
    """Map every tillkit error (and the drivers', translated) to its exit status with a readable message."""
    try:
        yield
    except Exception as e:
        from pos.devices.errors import as_tillkit_error

        error = as_tillkit_error(e)
        if error is None:
            raise
        raise failure(error) from None


def _run(config: PosConfig, work: Callable[[Engine], Awaitable[Any]],
         observer: ev.Observer | None = None, pin: str | None = None, resume: bool = True) -> Any:
    """Open the terminal, run `work` on its engine, close it.

    `resume`: keep working with the keys of the last sign-on while they are
    good (docs/terminal.md, "Working keys between commands"); `pos signon`
    passes False to sign on afresh.
    """
    import asyncio

    from pos.cli.render import EventPrinter
    from pos.core.pinpad import FixedPin
    from pos.devices.terminal import open_terminal

    printer = EventPrinter(err, language())

    def observe(event: ev.Event) -> None:
        printer(event)
        if observer is not None:
            observer(event)

    async def go() -> Any:
        async with open_terminal(config, observe, pinpad=FixedPin(pin), resume=resume) as engine:
            return await work(engine)

    with _failures():
        return asyncio.run(go())


def _pay(config: PosConfig, cards: tuple[str, ...], fault: str | None, manual: bool,
         work: Callable[[Engine, list[PaymentSource]], Awaitable[Outcome]],
         original: Callable[[Journal], Txn | None] | None = None,
         camera: str | None = None, pin: str | None = None) -> Outcome:
    """Run a card transaction with the payment source the options choose.

    `--manual` prompts for the card number and expiry. Otherwise the devices
    are the station's (`pos.devices.station`, the one assembly every face
    uses): the card is tapped on the contactless reader of `[nfc] reader`: a
    real reader waits for the cardholder; on the simulated one `--card NAME`
    taps that test card (given twice: two cards in the field), misbehaving as
    `--card-fault` says, and with no `--card` a void/refund/completion taps
    the original's card and a new payment the default card. The camera
    (`--camera SOURCE`) is armed with the reader, first to produce wins; on
    the simulated reader it is armed alone unless `--card` puts a card in
    the field too.
    """
    from pos.core.engine import WALLET_ORDERS
    from pos.devices.station import open_station
    from pos.sources.manual_entry import ManualEntry

    if manual and (cards or fault):
        raise click.UsageError(t("cli.manual_excludes"))
    if manual:
        pan = click.prompt(t("cli.card_number"), err=True)
        expiry = click.prompt(t("cli.expiry"), err=True)
        with _failures():
            entry = ManualEntry(pan, expiry)
        return _run(config, lambda engine: work(engine, [entry]), pin=pin)
    if (cards or fault) and not config.nfc.simulated:
        raise click.UsageError(t("cli.sim_only", reader=repr(config.nfc.reader)))
    with _failures(), open_station(config, camera, simulator=False, reader_required=True,
                                   on_code_refused=_camera_refused) as station:
        wallet = station.test_cards
        scanning = [station.scanner] if station.scanner is not None else []
        if wallet is None:   # a real reader: the cardholder taps
            return _run(config, lambda engine: work(engine, station.sources), pin=pin)
        chosen = wallet.card(*cards, fault=fault) if cards else None   # unknown names: refused before start

        def choose(engine: Engine) -> list[PaymentSource]:
            if chosen is not None:
                return [chosen, *scanning]
            txn = original(engine.journal) if original is not None else None
            if txn is None:   # a new payment; or no such original, which the engine reports
                return scanning or [wallet.card(DEFAULT_CARD, fault=fault)]
            if txn.type in WALLET_ORDERS:   # given back through the wallet channel: nothing to present
                return []
            name = wallet.name_for(config.terminal.token_key, txn.pan_token)
            if name is None:
                raise Refused(t("cli.not_test_card"))
            return [wallet.card(name, fault=fault)]

        return _run(config, lambda engine: work(engine, choose(engine)), pin=pin)


def _amount(config: PosConfig, text: str) -> int:
    from pos.core.amount import parse_amount

    with _failures():
        return parse_amount(text, max_fen=config.terminal.max_amount_fen)


def _txn_json(txn: Txn) -> dict[str, Any]:
    row = asdict(txn)
    return {name: row[name] for name in HISTORY_FIELDS}


def _cryptogram(txn: Txn) -> str:
    """"ARQC, ARPC ok" and the like: the short form of the journal's cryptogram outcome."""
    if not txn.cryptogram:
        return ""
    return txn.cryptogram + (f", ARPC {txn.arpc_check.split(' ')[0].rstrip(':')}" if txn.arpc_check else "")


def _finish(outcome: Outcome, as_json: bool) -> None:
    from pos.cli.render import outcome_lines
    from pos.journal import store as j

    if as_json:
        out.print_json(json.dumps({**_txn_json(outcome.txn), "approved": outcome.approved,
                                   "message": outcome.message, "balance": outcome.balance},
                                  ensure_ascii=False))
    else:
        for line in outcome_lines(outcome, language()):
            out.print(line)
    if outcome.approved:
        return
    if outcome.state == j.DECLINED:
        sys.exit(EXIT_DECLINED)
    sys.exit(EXIT_NO_ANSWER)


card_option = click.option("--card", "cards", metavar="NAME", multiple=True,
                           help="Tap this test card on the simulated reader (twice: two cards at once).")


def _fault_names() -> list[str]:
    from drivers.sim.contactless import FAULTS

    return list(FAULTS)


fault_option = click.option("--card-fault", type=LazyChoice(_fault_names),
                            help="The tapped test card misbehaves this way (simulated reader).")
manual_option = click.option("--manual", is_flag=True, help="Key in card number and expiry (entry mode 012).")
def _pin(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse a PIN that format 0 cannot carry before any card is read (exit 2, nothing sent)."""
    from acquirer.protocol.pinblock import PinBlockError, check_pin

    try:
        if value is not None:
            check_pin(value)
    except PinBlockError as error:
        raise click.BadParameter(cli_text(ctx.meta.get(LANGUAGE, "en"), "cli.bad_pin", detail=str(error))) from None
    return value


pin_option = click.option("--pin", metavar="PIN", callback=_pin,
                          help="Online PIN, 4 to 12 digits, handed to the card when it asks for one "
                               "(sent encrypted in field 52).")
json_option = click.option("--json", "as_json", is_flag=True, help="Print the outcome as JSON.")
#: let "-5" reach the amount parser (and its "negative" message) instead of failing as an unknown option
AMOUNT_COMMAND = {"ignore_unknown_options": True}


# --- commands ----------------------------------------------------------------------

@main.command(context_settings=AMOUNT_COMMAND)
@click.argument("amount")
@card_option
@fault_option
@manual_option
@pin_option
@click.option("--camera", metavar="SOURCE",
              help="Also scan this camera source for a payment code: a video file, an image file or folder, "
                   "or a device index (0 = /dev/video0).")
@click.option("--show-code", is_flag=True,
              help="Show a merchant-presented QR code for the customer's wallet app to pay; wait for the payment.")
@click.option("--code-png", type=click.Path(dir_okay=False, path_type=Path),
              help="With --show-code: also write the code as a PNG image here.")
@json_option
@click.pass_obj
def sale(config: PosConfig, amount: str, cards: tuple[str, ...], card_fault: str | None, manual: bool,
         pin: str | None, camera: str | None, show_code: bool, code_png: Path | None, as_json: bool) -> None:
    """Sell AMOUNT yuan (e.g. 12.34). Exits 0 only when approved."""
    fen = _amount(config, amount)
    if show_code:
        if cards or card_fault or manual or pin or camera:
            raise click.UsageError(t("cli.show_code_excludes"))
        _finish(_run(config, lambda engine: engine.mpm_sale(fen), _code_display(code_png)), as_json)
        return
    if code_png is not None:
        raise click.UsageError(t("cli.code_png_needs"))
    if camera is not None and manual:
        raise click.UsageError(t("cli.manual_no_camera"))
    _finish(_pay(config, cards, card_fault, manual, lambda engine, sources: engine.sale(fen, sources),
                 camera=camera, pin=pin), as_json)


def _camera_refused(error: QrPayloadError) -> None:
    """A code the camera refused: its message to stderr; the scan goes on."""
    err.print(t("cli.camera_refused", message=escape(error.message), reason=escape(error.reason)), highlight=False)


def _code_display(png: Path | None) -> ev.Observer:
    """Draws the merchant-presented code when the engine shows it: on stderr as text, and as a PNG."""
    import qrcode
    import qrcode.constants

    from pos.core import events as ev

    def show(event: ev.Event) -> None:
        if not isinstance(event, ev.ShowingCode):
            return
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
        code.add_data(event.payload)
        code.print_ascii(out=sys.stderr)
        if png is not None:   # written whole, then renamed: whoever waits for the file sees all of it
            partial = png.with_name(png.name + ".partial")
            code.make_image().save(partial, format="PNG")
            partial.replace(png)
            err.print(t("cli.code_written", path=png), highlight=False)

    return show


@main.command(context_settings=AMOUNT_COMMAND)
@click.argument("amount")
@card_option
@fault_option
@manual_option
@pin_option
@json_option
@click.pass_obj
def preauth(config: PosConfig, amount: str, cards: tuple[str, ...], card_fault: str | None, manual: bool,
            pin: str | None, as_json: bool) -> None:
    """Pre-authorize (hold) AMOUNT yuan on the card."""
    fen = _amount(config, amount)
    _finish(_pay(config, cards, card_fault, manual,
                 lambda engine, sources: engine.preauth(fen, sources), pin=pin), as_json)


@main.command(context_settings=AMOUNT_COMMAND)
@click.argument("trace")
@click.argument("amount")
@card_option
@fault_option
@manual_option
@json_option
@click.pass_obj
def complete(config: PosConfig, trace: str, amount: str, cards: tuple[str, ...], card_fault: str | None,
             manual: bool, as_json: bool) -> None:
    """Complete the pre-auth with trace number TRACE for AMOUNT yuan (up to the hold)."""
    fen = _amount(config, amount)
    _finish(_pay(config, cards, card_fault, manual, lambda engine, sources: engine.complete(trace, fen, sources),
                 lambda journal: journal.find_preauth(trace.zfill(6))), as_json)


@main.command()
@click.argument("trace")
@card_option
@fault_option
@manual_option
@json_option
@click.pass_obj
def void(config: PosConfig, trace: str, cards: tuple[str, ...], card_fault: str | None, manual: bool,
         as_json: bool) -> None:
    """Void the approved transaction with trace number TRACE in the open batch."""
    _finish(_pay(config, cards, card_fault, manual, lambda engine, sources: engine.void(trace, sources),
                 lambda journal: journal.find_by_stan(trace.zfill(6))), as_json)


@main.command(context_settings=AMOUNT_COMMAND)
@click.argument("original_and_amount", metavar="[RRN] AMOUNT", nargs=-1, required=True)
@click.option("--trace", metavar="TRACE", help="Refund the sale with this trace number (as on its slip) "
                                               "instead of naming its RRN.")
@card_option
@fault_option
@manual_option
@json_option
@click.pass_obj
def refund(config: PosConfig, original_and_amount: tuple[str, ...], trace: str | None, cards: tuple[str, ...],
           card_fault: str | None, manual: bool, as_json: bool) -> None:
    """Refund AMOUNT yuan of the sale with reference number RRN (or `--trace TRACE`), in any batch."""
    from pos.core.engine import WALLET_ORDERS

    wanted = 1 if trace is not None else 2
    if len(original_and_amount) != wanted:
        raise click.UsageError(t("cli.refund_form"))
    fen = _amount(config, original_and_amount[-1])
    if trace is not None:
        rrn = _refund_rrn(config, trace, fen)
    else:
        rrn = original_and_amount[0]
    _finish(_pay(config, cards, card_fault, manual, lambda engine, sources: engine.refund(rrn, fen, sources),
                 lambda journal: journal.find_by_rrn(rrn, ("sale", "completion", *WALLET_ORDERS))), as_json)


def _refund_rrn(config: PosConfig, trace: str, fen: int) -> str:
    """The RRN of the sale `pos refund --trace` names (refused, exit 2, when there is none to refund)."""
    from pos.cli.originals import refund_original
    from pos.core.errors import OriginalNotFound
    from pos.journal.store import Journal

    journal = Journal(config.journal_path) if config.journal_path.exists() else None
    try:
        with _failures():
            if journal is None:
                raise OriginalNotFound(f"no transaction with trace {trace.zfill(6)} in this terminal's journal",
                                       message_key="refund.no_trace", trace=trace.zfill(6))
            original = refund_original(journal, trace, fen)
    finally:
        if journal is not None:
            journal.close()
    assert original.rrn is not None
    return original.rrn


@main.command()
@card_option
@fault_option
@manual_option
@pin_option
@json_option
@click.pass_obj
def balance(config: PosConfig, cards: tuple[str, ...], card_fault: str | None, manual: bool, pin: str | None,
            as_json: bool) -> None:
    """Ask the card's issuer for the available balance."""
    _finish(_pay(config, cards, card_fault, manual,
                 lambda engine, sources: engine.balance(sources), pin=pin), as_json)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--limit", type=click.IntRange(min=1), help="Only the latest N transactions.")
@click.pass_obj
def history(config: PosConfig, as_json: bool, limit: int | None) -> None:
    """The journal, newest first (masked PANs only)."""
    from pos.journal.store import Journal

    if not config.journal_path.exists():
        txns: list[Txn] = []
    else:
        journal = Journal(config.journal_path)
        txns = journal.history(limit)
        journal.close()
    if as_json:
        out.print_json(json.dumps([_txn_json(txn) for txn in txns], ensure_ascii=False))
        return
    from rich.table import Table

    from pos.cli.render import kind_word, state_word
    from pos.core.amount import format_amount

    table = Table(title=t("cli.history_title", path=config.journal_path))
    for column in t("cli.history_columns").split("|"):
        table.add_column(column, no_wrap=True)
    words = language()
    for txn in txns:
        card = txn.masked_pan or " ".join(part for part in (txn.wallet, txn.wallet_code) if part)
        table.add_row(txn.stan, txn.batch, kind_word(words, txn.type), format_amount(txn.amount), card,
                      txn.entry_mode or "", txn.aid or "", txn.app_label or "", _cryptogram(txn),
                      txn.response_code or "", txn.rrn or "", txn.auth_code or "", state_word(words, txn.state),
                      txn.created_at[:19])
    # a pipe or file gets every column whole; a terminal gets what fits its width
    Console(width=None if out.is_terminal else 200).print(table)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def settle(config: PosConfig, as_json: bool) -> None:
    """Close the batch with the host (0500); upload it when the host is out of balance."""
    from pos.core.amount import format_amount

    result = _run(config, lambda engine: engine.settle())
    if as_json:
        out.print_json(json.dumps({
            "batch": result.batch, "balanced": result.balanced, "uploaded": result.uploaded,
            "next_batch": result.next_batch,
            "debit_amount": result.closed_on.debit_amount, "debit_count": result.closed_on.debit_count,
            "credit_amount": result.closed_on.credit_amount, "credit_count": result.closed_on.credit_count,
        }))
        return
    state = t("cli.balanced") if result.balanced else t("cli.out_of_balance", uploaded=result.uploaded)
    out.print(t("cli.settled", batch=result.batch, state=state,
                debit=format_amount(result.closed_on.debit_amount), debits=result.closed_on.debit_count,
                credit=format_amount(result.closed_on.credit_amount), credits=result.closed_on.credit_count,
                next_batch=result.next_batch))


@main.command()
@click.pass_obj
def signon(config: PosConfig) -> None:
    """Sign on (fresh working keys) and send any reversal still due."""
    async def work(engine: Engine) -> tuple[str, int]:
        return engine.journal.batch, await engine.flush_reversals()

    batch, reversed_ = _run(config, work, resume=False)
    out.print(t("cli.signed_on", batch=batch) + (t("cli.reversals_acknowledged", count=reversed_) if reversed_ else ""))


@main.command()
@click.argument("trace", required=False)
@click.option("--text", "as_text", is_flag=True,
              help="Write the receipt as plain text to stdout instead of printing it.")
@click.option("--settlement", "kept", flag_value="settlement", help="The last settlement summary instead.")
@click.option("--report", "kept", flag_value="report", help="The last X or Z report instead.")
@click.pass_obj
def reprint(config: PosConfig, trace: str | None, as_text: bool, kept: KeptSlip | None) -> None:
    """Print the last receipt again (or trace TRACE's, the last settlement's or report's), marked REPRINT."""
    import asyncio

    from pos.cli.render import EventPrinter
    from pos.cli.reprints import reprint_kept
    from pos.devices.printing import receipt_name
    from pos.devices.terminal import open_receipts

    if kept is not None:
        if trace is not None:
            raise Refused(f"give a TRACE or --{kept}, not both")
        reprint_kept(config, kept, as_text)
        return
    if as_text:
        _reprint_text(config, trace)
        return
    if config.printer is None:
        raise TerminalFailure(t("cli.no_printer"))

    async def go() -> Any:
        async with open_receipts(config, EventPrinter(err, language())) as printer:
            assert printer is not None
            return await printer.reprint(trace)

    with _failures():
        txn, result = asyncio.run(go())
    if not result.printed:
        raise TerminalFailure(t("cli.not_reprinted", what=receipt_name(txn), error=result.error))
    out.print(t("cli.reprinted", what=receipt_name(txn)), highlight=False)


@main.command()
@click.argument("kind", type=click.Choice(["x", "z"], case_sensitive=False))
@json_option
@click.pass_obj
def report(config: PosConfig, kind: str, as_json: bool) -> None:
    """The X report (running totals of the open batch, nothing closed) or the Z report (settle, then the
    totals of the batch closed): by channel, entry mode and operator. Printed when there is a printer."""
    import asyncio
    from datetime import UTC, datetime

    from pos.cli.render import EventPrinter
    from pos.devices.terminal import open_receipts
    from pos.journal.report import shift_report
    from pos.journal.store import Journal
    from receipts import render_text, report_to_dict

    kind = kind.lower()
    if kind == "z":   # settle first: the Z report is the batch the host closed
        settled = _run(config, lambda engine: engine.settle())
        batch, balanced = settled.batch, settled.balanced
    else:
        batch, balanced = "", None
    journal = Journal(config.journal_path)
    try:
        batch = batch or journal.batch
        shift = shift_report(journal, config, kind, batch, datetime.now(UTC), balanced)
    finally:
        journal.close()
    if config.printer is not None:
        async def go() -> Any:
            async with open_receipts(config, EventPrinter(err, language())) as printer:
                assert printer is not None
                return await printer.report(shift)

        with _failures():
            printed = asyncio.run(go())
        if not printed.printed:
            err.print(t("cli.report_not_printed", kind=shift.kind, error=printed.error),
                      highlight=False)
    if as_json:
        out.print_json(json.dumps(report_to_dict(shift)))
    else:
        out.print(render_text(shift, TEXT_COLUMNS), end="", highlight=False, markup=False)


def _reprint_text(config: PosConfig, trace: str | None) -> None:
    """The receipt as plain text, as wide as the printer's paper (reads the journal only)."""
    from pos.journal.receipts import find_receipt
    from pos.journal.store import Journal
    from receipts import render_text

    if not config.journal_path.exists():
        raise Refused(t("cli.no_receipt_yet"))
    journal = Journal(config.journal_path)
    try:
        with _failures():
            _, receipt = find_receipt(journal, config, trace)
    finally:
        journal.close()
    columns = config.printer.profile.columns if config.printer is not None else TEXT_COLUMNS
    click.echo(render_text(receipt.as_reprint(), columns), nl=False)


@main.command()
@click.pass_obj
def init(config: PosConfig) -> None:
    """Bind this terminal to its acquirer (`pos --host ADDRESS init`); refused while a batch is open."""
    import asyncio

    from pos.devices.terminal import open_terminal

    async def bind_only() -> str:
        async with open_terminal(config, sign_on=False) as engine:
            return engine.config.host.address

    with _failures():
        address = asyncio.run(bind_only())
    out.print(t("cli.bound", tid=config.terminal.tid, address=address), highlight=False)


@main.command()
@click.pass_obj
def demo(config: PosConfig) -> None:
    """A scripted run: sales on several test cards, a void, a refund and a settlement.

    It runs in a throw-away state directory on the embedded acquirer: the
    merchant's journal, batch and host binding are never touched.
    """
    import tempfile

    from pos.cli.demo import run_demo
    from pos.core.config import EMBEDDED
    from pos.devices.station import open_station

    with tempfile.TemporaryDirectory(prefix="pos-demo-") as scratch:
        demo_config = replace(config, state_dir=Path(scratch), host_named=False,
                              host=config.host.model_copy(update={"address": EMBEDDED}))
        with _failures(), open_station(demo_config, None, simulator=False, reader_required=True) as station:
            wallet = station.test_cards
            if wallet is None:
                raise Refused(t("cli.demo_needs_sim", reader=repr(config.nfc.reader)))
            _run(demo_config, lambda engine: run_demo(engine, wallet, out, language()))


if __name__ == "__main__":
    main()
