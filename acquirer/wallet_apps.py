"""The wallet apps' endpoint: where a customer's wallet app pays a merchant-presented code.

One JSON line in, one JSON line out (`acquirer.protocol.wallet_app`), on
loopback. Each payment is one unit of the host's group commit, answered only
after it is durable -- the same rule as the terminal link: an app is never
told "paid" for money the database could still lose. A line that is not a
request is answered 30 with the reason; a line over `MAX_LINE` closes the
connection; a defect is logged and answered 96. The terminal learns of the
payment by polling its order (wallet query).
"""
from __future__ import annotations

import asyncio
import socket
import logging

from acquirer.host import Host
from acquirer.protocol.wallet_app import MAX_LINE, AppAnswer, AppMessageError, MerchantCodePayment

__all__ = ["WalletAppServer"]

log = logging.getLogger("acquirer.wallet_apps")


class WalletAppServer:
    """Serves the wallet apps' requests against a `Host`'s wallet channel."""

    def __init__(self, host: Host) -> None:
        self.host = host
        self._server: asyncio.Server | None = None

    async def start(self, address: str = "127.0.0.1", port: int = 0,
                    sock: socket.socket | None = None) -> tuple[str, int]:
        """Listen; returns the bound address and port (port 0 picks a free one).

        `sock`: a socket already listening (shared by several host processes) instead.
        """
        if sock is not None:
            self._server = await asyncio.start_server(self._connection, sock=sock, limit=MAX_LINE)
        else:
            self._server = await asyncio.start_server(self._connection, address, port, limit=MAX_LINE)
        bound = self._server.sockets[0].getsockname()
        return bound[0], bound[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def pay(self, payment: MerchantCodePayment) -> AppAnswer:
        """One payment, durable before it is answered."""
        with self.host.store.unit():
            answer = self.host.wallet.pay_merchant_code(payment, self.host.clock())
        await self.host.store.durable()
        return answer

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                try:
                    answer = await self.pay(MerchantCodePayment.from_line(line))
                except AppMessageError as e:
                    answer = AppAnswer("30", str(e))
                except Exception:
                    log.exception("defect while serving a wallet app")
                    answer = AppAnswer("96", "System malfunction")
                writer.write(answer.to_line())
                await writer.drain()
        except (ValueError, ConnectionError) as e:   # a line over MAX_LINE, or the app went away
            log.warning("wallet app connection closed: %s", e)
        finally:
            writer.close()
