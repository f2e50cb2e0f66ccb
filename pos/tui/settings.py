"""The checkout screen's own settings: `[tui]` of `pos.toml`, validated.

Only this face reads them (the engine has no use for a supervisor PIN or a
display language); their schema is part of pos.toml's (`pos.core.config`), so
a typo in `[tui]` is refused like any other, naming the file and the key.

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
from dataclasses import dataclass
from pathlib import Path

from pos.core.config import POS_FILE, ConfigError, load_pos_file


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
    """`[tui]` of pos.toml, validated by the file's schema (`pos.core.config.TuiSection`)."""
    section = load_pos_file(config_dir).tui
    if section is None:
        raise ConfigError(str(config_dir / POS_FILE), "tui", "missing (the checkout screen needs it)")
    return TuiSettings(language=section.language, camera=section.camera, supervisor_pin=section.supervisor_pin,
                       operators=dict(section.operators))
