"""The nexo HTTPS endpoint: `POST /nexo` (and `/nexo/`) as Adyen's local Terminal API serves it.

aiohttp does HTTP (chunked bodies included) and TLS; this module adds the
register-facing rules, each answered with a nexo error and logged:

- `X-API-Key` must match the configured key (401, NotAllowed);
- bodies larger than `max_body_bytes` (413, MessageFormat), not JSON or not a
  nexo request (400, MessageFormat);
- an envelope (`NexoBlob` + `SecurityTrailer`) is opened with the configured
  keys; an unknown key or a bad HMAC is NotAllowed; the answer to an
  enveloped request is sealed with the same key;
- at most `max_concurrent` requests at once (503, Busy), on top of the
  till's one payment at a time;
- any failure inside becomes a 500 with UnavailableService: a request never
  stops the server.
"""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
import ssl
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from aiohttp import web

from pos.daemon import nexo
from pos.daemon.envelope import EnvelopeError, EnvelopeKey, Keyring, open_message, seal_message
from pos.daemon.service import NexoService

log = logging.getLogger(__name__)
PATHS = ("/nexo", "/nexo/")


def _dumps(message: Any) -> str:
    return json.dumps(message, default=_decimal_default, ensure_ascii=False)


def _decimal_default(value: object) -> Any:
    if isinstance(value, Decimal):
        return float(value)   # two-decimal amounts: float's shortest repr prints them exactly
    raise TypeError(f"{type(value).__name__} is not JSON")


def _error(status: int, condition: str, message: str, header: Any = None) -> web.Response:
    """A nexo Failure answer; the category is the request's when its header names a known one."""
    header = header if isinstance(header, dict) else {}
    category = header.get("MessageCategory")
    body = nexo.error_answer(header, category if category in nexo.SERVICES else "Payment", condition, message)
    return web.Response(status=status, text=_dumps(body), content_type="application/json")


class NexoHttpServer:
    def __init__(self, service: NexoService, *, api_key: str | None, keyring: Keyring,
                 require_encryption: bool = False, max_body_bytes: int = 64 * 1024, max_concurrent: int = 8) -> None:
        self.require_encryption = require_encryption
        self.service = service
        self.api_key = api_key
        self.keyring = keyring
        self.max_body_bytes = max_body_bytes
        self.max_concurrent = max_concurrent
        self._in_flight = 0
        self._runner: web.AppRunner | None = None
        self.address: tuple[str, int] | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body_bytes, middlewares=[self._guard])
        for path in PATHS:
            app.router.add_post(path, self._nexo)
        return app

    async def start(self, host: str, port: int, context: ssl.SSLContext | None) -> tuple[str, int]:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False,
                                     keepalive_timeout=30)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=context, backlog=16)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()
        self.address = (bound[0], bound[1])
        return self.address

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _guard(self, request: web.Request,
                     handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        if self._in_flight >= self.max_concurrent:
            log.warning("request refused: %d requests already in flight", self._in_flight,
                        extra={"condition": "Busy", "peer": request.remote})
            return _error(503, "Busy", "too many requests at once")
        self._in_flight += 1
        try:
            return await handler(request)
        except web.HTTPException as e:
            if e.status == 413:
                log.warning("request refused: body over %d bytes", self.max_body_bytes,
                            extra={"condition": "MessageFormat", "peer": request.remote})
                return _error(413, "MessageFormat", f"request body over {self.max_body_bytes} bytes")
            raise
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception:
            log.exception("request failed inside the daemon", extra={"condition": "UnavailableService"})
            return _error(500, "UnavailableService", "the terminal failed to process the request")
        finally:
            self._in_flight -= 1

    async def _nexo(self, request: web.Request) -> web.Response:
        if self.api_key is not None and not hmac.compare_digest(
                request.headers.get("X-API-Key", "").encode(), self.api_key.encode()):
            log.warning("request refused: wrong or missing X-API-Key",
                        extra={"condition": "NotAllowed", "peer": request.remote})
            return _error(401, "NotAllowed", "wrong or missing X-API-Key")
        raw = await request.read()
        try:
            message = json.loads(raw, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            log.warning("request refused: body is not JSON", extra={"condition": "MessageFormat",
                                                                     "peer": request.remote})
            return _error(400, "MessageFormat", "the request body is not JSON")
        root = message.get(nexo.REQUEST) if isinstance(message, dict) else None
        if not isinstance(root, dict):
            log.warning("request refused: no SaleToPOIRequest", extra={"condition": "MessageFormat"})
            return _error(400, "MessageFormat", "the request holds no SaleToPOIRequest")
        key: EnvelopeKey | None = None
        if "NexoBlob" in root or "SecurityTrailer" in root:
            try:
                message, key = open_message(nexo.REQUEST, root, self.keyring)
            except EnvelopeError as e:
                log.warning("envelope refused: %s", e, extra={"condition": e.condition, "peer": request.remote})
                return _error(200, e.condition, str(e), root.get("MessageHeader"))
        elif self.require_encryption:
            log.warning("request refused: not encrypted", extra={"condition": "NotAllowed", "peer": request.remote})
            return _error(200, "NotAllowed", "this terminal takes encrypted requests only", root.get("MessageHeader"))
        answer = await self.service.handle(message)
        if answer is None:
            return web.Response(status=200)
        if key is not None:
            answer = seal_message(nexo.RESPONSE, json.loads(_dumps(answer), parse_float=Decimal), key)
        return web.Response(status=200, text=_dumps(answer), content_type="application/json")
