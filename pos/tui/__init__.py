"""The checkout TUI (`pos` with no command): a Textual face over the engine.

Textual is imported only inside this package (docs/architecture.md): the engine, the
daemon and the command line run without it. `run(config)` opens the app on
the configured (by default simulated) devices.
"""
from __future__ import annotations

import logging

from pos.core.config import PosConfig

LOG_FILE = "pos-tui.log"


def run(config: PosConfig, *, verbose: bool = False) -> None:
    """Open the checkout screen; logs go to `<state dir>/pos-tui.log`, never over the screen."""
    from pos.tui.app import make_app
    from pos.tui.settings import load_tui_settings

    settings = load_tui_settings(config.config_dir)   # a bad [tui] section fails before the screen opens
    config.state_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.FileHandler(config.state_dir / LOG_FILE, encoding="utf-8")
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(file_handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    make_app(config, settings=settings).run()
