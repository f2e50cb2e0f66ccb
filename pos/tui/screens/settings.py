"""The terminal's settings, read-only: what the configuration says, never a key in clear."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from acquirer.protocol.keys import kcv
from pos.core.amount import format_amount
from pos.tui.screens.base import BACK, TillScreen
from pos.tui.widgets.bars import Hint


class SettingsScreen(TillScreen):
    BINDINGS = [Binding("escape", "back", show=False)]
    HINTS = (BACK, Hint("F9", "key.language", "app.language"))

    def body(self) -> ComposeResult:
        app = self.till_app
        config = app.config
        terminal, host = config.terminal, config.host
        yield Static(self.t("settings.title"), id="settings-title")
        table: DataTable[str] = DataTable(id="settings-table", cursor_type="row", show_header=False, zebra_stripes=True)
        table.add_columns("key", "value")
        devices = ", ".join(f"{self.t(name)} {self.t(f'device.{state}')}" for name, state in app.till.devices.items())
        rows = [
            ("settings.tid", terminal.tid), ("settings.mid", terminal.mid),
            ("settings.operator_now", app.till.operator or "—"),
            ("settings.mac", terminal.mac), ("settings.currency", terminal.currency),
            ("settings.max", format_amount(terminal.max_amount_fen)),
            ("settings.tmk", f"TEST KEY, KCV {kcv(terminal.tmk).hex().upper()}"),
            ("settings.host", host.address), ("settings.timeout", f"{host.timeout_s:g} s"),
            ("settings.devices", devices),
            ("settings.config", str(config.config_dir)), ("settings.state", str(config.state_dir)),
            ("settings.language", "中文" if app.language == "zh" else "English"),
        ]
        for key, value in rows:
            table.add_row(self.t(key), value)
        yield table
