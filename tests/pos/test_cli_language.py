"""The command line speaks the till's language: the same error and the same outcome in English and Chinese.

The language is `--lang`, else $TILLKIT_LANG, else pos.toml `[tui] language`
(the setting the checkout screen starts in). English is what `pos` always
printed; Chinese is every line's own words (`pos.messages`), exit statuses
unchanged.
"""
from __future__ import annotations

import ast
import json
import re
import string

import pytest

from pos.messages import CLI_TEXTS, ERROR_TEXTS
from tests.pos.support import REPO, invoke_pos, make_config, run_pos, set_pos

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_the_same_error_in_english_and_chinese(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    english = invoke_pos(config, state, "void", "424242")
    assert english.returncode == 2
    assert english.stderr.splitlines()[-1] == "Error: no transaction with trace 424242 in the open batch 000001"
    chinese = invoke_pos(config, state, "--lang", "zh", "void", "424242")
    assert chinese.returncode == 2
    assert chinese.stderr.splitlines()[-1] == "错误：当前批次 000001 中没有流水号 424242 的交易。"
    refund_en = invoke_pos(config, state, "refund", "--trace", "77", "1.00")
    refund_zh = invoke_pos(config, state, "--lang", "zh", "refund", "--trace", "77", "1.00")
    assert refund_en.returncode == refund_zh.returncode == 2
    assert "no transaction with trace 000077 in this terminal's journal" in refund_en.stderr
    assert "本终端流水中没有流水号 000077 的交易。" in refund_zh.stderr
    amount_en = invoke_pos(config, state, "sale", "-5")
    amount_zh = invoke_pos(config, state, "--lang", "zh", "sale", "-5")
    assert amount_en.returncode == amount_zh.returncode == 2
    assert amount_en.stderr.strip() == "Error: amount '-5' is negative: amounts must be greater than zero"
    assert amount_zh.stderr.strip() == "错误：金额 '-5' 为负数：金额必须大于零。"
    usage = invoke_pos(config, state, "--lang", "zh", "sale", "1", "--manual", "--card", "visa")
    assert usage.returncode == 2 and "--manual 不能与 --card、--card-fault 同用" in usage.stderr


def test_the_same_outcomes_in_english_and_chinese(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    english = invoke_pos(config, state, "sale", "1.50", "--card", "visa")
    assert english.returncode == 0
    assert english.stdout.splitlines()[0] == "APPROVED sale ¥1.50 card 476173******0011"
    assert "authorizing sale, trace 000002, batch 000001…" in english.stderr
    chinese = invoke_pos(config, state, "--lang", "zh", "sale", "1.50", "--card", "visa")
    assert chinese.returncode == 0
    first, refs = chinese.stdout.splitlines()[:2]
    assert first == "交易成功 消费 ¥1.50 卡 476173******0011"
    assert refs.startswith("流水号 000003  批次 000001  参考号 ") and "授权码 " in refs
    assert "正在授权消费，流水号 000003，批次 000001…" in chinese.stderr
    assert "authorizing" not in chinese.stderr and "APPROVED" not in chinese.stdout

    declined_en = invoke_pos(config, state, "sale", "100", "--card", "unionpay-low-balance")
    declined_zh = invoke_pos(config, state, "--lang", "zh", "sale", "100", "--card", "unionpay-low-balance")
    assert declined_en.returncode == declined_zh.returncode == 1
    assert declined_en.stdout.startswith("DECLINED sale ¥100.00 card 621483*********0171: 51 ")
    assert declined_zh.stdout.startswith("交易失败 消费 ¥100.00 卡 621483*********0171：51 ")

    settled = invoke_pos(config, state, "--lang", "zh", "settle")
    assert settled.returncode == 0
    text = "".join(settled.stdout.split())   # the console wraps long lines
    assert text.startswith("批次000001已结算（对账平）；借记¥3.00（2笔）") and "下一批次000002" in text
    history = invoke_pos(config, state, "--lang", "zh", "history")
    assert "流水号" in history.stdout and "消费" in history.stdout and "拒绝" in history.stdout
    # JSON is for scripts: the same keys and values in either language
    as_json = [json.loads(invoke_pos(config, state, *lang, "history", "--json").stdout)
               for lang in ((), ("--lang", "zh"))]
    assert as_json[0] == as_json[1]


def test_the_language_follows_pos_toml_then_the_environment_then_the_option(tmp_path):
    config, state = make_config(tmp_path), tmp_path / "state"
    set_pos(config, language="zh")                    # [tui] language: the till's display language
    till = invoke_pos(config, state, "void", "424242")
    assert till.returncode == 2 and "当前批次 000001 中没有流水号 424242 的交易。" in till.stderr
    option = invoke_pos(config, state, "--lang", "en", "void", "424242")
    assert "no transaction with trace 424242" in option.stderr
    environment = run_pos(config, state, "void", "424242", env={"TILLKIT_LANG": "en"})
    assert environment.returncode == 2 and "no transaction with trace 424242" in environment.stderr
    wrong = run_pos(config, state, "void", "1", env={"TILLKIT_LANG": "fr"})
    assert wrong.returncode == 2 and "Invalid value for '--lang'" in wrong.stderr


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("table", [ERROR_TEXTS, CLI_TEXTS], ids=["errors", "cli"])
def test_every_message_key_has_english_and_chinese_with_the_same_fields(table):
    for key, words in table.items():
        assert len(words) == 2, key
        en, zh = words
        assert en.strip() and zh.strip(), key
        assert _fields(en) == _fields(zh), key
        if _fields(zh) != {"detail"} or zh.strip() != "{detail}":   # a bare {detail} carries the raiser's words
            assert CJK.search(zh), f"{key}: no Chinese in {zh!r}"


def test_every_cli_key_the_code_uses_is_in_the_catalogue():
    used: set[str] = set()
    for path in (REPO / "pos" / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("cli."):
                used.add(node.value)
    assert "cli.approved" in used and "cli.refund_form" in used   # the walk finds them
    assert used <= set(CLI_TEXTS), sorted(used - set(CLI_TEXTS))
    assert set(CLI_TEXTS) <= used, sorted(set(CLI_TEXTS) - used)  # no word left unused
