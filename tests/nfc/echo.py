"""A test card application that answers each APDU with its data reversed, or a long answer."""
from __future__ import annotations


class EchoApplication:
    """Remembers what it received; answers the command data reversed, then 90 00.

    An APDU with INS B0 asks for P1*256+P2 bytes of counting data instead (long
    answers, to make the card chain).
    """

    def __init__(self) -> None:
        self.received: list[bytes] = []

    def exchange(self, apdu: bytes) -> bytes:
        self.received.append(bytes(apdu))
        if apdu[1] == 0xB0:
            size = apdu[2] << 8 | apdu[3]
            return bytes(i & 0xFF for i in range(size)) + b"\x90\x00"
        return bytes(reversed(apdu[5:5 + apdu[4]])) + b"\x90\x00" if len(apdu) > 5 else b"\x90\x00"
