"""Typed camera and scan errors, each with a message a cashier or installer can act on.

The scanner hands the end of a scan to its caller as one of these: the engine
tells "no code seen in time" (ScanTimeout) from "the camera is unplugged"
(CameraNotFound / NoFrames) from "the NFC reader won" (ScanCancelled).
"""
from __future__ import annotations


class CameraError(Exception):
    """Base of every camera, decoder and scan error."""


class CameraNotFound(CameraError):
    """The source names no device, file or folder that exists."""


class CameraOpenError(CameraError):
    """The source exists but OpenCV cannot open it (busy device, unknown video format)."""


class NoFrames(CameraError):
    """The source opened but delivered no frame (empty folder, unreadable video, camera lost)."""


class DecoderUnavailable(CameraError):
    """A decoder backend is unknown, or its library is not installed (the message names the package)."""


class ScanTimeout(CameraError):
    """No new code was seen before the scan timeout."""


class ScanCancelled(CameraError):
    """The scan was cancelled (another payment source won, or the sale was abandoned)."""


class SourceEnded(CameraError):
    """A video file, image or folder was read to its end (files only; a live camera never ends)."""
