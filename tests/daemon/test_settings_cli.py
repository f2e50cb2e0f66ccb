"""`pos daemon` settings (daemon.toml + command line) and `pos sim customer`: clear errors, no traceback."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from acquirer.protocol.settings_file import SettingsError
from pos.daemon.customer import take_action
from pos.daemon.settings import load_settings
from tests.daemon.support import POS, REPO


def test_command_line_overrides_the_file(tmp_path):
    (tmp_path / "daemon.toml").write_text('[daemon]\nlisten = "0.0.0.0:9443"\nbaudrate = 19200\n')
    settings = load_settings(tmp_path, {"listen": "127.0.0.1:8443", "serial": "/dev/ttyUSB0"})
    assert settings.host_port == ("127.0.0.1", 8443) and settings.baudrate == 19200
    assert settings.serial == "/dev/ttyUSB0" and not settings.encrypted


@pytest.mark.parametrize("text, message", [
    ('[daemon]\nlisten = "8443"\n', "daemon.listen: must be HOST:PORT"),
    ('[daemon]\nbaudrate = "fast"\n', "daemon.baudrate:"),
    ('[daemon]\nlistn = "127.0.0.1:1"\n', "daemon.listn: unknown key"),
    ('[daemon]\nkey_id = "K"\n', "daemon.key_id: key_id and passphrase go together"),
    ('[daemon]\npassphrase = "0123456789"\napi_key = "x"\n', "daemon.api_key:"),
    ('[deamon]\n', "deamon: unknown key"),
    ('daemon = 3\n', "daemon: input should be a valid dictionary"),
])
def test_bad_settings_name_file_and_key(tmp_path, text, message):
    (tmp_path / "daemon.toml").write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings(tmp_path, {})
    assert str(caught.value).startswith(f"{tmp_path / 'daemon.toml'}: ") and message in str(caught.value)


def test_pos_daemon_refuses_bad_settings_with_exit_4(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "config", config)
    (config / "daemon.toml").write_text('[daemon]\nmax_concurrent = 0\n')
    done = subprocess.run([*POS, "--config", str(config), "--state-dir", str(tmp_path / "s"), "daemon"],
                          cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 4 and "daemon.max_concurrent" in done.stderr and "Traceback" not in done.stderr


def test_pos_sim_customer_queues_in_order(tmp_path):
    for action in (["card", "visa"], ["refuse"], ["wallet", "alipay"]):
        done = subprocess.run([*POS, "--state-dir", str(tmp_path), "sim", "customer", *action], cwd=REPO,
                              capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
    assert [take_action(tmp_path) for _ in range(4)] == [
        {"action": "card", "argument": "visa"}, {"action": "refuse", "argument": None},
        {"action": "wallet", "argument": "alipay"}, None]
    done = subprocess.run([*POS, "--state-dir", str(tmp_path), "sim", "customer", "card"], cwd=REPO,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "needs a card name" in done.stderr
