"""How the `acquirer` command lines refuse a configuration file: its one line, exit 4.

A settings file refused (`acquirer.config.ConfigError`, the kit's one
`SettingsError`) is of kind "terminal": the command cannot work, and the exit
status is that kind's in the error table (docs/errors.md), the same for
`acquirer serve`, `acquirer terminals` and the clearing commands.
"""
from __future__ import annotations

import click

from acquirer.protocol.errors import KIND_TABLE, ErrorKind


class ConfigFailure(click.ClickException):
    """A configuration file refused: its one line, and the exit status of kind "terminal" (docs/errors.md)."""

    exit_code = KIND_TABLE[ErrorKind.TERMINAL].exit_code
