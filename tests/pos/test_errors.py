"""One error taxonomy: the table in docs/errors.md is the code's, and every message key has its words."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from acquirer.protocol.errors import KIND_TABLE, ErrorKind, TillkitError
from pos.core.errors import CardNotRead, OriginalNotFound
from pos.core.payment import ReadFailed
from pos.messages import ERROR_TEXTS, error_text

REPO = Path(__file__).resolve().parents[2]
ROW = re.compile(r"^\| `(\w+)` \| [^|]+ \| (\d+) \| `([\w.]+)` \| `(\w+)` \|$", re.M)


def test_the_kinds_table_in_the_docs_is_the_code_table():
    rows = ROW.findall((REPO / "docs" / "errors.md").read_text())
    documented = {ErrorKind(kind): (int(code), notice, nexo) for kind, code, notice, nexo in rows}
    assert documented == {kind: (row.exit_code, row.notice, row.nexo) for kind, row in KIND_TABLE.items()}
    assert len(rows) == len(ErrorKind)


def test_every_kind_has_its_own_exit_code_and_nexo_condition():
    assert len({row.exit_code for row in KIND_TABLE.values()}) == len(ErrorKind)
    assert len({row.nexo for row in KIND_TABLE.values()}) == len(ErrorKind)


def _raised_keys() -> set[str]:
    """Every message key in the source: class attributes and `message_key=` at raise sites."""
    keys: set[str] = set()
    for path in [*REPO.glob("pos/**/*.py"), *REPO.glob("acquirer/**/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "message_key"
                                                    for t in node.targets):
                if isinstance(node.value, ast.Constant):
                    keys.add(node.value.value)
            if isinstance(node, ast.keyword) and node.arg == "message_key" and isinstance(node.value, ast.Constant):
                keys.add(node.value.value)
    return keys


def test_every_message_key_raised_has_english_and_chinese_words():
    keys = _raised_keys()
    assert "engine.busy" in keys and "link.host_unavailable" in keys   # the walk finds them
    assert sorted(keys - set(ERROR_TEXTS)) == []
    for key, (en, zh) in ERROR_TEXTS.items():
        assert en and zh and set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", zh)), key


def test_the_engine_refusal_reads_in_chinese_with_its_data():
    error = OriginalNotFound("no approved sale or completion with RRN 123 in this terminal's journal",
                             message_key="engine.no_rrn", rrn="123")
    assert error_text("zh", error) == "本终端流水中没有参考号 123 的成功消费。"
    assert error_text("en", error) == "No approved sale with reference number 123 in this terminal's journal."


@pytest.mark.parametrize(("outcome", "kind"), [("declined", ErrorKind.DECLINED),
                                                ("present card again", ErrorKind.REFUSED)])
def test_a_card_not_read_is_declined_only_when_the_card_declined(outcome, kind):
    error = CardNotRead(ReadFailed(outcome, "Not authorised", "AAC"))
    assert error.kind is kind and isinstance(error, TillkitError)
