"""The camera as a payment source: scan until a usable payment code, hand it to the engine.

`CameraSource` is a `pos.core.payment.PaymentSource`: the engine arms it with the
NFC reader and takes whichever produces a result first. Each new payload the
scanner reports is classified (`classify_payload`); a refused one (a shop's
code, a product barcode, a broken CPM) goes to `on_refused` for the face to
show its `message`, nothing is sent, and the scan goes on for the next code.

The scanner's blocking `next_code()` runs in the default executor. When the
engine cancels the read (the card reader won), the scanner is cancelled and
closed, which releases the camera within one frame.

A scan that ends without a usable code raises the scanner's typed error:
`ScanTimeout`, `SourceEnded` (a file source ran out), `NoFrames`, and at
start `CameraNotFound`, `CameraOpenError` or `DecoderUnavailable`, all
`drivers.camera.CameraError`.
"""
from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

from drivers.camera import DEFAULT_BACKEND, CameraScanner
from pos.core.payment import CardData, PaymentRequest, WalletCode
from pos.sources.qr.classify import classify_payload
from pos.sources.qr.errors import QrPayloadError


class CameraSource:
    """Scans `source` (device index or path, video, image, folder) for each payment it is armed for."""

    name = "camera"

    def __init__(self, source: int | str | os.PathLike[str], *, backend: str = DEFAULT_BACKEND,
                 timeout_s: float | None = 60.0, loop: bool = False,
                 on_refused: Callable[[QrPayloadError], None] | None = None) -> None:
        self.source = source
        self.backend = backend
        self.timeout_s = timeout_s
        self.loop = loop
        self.on_refused = on_refused

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        """The first scanned code that classifies; the request is not needed (the phone made its code)."""
        scanner = CameraScanner(self.source, backend=self.backend, timeout_s=self.timeout_s, loop=self.loop)
        scanner.start()
        loop = asyncio.get_running_loop()
        try:
            while True:
                code = await loop.run_in_executor(None, scanner.next_code)
                try:
                    return classify_payload(code.payload)
                except QrPayloadError as refused:
                    if self.on_refused is not None:
                        self.on_refused(refused)
        finally:
            scanner.close()
