"""`pos operator`: the till's cashiers -- add, list, remove, sign on, sign off.

The registry lives in the terminal's journal (`pos.journal.operators`); a
password is asked for on the terminal (never on the command line, where the
shell history and `ps` would keep it) and stored only as its scrypt hash.
`pos operator signon NUMBER` makes NUMBER the cashier every later command
(sale, void, report, ...) and the checkout screen record and print, until
another signs on or `pos operator signoff`; with nobody signed on, the
configured `[terminal] operator` of pos.toml is the cashier.

Errors exit with the status of their kind (docs/errors.md): 2 a refused
number, name or password; 4 the terminal cannot work (state directory); 5 busy.
"""
from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table

from acquirer.protocol.errors import TillkitError
from pos.core.config import PosConfig
from pos.devices.errors import as_tillkit_error
from pos.devices.terminal import open_journal
from pos.journal.operators import Operator, OperatorRegistry

__all__ = ["KindFailure", "operator"]

T = TypeVar("T")
out = Console()


class KindFailure(click.ClickException):
    """A tillkit error as this command reports it: its sentence, the exit status of its kind."""

    def __init__(self, error: TillkitError) -> None:
        super().__init__(str(error))
        self.exit_code = error.row.exit_code  # type: ignore[misc]  # click reads it per instance


def _with_registry(config: PosConfig, work: Callable[[OperatorRegistry], T]) -> T:
    """Run `work` on the journal's registry, the state directory locked (another pos waits its turn)."""
    async def go() -> T:
        async with open_journal(config) as journal:
            return work(OperatorRegistry(journal))

    try:
        return asyncio.run(go())
    except Exception as e:
        error = as_tillkit_error(e)
        if error is None:
            raise
        raise KindFailure(error) from None


def _as_dict(op: Operator, signed_on: str | None) -> dict[str, Any]:
    return {"id": op.id, "name": op.name, "password": op.has_password, "signed_on": op.id == signed_on}


@click.group()
def operator() -> None:
    """The till's cashiers: who may sign on, and who is signed on (recorded on every row and slip)."""


@operator.command("add")
@click.argument("number")
@click.option("--name", required=True, help="The cashier's name, as the reports print it (1-20 characters).")
@click.option("--password/--no-password", default=False,
              help="Ask for a password of 4-8 digits (typed twice, hidden; only its hash is kept).")
@click.pass_obj
def add(config: PosConfig, number: str, name: str, password: bool) -> None:
    """Register (or replace) operator NUMBER (1-3 digits)."""
    secret = click.prompt("Password", hide_input=True, confirmation_prompt=True) if password else None
    added = _with_registry(config, lambda registry: registry.add(number, name, secret))
    out.print(f"operator {added.id} ({added.name}) added" + (", with a password" if added.has_password else ""),
              highlight=False)


@operator.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the operators as JSON.")
@click.pass_obj
def list_(config: PosConfig, as_json: bool) -> None:
    """The registered operators, and who is signed on."""
    def read(registry: OperatorRegistry) -> tuple[list[Operator], str | None, str | None]:
        return registry.all(), registry.journal.signed_on_operator, registry.journal.operator

    operators, signed_on, current = _with_registry(config, read)
    if as_json:
        out.print_json(json.dumps({"operators": [_as_dict(op, signed_on) for op in operators],
                                   "signed_on": signed_on, "recording": current}))
        return
    table = Table("Number", "Name", "Password", "Signed on")
    for op in operators:
        table.add_row(op.id, op.name, "yes" if op.has_password else "no", "yes" if op.id == signed_on else "")
    out.print(table)
    who = f"operator {signed_on} is signed on" if signed_on else f"nobody signed on: rows name the default {current}"
    out.print(who, highlight=False)


@operator.command("remove")
@click.argument("number")
@click.pass_obj
def remove(config: PosConfig, number: str) -> None:
    """Remove operator NUMBER (its journal rows keep its number; signed on, it is signed off)."""
    _with_registry(config, lambda registry: registry.remove(number))
    out.print(f"operator {number} removed", highlight=False)


@operator.command("signon")
@click.argument("number")
@click.pass_obj
def signon(config: PosConfig, number: str) -> None:
    """Sign operator NUMBER on at this till (asks for its password when it has one)."""
    def needs_password(registry: OperatorRegistry) -> bool:
        row = registry.journal.operator_row(number)
        return row is not None and row["password_hash"] is not None

    secret = click.prompt("Password", hide_input=True) if _with_registry(config, needs_password) else ""
    signed = _with_registry(config, lambda registry: registry.sign_on(number, secret))
    out.print(f"operator {signed.id} ({signed.name}) signed on", highlight=False)


@operator.command("signoff")
@click.pass_obj
def signoff(config: PosConfig) -> None:
    """Sign the operator off (rows name the configured `[terminal] operator` again)."""
    _with_registry(config, lambda registry: registry.sign_off())
    out.print(f"signed off: rows name the default operator {config.terminal.operator}", highlight=False)
