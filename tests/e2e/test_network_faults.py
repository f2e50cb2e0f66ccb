"""Sales over a line that drops, delays, duplicates and cuts: no money moves without an approval.

The terminal (engine + TCP link, in this process) talks to a real `acquirer
serve` through `FaultProxy`. Whatever the line does, once the line is clean
again and the due reversals are through, every sale is approved in both the
journal and the acquirer's records or reversed in both, and each card's
balance is its opening balance less exactly the approved sales. On SQLite, and
on PostgreSQL with 1 and with 3 host processes (a terminal's reconnection after
a cut may land on another process, which must know its sign-on and its sales).
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import asdict

import pytest

from acquirer.protocol.errors import TillkitError
from pos.core.config import load_config
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from pos.hostlink.link import HostUnavailable
from pos.journal import store as j
from tests.e2e.proxy import Fault, FaultProxy, RandomFaults
from tests.pos.support import AcquirerServer, HostLedger, disagreements, make_config, test_cards

SALES = 50
CARDS = ("unionpay-debit", "visa", "mastercard", "unionpay-credit")


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgresql", "postgresql-3"])
def test_a_faulty_line_never_takes_money_without_an_approval(tmp_path, backend, request):
    config_dir = make_config(tmp_path, pos={
        "timeout_s": 1.0, "connect_timeout_s": 2.0, "backoff_initial_s": 0.02, "backoff_max_s": 0.2,
        "reversal_attempts": 20})
    faults = RandomFaults(seed=8583, rate=0.25)
    opening = {name: card.get("balance", card.get("credit_limit")) for name, card in test_cards().items()}
    pick = random.Random(156)

    db = tmp_path / "acquirer.db" if backend == "sqlite" else request.getfixturevalue("pg_url")
    with AcquirerServer(config_dir, db, processes=3 if backend == "postgresql-3" else 1) as server:
        async def business() -> tuple[list[dict], dict]:
            proxy = FaultProxy(server.port, faults, delay_s=1.5)   # a delay outlasts the timeout
            port = await proxy.start()
            config = load_config(config_dir, state_dir=tmp_path / "state", host_address=f"127.0.0.1:{port}")
            try:
                faults.enabled = False   # start-up sign-on on a clean line
                with open_contactless(config) as contactless:
                    async with open_terminal(config) as engine:
                        faults.enabled = True
                        for _ in range(SALES):
                            card = contactless.cards.card(pick.choice(CARDS))
                            try:
                                await engine.sale(pick.randint(1, 5000), [card])
                            except (TillkitError, HostUnavailable):
                                pass   # e.g. a reversal still due, or the sign-on lost: the next sale retries
                        faults.enabled = False
                        await engine.flush_reversals()
                        return [asdict(t) for t in engine.journal.history()], dict(proxy.counts)
            finally:
                await proxy.close()

        rows, counts = asyncio.run(business())
    for fault in Fault:   # the line really did all of it
        assert any(fault.value in k for k, n in counts.items() if n), (fault, counts)
    assert {r["state"] for r in rows} <= {j.APPROVED, j.REVERSED, j.DECLINED, j.NOT_SENT}
    assert sum(r["state"] == j.APPROVED for r in rows) > SALES // 3
    assert any(r["state"] == j.REVERSED for r in rows)
    host = HostLedger(db, config_dir)
    assert disagreements(rows, host.transactions()) == []
    cards = test_cards()
    for name in CARDS:
        masked = cards[name]["pan"][:6]
        taken = sum(r["amount"] for r in rows if r["state"] == j.APPROVED
                    and r["masked_pan"].startswith(masked) and r["masked_pan"][-4:] == cards[name]["pan"][-4:])
        assert host.balance(name) == opening[name] - taken, name
    assert host.unbalanced_postings() == 0
