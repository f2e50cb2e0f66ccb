"""`pos daemon` running: devices and terminal opened, the register's servers bound, then READY.

Start-up order matters to systemd (`Type=notify`): READY is sent only when
the reader is open, the terminal is signed on, crash-interrupted payments are
settled, the HTTPS listener is bound and the serial line (if any) is open. A
failure before that exits non-zero and systemd restarts the unit.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import signal
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from pos.core import events as ev
from pos.core.config import SIMULATED_READER, NfcSettings, PosConfig
from pos.core.payment import PaymentSource
from pos.daemon.concert import ConcertServer
from pos.daemon.customer import SimulatedCustomer
from pos.daemon.ecr_log import ECR_DB, EcrLog
from pos.daemon.envelope import EnvelopeKey, Keyring
from pos.daemon.http import NexoHttpServer
from pos.daemon.notify import Notifier
from pos.daemon.service import DeviceStatus, NexoService
from pos.daemon.settings import DaemonSettings
from pos.daemon.till import Till
from pos.daemon.tls import ensure_certificate, server_context
from pos.devices.printing import ReceiptPrinter
from pos.devices.station import open_station
from pos.devices.terminal import open_terminal
from pos.journal.store import Txn
from pos.sources.qr.errors import QrPayloadError

log = logging.getLogger("pos.daemon")
ADDRESS_FILE = "daemon.addr"   # HOST:PORT actually bound (port 0 in tests picks a free one)


class ReaderSources:
    """A real reader: the cardholder taps for a payment (or shows a code to the camera) and taps again for a void."""

    def __init__(self, reader: PaymentSource, camera: PaymentSource | None = None) -> None:
        self.reader = reader
        self.camera = camera

    def for_payment(self) -> Sequence[PaymentSource]:
        return [self.reader] if self.camera is None else [self.reader, self.camera]

    def for_original(self, original: Txn) -> Sequence[PaymentSource]:
        return [self.reader]


class SimulatedSources:
    """--simulate: the simulated customer (and the camera, if one is configured); for a void, the original's test card."""

    def __init__(self, customer: SimulatedCustomer, token_key: bytes, camera: PaymentSource | None = None) -> None:
        self.customer = customer
        self.camera = camera
        self.token_key = token_key

    def for_payment(self) -> Sequence[PaymentSource]:
        return [self.customer] if self.camera is None else [self.customer, self.camera]

    def for_original(self, original: Txn) -> Sequence[PaymentSource]:
        return [self.customer.for_card(self.customer.cards.name_for(self.token_key, original.pan_token))]


def _code_refused(error: QrPayloadError) -> None:
    """A code the camera refused: logged, and the scan goes on."""
    log.warning("camera: code refused", extra={"reason": error.reason})


def _log_event(event: ev.Event) -> None:
    """Engine events as log lines (they hold masked PANs only)."""
    fields = {k: v for k, v in dataclasses.asdict(event).items() if isinstance(v, (str, int, float, bool))}
    log.info(type(event).__name__, extra={"event": fields})


async def run(config: PosConfig, settings: DaemonSettings, *, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    if settings.simulate:
        config = dataclasses.replace(config, nfc=NfcSettings(reader=SIMULATED_READER))
    notifier = Notifier()
    async with AsyncExitStack() as stack:
        station = stack.enter_context(open_station(config, settings.camera, simulator=False, reader_required=True,
                                                   on_code_refused=_code_refused))
        engine = await stack.enter_async_context(open_terminal(config, _log_event))
        if isinstance(engine.printer, ReceiptPrinter):   # the register's answer never waits for paper
            engine.printer.print_after_answer()
            stack.push_async_callback(engine.printer.settle)
        ecr_log = EcrLog(config.state_dir / ECR_DB)
        stack.callback(ecr_log.close)
        camera = station.scanner
        if settings.simulate:
            assert station.test_cards is not None
            customer = SimulatedCustomer(station.test_cards, config.state_dir, config.config_dir,
                                         delay_s=settings.customer_delay_s)
            sources: SimulatedSources | ReaderSources = SimulatedSources(customer, config.terminal.token_key, camera)
        else:
            assert station.reader is not None   # reader_required: a reader that cannot open is raised
            sources = ReaderSources(station.reader, camera)
        till = Till(engine, ecr_log, sources, payment_timeout_s=settings.payment_timeout_s)
        engine.add_observer(till.observe)
        interrupted = till.resolve_interrupted()
        if interrupted:
            log.warning("%d payment(s) interrupted by the last stop settled", interrupted)

        async def host_check() -> bool:
            try:
                await asyncio.wait_for(engine.sign_on(), config.host.timeout_s)
                return True
            except Exception:
                return False

        service = NexoService(till, config, host_check=host_check,
                              devices=lambda: DeviceStatus(reader_ok=True, printer_ok=engine.printer is not None,
                                                           camera_ok=camera is not None))
        keys = [EnvelopeKey.derive(settings.key_id, settings.key_version, settings.passphrase)] \
            if settings.key_id is not None and settings.passphrase is not None else []
        server = NexoHttpServer(service, api_key=settings.api_key, keyring=Keyring(keys),
                                require_encryption=settings.require_encryption,
                                max_body_bytes=settings.max_body_bytes, max_concurrent=settings.max_concurrent)
        host, port = settings.host_port
        if settings.cert is not None and settings.key is not None:
            cert, key = Path(settings.cert), Path(settings.key)
        else:
            cert, key = ensure_certificate(config.state_dir, config.terminal.tid, host)
        bound = await server.start(host, port, server_context(cert, key))
        stack.push_async_callback(server.close)
        if settings.serial is not None:
            concert = _open_concert(settings, till, loop, config)
            stack.callback(concert.close)
            concert.start()
        address_file = config.state_dir / ADDRESS_FILE
        address_file.write_text(f"{bound[0]}:{bound[1]}\n")
        stack.callback(address_file.unlink, missing_ok=True)
        print(f"pos daemon: nexo on https://{bound[0]}:{bound[1]}/nexo, certificate {cert}"
              + (f", Concert on {settings.serial}" if settings.serial else ""), file=sys.stderr, flush=True)
        log.info("ready", extra={"listen": f"{bound[0]}:{bound[1]}", "certificate": str(cert),
                                 "serial": settings.serial, "simulate": settings.simulate})
        notifier.ready(f"serving nexo on {bound[0]}:{bound[1]}")
        notifier.start_watchdog()
        try:
            await stop.wait()
        finally:
            notifier.stopping()
            notifier.stop_watchdog()
            log.info("stopping")


def _open_concert(settings: DaemonSettings, till: Till, loop: asyncio.AbstractEventLoop,
                  config: PosConfig) -> ConcertServer:
    import serial

    assert settings.serial is not None
    port = serial.Serial(settings.serial, baudrate=settings.baudrate, bytesize=settings.bytesize,
                         parity=settings.parity, stopbits=settings.stopbits, timeout=0.5)
    return ConcertServer(port, till, loop, currency=config.terminal.currency,
                         max_fen=config.terminal.max_amount_fen)


def state_address(state_dir: Path) -> str | None:
    path = state_dir / ADDRESS_FILE
    return path.read_text().strip() if path.exists() else None
