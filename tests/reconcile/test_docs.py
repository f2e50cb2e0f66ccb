"""docs/reconcile.md holds to the code: its category table and its exit statuses."""
from __future__ import annotations

import re
from pathlib import Path

from pos.reconcile.categories import INFO, Category
from pos.reconcile.service import EXIT_ALL_MATCHED, EXIT_CANNOT_RECONCILE, EXIT_EXCEPTIONS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "reconcile.md").read_text()


def _section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_the_category_table_is_the_codes():
    rows = re.findall(r"^\| ([^|]+?) \| [^|]+ \| [^|]+ \|$", _section("Categories"), re.M)
    assert rows[2:] == [INFO[c].title for c in Category]   # after the header and the rule


def test_the_exit_statuses_are_the_codes():
    rows = dict(re.findall(r"^\| (\d) \| ([^|]+?) \|$", _section("Exit status"), re.M))
    assert set(rows) == {str(EXIT_ALL_MATCHED), str(EXIT_EXCEPTIONS), str(EXIT_CANNOT_RECONCILE)}
    assert rows["0"] == "every line matched" and rows["4"].startswith("could not reconcile")
