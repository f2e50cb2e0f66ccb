"""A loopback TCP proxy that damages 8583 traffic on purpose: drops, delays, duplicates, cuts (and, given
a `Rewrite`, changes messages as a man in the middle would).

It sits between the terminal and `acquirer serve` and understands only the
link's framing (2-byte length + payload), so it can act on whole messages:
a `Policy` looks at each frame (direction and MTI) and answers what to do
with it. Order is kept per direction (a delayed frame holds back the ones
behind it, as on a slow line); a cut closes both sides at once and loses
whatever was still held back.
"""
from __future__ import annotations

import asyncio
import random
import threading
from collections import Counter
from collections.abc import Callable
from enum import Enum

UP, DOWN = "terminal->host", "host->terminal"
MTI_OFFSET = 11   # after TPDU (5) and header (6)


class Fault(Enum):
    PASS = "pass"
    DROP = "drop"               # the frame vanishes
    DELAY = "delay"             # the frame arrives `delay_s` later
    DUPLICATE = "duplicate"     # the frame arrives twice
    CUT_BEFORE = "cut_before"   # the connection breaks before the frame is delivered
    CUT_AFTER = "cut_after"     # the frame is delivered, then the connection breaks


#: (direction, MTI) -> what happens to the frame
Policy = Callable[[str, str], Fault]
#: (direction, payload) -> the payload forwarded (a man in the middle that changes messages)
Rewrite = Callable[[str, bytes], bytes]


def mti_of(payload: bytes) -> str:
    return payload[MTI_OFFSET:MTI_OFFSET + 2].hex()


class RandomFaults:
    """Each frame suffers one fault with probability `rate`, chosen evenly among `faults`."""

    def __init__(self, seed: int, rate: float,
                 faults: tuple[Fault, ...] = (Fault.DROP, Fault.DELAY, Fault.DUPLICATE,
                                              Fault.CUT_BEFORE, Fault.CUT_AFTER)) -> None:
        self.random = random.Random(seed)
        self.rate = rate
        self.faults = faults
        self.enabled = True

    def __call__(self, direction: str, mti: str) -> Fault:
        if not self.enabled or self.random.random() >= self.rate:
            return Fault.PASS
        return self.random.choice(self.faults)


class FaultProxy:
    """Listens on 127.0.0.1 (ephemeral port) and forwards to `upstream_port` through `policy`."""

    def __init__(self, upstream_port: int, policy: Policy, delay_s: float = 1.0,
                 rewrite: Rewrite | None = None) -> None:
        self.upstream_port = upstream_port
        self.policy = policy
        self.delay_s = delay_s
        self.rewrite = rewrite
        self.counts: Counter[str] = Counter()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        return self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            self._connections.discard(task)
            return
        cut = asyncio.Event()
        pumps = [asyncio.create_task(self._pump(UP, reader, up_writer, cut)),
                 asyncio.create_task(self._pump(DOWN, up_reader, writer, cut))]
        try:
            await cut.wait()
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)
            writer.close()
            up_writer.close()
            self._connections.discard(task)

    async def _pump(self, direction: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    cut: asyncio.Event) -> None:
        try:
            while True:
                prefix = await reader.readexactly(2)
                payload = await reader.readexactly(int.from_bytes(prefix, "big"))
                fault = self.policy(direction, mti_of(payload))
                self.counts[f"{direction} {fault.value}"] += 1
                if fault is Fault.DROP:
                    continue
                if fault is Fault.CUT_BEFORE:
                    break
                if fault is Fault.DELAY:
                    await asyncio.sleep(self.delay_s)
                if self.rewrite is not None:
                    payload = self.rewrite(direction, payload)
                    prefix = len(payload).to_bytes(2, "big")
                writer.write(prefix + payload)
                if fault is Fault.DUPLICATE:
                    writer.write(prefix + payload)
                await writer.drain()
                if fault is Fault.CUT_AFTER:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            cut.set()


class ProxyThread:
    """A `FaultProxy` on its own event loop in a thread, for tests that run `pos` as processes."""

    def __init__(self, upstream_port: int, policy: Policy, delay_s: float = 1.0,
                 rewrite: Rewrite | None = None) -> None:
        self.proxy = FaultProxy(upstream_port, policy, delay_s, rewrite)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def __enter__(self) -> ProxyThread:
        self.thread.start()
        self.port = asyncio.run_coroutine_threadsafe(self.proxy.start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.proxy.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"
