"""The HTTPS endpoint's concurrency limit and its guard against failures inside, on a real aiohttp server."""
from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from pos.daemon.envelope import Keyring
from pos.daemon.http import NexoHttpServer


class SlowService:
    """Stands in for the nexo service: holds each request until released, or fails."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0

    async def handle(self, message: object) -> dict[str, Any] | None:
        self.entered += 1
        if isinstance(message, dict) and message["SaleToPOIRequest"].get("Fail"):
            raise RuntimeError("a bug inside")
        await self.release.wait()
        return {"SaleToPOIResponse": {"MessageHeader": {}, "LoginResponse": {"Response": {"Result": "Success"}}}}


BODY = json.dumps({"SaleToPOIRequest": {"MessageHeader": {}}})


async def _scenario() -> tuple[int, dict[str, Any], list[int], int, dict[str, Any]]:
    service = SlowService()
    server = NexoHttpServer(service, api_key=None, keyring=Keyring([]), max_concurrent=2)  # type: ignore[arg-type]
    host, port = await server.start("127.0.0.1", 0, None)
    url = f"http://{host}:{port}/nexo"
    try:
        async with aiohttp.ClientSession() as session:
            held = [asyncio.create_task(session.post(url, data=BODY)) for _ in range(2)]
            while service.entered < 2:
                await asyncio.sleep(0.01)
            async with session.post(url, data=BODY) as third:
                refused_status, refused = third.status, await third.json()
            service.release.set()
            statuses = []
            for task in held:
                reply = await task
                statuses.append(reply.status)
                reply.release()
            failing = json.dumps({"SaleToPOIRequest": {"MessageHeader": {}, "Fail": True}})
            async with session.post(url, data=failing) as broken:
                broken_status, broken_body = broken.status, await broken.json()
    finally:
        await server.close()
    return refused_status, refused, statuses, broken_status, broken_body


def test_requests_beyond_the_limit_are_busy_and_a_failure_inside_is_a_500():
    refused_status, refused, statuses, broken_status, broken = asyncio.run(_scenario())
    assert refused_status == 503
    assert refused["SaleToPOIResponse"]["PaymentResponse"]["Response"]["ErrorCondition"] == "Busy"
    assert statuses == [200, 200]
    assert broken_status == 500
    assert broken["SaleToPOIResponse"]["PaymentResponse"]["Response"]["ErrorCondition"] == "UnavailableService"


async def _clear_request_when_encryption_is_required() -> tuple[int, dict[str, Any], int]:
    service = SlowService()
    server = NexoHttpServer(service, api_key="k" * 8, keyring=Keyring([]),  # type: ignore[arg-type]
                            require_encryption=True)
    host, port = await server.start("127.0.0.1", 0, None)
    try:
        async with aiohttp.ClientSession() as session:
            message = json.dumps({"SaleToPOIRequest": {"MessageHeader": {"MessageCategory": "Login"}}})
            async with session.post(f"http://{host}:{port}/nexo/", data=message,
                                    headers={"X-API-Key": "k" * 8}) as reply:
                return reply.status, await reply.json(), service.entered
    finally:
        await server.close()


def test_a_clear_request_is_refused_when_encryption_is_required():
    status, body, entered = asyncio.run(_clear_request_when_encryption_is_required())
    assert status == 200 and entered == 0
    assert body["SaleToPOIResponse"]["LoginResponse"]["Response"]["ErrorCondition"] == "NotAllowed"
