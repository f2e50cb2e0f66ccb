"""The devices one till works with, assembled from the configuration: the payment sources and their state.

A `Station` holds the payment sources the engine arms for every payment
(reader and camera together), each device's state for the status bar, and
-- on simulated devices -- the `Simulator` through which a person chooses
what the customer presents. It holds no payment logic and imports nothing of
Textual: the engine decides, a face shows, the station only connects devices.
The simulator loads only when `[nfc] reader = "sim"`.
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

if TYPE_CHECKING:
    from pos.simulated.station import Simulator


@dataclass
class Station:
    """The devices of one till, as the TUI uses them."""

    sources: list[PaymentSource]
    devices: dict[str, str]                       # device -> SIMULATED / OK / ABSENT / FAULT
    simulator: Simulator | None = None
    problems: list[Callable[[str, str], None]] = field(default_factory=list)
    opening_problems: list[tuple[str, str]] = field(default_factory=list)   # (device, text) at opening

    def report(self, device: str, text: str) -> None:
        """A device problem, for whoever shows them (device name, what happened)."""
        for listener in self.problems:
            listener(device, text)


@contextmanager
def open_station(config: PosConfig, camera: str = SIMULATED_CAMERA) -> Iterator[Station]:
    """The configured devices, open for the app's lifetime.

    The reader is `[nfc] reader` (`pos.devices.contactless`); on the simulated one the
    simulator taps the test cards. The camera is `camera` (`[tui] camera`):
    "sim", the simulator's, or a device index or path for a real one, scanned
    while a payment waits. A reader that cannot be opened leaves the station
    without it (its status says fault) rather than without a till.
    """
    station = Station(sources=[], devices={READER: ABSENT, CAMERA: ABSENT})
    with ExitStack() as stack:
        contactless = None
        try:
            contactless = stack.enter_context(open_contactless(config))
        except (ReaderError, EmvConfigError) as e:
            station.devices[READER] = FAULT
            station.opening_problems.append((READER, str(e)))
        simulated_camera = None
        scanner: PaymentSource
        if camera == SIMULATED_CAMERA:
            from pos.simulated.station import SimulatedCamera  # the simulator loads only when it is used

            simulated_camera = SimulatedCamera(config.state_dir / "sim-camera", config.qr.camera_backend,
                                               lambda text: station.report(CAMERA, text))
            scanner = simulated_camera
            station.devices[CAMERA] = SIMULATED
        else:
            scanner = _real_camera(config, camera, station)
            station.devices[CAMERA] = OK
        if contactless is not None and contactless.cards is not None:
            from pos.simulated.station import SimulatedReader, Simulator

            reader = SimulatedReader()
            station.devices[READER] = SIMULATED
            station.sources = [reader, scanner]
            station.simulator = Simulator(config, contactless.cards, reader, simulated_camera)
        else:
            if contactless is not None:
                station.devices[READER] = OK
                station.sources.append(contactless.reader)
            station.sources.append(scanner)
        yield station


def _real_camera(config: PosConfig, source: str, station: Station) -> PaymentSource:
    """A camera device (index or path): scanned while a payment waits; refused codes reported."""
    from pos.sources.qr.source import CameraSource  # OpenCV's capture stack loads with the camera

    device: int | str = int(source) if source.isdigit() else source
    return CameraSource(device, backend=config.qr.camera_backend, timeout_s=config.qr.camera_timeout_s,
                        on_refused=lambda e: station.report(CAMERA, e.message))
