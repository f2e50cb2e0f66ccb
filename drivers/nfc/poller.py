"""Waiting for a card from asyncio code, without blocking the event loop.

nfcpy's polling blocks its thread and only looks at its `terminate` callback
between sense rounds (docs/device-facts.md), so the poll runs in a worker thread and the
result crosses back with `loop.call_soon_threadsafe`. Cancelling the awaiting
task sets the worker's cancel event: the worker stops after the sense round it
is in (milliseconds), and the next poll on the same reader waits for it.
"""
from __future__ import annotations

import asyncio
import threading

from drivers.nfc.reader import IsoDepCard, NfcReader


async def wait_for_card(reader: NfcReader) -> IsoDepCard:
    """The next ISO-DEP card in the reader's field; cancel the task to stop polling.

    Raises what `NfcReader.poll` raises (`CollisionDetected`, `UnsupportedCard`,
    `ReaderGone`).
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[IsoDepCard] = loop.create_future()
    cancel = threading.Event()

    def settle(card: IsoDepCard | None, error: BaseException | None) -> None:
        if future.done():
            return  # the caller gave up first; the field is reset by the next poll
        if error is not None:
            future.set_exception(error)
        elif card is not None:
            future.set_result(card)

    def work() -> None:
        try:
            card = reader.poll(cancel)
        except Exception as error:  # handed to the awaiting task, which re-raises it
            _deliver(loop, settle, None, error)
            return
        _deliver(loop, settle, card, None)

    threading.Thread(target=work, name=f"nfc-poll {reader.path}", daemon=True).start()
    try:
        return await future
    finally:
        cancel.set()


def _deliver(loop: asyncio.AbstractEventLoop, settle, card: IsoDepCard | None,
             error: BaseException | None) -> None:
    try:
        loop.call_soon_threadsafe(settle, card, error)
    except RuntimeError:
        pass  # the event loop is closed: nobody is waiting any more
