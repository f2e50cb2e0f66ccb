"""The devices one till works with, assembled from the configuration: the payment sources and their state.

A `Station` holds the payment sources the engine arms for every payment
(reader and camera together), each device's state for the status bar, and
-- on simulated devices -- the `Simulator` through which a person chooses
what the customer presents. It holds no payment logic and imports nothing of
Textual: the engine decides, a face shows, the station only connects devices.
The simulator loads only when `[nfc] reader = "sim"` and the face asks for it.

Every face assembles its devices here (the checkout screen, the command
line and the daemon). The checkout screen wants the
simulator (a person picks what the customer presents) and keeps a till
without a working reader; the command line names what is presented up front
(`--card`), so it takes the simulated reader's test cards (`Station.test_cards`)
and the scanner (`Station.scanner`) without the simulator, and a reader that
cannot open is its error.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from drivers.nfc import ReaderError
from pos.core.config import PosConfig
from pos.core.payment import PaymentSource
from pos.devices.contactless import open_contactless
from pos.devices.kinds import ABSENT, CAMERA, FAULT, OK, READER, SIMULATED, SIMULATED_CAMERA
from pos.sources.emv import EmvConfigError
from pos.sources.qr.errors import QrPayloadError

if TYPE_CHECKING:
    from pos.simulated.station import Simulator
    from pos.simulated.virtual_card import VirtualCards


@dataclass
class Station:
    """The devices of one till, as the TUI uses them."""

    sources: list[PaymentSource]
    devices: dict[str, str]                       # device -> SIMULATED / OK / ABSENT / FAULT
    simulator: Simulator | None = None
    problems: list[Callable[[str, str], None]] = field(default_factory=list)
    opening_problems: list[tuple[str, str]] = field(default_factory=list)   # (device, text) at opening
    test_cards: VirtualCards | None = None        # the simulated reader's test cards (None: a real reader)
    scanner: PaymentSource | None = None          # the camera, armed with the reader (None: no camera)
    reader: PaymentSource | None = None           # the card reader's source (None: it could not open)

    def report(self, device: str, text: str) -> None:
        """A device problem, for whoever shows them (device name, what happened)."""
        for listener in self.problems:
            listener(device, text)


@contextmanager
def open_station(config: PosConfig, camera: str | None = SIMULATED_CAMERA, *, simulator: bool = True,
                 reader_required: bool = False,
                 on_code_refused: Callable[[QrPayloadError], None] | None = None) -> Iterator[Station]:
    """The configured devices, open for the app's lifetime.

    The reader is `[nfc] reader` (`pos.devices.contactless`); on the simulated one the
    simulator taps the test cards. The camera is `camera` (`[tui] camera`):
    "sim", the simulator's, or a device index or path for a real one, scanned
    while a payment waits; None: no camera. A reader that cannot be opened leaves the station
    without it (its status says fault) rather than without a till -- unless
    `reader_required`, when its error (`drivers.nfc.ReaderError`,
    `EmvConfigError`) is raised. `simulator` False: no simulator on the
    simulated reader; the face presents `test_cards` itself. `on_code_refused`
    hears every code a real camera refuses, beside the station's problem report.
    """
    station = Station(sources=[], devices={READER: ABSENT, CAMERA: ABSENT})
    with ExitStack() as stack:
        contactless = None
        try:
            contactless = stack.enter_context(open_contactless(config))
        except (ReaderError, EmvConfigError) as e:
            if reader_required:
                raise
            station.devices[READER] = FAULT
            station.opening_problems.append((READER, str(e)))
        station.test_cards = contactless.cards if contactless is not None else None
        simulated_camera = None
        if camera == SIMULATED_CAMERA:
            from pos.simulated.station import SimulatedCamera  # the simulator loads only when it is used

            simulated_camera = SimulatedCamera(config.state_dir / "sim-camera", config.qr.camera_backend,
                                               lambda text: station.report(CAMERA, text))
            station.scanner = simulated_camera
            station.devices[CAMERA] = SIMULATED
        elif camera is not None:
            station.scanner = _real_camera(config, camera, station, on_code_refused)
            station.devices[CAMERA] = OK
        scanning = [station.scanner] if station.scanner is not None else []
        if contactless is not None and contactless.cards is not None and simulator:
            from pos.simulated.station import SimulatedReader, Simulator

            reader = SimulatedReader()
            station.devices[READER] = SIMULATED
            station.reader = reader
            station.sources = [reader, *scanning]
            station.simulator = Simulator(config, contactless.cards, reader, simulated_camera)
        else:
            if contactless is not None:
                station.devices[READER] = SIMULATED if contactless.cards is not None else OK
                station.reader = contactless.reader
                station.sources.append(contactless.reader)
            station.sources.extend(scanning)
        yield station


def _real_camera(config: PosConfig, source: str, station: Station,
                 on_code_refused: Callable[[QrPayloadError], None] | None) -> PaymentSource:
    """A camera device (index or path): scanned while a payment waits; refused codes reported."""
    from pos.sources.qr.source import CameraSource  # OpenCV's capture stack loads with the camera

    def refused(error: QrPayloadError) -> None:
        station.report(CAMERA, error.message)
        if on_code_refused is not None:
            on_code_refused(error)

    device: int | str = int(source) if source.isdigit() else source
    return CameraSource(device, backend=config.qr.camera_backend, timeout_s=config.qr.camera_timeout_s,
                        on_refused=refused)
