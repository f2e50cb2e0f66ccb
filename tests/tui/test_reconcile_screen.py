"""F7 at the till: the last complete day against the acquirer; what the cashier sees when it cannot be made."""
from __future__ import annotations

import shutil
import socket
from pathlib import Path


from tests.pos.support import CONFIG, make_config
from tests.tui.support import new_app, pilot_test, screen_name, screen_text, sign_on, wait_for


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pilot_test
async def test_f7_without_terms_or_acquirer_says_why(tmp_path: Path) -> None:
    config_dir = make_config(tmp_path)
    app = new_app(tmp_path, config_dir=config_dir)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_on(pilot)
        await pilot.press("f7")
        await wait_for(pilot, lambda: app.till.notice is not None and app.till.notice.key == "recon.failed",
                       "the reconciliation notice")
        assert "reconcile.toml: (file): file not found" in app.till.notice.text("en")

        shutil.copy(CONFIG / "reconcile.toml", config_dir / "reconcile.toml")
        text = (config_dir / "reconcile.toml").read_text().replace("8584", str(closed_port()))
        (config_dir / "reconcile.toml").write_text(text)
        app.till.notice = None
        await pilot.press("f7")
        await wait_for(pilot, lambda: app.till.notice is not None and app.till.notice.key == "recon.failed",
                       "the reconciliation notice")
        assert "cannot reach the acquirer" in app.till.notice.text("en")
        assert "无法对账" in app.till.notice.text("zh")
        assert screen_name(pilot) == "AmountScreen" and "Cannot reconcile" in screen_text(pilot)
        await app.action_quit()
