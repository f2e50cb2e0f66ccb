"""What the reconciliation's end-to-end test does to the line between a till and `acquirer serve`.

- `HoldUntil`: a fault-proxy policy that holds the next request (0200) back until a given moment, as a
  congested line or a stalled router does; the till keeps waiting for its answer (its timeout is longer).
- `AmountTamper`: a man in the middle that changes the amount (field 4) of one sale on its way to the host
  and changes it back in the answer, with valid MACs both ways. Field 4 is inside the MAC block, so this
  needs the session's MAC key: the tamperer holds the till's TMK (a test key of the repository's
  configuration) and reads the working keys from the sign-on reply (field 62, under the TMK). Without the
  keys, a changed field 4 fails the MAC check and is refused (A0); and a chip card's cryptogram signs the
  amount as well (9F02), so the issuer declines a chip sale whose field 4 was changed even with the keys:
  only a key-entered sale can be altered. docs/reconcile.md says why this is the closest the kit's live
  traffic comes to "amount differs".
"""
from __future__ import annotations

import time

from acquirer.protocol import codec
from acquirer.protocol.keys import unpack_field62
from tests.e2e.proxy import DOWN, UP, Fault, FaultProxy, mti_of


class HoldUntil:
    """A policy: once armed, the next 0200 towards the host is delivered at `until` (Unix time), not before."""

    def __init__(self) -> None:
        self.proxy: FaultProxy | None = None
        self.until: float | None = None
        self.held = 0

    def arm(self, proxy: FaultProxy, until: float) -> None:
        self.proxy, self.until = proxy, until

    def __call__(self, direction: str, mti: str) -> Fault:
        if self.until is None or self.proxy is None or (direction, mti) != (UP, "0200"):
            return Fault.PASS
        self.proxy.delay_s = max(0.0, self.until - time.time())   # the proxy sleeps this long, then forwards
        self.until = None
        self.held += 1
        return Fault.DELAY


class AmountTamper:
    """A rewrite: the next sale of `asked` fen reaches the host as `charged` fen; its answer says `asked` again."""

    def __init__(self, tmk_hex: str, mac_algorithm: str) -> None:
        self.tmk = bytes.fromhex(tmk_hex)
        self.algorithm = mac_algorithm
        self.mac_key: bytes | None = None
        self.change: tuple[int, int] | None = None
        self.stan: str | None = None
        self.tampered = 0

    def arm(self, asked: int, charged: int) -> None:
        self.change = (asked, charged)

    def __call__(self, direction: str, payload: bytes) -> bytes:
        mti = mti_of(payload)
        if direction == DOWN and mti == "0810":
            reply = codec.decode(payload)
            if reply.get("62"):
                self.mac_key = unpack_field62(self.tmk, bytes.fromhex(reply["62"])).mac
            return payload
        if self.change is None or self.mac_key is None:
            return payload
        asked, charged = self.change
        if direction == UP and mti == "0200":
            request = codec.decode(payload)
            if request.get("4") == f"{asked:012d}" and self.stan is None:
                request["4"] = f"{charged:012d}"
                self.stan = request["11"]
                self.tampered += 1
                return codec.sign(request, self.algorithm, self.mac_key)
        if direction == DOWN and mti == "0210":
            reply = codec.decode(payload)
            if self.stan is not None and reply.get("11") == self.stan:
                self.change = None
                if reply.get("4") == f"{charged:012d}":   # the answer echoes the amount: the till would notice
                    reply["4"] = f"{asked:012d}"
                    self.tampered += 1
                    return codec.sign(reply, self.algorithm, self.mac_key)
        return payload
