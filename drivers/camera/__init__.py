"""Camera capture and QR decoding: `CameraScanner` scans a device, video, image or folder.

The payload text goes to `pos.qr` for classification; this package knows
nothing of payments.
"""
from drivers.camera.decoders import BACKENDS, DEFAULT_BACKEND, Decoder, make_decoder, to_gray
from drivers.camera.errors import (
    CameraError,
    CameraNotFound,
    CameraOpenError,
    DecoderUnavailable,
    NoFrames,
    ScanCancelled,
    ScanTimeout,
    SourceEnded,
)
from drivers.camera.scanner import CameraScanner, ScannedCode
from drivers.camera.source import FrameSource, SourceSpec, open_source, resolve_source

__all__ = [
    "BACKENDS", "DEFAULT_BACKEND", "CameraError", "CameraNotFound", "CameraOpenError",
    "CameraScanner", "Decoder", "DecoderUnavailable", "FrameSource", "NoFrames", "ScanCancelled",
    "ScanTimeout", "ScannedCode", "SourceEnded", "SourceSpec", "make_decoder", "open_source",
    "resolve_source", "to_gray",
]
