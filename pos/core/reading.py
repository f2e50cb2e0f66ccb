"""Waiting for the customer's card or code: every armed source at once, the first payment wins.

A source that ends without a payment (a tap that gave no card data, a camera
that timed out) is disarmed alone (`SourceFailed`) while the others still
wait. When the last one fails the wait ends: with `CardNotRead` if a card was
met, else with the last source's error. An abort (`TransactionGuard.abort`)
disarms every source and ends the wait with `Cancelled`: nothing was sent.
"""
from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from pos.core import events as ev
from pos.core.errors import Cancelled, CardNotRead, NoPaymentSource
from pos.core.observers import Observers
from pos.core.payment import CardData, PaymentRequest, PaymentSource, ReadFailed, WalletCode


async def read_payment(request: PaymentRequest, sources: Sequence[PaymentSource], emit: Observers,
                       abort: asyncio.Event) -> CardData | WalletCode:
    if not sources:
        raise NoPaymentSource("no payment source to read a card from")
    emit(ev.WaitingForPayment(request.kind, request.amount, request.currency, tuple(s.name for s in sources)))
    armed: dict[asyncio.Future[CardData | WalletCode], PaymentSource] = {
        asyncio.ensure_future(s.read(request)): s for s in sources}
    aborted: asyncio.Future[bool] = asyncio.ensure_future(abort.wait())
    failures: list[BaseException] = []
    try:
        while armed:
            waiting: set[asyncio.Future[Any]] = {*armed, aborted}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            finished = [task for task in armed if task in done]
            for task in sorted(finished, key=lambda t: t.exception() is not None):   # a payment first
                source = armed.pop(task)
                error = task.exception()
                if error is None:
                    return task.result()
                failures.append(error)
                if armed:
                    emit(ev.SourceFailed(source.name, str(error)))
            if aborted in done:
                emit(ev.PaymentCancelled(request.kind))
                raise Cancelled(f"the {request.kind} was cancelled while waiting for the card: nothing was sent",
                                txn_kind=request.kind)
    finally:
        aborted.cancel()
        for task in armed:
            task.cancel()
    failure = next((f for f in failures if isinstance(f, ReadFailed)), failures[-1])
    if isinstance(failure, ReadFailed):
        emit(ev.CardNotRead(request.kind, failure.outcome, failure.prompt, failure.reason))
        raise CardNotRead(failure) from None
    raise failure
