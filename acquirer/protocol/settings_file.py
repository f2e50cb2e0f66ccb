"""The one way tillkit reads a TOML settings file: a pydantic model, refused whole or loaded frozen.

Every TOML file of the kit (pos.toml, acquirer.toml, ...) has a schema made of
`SettingsModel`s: pydantic v2 models that forbid unknown keys, do not coerce
types (strict: "10" is not a number, 1 is not a boolean) and are frozen, so
the settings objects the code uses cannot change after loading. `load_settings`
reads the file and validates it; whatever is wrong -- the file missing or
unreadable, bytes that are not UTF-8, text that is not TOML, a key the schema
does not know (a typo such as ``reversal_atempts``), a value of the wrong type
or out of range -- is one `SettingsError` whose message is one line:

    <file>: <key>: <reason>

with the key as a dotted path (``host.reversal_attempts``, ``issuer[2].mode``)
and ``(file)`` when the whole file is at fault. The command lines print that
line and exit 4 (kind "terminal", docs/errors.md); no traceback.

It lives in the standards layer so that the terminal and the acquirer share
it (both may import `acquirer.protocol`). Secrets are never echoed: a value
whose key path names a key, PIN, PAN or password is reported by its type only.
"""
from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from acquirer.protocol.errors import ErrorKind, TillkitError

WHOLE_FILE = "(file)"
SECRET_WORDS = ("key", "tmk", "zpk", "imk", "pin", "pan", "password", "operators")


class SettingsError(TillkitError, ValueError):
    """A settings file refused: `file`, `key` (dotted path) and `reason`, as one line."""

    kind = ErrorKind.TERMINAL
    message_key = "config.invalid"

    def __init__(self, file: str, key: str, reason: str) -> None:
        super().__init__(f"{file}: {key}: {reason}", file=file, key=key, reason=reason)
        self.file = file
        self.key = key
        self.reason = reason


class SettingsModel(BaseModel):
    """Base of every settings section: unknown keys refused, no coercion, frozen."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML as a dict; `SettingsError` (key "(file)") when it cannot be read as TOML."""
    file = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SettingsError(file, WHOLE_FILE, "file not found (set --config DIR or TILLKIT_CONFIG)") from None
    except IsADirectoryError:
        raise SettingsError(file, WHOLE_FILE, "is a directory, not a file") from None
    except OSError as e:
        raise SettingsError(file, WHOLE_FILE, f"cannot be read: {e.strerror or e}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise SettingsError(file, WHOLE_FILE, f"not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x}): "
                                              f"not a TOML file") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SettingsError(file, WHOLE_FILE, f"not valid TOML: {e}") from None


def load_settings(path: Path, model: type[M], *, context: Mapping[str, Any] | None = None) -> M:
    """Read `path` and validate it as `model`; `SettingsError` naming the file and the first bad key."""
    return validate_settings(path, read_toml(path), model, context=context)


def validate_settings(path: Path, data: Mapping[str, Any], model: type[M], *,
                      context: Mapping[str, Any] | None = None, prefix: str = "") -> M:
    """Validate already-read TOML data (e.g. one table of a file) as `model`; errors as in `load_settings`."""
    try:
        return model.model_validate(data, context=dict(context) if context is not None else None)
    except ValidationError as e:
        raise settings_error(path, e, prefix) from None


def settings_error(path: Path, error: ValidationError, prefix: str = "") -> SettingsError:
    """The first problem pydantic found, as `file: key: reason` (an unknown key first: it explains a missing one)."""
    problems = error.errors(include_url=False)
    problem = next((p for p in problems if p["type"] == "extra_forbidden"), problems[0])
    key = prefix + dotted(problem["loc"])
    return SettingsError(str(path), key or WHOLE_FILE, _reason(problem, key))


def dotted(loc: tuple[int | str, ...]) -> str:
    """("issuer", 2, "mode") -> "issuer[2].mode"."""
    key = ""
    for part in loc:
        if isinstance(part, int):
            key += f"[{part}]"
        elif part.startswith(("function-", "union[", "literal[")) or part in ("str", "int", "float", "bool"):
            continue   # pydantic's own names for a validator or a union member
        else:
            key += f".{part}" if key else part
    return key


def _reason(problem: Mapping[str, Any], key: str) -> str:
    kind = problem["type"]
    value = problem.get("input")
    if kind == "extra_forbidden":
        return "unknown key (a typo? the schema has no such key)"
    if kind == "missing":
        return "missing"
    message = str(problem["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    message = message[0].lower() + message[1:] if message else message
    secret = any(word in key.lower() for word in SECRET_WORDS)
    shown = f"a {type(value).__name__}" if secret else _short(value)
    return f"{message}, got {shown}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
