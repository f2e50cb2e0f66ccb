"""The ESC/POS interpreter as a library: `interpret(bytes) -> Document`."""
from __future__ import annotations

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from drivers.sim.escpos_interpreter import Document, Interpreter, UnknownCommand, interpret
from receipts import render_escpos
from tests.receipts import samples


def test_unknown_command_names_its_offset():
    with pytest.raises(UnknownCommand) as caught:
        interpret(b"\x1b@abc\x1b\x7f")
    assert caught.value.offset == 5 and "1b 7f" in str(caught.value)


def test_code_pages_decode_one_byte_characters():
    assert interpret(b"\x1bt\x10\x80 \x1bt\x00\x9d\n").text_lines == ["€ ¥"]


def test_gb18030_two_and_four_byte_characters_in_chinese_mode_only():
    data = b"\x1c&" + "商户：¥".encode("gb18030") + b"\x1c.\n"
    assert interpret(data).text_lines == ["商户：¥"]
    assert interpret(b"\x1bt\x00" + "商".encode("gb18030") + b"\n").text_lines == ["╔╠"]   # CP437 without FS &


def test_raster_images_round_trip_through_python_escpos():
    original = Image.new("1", (96, 40), 255)
    ImageDraw.Draw(original).rectangle((10, 5, 60, 30), fill=0)
    printer = Dummy(profile="TM-T20II")
    printer.image(original, impl="bitImageRaster")
    [printed] = interpret(printer.output).images
    assert printed.image.size == (96, 40)
    assert printed.image.tobytes() == original.tobytes()


def test_data_ending_inside_a_command_is_flagged():
    assert interpret(b"\x1b@\x1dv0\x00\x02\x00\x10\x00\xff").truncated


@pytest.fixture(scope="module")
def gb18030_job(profiles):
    data = render_escpos(samples.sale(), profiles["58mm"])   # GB18030 text and a raster QR
    return data, _summary(interpret(data))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cuts=st.lists(st.integers(min_value=1, max_value=40_000), min_size=1, max_size=12))
def test_feeding_in_any_chunks_gives_the_same_paper(gb18030_job, cuts):
    data, whole = gb18030_job
    interpreter = Interpreter()
    start = 0
    for cut in sorted(set(c % len(data) for c in cuts)) + [len(data)]:
        interpreter.feed(data[start:cut])
        start = max(start, cut)
    assert _summary(interpreter.finish()) == whole


def _summary(document: Document) -> list:
    return [(type(item).__name__, getattr(item, "text", None), getattr(item, "payload", None),
             item.image.tobytes() if hasattr(item, "image") else None) for item in document.items]

