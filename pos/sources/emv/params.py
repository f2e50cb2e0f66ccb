"""Terminal parameters for the contactless kernel, per terminal and per AID.

Loaded from `config/terminal-emv.toml` through the kit's one settings loader
(`acquirer.protocol.settings_file`): `TerminalEmvFile` below is the file's
schema, so a typo, a wrong type, an unreadable or binary file is refused as
one line `file: key: reason` (docs/configuration.md). The dataclass defaults
are the kit's: QuickPass's published no-CVM limit of 1000 CNY; the other
limits are common values an acquirer sets (unverified).
"""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from acquirer.protocol.settings_file import SettingsError, SettingsModel, load_settings

EMV_FILE = "terminal-emv.toml"
Scheme = Literal["unionpay", "visa", "mastercard"]
Cvm = Literal["online_pin", "signature", "none"]

#: terminal-emv.toml refused (`file: key: reason`): the kit's one settings error
EmvConfigError = SettingsError


@dataclass(frozen=True)
class AidParams:
    """What the terminal does with one application (AID)."""

    aid: bytes
    scheme: str
    name: str = ""
    app_version: bytes = b"\x00\x30"          # 9F09 terminal's application version number
    ttq: bytes = bytes.fromhex("36004000")    # 9F66 base qualifiers
    floor_limit: int = 0                      # fen
    contactless_limit: int = 10_000_000       # fen: above it, contactless is not allowed
    cvm_limit: int = 100_000                  # fen: above it, a CVM is required
    cvm: str = "online_pin"                   # CVM above the limit when the card names none
    partial_selection: bool = False

    def matches(self, adf_name: bytes) -> bool:
        """Does a card application with this ADF name belong to this entry?"""
        if self.partial_selection:
            return adf_name.startswith(self.aid)
        return adf_name == self.aid


@dataclass(frozen=True)
class TerminalEmvConfig:
    """The kernel's whole parameter set."""

    aids: tuple[AidParams, ...]
    terminal_type: bytes = b"\x22"                       # 9F35
    capabilities: bytes = bytes.fromhex("E0F8C8")        # 9F33
    ifd_serial: bytes = b"TK000001"                      # 9F1E

    def aid_params(self, adf_name: bytes) -> AidParams | None:
        """The entry for a card application, exact matches before partial ones."""
        exact = [p for p in self.aids if p.aid == adf_name]
        if exact:
            return exact[0]
        return next((p for p in self.aids if p.matches(adf_name)), None)


# --- the file's schema ------------------------------------------------------------

def _hex(low: int, high: int) -> Callable[[object], bytes]:
    """A validator: hex text of `low` to `high` bytes, as bytes."""
    size = f"{low} bytes" if low == high else f"{low} to {high} bytes"

    def parse(value: object) -> bytes:
        if not isinstance(value, str) or not re.fullmatch(r"([0-9A-Fa-f]{2})+", value):
            raise ValueError(f"must be hex bytes ({size})")
        raw = bytes.fromhex(value)
        if not low <= len(raw) <= high:
            raise ValueError(f"must be {size}, got {len(raw)}")
        return raw
    return parse


def _printable(size: int) -> Callable[[object], bytes]:
    def parse(value: object) -> bytes:
        if not isinstance(value, str) or not re.fullmatch(rf"[ -~]{{{size}}}", value):
            raise ValueError(f"must be {size} printable characters")
        return value.encode("ascii")
    return parse


Fen = Annotated[int, Field(ge=0)]


class TerminalSection(SettingsModel):
    """`[terminal]`: the reader's own data objects."""

    terminal_type: Annotated[bytes, BeforeValidator(_hex(1, 1))] = TerminalEmvConfig.terminal_type
    capabilities: Annotated[bytes, BeforeValidator(_hex(3, 3))] = TerminalEmvConfig.capabilities
    ifd_serial: Annotated[bytes, BeforeValidator(_printable(8))] = TerminalEmvConfig.ifd_serial


class AidRow(SettingsModel):
    """One `[[aid]]` table: an application the terminal accepts."""

    aid: Annotated[bytes, BeforeValidator(_hex(5, 16))]
    scheme: Scheme
    name: str = ""
    app_version: Annotated[bytes, BeforeValidator(_hex(2, 2))] = AidParams.app_version
    ttq: Annotated[bytes, BeforeValidator(_hex(4, 4))] = AidParams.ttq
    floor_limit: Fen = AidParams.floor_limit
    contactless_limit: Fen = AidParams.contactless_limit
    cvm_limit: Fen = AidParams.cvm_limit
    cvm: Cvm = "online_pin"
    partial_selection: bool = False


class TerminalEmvFile(SettingsModel):
    """The whole of terminal-emv.toml: at least one `[[aid]]`."""

    terminal: TerminalSection = TerminalSection()
    aid: Annotated[list[AidRow], Field(min_length=1)]


def load_terminal_emv(path: Path) -> TerminalEmvConfig:
    """Read and validate terminal-emv.toml; `SettingsError` (alias `EmvConfigError`) naming file and key."""
    data = load_settings(Path(path), TerminalEmvFile)
    seen: set[bytes] = set()
    for i, row in enumerate(data.aid):
        if row.aid in seen:
            raise SettingsError(str(path), f"aid[{i}].aid", f"{row.aid.hex().upper()} is listed twice")
        seen.add(row.aid)
    return TerminalEmvConfig(
        aids=tuple(AidParams(**row.model_dump()) for row in data.aid),
        terminal_type=data.terminal.terminal_type,
        capabilities=data.terminal.capabilities,
        ifd_serial=data.terminal.ifd_serial,
    )
