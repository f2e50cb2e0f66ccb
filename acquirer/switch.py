"""The switch: routes a card number to its issuer by BIN and owns the issuer links.

Routing: the `[[bin]]` rows of the configuration, each a prefix or a range of
equal-length prefixes; the longest matching row wins (so a 6-digit BIN row
can override the 2-digit network row). No row matches: the card is not one
this network can route, answered 14 (invalid card number).

Issuer links and their faults, decided here (the host only relays the code):

- mode "normal": the issuer answers at once (`delay_ms` is ignored).
- mode "slow": the issuer answers after `delay_ms`. When that is longer than
  the switch's own timeout (`[host] switch_timeout_ms`) the switch stops
  waiting at the timeout and answers **98** (no answer from issuer). The
  issuer never sees such a request, so a 98 guarantees nothing was posted.
- mode "down": the link is known to be down, the switch answers **91**
  (issuer or switch inoperative) at once, without waiting.

Modes and delays change at run time (`set_link`, used by fault tests and by
`acquirer serve` on SIGHUP, which re-reads them from the configuration).
"""
from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from acquirer.config import ISSUER_MODES, BinRoute, IssuerSettings

__all__ = ["IssuerLink", "LinkFault", "NoRoute", "Switch"]


class NoRoute(LookupError):
    """No BIN row matches the PAN (answered 14)."""

    code = "14"

    def __init__(self) -> None:
        super().__init__("no BIN route for this card number")


class LinkFault(Exception):
    """The issuer could not be reached; `code` is the response code the switch answers."""

    def __init__(self, issuer: str, code: str, reason: str) -> None:
        self.issuer = issuer
        self.code = code
        super().__init__(f"issuer {issuer}: {reason} ({code})")


@dataclass
class IssuerLink:
    """The switch's view of one issuer: how (and whether) it answers."""

    name: str
    mode: str = "normal"
    delay_ms: int = 0


class Switch:
    """BIN routing plus the simulated network leg to each issuer."""

    def __init__(self, bins: Iterable[BinRoute], issuers: Iterable[IssuerSettings],
                 timeout_ms: int) -> None:
        self.routes = sorted(bins, key=lambda r: -len(r.low))  # longest prefixes first
        self.links: dict[str, IssuerLink] = {
            i.name: IssuerLink(i.name, i.mode, i.delay_ms) for i in issuers}
        self.timeout_ms = timeout_ms
        self._cache: dict[str, str | None] = {}  # BIN (first 8 digits) -> issuer name

    def route(self, pan: str) -> str:
        """The issuer name for a PAN; raises `NoRoute`."""
        key = pan[:8]
        if key not in self._cache:
            self._cache[key] = next(
                (r.issuer for r in self.routes if r.match_length(pan)), None)
        issuer = self._cache[key]
        if issuer is None:
            raise NoRoute()
        return issuer

    def set_link(self, issuer: str, mode: str, delay_ms: int = 0) -> None:
        """Change how an issuer answers (fault tests, SIGHUP reload)."""
        if issuer not in self.links:
            raise KeyError(f"no issuer named {issuer!r}")
        if mode not in ISSUER_MODES:
            raise ValueError(f"issuer mode must be one of {', '.join(ISSUER_MODES)}, got {mode!r}")
        if delay_ms < 0:
            raise ValueError(f"delay_ms must be >= 0, got {delay_ms}")
        link = self.links[issuer]
        link.mode, link.delay_ms = mode, delay_ms

    def reload_links(self, issuers: Mapping[str, IssuerSettings]) -> None:
        """Take the modes and delays of a freshly loaded configuration."""
        for name, settings in issuers.items():
            if name in self.links:
                self.set_link(name, settings.mode, settings.delay_ms)

    async def reach(self, issuer: str) -> None:
        """The network leg to `issuer`: returns when it would answer; raises `LinkFault`."""
        link = self.links[issuer]
        if link.mode == "down":
            raise LinkFault(issuer, "91", "link is down")
        if link.mode == "normal" or link.delay_ms == 0:
            return
        if link.delay_ms >= self.timeout_ms:
            await asyncio.sleep(self.timeout_ms / 1000)
            raise LinkFault(issuer, "98", f"no answer within {self.timeout_ms} ms")
        await asyncio.sleep(link.delay_ms / 1000)
