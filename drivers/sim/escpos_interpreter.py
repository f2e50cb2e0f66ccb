"""Turn ESC/POS bytes back into what a printer would put on paper.

Why by hand: no ESC/POS interpreter exists on PyPI (or npm) that turns the
byte stream back into text and images; python-escpos only goes the other way.
Tests that assert what a receipt looks like, and the simulated printer the TUI
shows, need one. This one knows the commands the kit and python-escpos emit:

- ESC @ (initialise), LF, CR, HT, ESC d / ESC J (feeds), ESC 2 / ESC 3
  (line spacing), ESC p (drawer kick, ignored), ESC c 5 (panel buttons, ignored)
- styles: ESC ! (print mode), GS ! (character size), ESC E (bold), ESC G
  (double strike), ESC - (underline), ESC M (font), ESC a (alignment), ESC {
  (upside down), GS B (reverse), GS b (smoothing), FS ! / FS - (Chinese mode
  styles)
- code pages: ESC t n for the common single-byte tables (CP437, CP850, ...)
- Chinese: FS & (Chinese mode on) and FS . (off); in Chinese mode bytes from
  0x81 up are GB18030 characters (two bytes, or four when the second byte is
  a digit 0x30-0x39)
- 2D codes: GS ( k for QR (model, module size, error correction, store, print);
  the printed code keeps its payload
- raster images: GS v 0 (becomes a Pillow image, mode "1")
- cut: GS V (full and partial, with or without feed)
- real-time status: DLE EOT n (handed to a responder callback; the simulated
  printer answers them)

Anything else raises `UnknownCommand` with its byte offset: a receipt that
relies on a command the interpreter does not know should fail loudly in tests.

A line's style and alignment are the ones in force when its first character was
printed. Feeds (ESC d, ESC J) end the current line but add no text lines.

`interpret(data) -> Document` is the one-shot entry; `Interpreter` is the
incremental form the simulated printer feeds chunk by chunk (a command split
across two reads waits for its missing bytes).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from collections.abc import Callable

from PIL import Image

__all__ = [
    "Cut",
    "Document",
    "EscposError",
    "Interpreter",
    "Line",
    "QrCode",
    "RasterImage",
    "UnknownCommand",
    "interpret",
]

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
LF, CR, HT, EOT = 0x0A, 0x0D, 0x09, 0x04

# ESC t n -> Python codec, for the single-byte tables in common use.
CODE_PAGES: dict[int, str] = {
    0: "cp437", 2: "cp850", 3: "cp860", 4: "cp863", 5: "cp865",
    16: "cp1252", 17: "cp866", 18: "cp852", 19: "cp858",
}

Align = Literal["left", "center", "right"]
_ALIGN: dict[int, Align] = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}
_QR_EC = {48: "L", 49: "M", 50: "Q", 51: "H"}
_INVERT = bytes(0xFF ^ b for b in range(256))


class EscposError(ValueError):
    """The byte stream cannot be interpreted; the message names the byte offset."""


class UnknownCommand(EscposError):
    def __init__(self, offset: int, command: bytes) -> None:
        self.offset = offset
        self.command = command
        super().__init__(f"unknown ESC/POS command {command.hex(' ')} at byte offset {offset}")


@dataclass(frozen=True)
class Line:
    """One printed text line, with the style its first character had."""

    text: str
    align: Align = "left"
    bold: bool = False
    underline: int = 0
    width: int = 1          # character width multiplier (2 = double width)
    height: int = 1         # character height multiplier
    font: int = 0


@dataclass(frozen=True)
class RasterImage:
    """A GS v 0 raster image as printed: black dots are black pixels."""

    image: Image.Image
    align: Align = "left"

    @property
    def width(self) -> int:
        return self.image.width

    @property
    def height(self) -> int:
        return self.image.height


@dataclass(frozen=True)
class QrCode:
    """A printer-drawn QR code (GS ( k): the printer keeps the payload."""

    payload: str
    module_size: int
    error_correction: str
    align: Align = "left"


@dataclass(frozen=True)
class Cut:
    partial: bool


Item = Line | RasterImage | QrCode | Cut


@dataclass
class Document:
    """What came out of the printer, in paper order."""

    items: list[Item] = field(default_factory=list)
    truncated: bool = False   # the data ended inside a command

    @property
    def lines(self) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line)]

    @property
    def text_lines(self) -> list[str]:
        return [i.text for i in self.items if isinstance(i, Line)]

    @property
    def text(self) -> str:
        return "\n".join(self.text_lines)

    @property
    def images(self) -> list[RasterImage]:
        return [i for i in self.items if isinstance(i, RasterImage)]

    @property
    def qr_payloads(self) -> list[str]:
        return [i.payload for i in self.items if isinstance(i, QrCode)]

    @property
    def cuts(self) -> int:
        return sum(1 for i in self.items if isinstance(i, Cut))

    def pages(self) -> list[Document]:
        """The document split after each cut (the last page may be uncut)."""
        pages: list[Document] = [Document()]
        for item in self.items:
            pages[-1].items.append(item)
            if isinstance(item, Cut):
                pages.append(Document())
        if not pages[-1].items:
            pages.pop()
        return pages


class _NeedMore(Exception):
    """The buffer ends inside a command: wait for more bytes."""


@dataclass
class _Style:
    align: Align = "left"
    bold: bool = False
    underline: int = 0
    esc_double_width: bool = False
    esc_double_height: bool = False
    size_width: int = 1
    size_height: int = 1
    font: int = 0
    code_page: int = 0
    chinese: bool = False

    def line(self, text: str) -> Line:
        width = max(self.size_width, 2 if self.esc_double_width else 1)
        height = max(self.size_height, 2 if self.esc_double_height else 1)
        return Line(text, self.align, self.bold, self.underline, width, height, self.font)


StatusResponder = Callable[[int], None]   # called with n of DLE EOT n; the printer sends its answer


class Interpreter:
    """Incremental ESC/POS interpreter writing into a `Document`.

    `feed(data)` consumes every complete command and keeps an incomplete tail.
    `accepting` (a callable) says whether the printer is printing right now: when
    it returns False, commands are still parsed (to stay in step with the
    stream) but have no effect, as on a printer that discards data while it is
    out of paper or offline. Real-time status queries are always answered
    through `on_status(n)`; `on_consumed(nbytes)` is told how many
    print-data bytes each command carried (the simulator counts them to fail
    mid-job).
    """

    def __init__(
        self,
        document: Document | None = None,
        *,
        on_status: StatusResponder | None = None,
        accepting: Callable[[], bool] = lambda: True,
        on_consumed: Callable[[int], None] = lambda n: None,
    ) -> None:
        self.document = document if document is not None else Document()
        self._on_status = on_status
        self._accepting = accepting
        self._on_consumed = on_consumed
        self._buffer = bytearray()
        self._offset = 0          # stream offset of _buffer[0]
        self._style = _Style()
        self._line: list[str] = []
        self._line_style: Line | None = None
        self._qr_data = b""
        self._qr_size = 3
        self._qr_ec = "L"

    # --- public ---------------------------------------------------------
    def feed(self, data: bytes) -> None:
        self._buffer += data
        pos = 0
        while pos < len(self._buffer):
            try:
                end, action = self._parse(pos)
            except _NeedMore:
                break
            realtime = self._buffer[pos] == DLE
            if realtime:
                action()
            else:
                if self._accepting():
                    action()
                self._on_consumed(end - pos)
            pos = end
        del self._buffer[:pos]
        self._offset += pos

    def finish(self) -> Document:
        """End of data: flush a pending line and flag an unfinished command."""
        self._end_line(force=False)
        if self._buffer:
            self.document.truncated = True
        return self.document

    # --- parsing ----------------------------------------------------------
    def _need(self, pos: int, count: int) -> bytes:
        if pos + count > len(self._buffer):
            raise _NeedMore
        return bytes(self._buffer[pos:pos + count])

    def _parse(self, pos: int) -> tuple[int, Callable[[], None]]:
        b = self._buffer[pos]
        if b == LF:
            return pos + 1, lambda: self._end_line(force=True)
        if b in (CR, HT):
            return pos + 1, lambda: None
        if b == ESC:
            return self._parse_esc(pos)
        if b == GS:
            return self._parse_gs(pos)
        if b == FS:
            return self._parse_fs(pos)
        if b == DLE:
            return self._parse_dle(pos)
        if b < 0x20:
            raise UnknownCommand(self._offset + pos, bytes([b]))
        return self._parse_text(pos)

    def _parse_text(self, pos: int) -> tuple[int, Callable[[], None]]:
        end = pos
        chars: list[str] = []
        while end < len(self._buffer) and self._buffer[end] >= 0x20:
            b = self._buffer[end]
            if self._style.chinese and b >= 0x81 and b != 0xFF:
                size = 2
                if end + 1 < len(self._buffer) and 0x30 <= self._buffer[end + 1] <= 0x39:
                    size = 4
                if end + size > len(self._buffer):
                    if not chars:
                        raise _NeedMore
                    break
                chars.append(bytes(self._buffer[end:end + size]).decode("gb18030", errors="replace"))
                end += size
            elif b < 0x80:
                chars.append(chr(b))
                end += 1
            else:
                codec = CODE_PAGES.get(self._style.code_page)
                if codec is None:
                    raise EscposError(
                        f"code page {self._style.code_page} (ESC t) is not known to the interpreter "
                        f"at byte offset {self._offset + end}")
                chars.append(bytes([b]).decode(codec, errors="replace"))
                end += 1
        text = "".join(chars)
        return end, lambda: self._print_text(text)

    def _parse_esc(self, pos: int) -> tuple[int, Callable[[], None]]:
        cmd = self._need(pos, 2)[1]
        s = self._style
        one_arg: dict[int, Callable[[int], None]] = {
            ord("!"): self._esc_print_mode,
            ord("E"): lambda n: setattr(s, "bold", bool(n & 1)),
            ord("G"): lambda n: setattr(s, "bold", bool(n & 1)),
            ord("-"): lambda n: setattr(s, "underline", n % 48 if n >= 48 else n),
            ord("M"): lambda n: setattr(s, "font", n % 48 if n >= 48 else n),
            ord("a"): self._align,
            ord("t"): lambda n: setattr(s, "code_page", n),
            ord("{"): lambda n: None,
            ord("d"): lambda n: self._end_line(force=False),
            ord("J"): lambda n: self._end_line(force=False),
            ord("3"): lambda n: None,
            ord("R"): lambda n: None,   # international character set: the kit keeps USA
        }
        if cmd == ord("@"):
            return pos + 2, self._initialise
        if cmd == ord("2"):
            return pos + 2, lambda: None
        if cmd in one_arg:
            n = self._need(pos, 3)[2]
            handler = one_arg[cmd]
            return pos + 3, lambda: handler(n)
        if cmd == ord("p"):
            self._need(pos, 5)
            return pos + 5, lambda: None
        if cmd == ord("c"):
            self._need(pos, 4)
            return pos + 4, lambda: None
        raise UnknownCommand(self._offset + pos, bytes([ESC, cmd]))

    def _parse_gs(self, pos: int) -> tuple[int, Callable[[], None]]:
        cmd = self._need(pos, 2)[1]
        if cmd == ord("!"):
            n = self._need(pos, 3)[2]
            return pos + 3, lambda: self._char_size(n)
        if cmd in (ord("B"), ord("b")):
            self._need(pos, 3)
            return pos + 3, lambda: None
        if cmd == ord("V"):
            m = self._need(pos, 3)[2]
            if m in (65, 66):
                self._need(pos, 4)
                return pos + 4, lambda: self._cut(partial=m == 66)
            return pos + 3, lambda: self._cut(partial=m in (1, 49))
        if cmd == ord("v"):
            head = self._need(pos, 8)
            if head[2] != ord("0"):
                raise UnknownCommand(self._offset + pos, head[:3])
            width_bytes = head[4] | head[5] << 8
            height = head[6] | head[7] << 8
            data = self._need(pos + 8, width_bytes * height)
            return pos + 8 + width_bytes * height, lambda: self._raster(width_bytes, height, data)
        if cmd == ord("("):
            head = self._need(pos, 5)
            length = head[3] | head[4] << 8
            body = self._need(pos + 5, length)
            if head[2] == ord("k"):
                return pos + 5 + length, lambda: self._two_d_code(body)
            raise UnknownCommand(self._offset + pos, head[:3])
        raise UnknownCommand(self._offset + pos, bytes([GS, cmd]))

    def _parse_fs(self, pos: int) -> tuple[int, Callable[[], None]]:
        cmd = self._need(pos, 2)[1]
        s = self._style
        if cmd == ord("&"):
            return pos + 2, lambda: setattr(s, "chinese", True)
        if cmd == ord("."):
            return pos + 2, lambda: setattr(s, "chinese", False)
        if cmd == ord("!"):
            n = self._need(pos, 3)[2]
            return pos + 3, lambda: self._fs_print_mode(n)
        if cmd == ord("-"):
            n = self._need(pos, 3)[2]
            return pos + 3, lambda: setattr(s, "underline", n % 48 if n >= 48 else n)
        raise UnknownCommand(self._offset + pos, bytes([FS, cmd]))

    def _parse_dle(self, pos: int) -> tuple[int, Callable[[], None]]:
        head = self._need(pos, 2)
        if head[1] == EOT:
            n = self._need(pos, 3)[2]
            return pos + 3, lambda: self._status(n)
        raise UnknownCommand(self._offset + pos, head)

    # --- effects ------------------------------------------------------------
    def _initialise(self) -> None:
        self._end_line(force=False)
        self._style = _Style()

    def _esc_print_mode(self, n: int) -> None:
        s = self._style
        s.font = n & 1
        s.bold = bool(n & 0x08)
        s.esc_double_height = bool(n & 0x10)
        s.esc_double_width = bool(n & 0x20)
        s.underline = 1 if n & 0x80 else 0

    def _fs_print_mode(self, n: int) -> None:
        s = self._style
        s.esc_double_width = bool(n & 0x04)
        s.esc_double_height = bool(n & 0x08)
        s.underline = 1 if n & 0x80 else 0

    def _char_size(self, n: int) -> None:
        self._style.size_width = (n >> 4 & 0x07) + 1
        self._style.size_height = (n & 0x07) + 1

    def _align(self, n: int) -> None:
        self._style.align = _ALIGN.get(n, "left")

    def _print_text(self, text: str) -> None:
        if not self._line:
            self._line_style = self._style.line("")
        self._line.append(text)

    def _end_line(self, *, force: bool) -> None:
        """LF ends a line even when empty (a blank line); feeds end only a started one."""
        if not self._line and not force:
            return
        style = self._line_style or self._style.line("")
        text = "".join(self._line)
        self.document.items.append(Line(text, style.align, style.bold, style.underline,
                                        style.width, style.height, style.font))
        self._line = []
        self._line_style = None

    def _cut(self, *, partial: bool) -> None:
        self._end_line(force=False)
        self.document.items.append(Cut(partial))

    def _raster(self, width_bytes: int, height: int, data: bytes) -> None:
        self._end_line(force=False)
        inverted = data.translate(_INVERT)   # ESC/POS: 1 = black dot; Pillow "1": 0 = black
        image = Image.frombytes("1", (width_bytes * 8, height), inverted)
        self.document.items.append(RasterImage(image, self._style.align))

    def _two_d_code(self, body: bytes) -> None:
        cn, fn, args = body[0], body[1], body[2:]
        if cn != ord("1"):
            return   # PDF417 and other symbologies: not emitted by the kit
        if fn == 67:            # module size
            self._qr_size = args[0]
        elif fn == 69:          # error correction
            self._qr_ec = _QR_EC.get(args[0], "L")
        elif fn == 80:          # store data (m = '0')
            self._qr_data = args[1:]
        elif fn == 81:          # print the stored symbol
            self._end_line(force=False)
            self.document.items.append(
                QrCode(self._qr_data.decode("utf-8"), self._qr_size, self._qr_ec, self._style.align))

    def _status(self, n: int) -> None:
        if self._on_status is not None:
            self._on_status(n)


def interpret(data: bytes) -> Document:
    """Interpret a whole ESC/POS job (status queries in it are ignored)."""
    interpreter = Interpreter()
    interpreter.feed(data)
    return interpreter.finish()

