"""Frame sources: a camera device, a video file, an image file or a folder of images.

Every kind is read through `cv2.VideoCapture`, so a test on a generated .avi
or .png runs the same capture code as a terminal with a USB camera. A folder is
read file by file in name order, each image opened as a one-frame capture
(`CAP_IMAGES`), because OpenCV opens a folder only through a numbered
file-name pattern, which hand-made folders rarely follow.

`open_source` checks the source at once and raises a typed error, so a wrong
`--camera` argument fails before a sale starts, not in the scan worker.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.errors import CameraNotFound, CameraOpenError, NoFrames

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})


@dataclass(frozen=True)
class SourceSpec:
    """What to capture from: `kind` is "device", "video", "image" or "folder"."""

    kind: str
    target: int | str          # device index or /dev path, else a file or folder path
    images: tuple[Path, ...] = ()  # the files of an image or folder source, in reading order

    @property
    def is_live(self) -> bool:
        """A device never ends; a file source does."""
        return self.kind == "device"

    def __str__(self) -> str:
        return f"{self.kind} {self.target}"


def resolve_source(source: int | str | os.PathLike[str]) -> SourceSpec:
    """Classify `source` and check it exists: an int or digits are a device index."""
    if isinstance(source, int) or (isinstance(source, str) and source.strip().isdigit()):
        return SourceSpec("device", int(source))
    path = Path(source)
    if str(path).startswith("/dev/"):
        if not path.exists():
            raise CameraNotFound(f"camera {path} not found: no such device (is the camera plugged in?)")
        return SourceSpec("device", str(path))
    if not path.exists():
        raise CameraNotFound(f"camera source {path} not found: no such device, file or folder")
    if path.is_dir():
        images = tuple(sorted(p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES))
        if not images:
            raise NoFrames(f"folder {path} has no image files ({', '.join(sorted(IMAGE_SUFFIXES))})")
        return SourceSpec("folder", str(path), images)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceSpec("image", str(path), (path,))
    return SourceSpec("video", str(path))


class FrameSource:
    """Frames of one source, in order; `frames()` may be called again to replay a file source."""

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self._capture: cv2.VideoCapture | None = None
        if spec.kind in ("device", "video"):
            self._capture = _open_capture(spec.target, spec.kind)

    def frames(self) -> Iterator[np.ndarray]:
        """Yield BGR frames until the source ends (a device: until it stops delivering)."""
        if self.spec.kind in ("image", "folder"):
            for image in self.spec.images:
                capture = _open_capture(str(image), "image", cv2.CAP_IMAGES)
                try:
                    ok, frame = capture.read()
                finally:
                    capture.release()
                if not ok:
                    raise NoFrames(f"image {image} could not be decoded")
                yield frame
            return
        if self._capture is None:
            raise NoFrames(f"{self.spec} is closed")
        if self.spec.kind == "video" and self._capture.get(cv2.CAP_PROP_POS_FRAMES) > 0:
            self._capture.release()
            self._capture = _open_capture(self.spec.target, self.spec.kind)
        while True:
            ok, frame = self._capture.read()
            if not ok or frame is None:
                return
            yield frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None


def open_source(source: int | str | os.PathLike[str]) -> FrameSource:
    """Open a device index or path, a video, an image or a folder, or raise a typed error."""
    return FrameSource(resolve_source(source))


def _open_capture(target: int | str, kind: str, api: int = cv2.CAP_ANY) -> cv2.VideoCapture:
    """An opened capture; `kind` ("device", "video", "image") chooses the error and its words."""
    capture = cv2.VideoCapture(target, api)
    if not capture.isOpened():
        capture.release()
        if kind == "device":
            raise CameraNotFound(f"camera {target} not found or busy: OpenCV could not open it")
        raise CameraOpenError(f"cannot open {target} as {'an' if kind == 'image' else 'a'} {kind}:"
                              " not a format OpenCV can read")
    return capture
