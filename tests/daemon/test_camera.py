"""A camera configured for the daemon is armed with the reader at each payment, and Diagnosis reports it."""
from __future__ import annotations

import sqlite3
import subprocess

from tests.daemon.support import REPO, Daemon, payment, pos_command, queue, request, response_of


def test_a_payment_code_shown_to_the_camera_pays_and_diagnosis_reports_the_camera(tmp_path):
    video = tmp_path / "alipay.avi"
    made = subprocess.run(pos_command(tmp_path / "phone", "sim", "wallet-code", "alipay", "--out", str(video)),
                          cwd=REPO, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    daemon = Daemon(tmp_path / "state", "--camera", str(video)).start()
    try:
        queue(daemon.state_dir, "walk-away")   # no card: only the camera can pay
        status, answer = daemon.post(payment("3.21", "CAMERA-1"))
        assert status == 200 and response_of(answer, "Payment")["Response"]["Result"] == "Success", answer
        status, diagnosis = daemon.post(request("Diagnosis", {"HostDiagnosisFlag": False}))
        assert status == 200 and response_of(diagnosis, "Diagnosis")["CameraOKFlag"] is True
    finally:
        assert daemon.stop() == 0, daemon.logs()[-2000:]
    with sqlite3.connect(daemon.state_dir / "journal.db") as db:
        rows = db.execute("SELECT type, wallet, amount, state FROM transactions").fetchall()
    assert rows == [("wallet_sale", "alipay", 321, "approved")]
