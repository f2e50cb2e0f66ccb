"""Scan a frame source for QR codes in a worker thread, with cancel, timeout and de-duplication.

Why a thread: `VideoCapture.read()` blocks for a frame period and decoding
takes milliseconds, so the engine (which arms the NFC reader at the same time)
must not wait on either. The worker puts each *new* payload on a queue; a code
held in front of the camera shows on dozens of frames but is reported once per
scan. The scan ends with one typed error, handed to the consumer in order after
the codes found before it:

- `ScanTimeout`   no new code within `timeout_s` of `start()`
- `ScanCancelled` `cancel()` was called (another source won, sale abandoned)
- `SourceEnded`   a file source ran out (with `loop=False`)
- `NoFrames`      the source gave no frame at all, or a camera stopped delivering

Usage (the engine runs `next_code` in a worker or an executor)::

    with CameraScanner("/dev/video0", backend="zxing-cpp", timeout_s=60) as scan:
        while True:
            code = scan.next_code()   # ScannedCode, or raises one of the above
            ...
"""
from __future__ import annotations

import os
import queue
import threading
import time
from dataclasses import dataclass

from drivers.camera.decoders import DEFAULT_BACKEND, Decoder, make_decoder, to_gray
from drivers.camera.errors import CameraError, NoFrames, ScanCancelled, ScanTimeout, SourceEnded
from drivers.camera.source import FrameSource, open_source


@dataclass(frozen=True)
class ScannedCode:
    """One distinct payload seen by the camera."""

    payload: str
    frame_index: int     # frames read since start() when it was first decoded (0-based)
    backend: str
    elapsed_s: float     # seconds from start() to the decode

    def __repr__(self) -> str:  # a CPM payload holds the PAN (base64): keep it out of logs
        return f"ScannedCode({len(self.payload)} chars on frame {self.frame_index} via {self.backend})"


class CameraScanner:
    """One scan session over one source; opens the source and the decoder at construction."""

    def __init__(self, source: int | str | os.PathLike[str], *, backend: str = DEFAULT_BACKEND,
                 timeout_s: float | None = 60.0, loop: bool = False) -> None:
        """`loop` replays a file source until timeout or cancel (a demo camera showing a video)."""
        self._decoder: Decoder = make_decoder(backend)
        self._source: FrameSource = open_source(source)
        self._timeout_s = timeout_s
        self._loop = loop
        self._events: queue.Queue[ScannedCode | CameraError] = queue.Queue()
        self._cancel = threading.Event()
        self._worker: threading.Thread | None = None
        self._ended: CameraError | None = None

    @property
    def backend(self) -> str:
        return self._decoder.name

    def start(self) -> None:
        if self._worker is not None:
            raise RuntimeError("this scan was already started; make a new CameraScanner")
        self._worker = threading.Thread(target=self._run, name=f"qr-scan {self._source.spec}", daemon=True)
        self._worker.start()

    def next_code(self) -> ScannedCode:
        """Block until the next new code; raise the scan's ending error once the codes are drained."""
        if self._worker is None:
            self.start()
        if self._ended is not None:
            raise self._ended
        event = self._events.get()
        if isinstance(event, CameraError):
            self._ended = event
            raise event
        return event

    def cancel(self) -> None:
        """Stop scanning; safe from any thread, takes effect after the current frame."""
        self._cancel.set()

    def close(self) -> None:
        """Cancel, wait for the worker, release the camera."""
        self.cancel()
        if self._worker is not None:
            self._worker.join()
        self._source.close()

    def __enter__(self) -> CameraScanner:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            self._events.put(self._scan())
        except CameraError as exc:
            self._events.put(exc)
        except Exception as exc:  # an OpenCV or decoder fault must still end the scan visibly
            self._events.put(CameraError(f"camera scan of {self._source.spec} failed: {exc!r}"))

    def _scan(self) -> CameraError:
        """Read and decode until an ending; return the ending error (codes go on the queue)."""
        started = time.monotonic()
        deadline = None if self._timeout_s is None else started + self._timeout_s
        seen: set[str] = set()
        index = 0
        spec = self._source.spec
        while True:
            for frame in self._source.frames():
                if self._cancel.is_set():
                    return ScanCancelled(f"scan of {spec} cancelled")
                if deadline is not None and time.monotonic() >= deadline:
                    return ScanTimeout(f"no payment code seen on {spec} within {self._timeout_s:g} s")
                for payload in self._decoder.decode(to_gray(frame)):
                    if payload not in seen:
                        seen.add(payload)
                        self._events.put(ScannedCode(payload, index, self._decoder.name,
                                                     time.monotonic() - started))
                index += 1
            if self._cancel.is_set():
                return ScanCancelled(f"scan of {spec} cancelled")
            if index == 0:
                return NoFrames(f"{spec} gave no frames")
            if spec.is_live:
                return NoFrames(f"camera {spec.target} stopped delivering frames after {index}")
            if not self._loop:
                return SourceEnded(f"{spec} ended after {index} frames")
