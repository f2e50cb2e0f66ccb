"""The daemon's log: one JSON object per line on stderr (journald keeps it), never a PAN.

Records carry what the daemon passes in `extra` (condition, stan, masked_pan,
amount_fen, peer, ...). As a last guard every string is scrubbed of digit runs
that could be a card number (13-19 digits): even a PAN that slipped into an
exception's text comes out masked, first 6 and last 4.
"""
from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

PAN_LIKE = re.compile(r"(?<!\d)(\d{6})(\d{3,9})(\d{4})(?!\d)")
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


def scrub(text: str) -> str:
    return PAN_LIKE.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_") and value is not None:
                entry[key] = value if isinstance(value, (int, float, bool, dict)) else str(value)
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, ensure_ascii=False, default=str))


def configure(stream: TextIO = sys.stderr, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("nfc").setLevel(logging.CRITICAL)   # nfcpy logs a card leaving as an error
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
