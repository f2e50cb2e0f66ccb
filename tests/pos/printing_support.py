"""Test support for printed receipts: a configuration pointing at a printer, and the slips on its paper.

The printers are the kit's simulated printer, reached the way a real one is:
python-escpos's `Network` class over loopback TCP or its `Serial` class on a
pty. What the tests read is what the simulator interpreted from the bytes.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import zxingcpp

from drivers.sim.escpos_interpreter import Document, Line, QrCode, RasterImage
from tests.pos.support import set_pos

TITLES = ("POS签购单", "结算总计单")
E_RECEIPT = "https://receipts.tillkit.example/898310048990001/10000001/{batch}/{trace}"


def use_printer(config_dir: Path, connection: str, profile: str = "80mm", **table: object) -> None:
    """pos.toml chooses `connection` and `profile`; printers.toml's [printer.CONNECTION] gets `table`'s values."""
    set_pos(config_dir, connection=connection, profile=profile)
    path = config_dir / "printers.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in table.items():
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        text, count = re.subn(rf"(\[printer\.{connection}\][^\[]*?\n){key} = [^\n#]*",
                              rf"\g<1>{key} = {shown}  ", text)
        assert count == 1, f"printers.toml has no {key} in [printer.{connection}]"
    path.write_text(text, encoding="utf-8")


@dataclass
class Slip:
    """One printed slip or summary: from its title line to the next title (or the end of the paper)."""

    items: list = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, Line)]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def value(self, label: str) -> str | None:
        """The value right of `label` on its line ("凭证号 VOUCHER NO.      000123" -> "000123"), or on the
        line under it when the two do not fit one line (narrow paper)."""
        lines = self.lines
        for number, line in enumerate(lines):
            if line == label and number + 1 < len(lines):
                return lines[number + 1].strip()
            if line.startswith(label):
                return line[len(label):].strip()
        return None

    @property
    def copy(self) -> str | None:
        return next((line for line in self.lines if line.endswith(" COPY")), None)

    @property
    def amount(self) -> str | None:
        """The line under 金额 AMOUNT (double size, right-aligned)."""
        lines = self.lines
        return lines[lines.index("金额 AMOUNT") + 1] if "金额 AMOUNT" in lines else None

    @property
    def qr_links(self) -> list[str]:
        """QR payloads: printer-drawn codes as the printer kept them, raster ones decoded with zxing-cpp."""
        links = [i.payload for i in self.items if isinstance(i, QrCode)]
        for image in (i for i in self.items if isinstance(i, RasterImage)):
            links += [code.text for code in zxingcpp.read_barcodes(image.image)]
        return links

    @property
    def link(self) -> str:
        """The e-receipt link as printed in text under the QR code (wrapped over lines)."""
        lines = self.lines
        return "".join(lines[lines.index("电子签购单 E-RECEIPT") + 1:]) if "电子签购单 E-RECEIPT" in lines else ""

    @property
    def complete(self) -> bool:
        """Printed to its end: a cardholder copy to the last character of its link, a merchant
        copy (no e-receipt QR: the link is the customer's) to its acknowledgement, a summary to
        its balance line."""
        lines = self.lines
        if lines and lines[0] == "结算总计单":
            return "BALANCE" in lines[-1]
        if self.copy == "商户存根 MERCHANT COPY":
            return bool(lines) and lines[-1].endswith("GOODS/SERVICES.")
        batch, trace = self.value("批次号 BATCH NO."), self.value("凭证号 VOUCHER NO.")
        return self.link == E_RECEIPT.format(batch=batch, trace=trace)


def slips(paper: Document) -> list[Slip]:
    found: list[Slip] = []
    for item in paper.items:
        if isinstance(item, Line) and item.text in TITLES:
            found.append(Slip())
        if found:
            found[-1].items.append(item)
    return found


def card_numbers(text: str) -> list[str]:
    """Every run of 8+ digits and '*' on the paper: where a card number could show."""
    return re.findall(r"[0-9*]{8,}", text)
