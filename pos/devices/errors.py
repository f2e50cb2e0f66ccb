"""The drivers' errors as tillkit errors: the drivers import nothing of tillkit, so the assembly translates.

`drivers/` is the hardware layer and may not import the standards layer, so
its exceptions (`drivers.nfc.ReaderError`, `drivers.camera.CameraError`) are
not `TillkitError`s (the simulator's card file errors are: it reads the file
through the kit's settings loader). Every face passes what
it catches through `as_tillkit_error` and then looks at the kind only:

- a reader or camera that is missing, busy, unreadable: the terminal cannot
  work (someone must fix the set-up, not tap again);
- a camera scan that ended without a code (timed out, the video ended):
  refused, nothing was sent.

The camera is consulted only if it was loaded (OpenCV loads with it).
"""
from __future__ import annotations

import sys

from acquirer.protocol.errors import ErrorKind, TillkitError
from drivers.nfc import ReaderError
from pos.core.errors import DeviceFailed


def as_tillkit_error(error: BaseException) -> TillkitError | None:
    """The error as a `TillkitError` (itself when it is one); None when it is no known error (a bug)."""
    if isinstance(error, TillkitError):
        return error
    if isinstance(error, ReaderError):
        return DeviceFailed(str(error), message_key="device.reader", device="reader", error=str(error))
    camera = sys.modules.get("drivers.camera.errors")
    if camera is not None and isinstance(error, camera.CameraError):
        broken = isinstance(error, (camera.CameraNotFound, camera.CameraOpenError, camera.DecoderUnavailable))
        return DeviceFailed(f"camera: {error}", message_key="device.camera", device="camera", error=str(error),
                            kind=ErrorKind.TERMINAL if broken else ErrorKind.REFUSED)
    return None
