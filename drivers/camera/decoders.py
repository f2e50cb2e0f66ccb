"""QR decoder backends behind one call: `decoder.decode(gray_frame) -> list[str]`.

zxing-cpp is the default: it is the fastest and finds the most codes on
degraded frames (tests/bench/bench_qr_decode.py). pyzbar (the zbar C library)
is the alternative for terminals where zxing-cpp has no wheel; OpenCV's
QRCodeDetector needs nothing beyond OpenCV. The backend is chosen by name in
the terminal's configuration; the library is imported only when its backend is
chosen, so a missing one fails with a message naming the package to install.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import cv2
import numpy as np

from drivers.camera.errors import DecoderUnavailable

DEFAULT_BACKEND = "zxing-cpp"


class Decoder(Protocol):
    """Finds QR codes in one grayscale frame; returns their payloads as text."""

    name: str

    def decode(self, gray: np.ndarray) -> list[str]: ...


class ZxingDecoder:
    name = "zxing-cpp"

    def __init__(self) -> None:
        try:
            import zxingcpp
        except ImportError as exc:
            raise DecoderUnavailable(
                f"QR backend 'zxing-cpp' is not installed ({exc}): pip install zxing-cpp") from exc
        self._zxing = zxingcpp
        # Standard QR only. From zxing-cpp 3, `QRCode` names the whole family, Micro QR included; an
        # M1 Micro QR has no error correction and was read out of sensor noise in the benchmark.
        # zxing-cpp 2 has no QRCodeModel2, and its QRCode is the standard one.
        self._formats: Any = getattr(zxingcpp.BarcodeFormat, "QRCodeModel2", zxingcpp.BarcodeFormat.QRCode)

    def decode(self, gray: np.ndarray) -> list[str]:
        """One pass; on a miss, a second pass after a 3x3 median filter.

        The median removes the sensor noise and JPEG ringing that break the
        binarizer on small modules (a CPM code is a version 10 QR): +1 to 3
        points of degraded frames decoded in the benchmark, for one more pass
        (~0.5 ms at 640x480) on frames without a code only.
        """
        texts = self._read(gray)
        return texts if texts else self._read(cv2.medianBlur(gray, 3))

    def _read(self, gray: np.ndarray) -> list[str]:
        # try_invert off: payment codes are dark on light; inverting costs a further pass per frame.
        found = self._zxing.read_barcodes(gray, formats=self._formats, try_invert=False)
        return [code.text for code in found if code.valid]


class PyzbarDecoder:
    name = "pyzbar"

    def __init__(self) -> None:
        try:
            from pyzbar import pyzbar
        except ImportError as exc:  # the wheel is there but libzbar.so is not, or no wheel
            raise DecoderUnavailable(
                f"QR backend 'pyzbar' is unavailable ({exc}): "
                "apt-get install libzbar0, and pip install pyzbar") from exc
        self._pyzbar = pyzbar
        self._symbols = [pyzbar.ZBarSymbol.QRCODE]

    def decode(self, gray: np.ndarray) -> list[str]:
        found = self._pyzbar.decode(gray, symbols=self._symbols)
        return [code.data.decode("utf-8", errors="replace") for code in found]


class OpenCvDecoder:
    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetector()

    def decode(self, gray: np.ndarray) -> list[str]:
        try:
            text, _points, _straight = self._detector.detectAndDecode(gray)
        except cv2.error:  # raised on some degenerate detections instead of "not found"
            return []
        return [text] if text else []


BACKENDS: dict[str, Callable[[], Decoder]] = {
    ZxingDecoder.name: ZxingDecoder,
    PyzbarDecoder.name: PyzbarDecoder,
    OpenCvDecoder.name: OpenCvDecoder,
}


def make_decoder(backend: str = DEFAULT_BACKEND) -> Decoder:
    """The decoder named `backend` ("zxing-cpp", "pyzbar" or "opencv")."""
    factory = BACKENDS.get(backend)
    if factory is None:
        raise DecoderUnavailable(
            f"unknown QR backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    return factory()


def to_gray(frame: np.ndarray) -> np.ndarray:
    """Decoders work on one 8-bit channel; camera frames arrive as BGR."""
    if frame.ndim == 2:
        return frame
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
