"""SQL lives only in acquirer/storage/: no other acquirer module holds a statement or a driver."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ACQUIRER = Path(__file__).resolve().parents[2] / "acquirer"
STATEMENT = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE (TABLE|INDEX)|ALTER TABLE|"
                       r"PRAGMA|BEGIN|SAVEPOINT|ROLLBACK|WITH \w+)\b")
DRIVERS = {"sqlite3", "psycopg", "psycopg_pool", "sqlite_utils"}


def _outside_storage() -> list[Path]:
    return [p for p in ACQUIRER.rglob("*.py") if "storage" not in p.relative_to(ACQUIRER).parts]


def test_no_sql_outside_the_storage_package() -> None:
    found = []
    for path in _outside_storage():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and STATEMENT.match(node.value):
                found.append(f"{path.relative_to(ACQUIRER)}:{node.lineno}: {node.value[:50]!r}")
    assert found == []


def test_no_database_driver_outside_the_storage_package() -> None:
    found = []
    for path in _outside_storage():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.relative_to(ACQUIRER)}:{node.lineno}: {n}" for n in names
                      if n.split(".")[0] in DRIVERS]
    assert found == []
