"""Rich text for engine events and outcomes, shared by the command line and the demo, in the till's language.

The words are `pos.messages.CLI_TEXTS` ("en" is what `pos` always printed,
byte for byte). In Chinese, a transaction's kind and state and a card's
prompt take the till's words for them, the ones the checkout screen shows
(`pos.tui.i18n`, which loads no Textual); in English they stay the journal's
names, as scripts read them.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from pos.core import events as ev
from pos.core.amount import format_amount
from pos.journal import store as j
from pos.messages import cli_text
from pos.tui.i18n import TEXTS, card_prompt

if TYPE_CHECKING:   # `pos history` words its rows here without loading the engine
    from pos.core.engine import Outcome


def kind_word(language: str, kind: str) -> str:
    """A transaction type as the cashier reads it: the journal's name in English, the till's word in Chinese."""
    words = TEXTS.get(f"kind.{kind}")
    return words[1] if language == "zh" and words is not None else kind


def state_word(language: str, state: str) -> str:
    words = TEXTS.get(f"state.{state}")
    return words[1] if language == "zh" and words is not None else state


def event_line(event: ev.Event, language: str = "en") -> str | None:
    """One line of progress for an event (None: nothing worth a line)."""
    def t(key: str, **values: object) -> str:
        return cli_text(language, key, **values)

    match event:
        case ev.SigningOn(address):
            return t("cli.signing_on", address=address)
        case ev.SignedOn(batch):
            return t("cli.signed_on", batch=batch)
        case ev.HostUnreachable(address, error, retry):
            return t("cli.host_unreachable", address=address, error=error, retry=retry)
        case ev.WaitingForPayment(kind, amount, _, sources):
            what = format_amount(amount) if amount else kind_word(language, kind)
            return t("cli.waiting", kind=kind_word(language, kind), what=what, sources=", ".join(sources))
        case ev.CardRead(masked, scheme, entry, source, label):
            return t("cli.card_read", masked=masked, label=label or scheme, source=source, entry=entry)
        case ev.WalletCodeRead(wallet, masked, source):
            return t("cli.wallet_code_read", wallet=wallet, masked=masked, source=source)
        case ev.SourceFailed(source, reason):
            return t("cli.source_failed", source=escape(source), reason=escape(reason))
        case ev.CustomerConfirming(wallet, stan, timeout):
            return t("cli.customer_confirming", wallet=wallet, stan=stan, timeout=timeout)
        case ev.ShowingCode(_, amount, stan, bill, timeout):
            return t("cli.showing_code", amount=format_amount(amount), stan=stan, bill=bill, timeout=timeout)
        case ev.CardNotRead(_, outcome, prompt, _):
            colour = "red" if outcome == "declined" else "yellow"
            return t("cli.reader_shows", colour=colour, prompt=card_prompt(language, prompt))
        case ev.Authorizing(kind, stan, batch, _):
            return t("cli.authorizing", kind=kind_word(language, kind), stan=stan, batch=batch)
        case ev.ReversalPending(kind, stan, code, reason):
            return t("cli.reversal_pending", kind=kind_word(language, kind), stan=stan, code=code, reason=reason)
        case ev.ReversalSent(stan, attempt):
            return t("cli.reversal_sent", stan=stan, attempt=attempt)
        case ev.Reversed(stan):
            return t("cli.reversed", stan=stan)
        case ev.Settling(batch, debit, debits, credit, credits):
            return t("cli.settling", batch=batch, debit=format_amount(debit), debits=debits,
                     credit=format_amount(credit), credits=credits)
        case ev.UploadingBatch(batch, count):
            return t("cli.uploading", batch=batch, count=count)
        case ev.Printing(stan):
            return t("cli.printing", stan=stan)
        case ev.ReceiptPrinted(what, near_end):
            return t("cli.printed", what=escape(what)) + (t("cli.paper_near_end") if near_end else "")
        case ev.ReceiptQueued(what, error):
            return t("cli.queued", what=escape(what), error=escape(error))
    return None


class EventPrinter:
    """An engine observer writing one line per event to a console (stderr for the CLI)."""

    def __init__(self, console: Console, language: str = "en") -> None:
        self.console = console
        self.language = language

    def __call__(self, event: ev.Event) -> None:
        line = event_line(event, self.language)
        if line is not None:
            self.console.print(line, highlight=False)


def outcome_lines(outcome: Outcome, language: str = "en") -> list[str]:
    """The result of a transaction, as the cashier reads it."""
    def t(key: str, **values: object) -> str:
        return cli_text(language, key, **values)

    txn = outcome.txn
    amount = format_amount(txn.amount) if txn.type != "balance" else ""
    card = txn.masked_pan or " ".join(part for part in (txn.wallet, txn.wallet_code) if part)
    kind = kind_word(language, txn.type)
    if outcome.approved:
        lines = [t("cli.approved", kind=kind, amount=amount, card=card),
                 t("cli.approved_refs", stan=txn.stan, batch=txn.batch, rrn=txn.rrn, auth=txn.auth_code)]
        if outcome.balance is not None:
            lines.append(t("cli.balance", balance=format_amount(outcome.balance)))
    elif txn.state == j.DECLINED:
        lines = [t("cli.declined", kind=kind, amount=amount, card=card, message=outcome.message),
                 t("cli.refs", stan=txn.stan, batch=txn.batch)]
    else:
        lines = [t("cli.not_approved", kind=kind, amount=amount, card=card, state=state_word(language, txn.state),
                   message=outcome.message),
                 t("cli.refs", stan=txn.stan, batch=txn.batch)]
    if txn.aid:
        chip = t("cli.chip", label=txn.app_label or t("cli.application"), aid=txn.aid, entry=txn.entry_mode)
        if txn.cryptogram:
            chip += f", {txn.cryptogram}" + (f", ARPC {txn.arpc_check}" if txn.arpc_check else "")
        lines.append(chip)
    return lines
