"""The `pos` command line on the embedded host: what a cashier sees and the exit statuses scripts rely on."""
import json

from tests.pos.support import invoke_pos, make_config


def test_demo_runs_a_day_and_settles(tmp_path):
    done = invoke_pos(make_config(tmp_path), tmp_path / "state", "demo")
    assert done.returncode == 0, done.stderr
    outcomes = [line.split()[0] for line in done.stdout.splitlines() if line.startswith(("APPROVED", "DECLINED"))]
    assert outcomes.count("APPROVED") == 7    # 4 sales, the void, the refund, the balance inquiry
    assert "51 Insufficient funds / 余额不足" in done.stdout and "54 Expired card / 过期卡" in done.stdout
    text = " ".join(done.stdout.split())   # the console wraps long lines
    assert "batch 000001 settled (balanced)" in text and "next batch 000002" in text


def test_exit_statuses_and_history(tmp_path):
    config = make_config(tmp_path)
    state = tmp_path / "state"
    assert json.loads(invoke_pos(config, state, "history", "--json").stdout) == []
    approved = invoke_pos(config, state, "sale", "1.50", "--card", "visa")
    assert approved.returncode == 0 and "APPROVED sale ¥1.50 card 476173******0011" in approved.stdout
    declined = invoke_pos(config, state, "sale", "100", "--card", "unionpay-low-balance")
    assert declined.returncode == 1 and "DECLINED" in declined.stdout
    refused = invoke_pos(config, state, "void", "424242")
    assert refused.returncode == 2 and "no transaction with trace 424242" in refused.stderr
    signon = invoke_pos(config, state, "signon")
    assert signon.returncode == 0 and "signed on, batch 000001" in signon.stdout
    history = json.loads(invoke_pos(config, state, "history", "--json").stdout)
    assert [(h["type"], h["amount"], h["state"]) for h in history] == [
        ("sale", 10000, "declined"), ("sale", 150, "approved")]


def test_a_bad_configuration_is_named_and_exits_4(tmp_path):
    config = make_config(tmp_path, pos={"mac": "md5"})
    done = invoke_pos(config, tmp_path / "state", "sale", "1")
    assert done.returncode == 4
    assert "pos.toml: terminal.mac: input should be" in done.stderr


def test_an_unreachable_host_exits_4_and_sends_nothing(tmp_path):
    config = make_config(tmp_path, pos={"timeout_s": 0.3, "connect_timeout_s": 0.1, "backoff_initial_s": 0.05})
    done = invoke_pos(config, tmp_path / "state", "sale", "1", host="127.0.0.1:9")
    assert done.returncode == 4 and "cannot connect to the host at 127.0.0.1:9" in done.stderr


def test_bad_input_gets_a_message_and_its_exit_status_never_a_traceback(tmp_path):
    from tests.pos.support import run_pos

    config = make_config(tmp_path)
    state = tmp_path / "state"
    huge = run_pos(config, state, "sale", "9" * 5000)
    assert huge.returncode == 2 and "over this terminal's maximum of ¥50,000.00" in huge.stderr
    pin = run_pos(config, state, "sale", "1.00", "--pin", "abc")
    assert pin.returncode == 2 and "PIN must be 4 to 12 digits" in pin.stderr
    not_a_directory = tmp_path / "a-file"
    not_a_directory.write_text("")
    unusable = run_pos(config, not_a_directory / "state", "sale", "1.00")
    assert unusable.returncode == 4
    assert f"state directory {not_a_directory / 'state'} is not usable (Not a directory)" in unusable.stderr
    for done in (huge, pin, unusable):
        assert "Traceback" not in done.stderr
    assert not state.exists() or "journal.db" not in {p.name for p in state.iterdir()} or json.loads(
        run_pos(config, state, "history", "--json").stdout) == []   # nothing was recorded


def test_report_x_then_z_from_the_journal(tmp_path):
    config = make_config(tmp_path)
    state = tmp_path / "state"
    assert invoke_pos(config, state, "sale", "12.34", "--card", "unionpay-debit").returncode == 0
    assert invoke_pos(config, state, "sale", "20.00", "--card", "visa").returncode == 0
    sold = json.loads(invoke_pos(config, state, "history", "--json").stdout)
    assert invoke_pos(config, state, "void", sold[1]["stan"], "--card", "unionpay-debit").returncode == 0
    declined = invoke_pos(config, state, "sale", "100", "--card", "unionpay-low-balance")
    assert declined.returncode == 1                           # a decline is in no report

    x = invoke_pos(config, state, "report", "x", "--json")
    assert x.returncode == 0, x.stderr
    running = json.loads(x.stdout)
    assert running["kind"] == "X" and running["balanced"] is None
    assert running["totals"]["sales"] == {"count": 2, "amount": 3234}
    assert running["totals"]["voids"] == {"count": 1, "amount": 1234} and running["totals"]["net"] == 2000
    assert set(running["by_channel"]) == {"card:unionpay", "card:visa"}
    assert "X report of batch" in x.stderr and "printed" in x.stderr          # on the simulated printer

    z = invoke_pos(config, state, "report", "z", "--json")
    assert z.returncode == 0, z.stderr
    closed = json.loads(z.stdout)
    assert closed["kind"] == "Z" and closed["balanced"] is True and closed["batch"] == running["batch"]
    assert closed["totals"] == running["totals"]
    after = json.loads(invoke_pos(config, state, "report", "x", "--json").stdout)
    assert after["batch"] != closed["batch"] and after["totals"]["sales"]["count"] == 0   # the batch was closed
