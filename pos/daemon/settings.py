"""The daemon's settings: `[daemon]` of `daemon.toml` in the configuration directory, then the command line.

A settings model of the kit's one settings loader
(`acquirer.protocol.settings_file`): every value is checked once, and a bad
one is reported as `file: key: reason`. The command line (`pos daemon --listen ... --api-key
...`) overrides the file key by key, so a register vendor can try the daemon
without editing a file.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from acquirer.protocol.settings_file import SettingsError, SettingsModel, read_toml, validate_settings

DAEMON_FILE = "daemon.toml"
LOOPBACK = "127.0.0.1"


class DaemonSettings(SettingsModel):
    listen: str = f"{LOOPBACK}:8443"
    api_key: str | None = Field(default=None, min_length=8)
    cert: str | None = None
    key: str | None = None
    key_id: str | None = None
    key_version: int = Field(default=1, ge=0)
    passphrase: str | None = Field(default=None, min_length=8)
    require_encryption: bool = False
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=4 * 1024 * 1024)
    max_concurrent: int = Field(default=8, ge=1, le=256)
    payment_timeout_s: float = Field(default=120.0, gt=0, le=3600)
    serial: str | None = None
    baudrate: int = Field(default=9600, ge=300, le=115200)
    bytesize: Literal[7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    camera: str | None = Field(default=None, min_length=1)
    simulate: bool = False
    customer_delay_s: float = Field(default=0.3, ge=0, le=60)

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise ValueError("must be HOST:PORT, e.g. 127.0.0.1:8443")
        return value

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def encrypted(self) -> bool:
        return self.key_id is not None and self.passphrase is not None


class DaemonFile(SettingsModel):
    """daemon.toml as a whole: the one table `[daemon]`, its keys checked with the command line's on top."""

    daemon: dict[str, Any] = Field(default_factory=dict)


def load_settings(config_dir: Path, overrides: dict[str, Any]) -> DaemonSettings:
    """`[daemon]` of daemon.toml (optional file) with the non-None `overrides` on top."""
    path = config_dir / DAEMON_FILE
    values: dict[str, Any] = {}
    if path.exists():
        values = dict(validate_settings(path, read_toml(path), DaemonFile).daemon)
    values.update({k: str(v) if isinstance(v, Path) else v for k, v in overrides.items() if v is not None})
    settings = validate_settings(path, values, DaemonSettings, prefix="daemon.")
    if (settings.key_id is None) != (settings.passphrase is None):
        raise SettingsError(str(path), "daemon.key_id", "key_id and passphrase go together")
    if (settings.cert is None) != (settings.key is None):
        raise SettingsError(str(path), "daemon.cert", "cert and key go together")
    return settings
