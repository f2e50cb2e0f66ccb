"""The command APDUs a contactless kernel sends, and the answers' status words.

Tiny on purpose: the EMV commands are fixed byte layouts (docs/payment-standards.md
section 3), and no kept library builds them for a terminal.
"""
from __future__ import annotations

from dataclasses import dataclass

PPSE_NAME = b"2PAY.SYS.DDF01"

SW_OK = 0x9000
SW_CONDITIONS_NOT_SATISFIED = 0x6985
SW_SEE_PHONE = 0x6986          # mobile: the holder must act on the phone, then tap again

# GENERATE AC reference control parameter (P1)
REQUEST_ARQC = 0x80


def select(name: bytes) -> bytes:
    """SELECT by DF name: 00 A4 04 00 Lc name 00."""
    return bytes([0x00, 0xA4, 0x04, 0x00, len(name)]) + name + b"\x00"


def get_processing_options(pdol_data: bytes) -> bytes:
    """GET PROCESSING OPTIONS: 80 A8 00 00 Lc 83 L <PDOL data> 00."""
    body = bytes([0x83, len(pdol_data)]) + pdol_data
    return bytes([0x80, 0xA8, 0x00, 0x00, len(body)]) + body + b"\x00"


def read_record(sfi: int, record: int) -> bytes:
    """READ RECORD: 00 B2 record (SFI << 3 | 4) 00."""
    return bytes([0x00, 0xB2, record, sfi << 3 | 0x04, 0x00])


def generate_ac(reference: int, cdol_data: bytes) -> bytes:
    """GENERATE AC: 80 AE P1 00 Lc <CDOL1 data> 00."""
    return bytes([0x80, 0xAE, reference, 0x00, len(cdol_data)]) + cdol_data + b"\x00"


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> Response:
        if len(raw) < 2:
            raise ValueError(f"answer of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), raw[-2] << 8 | raw[-1])

    @property
    def sw_hex(self) -> str:
        return f"{self.sw:04X}"
