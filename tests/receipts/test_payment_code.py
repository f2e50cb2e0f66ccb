"""The merchant-presented code: half blocks on an 80x24 screen, and a slip on every printer profile."""
from __future__ import annotations

import pytest
import zxingcpp
from PIL import Image

from acquirer.protocol.mpm import parse_mpm
from drivers.sim.escpos_interpreter import interpret
from receipts import qr_cells, render_copies, render_text
from tests.receipts import samples

_HALVES = {" ": (False, False), "▀": (True, False), "▄": (False, True), "█": (True, True)}


def as_image(lines: tuple[str, ...], *, drawn_is_dark: bool, scale: int = 6) -> Image.Image:
    """What a camera sees of the cells: each half block is one module, `scale` pixels a side."""
    rows: list[list[bool]] = []
    for line in lines:
        rows += [[_HALVES[c][0] for c in line], [_HALVES[c][1] for c in line]]
    image = Image.new("L", (len(rows[0]) * scale, len(rows) * scale), 255)
    for y, row in enumerate(rows):
        for x, drawn in enumerate(row):
            if drawn == drawn_is_dark:
                image.paste(0, (x * scale, y * scale, (x + 1) * scale, (y + 1) * scale))
    return image


def test_the_sale_code_fits_80_by_24_and_scans_back_to_its_payload():
    cells = qr_cells(samples.MPM_PAYLOAD)
    assert cells.fits(80, 24) and cells.height <= 24 and cells.width <= 80
    assert all(len(line) == cells.width and set(line) <= set(_HALVES) for line in cells.lines)
    assert cells.height == (cells.modules + 2 * cells.quiet_zone + 1) // 2   # two modules a cell
    [code] = zxingcpp.read_barcodes(as_image(cells.lines, drawn_is_dark=True))
    assert code.text == samples.MPM_PAYLOAD
    assert parse_mpm(code.text).amount_fen == 1234


def test_light_modules_drawn_for_a_dark_terminal_are_the_same_code():
    dark, light = qr_cells(samples.MPM_PAYLOAD), qr_cells(samples.MPM_PAYLOAD, dark=False)
    swap = str.maketrans("▀▄█ ", "▄▀ █")
    assert all(a.translate(swap) == b for a, b in zip(dark.lines, light.lines, strict=True))
    [code] = zxingcpp.read_barcodes(as_image(light.lines, drawn_is_dark=False))
    assert code.text == samples.MPM_PAYLOAD


def test_a_short_payload_keeps_the_full_quiet_zone_and_a_huge_one_says_it_does_not_fit():
    assert qr_cells("https://pay.example/1").quiet_zone == 4
    huge = qr_cells("X" * 1500)
    assert not huge.fits(80, 24) and huge.quiet_zone == 1


@pytest.mark.parametrize("profile_name", ["58mm", "58mm-image", "80mm", "80mm-image"])
def test_the_payment_code_slip_prints_the_code_on_every_profile(profiles, profile_name):
    profile = profiles[profile_name]
    document = interpret(render_copies(samples.payment_code(), profile))
    if profile.native_qr:
        assert document.qr_payloads == [samples.MPM_PAYLOAD]
    else:
        decoded = [code.text for image in document.images for code in zxingcpp.read_barcodes(image.image)]
        assert decoded == [samples.MPM_PAYLOAD]
    assert "¥12.34" in document.text_lines and document.cuts <= 1
    assert any(line.endswith("20240501000123") for line in document.text_lines)


def test_the_payment_code_slip_as_text():
    text = render_text(samples.payment_code(), 32)
    assert text.splitlines()[:2] == ["           请扫码付款", "          SCAN TO PAY"]
    assert "订单号 BILL NO.   20240501000123" in text
