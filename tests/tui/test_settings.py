"""`[tui]` of pos.toml: validated at load, errors naming the file and the key."""
from __future__ import annotations

from pathlib import Path

import pytest

from pos.core.config import ConfigError
from pos.tui.settings import load_tui_settings
from tests.pos.support import CONFIG, make_config


def test_shipped_settings() -> None:
    settings = load_tui_settings(CONFIG)
    assert (settings.language, settings.camera) == ("en", "sim")
    assert settings.supervisor_pin_ok("888888") and not settings.supervisor_pin_ok("888889")
    assert settings.operator_ok("01", "0000")
    assert not settings.operator_ok("01", "0001") and not settings.operator_ok("09", "0000")


@pytest.mark.parametrize(("old", "new", "message"), [
    ('language = "en"', 'language = "fr"', "pos.toml: tui.language: input should be 'en' or 'zh', got 'fr'"),
    ('camera = "sim"', 'camera = 0', "pos.toml: tui.camera: input should be a valid string, got 0"),
    ('supervisor_pin = "888888"', 'supervisor_pin = "12"', "pos.toml: tui.supervisor_pin: must be 4-12 digits, got a str"),
    ('supervisor_pin = "888888"', "supervisor_pin = 888888", "pos.toml: tui.supervisor_pin: input should be a valid string, got a int"),
    ('"01" = "0000"', '"01" = "pass"', "pos.toml: tui.operators.01: must be a password of 4-8 digits, got a str"),
    ('"01" = "0000"', '"operator" = "0000"', "pos.toml: tui.operators.operator.[key]: must be an operator number of 1-3 digits"),
    ('supervisor_pin = "888888"', "", "pos.toml: tui.supervisor_pin: missing"),
    ('language = "en"', 'langauge = "en"', "pos.toml: tui.langauge: unknown key"),
])
def test_bad_settings_name_the_key(tmp_path: Path, old: str, new: str, message: str) -> None:
    config_dir = make_config(tmp_path)
    path = config_dir / "pos.toml"
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(ConfigError) as error:
        load_tui_settings(config_dir)
    assert str(path) in str(error.value) and message in str(error.value)
