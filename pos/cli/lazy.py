"""Subcommands of `pos` (and option choices) that are imported only when they are used.

Every `pos` command is a new process (cash registers, scripts and the test
suite start hundreds), and every one paid for importing all the others:
`pos operator`, `pos reconcile`, `pos sim` and `pos daemon` pull in the
engine, the device assembly, the reconciliation service, the simulator and
the acquirer's configuration, which `pos history` or `pos --help` never use.
A `LazyGroup` knows those subcommands by name and module and imports one
when click resolves it. The command list of `pos --help` shows each with its
summary (the first paragraph of its docstring), kept here so the listing
needs no import; tests/pos/test_cli_startup.py checks that it matches what the
command itself says. A `LazyChoice` does the same for an option's names
(`--card-fault`: the simulator's faults), read when the option is given or
its command's help is shown.
"""
from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import click

__all__ = ["Deferred", "LazyChoice", "LazyGroup"]


@dataclass(frozen=True)
class Deferred:
    """Where a subcommand lives (`module`, its attribute `attribute`) and what `--help` lists it as."""

    module: str
    attribute: str
    summary: str

    def load(self) -> click.Command:
        command = getattr(importlib.import_module(self.module), self.attribute)
        assert isinstance(command, click.Command), f"{self.module}.{self.attribute} is not a click command"
        return command


class LazyGroup(click.Group):
    """A click group whose `deferred` subcommands are imported the first time one is resolved."""

    def __init__(self, *args: object, deferred: Mapping[str, Deferred] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.deferred = dict(deferred or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.deferred})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.deferred and cmd_name not in self.commands:
            self.add_command(self.deferred[cmd_name].load(), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, a deferred command not yet imported shown by its summary (as click would show it)."""
        listed: dict[str, click.Command] = {
            name: click.Command(name, help=entry.summary)
            for name, entry in self.deferred.items() if name not in self.commands}
        click.Group(self.name, commands={**listed, **self.commands}).format_commands(ctx, formatter)


class LazyChoice(click.Choice):
    """A `click.Choice` whose names `names()` gives, asked the first time they are needed."""

    def __init__(self, names: Callable[[], Iterable[str]], case_sensitive: bool = True) -> None:
        self._names = names
        self._loaded: tuple[str, ...] | None = None
        super().__init__((), case_sensitive)

    @property
    def choices(self) -> tuple[str, ...]:
        if self._loaded is None:
            self._loaded = tuple(self._names())
        return self._loaded

    @choices.setter
    def choices(self, value: Iterable[str]) -> None:
        """click's `__init__` sets the names it was given (none): they are `names()`'s."""
