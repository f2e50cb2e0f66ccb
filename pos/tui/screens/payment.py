"""One transaction on screen: waiting for the card or code, authorizing, and the result.

The screen runs the engine call it is given (a sale, pre-auth, completion,
balance inquiry, void or refund) in a worker and follows the engine's
events: waiting on every armed source (Esc cancels, and only then: once a
card is read the engine owns the transaction), the card read, authorizing
with the trace number, then the outcome. A merchant-presented code sale
shows its QR code (half blocks, `receipts.qr_cells`) beside the amount while
the customer's wallet pays it; Esc cancels it there too (the engine reverses
the order) and the screen then shows that outcome. The result stays on screen until the cashier moves on; device and
host problems appear as notices beside it, never instead of it.

It dismisses with the journaled transaction (None if nothing was journaled).
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static
from textual.worker import Worker

from acquirer.protocol.errors import KIND_TABLE, ErrorKind, TillkitError
from pos.core import events as ev
from pos.core.amount import format_amount
from pos.core.engine import Engine, Outcome
from pos.core.errors import CardNotRead, ReversalOutstanding
from pos.core.payment import PaymentSource
from pos.devices.errors import as_tillkit_error
from pos.journal import store as j
from pos.journal.receipts import PRINTED_TYPES
from pos.journal.store import Txn
from pos.tui.format import kind_text, short_card
from pos.tui.i18n import card_prompt, translate
from pos.tui.screens.base import TillScreen
from pos.tui.widgets import KeyBar, NoticeBar, StatusBar
from pos.tui.widgets.bars import Hint
from receipts.qr_cells import qr_cells

log = logging.getLogger(__name__)

#: what the screen runs: the engine call, given the engine and the armed sources (a PIN comes through the PIN pad)
Job = Callable[[Engine, Sequence[PaymentSource]], Awaitable[Outcome]]

PREPARING, WAITING, CARD_READ, AUTHORIZING, DONE = "preparing", "waiting", "card_read", "authorizing", "done"
SHOWING_CODE = "showing_code"   # a merchant-presented code on screen, for the customer's wallet app

#: rows the code may take: the screen's 24 less the status bar and the key hints
CODE_ROWS = 22

WAITING_HINTS = (Hint("F6", "key.simulator", "app.simulator"), Hint("Esc", "key.cancel", "cancel"),
                 Hint("F9", "key.language", "app.language"))
DONE_HINTS = (Hint("↵", "key.done", "done"), Hint("R", "key.receipt", "receipt"),
              Hint("P", "key.print", "print_again"), Hint("F9", "key.language", "app.language"))
REFUSED_HINTS = (Hint("↵", "key.done", "done"), Hint("F9", "key.language", "app.language"))
CODE_HINTS = (Hint("F6", "key.simulator", "simulator"), Hint("Esc", "key.cancel", "cancel"),
              Hint("F9", "key.language", "app.language"))


#: the keys this screen answers, handled in `on_key` (not as bindings) so a key typed before what
#: it would answer was on screen can be recognised and dropped
KEY_ACTIONS = {"escape": "cancel", "enter": "done", "r": "receipt", "p": "print_again"}


class PaymentScreen(TillScreen):
    BINDINGS = [Binding("f6", "simulator", show=False)]   # over the app's F6: a shown code is paid, not presented

    def __init__(self, kind: str, amount: int, job: Job | None, *, original: Txn | None = None) -> None:
        super().__init__()
        self.kind = kind
        self.amount = amount
        self.job = job
        self.original = original             # a void's or refund's original: its card must be presented
        self.phase = PREPARING
        self.sources: tuple[str, ...] = ()
        self.card: ev.CardRead | None = None
        self.code: ev.WalletCodeRead | None = None
        self.confirming: tuple[str, float] | None = None   # (wallet, seconds) while the customer confirms
        self.shown: ev.ShowingCode | None = None   # the merchant-presented code on screen
        self.stan = ""
        self.declined: ev.Declined | None = None
        self.outcome: Outcome | None = None
        self.refusal = ""                    # refused before anything was sent (the error's words)
        self.verdict = "kind.refused"        # the headline of the error's kind
        self.not_read: CardNotRead | None = None   # the tap ended before an online request
        self._worker: Worker[None] | None = None
        self._phase_since = time.monotonic()   # when the phase on screen began (Textual's key clock)

    @property
    def HINTS(self) -> tuple[Hint, ...]:  # type: ignore[override]
        if self.phase == SHOWING_CODE:
            return CODE_HINTS
        if self.phase != DONE:
            return WAITING_HINTS
        return DONE_HINTS if self._has_receipt() else REFUSED_HINTS

    def _has_receipt(self) -> bool:
        """A slip exists for the outcome on screen (a balance inquiry's shows on the screen only)."""
        return self.outcome is not None and self.outcome.txn.type in PRINTED_TYPES

    def on_mount(self) -> None:
        if self.job is not None:
            self._worker = self.run_payment()

    # --- the engine call -------------------------------------------------------------------

    @work(exclusive=True, group="payment", exit_on_error=False)
    async def run_payment(self) -> None:
        app = self.till_app
        assert self.job is not None
        app.txn_listener = self
        try:
            engine = app.engine
            if engine is None:
                self.refuse(app.t("notice.not_signed_on"))
                return
            outcome = await self.job(engine, app.station.sources)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            error = as_tillkit_error(e)
            if error is None:   # a bug still ends on screen, with its words
                log.exception("%s failed", self.kind)
                self.refuse(f"{type(e).__name__}: {e}")
            else:
                self.failed(error)
        else:
            self.finish(outcome)
        finally:
            if app.txn_listener is self:
                app.txn_listener = None

    def failed(self, error: TillkitError) -> None:
        """An error instead of an outcome: shown by its kind (docs/errors.md), worded from its message key."""
        app = self.till_app
        text = app.error_text(error)
        if isinstance(error, CardNotRead):
            self.card_not_read(error)
            return
        if error.kind is ErrorKind.CANCELLED:
            app.show_notice("pay.cancelled", level="information")
            self.dismiss(None)
            return
        if isinstance(error, ReversalOutstanding):
            app.till.host = "reversal"
            app.show_notice("notice.reversal_outstanding", detail=text)
        elif error.message_key.startswith(("link.", "engine.sign_on")):
            app.till.host = "down"
            app.show_notice("notice.host_down", detail=text)
        elif error.message_key == "device.reader":
            app.show_notice("notice.reader", detail=text)
        elif error.message_key == "device.camera":
            app.show_notice("notice.camera", detail=text)
        elif error.kind is ErrorKind.BUSY:
            app.show_notice("notice.busy", level="warning")
        self.refuse(text, KIND_TABLE[error.kind].notice)

    def follow(self, event: ev.Event) -> None:
        """The engine's events while this screen's call runs (and fixed ones in tests)."""
        if self.phase == DONE:
            return
        match event:
            case ev.WaitingForPayment(_, _, _, sources):
                self.sources = sources
                self._set_phase(WAITING)
            case ev.CardRead() as card:
                self.card = card
                self._set_phase(CARD_READ)
            case ev.WalletCodeRead() as code:
                self.code = code
                self._set_phase(CARD_READ)
            case ev.ShowingCode() as shown:
                self.shown = shown
                self._set_phase(SHOWING_CODE)
            case ev.CustomerConfirming(wallet, _, timeout_s):
                self.confirming = (wallet, timeout_s)
                self._set_phase(AUTHORIZING)
            case ev.SourceFailed(source, reason):
                # the engine disarmed that source alone; the others still wait
                self.sources = tuple(s for s in self.sources if s != source)
                name = self.t(source) if source in ("reader", "camera") else source
                self.till_app.show_notice("notice.source_failed", source=name, detail=reason, level="warning")
                self._set_phase(WAITING)
            case ev.Authorizing(_, stan, _, _):
                self.stan = stan
                self._set_phase(AUTHORIZING)
            case ev.Declined() as declined:
                self.declined = declined

    # --- what the screen shows ---------------------------------------------------------------

    def finish(self, outcome: Outcome) -> None:
        """Show how the transaction ended (also how tests put a fixed outcome on screen)."""
        self.outcome = outcome
        self.till_app.till.last = outcome.txn
        self._set_phase(DONE)

    def card_not_read(self, error: CardNotRead) -> None:
        """The tap ended before an online request: the card's prompt, and why."""
        self.not_read = error
        self.refuse(error.reason, KIND_TABLE[error.kind].notice)

    def refuse(self, text: str, verdict: str = "kind.refused") -> None:
        self.refusal = text
        self.verdict = verdict
        self._set_phase(DONE)

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._phase_since = time.monotonic()
        if self.is_mounted:
            self.refresh(recompose=True)

    def compose(self) -> ComposeResult:
        if self.phase != SHOWING_CODE:
            yield from super().compose()
            return
        # the code takes every row between the status bar and the key hints: notices go beside it
        yield StatusBar(id="status-bar")
        yield from self._code_body()
        with Vertical(id="bottom"):
            yield KeyBar(self.HINTS)

    def _code_body(self) -> ComposeResult:
        t = self.t
        assert self.shown is not None
        cells = qr_cells(self.shown.payload, max_rows=CODE_ROWS)
        language = self.till_app.language
        other = "zh" if language == "en" else "en"
        with Horizontal(id="code-panel"):
            if cells.fits(cells.width, CODE_ROWS):
                yield Static("\n".join(cells.lines), id="code")
            else:   # a cut-off code cannot be scanned: say so rather than draw it
                yield Static(t("pay.code_too_big"), id="code-missing", classes="refused")
            with Vertical(id="code-side"):
                yield Static(kind_text(language, self.kind), id="code-title")
                yield Static(format_amount(self.shown.amount), id="code-amount")
                yield Static(t("pay.scan_code"), classes="prompt")
                yield Static(translate(other, "pay.scan_code"), classes="prompt-other")
                yield Static(t("pay.code_bill", bill=self.shown.bill), classes="detail")
                yield Static(t("pay.code_timeout", seconds=f"{self.shown.timeout_s:g}"), classes="detail")
                yield Static(t("pay.code_keys"), classes="keys")
                yield NoticeBar(id="code-notice")

    def body(self) -> ComposeResult:
        amount = "" if self.kind == "balance" else f"  {format_amount(self.amount)}"
        title = f"{kind_text(self.till_app.language, self.kind)}{amount}"
        with Vertical(id="payment-panel", classes=self._result_class()):
            yield Static(title, id="payment-title")
            yield from self._phase_body()

    def _result_class(self) -> str:
        if self.phase != DONE:
            return "is-progress"
        if self.outcome is None:
            return "is-refused"
        if self.outcome.approved:
            return "is-approved"
        return "is-declined" if self.outcome.state == j.DECLINED else "is-not-approved"

    def _phase_body(self) -> ComposeResult:
        t = self.t
        if self.phase == PREPARING:
            yield Static(t("pay.preparing"), classes="progress-line")
        elif self.phase == WAITING:
            language = self.till_app.language
            other = "zh" if language == "en" else "en"
            yield Static(t("pay.present"), id="present", classes="prompt")
            yield Static(translate(other, "pay.present"), classes="prompt-other")
            if self.original is not None and self.original.masked_pan:
                yield Static(t("pay.original_card", card=short_card(self.original.masked_pan)), classes="note")
            yield Static(t("pay.armed", sources=", ".join(t(s) if s in ("reader", "camera") else s
                                                            for s in self.sources)), classes="detail")
            if self.till_app.station.simulator is not None:
                yield Static(t("pay.simulator"), classes="detail")
        elif self.phase in (CARD_READ, AUTHORIZING):
            if self.card is not None:
                yield Static(t("pay.card_read", card=self.card.masked_pan, source=self.card.source),
                             classes="detail")
            if self.code is not None:
                yield Static(t("pay.code_read", wallet=t(f"wallet.{self.code.wallet}"), code=self.code.masked_code),
                             classes="detail")
            if self.confirming is not None:
                wallet, seconds = self.confirming
                yield Static(t("pay.confirming", wallet=t(f"wallet.{wallet}"), seconds=f"{seconds:g}"),
                             classes="progress-line")
            else:
                yield Static(t("pay.authorizing", stan=self.stan) if self.stan else t("pay.preparing"),
                             classes="progress-line")
        else:
            yield from self._result_body()

    def _result_body(self) -> ComposeResult:
        t = self.t
        outcome = self.outcome
        if outcome is None and self.not_read is not None:
            language = self.till_app.language
            yield Static(t("pay.not_read"), classes="verdict")
            yield Static(card_prompt(language, self.not_read.prompt), classes="reason")
            if language == "zh":
                yield Static(self.not_read.prompt, classes="reason-other")
            yield Static(Text(self.refusal), classes="detail")
            yield Static(t("pay.not_read_keys"), classes="keys")
            return
        if outcome is None:
            yield Static(t(self.verdict), classes="verdict")
            yield Static(Text(self.refusal), classes="reason")
            yield Static(t("pay.retry_keys"), classes="keys")
            return
        txn = outcome.txn
        if outcome.approved:
            yield Static(f"✔ {t('pay.approved')}", classes="verdict")
        elif txn.state == j.DECLINED:
            yield Static(f"✘ {t('pay.declined')}", classes="verdict")
            yield from self._decline_reason(outcome)
        else:
            yield Static(f"! {t('pay.not_approved')}", classes="verdict")
            key = {j.REVERSED: "pay.reversed", j.REVERSAL_DUE: "pay.reversal_due"}.get(txn.state, "pay.unknown")
            yield Static(t(key), classes="reason")
            yield Static(Text(outcome.message), classes="detail")
        yield Static(Text(self._facts(txn)), classes="facts")
        if outcome.balance is not None:
            yield Static(t("pay.balance", amount=format_amount(outcome.balance)), classes="detail")
        yield Static(t("pay.done_keys" if self._has_receipt() else "pay.done_only"), classes="keys")

    def _decline_reason(self, outcome: Outcome) -> ComposeResult:
        declined = self.declined
        if declined is not None and declined.stan == outcome.txn.stan:
            first, second = (declined.reason_zh, declined.reason) if self.till_app.language == "zh" \
                else (declined.reason, declined.reason_zh)
            code = f" ({declined.response_code})" if declined.response_code else ""
            yield Static(Text(f"{first}{code}"), classes="reason")
            yield Static(Text(second), classes="reason-other")
        else:
            yield Static(Text(outcome.message), classes="reason")

    def _facts(self, txn: Txn) -> str:
        t = self.t
        paid_with = (f"{t('field.card')} {short_card(txn.masked_pan)}  {txn.app_label or txn.scheme or ''}"
                     if txn.masked_pan else f"{t('field.wallet')} {t(f'wallet.{txn.wallet}')} {txn.wallet_code or ''}"
                     if txn.wallet else "")
        lines = [paid_with,
                 f"{t('field.trace')} {txn.stan}   {t('field.batch')} {txn.batch}"]
        if txn.rrn or txn.auth_code:
            lines.append(f"{t('field.rrn')} {txn.rrn or '—'}   {t('field.auth')} {txn.auth_code or '—'}")
        return "\n".join(lines)

    # --- keys ---------------------------------------------------------------------------------

    async def on_key(self, event: events.Key) -> None:
        """Each key once, and only as an answer to what was on screen when it was typed.

        A cashier's burst (Enter Enter, or Enter after the PIN) is typed while the
        payment is being decided; such a key reaches this screen after the result
        appeared, but it was not an answer to the result and must not dismiss it
        (nor print, nor open the receipt). Textual stamps every key with its
        arrival on the monotonic clock; a key older than the phase on screen is
        dropped.
        """
        action = KEY_ACTIONS.get(event.key)
        if action is None:
            return
        event.stop()
        event.prevent_default()
        if event.time < self._phase_since:
            log.debug("dropped %s typed before the %s phase was on screen", event.key, self.phase)
            return
        await self.run_action(action)

    def action_cancel(self) -> None:
        """Esc while waiting for the customer: the engine's abort.

        Waiting for the card or code, nothing was journaled and nothing is sent:
        the engine ends the payment with `Cancelled` and `failed` closes the
        screen. While the customer confirms a wallet payment on the phone, the
        engine reverses the order and the screen shows that outcome.
        """
        engine = self.till_app.engine
        confirming = self.phase == AUTHORIZING and self.confirming is not None
        if engine is None or not (self.phase in (WAITING, SHOWING_CODE) or confirming):
            return
        engine.abort()

    def action_simulator(self) -> None:
        """F6 while a merchant-presented code is shown: which wallet app pays it (the simulator's customer)."""
        from pos.tui.screens.simulator import PayShownCodeScreen

        if self.phase != SHOWING_CODE:
            self.app.action_simulator()   # type: ignore[attr-defined]
            return
        if self.till_app.station.simulator is None:
            self.till_app.show_notice("sim.none", level="information")
            return
        self.app.push_screen(PayShownCodeScreen(), self._pay_shown_code)

    def _pay_shown_code(self, wallet: str | None) -> None:
        if wallet is not None and self.shown is not None and self.phase == SHOWING_CODE:
            self._customer_pays(self.shown.payload, wallet)

    @work(thread=True, group="customer", exit_on_error=False)
    def _customer_pays(self, payload: str, wallet: str) -> None:
        """The simulated customer's phone pays the code (a socket exchange with the host: off the loop)."""
        from drivers.sim.wallet import WalletError

        app = self.till_app
        simulator = app.station.simulator
        assert simulator is not None
        try:
            answer = simulator.pay_shown_code(payload, wallet)
        except WalletError as e:
            app.call_from_thread(app.show_notice, "sim.pay_failed", detail=str(e), level="warning")
            return
        if not answer.paid:   # the engine's next query hears the same; the customer may try again
            app.call_from_thread(app.show_notice, "sim.pay_declined", level="warning",
                                 wallet=app.t(f"wallet.{wallet}"), detail=f"{answer.response_code} {answer.message}")

    def action_done(self) -> None:
        if self.phase == DONE:
            self.dismiss(self.outcome.txn if self.outcome else None)

    def action_receipt(self) -> None:
        from pos.tui.screens.receipt import ReceiptScreen

        if self.phase == DONE and self.outcome is not None and self._has_receipt():
            self.app.push_screen(ReceiptScreen(self.outcome.txn))

    async def action_print_again(self) -> None:
        if self.phase == DONE and self.outcome is not None and self._has_receipt():
            await self.till_app.reprint(self.outcome.txn)
