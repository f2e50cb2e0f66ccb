"""The checkout screen's own settings: `[tui]` of `pos.toml`, validated.

Kept apart from `pos.core.config` because only this face reads them: the engine
has no use for a supervisor PIN or a display language. Errors name the file
and the key, as every configuration error in the kit does.

    [tui]
    language = "en"               # "en" or "zh" at start; F9 switches
    camera = "sim"                # the simulator's camera, or a camera device index or path
    supervisor_pin = "888888"     # TEST: unlocks void and refund
    [tui.operators]               # operator number = password (TEST)
    "01" = "0000"

The PINs and passwords shipped in `config/` are test values, labelled so.
"""
from __future__ import annotations

import hmac
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pos.core.config import POS_FILE, ConfigError
from pos.tui.i18n import LANGUAGES


@dataclass(frozen=True)
class TuiSettings:
    language: str
    camera: str                 # "sim" or a camera device (index or path)
    supervisor_pin: str
    operators: dict[str, str]   # operator number -> password

    def supervisor_pin_ok(self, pin: str) -> bool:
        return hmac.compare_digest(pin.encode(), self.supervisor_pin.encode())

    def operator_ok(self, operator: str, password: str) -> bool:
        expected = self.operators.get(operator)
        return expected is not None and hmac.compare_digest(password.encode(), expected.encode())


def load_tui_settings(config_dir: Path) -> TuiSettings:
    path = config_dir / POS_FILE
    try:
        with path.open("rb") as f:
            data: dict[str, Any] = tomllib.load(f)
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found (set --config DIR or TILLKIT_CONFIG)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    table = data.get("tui")
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing section [tui]")
    language = table.get("language", "en")
    if language not in LANGUAGES:
        raise ConfigError(f"{path}: [tui] language must be \"en\" or \"zh\", got {language!r}")
    camera = table.get("camera", "sim")
    if not isinstance(camera, str) or not camera.strip():
        raise ConfigError(f"{path}: [tui] camera must be \"sim\" or a camera device (index or path), got {camera!r}")
    pin = table.get("supervisor_pin")
    if not isinstance(pin, str) or not re.fullmatch(r"[0-9]{4,12}", pin):
        raise ConfigError(f"{path}: [tui] supervisor_pin must be 4-12 digits, got {pin!r}")
    operators = table.get("operators")
    if not isinstance(operators, dict) or not operators:
        raise ConfigError(f"{path}: [tui.operators] must list at least one operator number = password")
    for number, password in operators.items():
        if not re.fullmatch(r"[0-9]{1,3}", number):
            raise ConfigError(f"{path}: [tui.operators] key {number!r} must be an operator number of 1-3 digits")
        if not isinstance(password, str) or not re.fullmatch(r"[0-9]{4,8}", password):
            raise ConfigError(f"{path}: [tui.operators] {number} must be a password of 4-8 digits")
    return TuiSettings(language=language, camera=camera, supervisor_pin=pin, operators=dict(operators))
