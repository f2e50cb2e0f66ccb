"""Configuration: errors name the file and the key; where the directory comes from; integrator commands."""
import json
import subprocess
import sys

import pytest

from acquirer.config import ConfigError, default_config_dir, load_config, resolve_config_dir
from tests.acquirer.conftest import REPO_CONFIG, make_config


def test_repository_configuration_loads():
    config = load_config(REPO_CONFIG)
    assert {t.mac for t in config.terminals.values()} == {"ecb", "x919"}
    assert {"unionpay-debit", "unionpay-credit", "visa", "mastercard", "unionpay-expired"} <= {
        c.name for c in config.cards}
    assert default_config_dir() == REPO_CONFIG


def test_config_directory_option_then_environment_then_repository(monkeypatch, tmp_path):
    monkeypatch.delenv("TILLKIT_CONFIG", raising=False)
    assert resolve_config_dir(None) == REPO_CONFIG
    monkeypatch.setenv("TILLKIT_CONFIG", str(tmp_path))
    assert resolve_config_dir(None) == tmp_path
    assert resolve_config_dir(tmp_path / "x") == tmp_path / "x"


@pytest.mark.parametrize("old, new, key", [
    ('tmk = "6ECAFCE232B9AF939F09493CFC314CD7"', 'tmk = "6ECAFC"', "terminal[0].tmk"),
    ('mac = "x919"', 'mac = "cbc"', "terminal[1].mac"),
    ('issuer = "visa-bank"\n\n[[bin]]', 'issuer = "nobody"\n\n[[bin]]', "bin[1].issuer"),
    ('synchronous = "NORMAL"', 'synchronous = "OFF"', "database.synchronous"),
    ('switch_timeout_ms = 3000', 'switch_timeout_ms = "soon"', "host.switch_timeout_ms"),
    ('range = ["51", "55"]', 'range = ["55", "51"]', "bin[2].range"),
    ('range = ["51", "55"]', 'range = ["51", "55"]\nprefix = "5"', "bin[2].range"),
    ('tid = "10000001"', 'tid = "1000001"', "terminal[0].tid"),
    ("[server]\n", '[processing_codes]\nsael = "190000"\n\n[server]\n', "processing_codes"),
    ("[server]\n", '[processing_codes]\nsale = "19"\n\n[server]\n', "processing_codes"),
    ("[fees]\n", "[fees]\nextra = -1\n", "fees.extra"),
])
def test_errors_name_the_file_and_the_key(tmp_path, old, new, key):
    directory = make_config(tmp_path, replace={old: new})
    with pytest.raises(ConfigError) as error:
        load_config(directory)
    assert error.value.key == key
    assert error.value.file == str(directory / "acquirer.toml")
    assert f"acquirer.toml: {key}:" in str(error.value)


def test_card_file_errors_name_the_card(tmp_path):
    directory = make_config(tmp_path, cards_extra='\n[[card]]\nname = "bad"\nscheme = "amex"\n')
    with pytest.raises(ConfigError) as error:
        load_config(directory)
    assert error.value.file.endswith("cards.toml")
    assert error.value.key.endswith("].product") or error.value.key.endswith("].scheme")


def _cli(*args: str) -> str:
    return subprocess.run([sys.executable, "-m", "acquirer", *args], check=True, capture_output=True,
                          text=True).stdout


def test_terminals_json_lists_tid_mid_tmk_and_mac():
    terminals = json.loads(_cli("terminals", "--json", "--config", str(REPO_CONFIG)))
    config = load_config(REPO_CONFIG)
    assert [(t["tid"], t["mid"], t["tmk"], t["mac"]) for t in terminals] == [
        (t.tid, t.mid, t.tmk.hex().upper(), t.mac) for t in config.terminals.values()]


def test_cards_json_lists_what_a_terminal_needs_to_make_cryptograms():
    cards = {c["name"]: c for c in json.loads(_cli("cards", "--json", "--config", str(REPO_CONFIG)))}
    debit, credit = cards["unionpay-debit"], cards["unionpay-credit"]
    assert (debit["scheme"], debit["pan"], debit["psn"], debit["expiry"], debit["pin"], debit["balance"]) == (
        "unionpay", "6214830000000000015", "01", "3012", "123456", 1_000_000)
    assert debit["imk_ac"] == "17B06C51B1B846FC60C3FB1DDA2DB78A"
    assert credit["balance"] == 2_000_000    # a credit card's available credit is its limit
    assert {c["scheme"] for c in cards.values()} == {"unionpay", "visa", "mastercard"}


def test_serve_refuses_a_bad_configuration(tmp_path):
    directory = make_config(tmp_path, replace={'mac = "ecb"': 'mac = "md5"'})
    result = subprocess.run([sys.executable, "-m", "acquirer", "serve", "--port", "0", "--config",
                             str(directory), "--db", str(tmp_path / "a.db")], capture_output=True, text=True)
    assert result.returncode != 0
    assert "terminal[0].mac" in result.stderr


def test_a_card_must_belong_to_the_issuer_its_bin_routes_to(tmp_path):
    text = (REPO_CONFIG / "cards.toml").read_text().replace('issuer = "visa-bank"', 'issuer = "mc-bank"', 1)
    directory = make_config(tmp_path)
    (directory / "cards.toml").write_text(text)
    with pytest.raises(ConfigError) as error:
        load_config(directory)
    assert error.value.key.endswith("].issuer") and "visa-bank" in str(error.value)


def test_private_processing_codes_from_the_configuration(tmp_path):
    from datetime import datetime

    from acquirer.protocol.transactions import TxnType
    from tests.acquirer.conftest import EmbeddedHost
    from tests.acquirer.terminal import SHANGHAI
    directory = make_config(tmp_path / "config", acquirer_extra='\n[processing_codes]\nsale = "190000"\n')
    host = EmbeddedHost(directory, tmp_path, datetime(2026, 3, 14, 12, 0, tzinfo=SHANGHAI))
    try:
        t = host.terminal("10000001")
        card = host.card("unionpay-debit")
        msg = t.request(TxnType.SALE, card, 100).to_message()
        assert t.exchange(msg)["39"] == "12"          # 000000 is not this acquirer's sale code
        msg = t.request(TxnType.SALE, card, 100).to_message()
        msg["3"] = "190000"
        assert t.exchange(msg)["39"] == "00"
    finally:
        host.close()


def test_database_url_in_the_file_chooses_postgresql(tmp_path):
    """`[database] url` is a key of the schema: the host runs on that PostgreSQL database."""
    url = "postgresql://tillkit@127.0.0.1:5432/acquirer"
    directory = make_config(tmp_path / "good", replace={'synchronous = "NORMAL"': f'synchronous = "NORMAL"\nurl = "{url}"'})
    assert load_config(directory).database.target == url
    directory = make_config(tmp_path / "bad", replace={'synchronous = "NORMAL"': 'synchronous = "NORMAL"\nurl = "mysql://x"'})
    with pytest.raises(ConfigError) as error:
        load_config(directory)
    assert error.value.key == "database.url"
