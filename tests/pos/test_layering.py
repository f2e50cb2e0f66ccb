"""The engine knows no face: importing the terminal's core loads no Textual and no HTTP code."""
import subprocess
import sys

CORE = ("pos.core.engine", "pos.devices.terminal", "pos.journal.store", "pos.hostlink.link", "pos.core.events", "pos.simulated.virtual_card",
        "pos.sources.contactless", "pos.sources.manual_entry", "pos.core.amount", "pos.core.config", "pos.core.payment")
FACES = ("textual", "http", "aiohttp", "starlette", "fastapi", "uvicorn", "requests", "urllib3")


def test_engine_imports_no_face_code():
    probe = (f"import sys; import {', '.join(CORE)}; "
             f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FACES)!r}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
