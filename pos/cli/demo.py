"""`pos demo`: a scripted day at the counter, for the README's quick start.

Sales on several test cards (including two the issuers decline), a void, a
partial refund, a balance inquiry and the settlement -- every step through
the real engine, link and host, each outcome printed as it happens. With the
simulated printer (pos.toml `[printer] connection = "sim"`, the default) the
receipt it printed follows each outcome, as the simulator interpreted the
ESC/POS bytes: the last copy (the cardholder's) line by line, the QR code as
its link. A real printer prints on paper instead.
"""
from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from drivers.sim.escpos_interpreter import Line, QrCode, RasterImage
from drivers.sim.printer import SimulatedPrinter
from pos.cli.render import outcome_lines
from pos.core.amount import format_amount
from pos.core.engine import Engine, Outcome
from pos.devices.printing import ReceiptPrinter
from pos.simulated.virtual_card import VirtualCards

#: (card name, amount in fen, what to expect)
SALES = (
    ("unionpay-debit", 12_34, "approved"),
    ("visa", 88_00, "approved, then voided"),
    ("mastercard", 45_99, "approved, then partly refunded"),
    ("unionpay-credit", 250_00, "approved"),
    ("unionpay-low-balance", 200_00, "declined: insufficient funds (51)"),
    ("unionpay-expired", 1_00, "declined: expired card (54)"),
)


class Paper:
    """Shows what the simulated printer printed since the last look (nothing without a simulator)."""

    def __init__(self, engine: Engine, console: Console) -> None:
        printer = engine.printer
        self.simulator: SimulatedPrinter | None = (
            printer.simulator if isinstance(printer, ReceiptPrinter) else None)
        self.columns = printer.profile.columns if isinstance(printer, ReceiptPrinter) else 0
        self.console = console
        self._seen = 0

    def show(self) -> None:
        if self.simulator is None:
            return
        paper = self.simulator.document
        fresh, self._seen = paper.items[self._seen:], len(paper.items)
        if not fresh:
            return
        paper.items = fresh
        last_copy = paper.pages()[-1]
        rows: list[Text] = []
        for item in last_copy.items:
            if isinstance(item, Line):
                rows.append(Text(item.text, style="bold" if item.bold else "", justify=item.align))
            elif isinstance(item, QrCode):
                rows.append(Text("[QR code]", justify="center"))
            elif isinstance(item, RasterImage):
                rows.append(Text(f"[image {item.width}x{item.height} dots]", justify="center"))
        self.console.print(Panel(Group(*rows), title="printed on the simulated printer", width=self.columns + 4))


async def run_demo(engine: Engine, cards: VirtualCards, console: Console, language: str = "en") -> None:
    paper = Paper(engine, console)

    def show(title: str, outcome: Outcome) -> None:
        console.rule(title, style="dim")
        for line in outcome_lines(outcome, language):
            console.print(line)
        paper.show()

    outcomes: dict[str, Outcome] = {}
    for name, amount, expect in SALES:
        outcome = await engine.sale(amount, [cards.card(name)])
        outcomes[name] = outcome
        show(f"sale {format_amount(amount)} on {name} ({expect})", outcome)

    voided = outcomes["visa"].txn
    show(f"void of trace {voided.stan}", await engine.void(voided.stan, [cards.card("visa")]))

    refunded = outcomes["mastercard"].txn
    show(f"refund ¥20.00 of RRN {refunded.rrn}",
         await engine.refund(refunded.rrn or "", 20_00, [cards.card("mastercard")]))

    show("balance inquiry on unionpay-debit", await engine.balance([cards.card("unionpay-debit")]))

    console.rule("settlement", style="dim")
    result = await engine.settle()
    state = "balanced" if result.balanced else f"out of balance, {result.uploaded} uploaded"
    console.print(f"[bold]batch {result.batch} settled[/] ({state}): debits "
                  f"{format_amount(result.closed_on.debit_amount)} ({result.closed_on.debit_count}), "
                  f"credits {format_amount(result.closed_on.credit_amount)} "
                  f"({result.closed_on.credit_count}); next batch {result.next_batch}")
    paper.show()
    console.print("[dim]`pos history` lists the journal; `pos --help` shows every command.[/]")
