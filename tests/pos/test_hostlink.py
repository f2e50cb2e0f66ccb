"""The TCP link: back-off while the host is away, reconnection once it is back."""
import asyncio
import socket
import time

import pytest

from pos.core import events as ev
from pos.core.config import load_config
from pos.devices.contactless import open_contactless
from pos.devices.terminal import open_terminal
from pos.hostlink.link import HostUnavailable, TcpLink
from tests.pos.support import AcquirerServer, make_config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_nobody_listening_retries_with_doubling_pauses_then_gives_up():
    port = free_port()
    pauses: list[float] = []
    link = TcpLink("127.0.0.1", port, connect_timeout_s=0.2, connect_budget_s=0.7,
                   backoff_initial_s=0.05, backoff_max_s=0.2, on_retry=lambda error, delay: pauses.append(delay))

    async def send():
        await link.send(b"\x60" * 20, ("0810", "000001"))

    with pytest.raises(HostUnavailable, match=f"cannot connect to the host at 127.0.0.1:{port}"):
        asyncio.run(send())
    assert pauses[:3] == [0.05, 0.1, 0.2] and set(pauses[3:]) <= {0.2}


def test_the_link_reconnects_when_the_host_comes_back(tmp_path):
    config_dir = make_config(tmp_path, pos={"timeout_s": 20.0, "backoff_initial_s": 0.1, "backoff_max_s": 0.4})
    port = free_port()
    config = load_config(config_dir, state_dir=tmp_path / "state", host_address=f"127.0.0.1:{port}")
    events: list[ev.Event] = []
    db = tmp_path / "acquirer.db"

    async def business():
        server = AcquirerServer(config_dir, db, port).start()
        async with open_terminal(config, events.append) as engine:
            first = await engine.sale(100, [cards.card("visa")])
            server.stop()   # the host goes away between two sales ...
            loop = asyncio.get_running_loop()
            restart = loop.run_in_executor(None, lambda: (time.sleep(0.6), AcquirerServer(config_dir, db, port).start())[1])
            second = await engine.sale(200, [cards.card("visa")])   # ... and comes back while we retry
            (await restart).stop()
            return first, second

    with open_contactless(config) as contactless:
        cards = contactless.cards
        first, second = asyncio.run(business())
    assert first.approved and second.approved
    assert any(isinstance(e, ev.HostUnreachable) for e in events)
    assert sum(isinstance(e, ev.SignedOn) for e in events) == 1   # the host kept the session
