"""A printer that runs out of paper, opens its cover or goes offline: the receipt still prints, once."""
from __future__ import annotations

import socket

import pytest

from drivers.printer import (
    CoverOpenError,
    NetworkConfig,
    PaperOutError,
    PrinterConnection,
    PrinterOfflineError,
    PrintQueue,
)
from tests.printer.conftest import job_for
from tests.receipts import samples


def complete_receipts(paper, profile) -> int:
    """Cut pages that hold a whole cardholder copy, from title to e-receipt link."""
    whole = 0
    for page in paper.pages():
        lines = page.text_lines
        if page.cuts and "持卡人存根 CARDHOLDER COPY" in lines and lines[0] == "POS签购单" \
                and page.qr_payloads == [samples.E_RECEIPT_URL]:
            whole += 1
    return whole


@pytest.mark.parametrize("fault, error", [
    ("paper_out", PaperOutError), ("cover_open", CoverOpenError), ("offline", PrinterOfflineError)])
def test_fault_in_the_middle_of_a_job_then_the_receipt_prints_once(queue, sim, profiles, fault, error):
    profile = profiles["80mm"]
    job = job_for(samples.sale(), profile, "000123")
    sim.fail_after(len(job.data) // 3, fault)          # inside the merchant copy

    failed = queue.submit(job)

    assert not failed.printed and isinstance(failed.error, error)
    assert "interrupted" in str(failed.error)
    assert sim.document.cuts == 0                        # what came out before the fault: no whole receipt
    assert [j.id for j in queue.pending()] == [failed.job_id]
    assert queue.retry_pending()[0].printed is False    # still down: nothing sent, nothing lost

    sim.come_back()
    [retried] = queue.retry_pending()

    assert retried.printed and retried.job_id == failed.job_id
    assert complete_receipts(sim.document, profile) == 1
    assert sim.document.cuts == 2                        # merchant + cardholder copy, each exactly once
    assert queue.pending() == [] and queue.get(failed.job_id).attempts == 3
    assert queue.retry_pending() == []                   # nothing left to print twice


def test_out_of_paper_before_the_job_sends_nothing_and_later_jobs_wait_their_turn(queue, sim, profiles):
    profile = profiles["80mm"]
    sim.run_out_of_paper()

    first = queue.submit(job_for(samples.sale(trace=1), profile, "000001"))
    second = queue.submit(job_for(samples.sale(trace=2), profile, "000002"))

    assert isinstance(first.error, PaperOutError) and "out of paper" in str(first.error)
    assert not second.printed and isinstance(second.error, PaperOutError)
    assert sim.document.items == []
    assert queue.get(second.job_id).attempts == 0        # never sent ahead of the older job

    sim.load_paper()
    third = queue.submit(job_for(samples.sale(trace=3), profile, "000003"))

    assert third.printed
    vouchers = [line.split()[-1] for line in sim.document.text_lines if line.startswith("凭证号")]
    assert vouchers == ["000001"] * 2 + ["000002"] * 2 + ["000003"] * 2


def test_cover_open_is_reported_as_such(queue, sim, profiles):
    sim.open_cover()
    result = queue.submit(job_for(samples.refund(), profiles["80mm"]))
    assert isinstance(result.error, CoverOpenError) and "cover open" in str(result.error)
    sim.close_cover()
    assert queue.retry_pending()[0].printed


def test_paper_near_end_still_prints_and_says_so(queue, sim, profiles):
    sim.paper_near_end()
    result = queue.submit(job_for(samples.sale(), profiles["80mm"]))
    assert result.printed and result.paper_near_end


def test_the_queue_survives_a_restart_and_prints_once(tmp_path, sim, network, profiles):
    path = tmp_path / "print-queue.db"
    sim.go_offline()
    before = PrintQueue(path, network)
    job_id = before.submit(job_for(samples.void(), profiles["80mm"], "000124")).job_id
    before.close()

    sim.come_back()
    after = PrintQueue(path, network)
    [result] = after.retry_pending()

    assert result.job_id == job_id and result.printed
    assert sim.document.cuts == 2 and sim.document.text.count("消费撤销 VOID") == 2
    assert after.retry_pending() == []
    after.close()


def test_a_printer_switched_off_is_offline_and_the_job_waits(tmp_path, sim, profiles):
    with socket.socket() as probe:            # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    queue = PrintQueue(tmp_path / "q.db", PrinterConnection(NetworkConfig("127.0.0.1", port, timeout_s=1)))
    result = queue.submit(job_for(samples.sale(), profiles["80mm"], "000123"))
    assert isinstance(result.error, PrinterOfflineError) and f"127.0.0.1:{port}" in str(result.error)
    assert queue.get(result.job_id).state == "pending"
    assert "cannot connect" in queue.get(result.job_id).last_error
    queue.close()


def test_no_card_number_in_clear_in_the_queue_file(tmp_path, queue, sim, profiles):
    sim.run_out_of_paper()                         # keep the jobs stored
    for make in (samples.sale, samples.void, samples.refund, samples.decline):
        queue.submit(job_for(make(), profiles["80mm"]))
    queue.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("print-queue.db*"))
    pan = samples.full_pan()
    for encoding in ("ascii", "utf-16-le"):
        assert pan.encode(encoding) not in stored
    assert "621483*********0015".encode() in stored
