"""pyteliummanager (the register's side of Concert, from PyPI) drives `pos daemon --serial` over ptys.

Two pseudo-terminals joined by a byte pump stand in for the null-modem cable:
the daemon opens one pty's device with pyserial, pyteliummanager the other's.
"""
from __future__ import annotations

import os
import select
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from telium import Telium, TeliumAsk

from pos.daemon.concert import ConcertError, ConcertRequest, frame, lrc, unframe
from pos.journal.store import Journal
from tests.daemon.support import Daemon, queue


class NullModem:
    """Bytes written on one pty come out of the other (both ways)."""

    def __init__(self) -> None:
        self.a_master, a_slave = os.openpty()
        self.b_master, b_slave = os.openpty()
        self.a_path, self.b_path = os.ttyname(a_slave), os.ttyname(b_slave)
        self._slaves = (a_slave, b_slave)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        pairs = {self.a_master: self.b_master, self.b_master: self.a_master}
        while not self._stop.is_set():
            ready, _, _ = select.select(list(pairs), [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 1024)
                except OSError:
                    continue
                os.write(pairs[fd], data)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        for fd in (self.a_master, self.b_master, *self._slaves):
            os.close(fd)


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Daemon, Telium]]:
    modem = NullModem()
    daemon = Daemon(tmp_path_factory.mktemp("concert") / "state", "--serial", modem.a_path).start()
    register = Telium(modem.b_path, timeout=5)
    yield daemon, register
    register.close()
    assert daemon.stop() == 0, daemon.logs()[-2000:]
    modem.close()


def pay(register: Telium, amount: float, mode: str) -> Any:
    ask = TeliumAsk.new_payment(amount, payment_mode=mode, target_currency="CNY", checkout_unique_id="7")
    assert register.ask(ask)
    return register.verify(ask, waiting_timeout=60)


def journal_txn(daemon: Daemon, private: str) -> Any:
    journal = Journal(daemon.state_dir / "journal.db")
    try:
        return journal.latest_with_stan(private[4:10])
    finally:
        journal.close()


def test_payment_approved(line):
    daemon, register = line
    queue(daemon.state_dir, "card", "unionpay-debit")
    answer = pay(register, 12.5, "debit")
    assert answer.has_succeeded and answer.amount == 12.5 and answer.pos_number == "07"
    txn = journal_txn(daemon, answer.private)
    assert txn.state == "approved" and txn.amount == 1250
    assert answer.repport.split(" ")[0] == txn.masked_pan     # masked, never the full PAN


def test_payment_declined(line):
    daemon, register = line
    queue(daemon.state_dir, "card", "unionpay-lost")
    answer = pay(register, 30.0, "debit")
    assert not answer.has_succeeded and answer.transaction_result == 7
    assert journal_txn(daemon, answer.private).state == "declined"


def test_refund(line):
    daemon, register = line
    queue(daemon.state_dir, "card", "unionpay-debit")
    assert pay(register, 20.0, "debit").has_succeeded
    queue(daemon.state_dir, "card", "unionpay-debit")
    answer = pay(register, 5.0, "refund")
    assert answer.has_succeeded and answer.amount == 5.0
    txn = journal_txn(daemon, answer.private)
    assert txn.type == "refund" and txn.state == "approved" and txn.amount == 500


def test_frames_and_lrc():
    data = frame("0100001250110156          A010B010")
    assert data[0] == 2 and data[-2] == 3 and data[-1] == lrc(data[1:-1])
    assert ConcertRequest.parse(unframe(data)).amount == 1250
    with pytest.raises(ConcertError):
        unframe(data[:-1] + bytes([data[-1] ^ 1]))
    with pytest.raises(ConcertError):
        ConcertRequest.parse("01")
