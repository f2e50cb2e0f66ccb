"""`pos demo`: a scripted day at the counter, for the README's quick start.

Sales on several test cards (including two the issuers decline), a void, a
partial refund, a balance inquiry and the settlement -- every step through
the real engine, link and host, each outcome printed as it happens.
"""
from __future__ import annotations

from rich.console import Console

from pos.amount import format_amount
from pos.engine import Engine, Outcome
from pos.render import outcome_lines
from pos.virtual_card import VirtualCards

#: (card name, amount in fen, what to expect)
SALES = (
    ("unionpay-debit", 12_34, "approved"),
    ("visa", 88_00, "approved, then voided"),
    ("mastercard", 45_99, "approved, then partly refunded"),
    ("unionpay-credit", 250_00, "approved"),
    ("unionpay-low-balance", 200_00, "declined: insufficient funds (51)"),
    ("unionpay-expired", 1_00, "declined: expired card (54)"),
)


async def run_demo(engine: Engine, cards: VirtualCards, console: Console) -> None:
    def show(title: str, outcome: Outcome) -> None:
        console.rule(title, style="dim")
        for line in outcome_lines(outcome):
            console.print(line)

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
    console.print("[dim]`pos history` lists the journal; `pos --help` shows every command.[/]")
