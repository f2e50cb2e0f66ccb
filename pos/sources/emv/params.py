"""Terminal parameters for the contactless kernel, per terminal and per AID.

Loaded from `config/terminal-emv.toml` and validated by hand so every error
names the file and the key (docs/configuration.md). The dataclass
defaults are the kit's: QuickPass's published no-CVM limit of 1000 CNY;
the other limits are common values an acquirer sets (unverified).
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from acquirer.protocol.errors import ErrorKind, TillkitError

EMV_FILE = "terminal-emv.toml"
SCHEMES = ("unionpay", "visa", "mastercard")
CVMS = ("online_pin", "signature", "none")


class EmvConfigError(TillkitError, ValueError):
    """terminal-emv.toml is missing, unreadable or has a bad value (file and key named)."""

    kind = ErrorKind.TERMINAL
    message_key = "config.invalid"


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


def load_terminal_emv(path: Path) -> TerminalEmvConfig:
    """Read and validate terminal-emv.toml."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise EmvConfigError(f"{path}: file not found") from None
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise EmvConfigError(f"{path}: cannot read: {error}") from error
    terminal = data.get("terminal", {})
    if not isinstance(terminal, dict):
        raise EmvConfigError(f"{path}: [terminal] must be a table")
    rows = data.get("aid")
    if not isinstance(rows, list) or not rows:
        raise EmvConfigError(f"{path}: needs at least one [[aid]] table")
    reader = _Reader(path)
    aids = tuple(_aid(reader, f"aid[{i}]", row) for i, row in enumerate(rows))
    seen: set[bytes] = set()
    for i, params in enumerate(aids):
        if params.aid in seen:
            raise EmvConfigError(f"{path}: aid[{i}].aid {params.aid.hex().upper()} is listed twice")
        seen.add(params.aid)
    return TerminalEmvConfig(
        aids=aids,
        terminal_type=reader.hex(terminal, "terminal.terminal_type", "terminal_type", 1, b"\x22"),
        capabilities=reader.hex(terminal, "terminal.capabilities", "capabilities", 3, bytes.fromhex("E0F8C8")),
        ifd_serial=reader.ascii(terminal, "terminal.ifd_serial", "ifd_serial", 8, b"TK000001"),
    )


def _aid(reader: _Reader, where: str, row: Any) -> AidParams:
    if not isinstance(row, dict):
        raise EmvConfigError(f"{reader.path}: {where} must be a table")
    aid = reader.hex(row, f"{where}.aid", "aid", None, None)
    if not 5 <= len(aid) <= 16:
        raise EmvConfigError(f"{reader.path}: {where}.aid must be 5 to 16 bytes, got {len(aid)}")
    scheme = row.get("scheme")
    if scheme not in SCHEMES:
        raise EmvConfigError(f"{reader.path}: {where}.scheme must be one of {', '.join(SCHEMES)}, got {scheme!r}")
    cvm = row.get("cvm", "online_pin")
    if cvm not in CVMS:
        raise EmvConfigError(f"{reader.path}: {where}.cvm must be one of {', '.join(CVMS)}, got {cvm!r}")
    name = row.get("name", "")
    if not isinstance(name, str):
        raise EmvConfigError(f"{reader.path}: {where}.name must be text, got {name!r}")
    partial = row.get("partial_selection", False)
    if not isinstance(partial, bool):
        raise EmvConfigError(f"{reader.path}: {where}.partial_selection must be true or false, got {partial!r}")
    defaults = AidParams(aid=aid, scheme=scheme)
    return AidParams(
        aid=aid, scheme=scheme, name=name, cvm=cvm, partial_selection=partial,
        app_version=reader.hex(row, f"{where}.app_version", "app_version", 2, defaults.app_version),
        ttq=reader.hex(row, f"{where}.ttq", "ttq", 4, defaults.ttq),
        floor_limit=reader.fen(row, f"{where}.floor_limit", "floor_limit", defaults.floor_limit),
        contactless_limit=reader.fen(row, f"{where}.contactless_limit", "contactless_limit",
                                     defaults.contactless_limit),
        cvm_limit=reader.fen(row, f"{where}.cvm_limit", "cvm_limit", defaults.cvm_limit),
    )


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path

    def hex(self, row: dict, where: str, key: str, size: int | None, default: bytes | None) -> bytes:
        value = row.get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not re.fullmatch(r"([0-9A-Fa-f]{2})+", value):
            raise EmvConfigError(f"{self.path}: {where} must be hex bytes, got {value!r}")
        raw = bytes.fromhex(value)
        if size is not None and len(raw) != size:
            raise EmvConfigError(f"{self.path}: {where} must be {size} bytes, got {len(raw)}")
        return raw

    def ascii(self, row: dict, where: str, key: str, size: int, default: bytes) -> bytes:
        value = row.get(key)
        if value is None:
            return default
        if not isinstance(value, str) or not re.fullmatch(rf"[ -~]{{{size}}}", value):
            raise EmvConfigError(f"{self.path}: {where} must be {size} printable characters, got {value!r}")
        return value.encode("ascii")

    def fen(self, row: dict, where: str, key: str, default: int) -> int:
        value = row.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EmvConfigError(f"{self.path}: {where} must be a whole number of fen (>= 0), got {value!r}")
        return value
