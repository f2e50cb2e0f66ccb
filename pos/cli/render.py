"""Rich text for engine events and outcomes, shared by the command line and the demo."""
from __future__ import annotations

from rich.console import Console
from rich.markup import escape

from pos.core import events as ev
from pos.core.amount import format_amount
from pos.core.engine import Outcome
from pos.journal import store as j


def event_line(event: ev.Event) -> str | None:
    """One line of progress for an event (None: nothing worth a line)."""
    match event:
        case ev.SigningOn(address):
            return f"signing on to the host ({address})…"
        case ev.SignedOn(batch):
            return f"signed on, batch {batch}"
        case ev.HostUnreachable(address, error, retry):
            return f"[yellow]host {address} unreachable[/] ({error}); retrying in {retry:g} s"
        case ev.WaitingForPayment(kind, amount, _, sources):
            what = format_amount(amount) if amount else kind
            return f"{kind}: waiting for payment {what} ({', '.join(sources)})"
        case ev.CardRead(masked, scheme, entry, source, label):
            return f"card {masked} {label or scheme} ({source}, entry mode {entry})"
        case ev.WalletCodeRead(wallet, masked, source):
            return f"{wallet} payment code {masked} ({source}): paying through the wallet channel"
        case ev.SourceFailed(source, reason):
            return f"[yellow]{escape(source)} stopped[/] ({escape(reason)}); still waiting on the others"
        case ev.CustomerConfirming(wallet, stan, timeout):
            return (f"[yellow]customer confirming on the phone[/] ({wallet}, trace {stan}); "
                    f"waiting up to {timeout:g} s")
        case ev.ShowingCode(_, amount, stan, bill, timeout):
            return (f"show the customer the payment code for {format_amount(amount)} (trace {stan}, bill {bill}); "
                    f"waiting up to {timeout:g} s for the payment")
        case ev.CardNotRead(_, outcome, prompt, _):
            colour = "red" if outcome == "declined" else "yellow"
            return f"reader shows [{colour}]{prompt}[/]"
        case ev.Authorizing(kind, stan, batch, _):
            return f"authorizing {kind}, trace {stan}, batch {batch}…"
        case ev.ReversalPending(kind, stan, code, reason):
            return f"[yellow]reversal pending[/] for {kind} trace {stan} (reason {code}): {reason}"
        case ev.ReversalSent(stan, attempt):
            return f"sending the reversal of trace {stan} (attempt {attempt})…"
        case ev.Reversed(stan):
            return f"[yellow]reversal of trace {stan} acknowledged: no money taken[/]"
        case ev.Settling(batch, debit, debits, credit, credits):
            return (f"settling batch {batch}: debits {format_amount(debit)} ({debits}), "
                    f"credits {format_amount(credit)} ({credits})")
        case ev.UploadingBatch(batch, count):
            return f"[yellow]host is out of balance[/]: uploading batch {batch} ({count} transactions)"
        case ev.Printing(stan):
            return f"printing the receipt of trace {stan}…"
        case ev.ReceiptPrinted(what, near_end):
            return f"{escape(what)} printed" + ("; [yellow]paper near its end[/]: load a new roll soon"
                                                if near_end else "")
        case ev.ReceiptQueued(what, error):
            return (f"[yellow]{escape(what)} not printed[/]: {escape(error)}; it stays in the print queue and "
                    f"prints once the printer is back")
    return None


class EventPrinter:
    """An engine observer writing one line per event to a console (stderr for the CLI)."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, event: ev.Event) -> None:
        line = event_line(event)
        if line is not None:
            self.console.print(line, highlight=False)


def outcome_lines(outcome: Outcome) -> list[str]:
    """The result of a transaction, as the cashier reads it."""
    t = outcome.txn
    amount = format_amount(t.amount) if t.type != "balance" else ""
    card = t.masked_pan or " ".join(part for part in (t.wallet, t.wallet_code) if part)
    if outcome.approved:
        lines = [f"[bold green]APPROVED[/] {t.type} {amount} card {card}",
                 f"trace {t.stan}  batch {t.batch}  RRN {t.rrn}  auth code {t.auth_code}"]
        if outcome.balance is not None:
            lines.append(f"available balance {format_amount(outcome.balance)}")
    elif t.state == j.DECLINED:
        lines = [f"[bold red]DECLINED[/] {t.type} {amount} card {card}: {outcome.message}",
                 f"trace {t.stan}  batch {t.batch}"]
    else:
        lines = [f"[bold yellow]NOT APPROVED[/] {t.type} {amount} card {card} ({t.state}): {outcome.message}",
                 f"trace {t.stan}  batch {t.batch}"]
    if t.aid:
        chip = f"{t.app_label or 'application'} AID {t.aid}, entry mode {t.entry_mode}"
        if t.cryptogram:
            chip += f", {t.cryptogram}" + (f", ARPC {t.arpc_check}" if t.arpc_check else "")
        lines.append(chip)
    return lines
