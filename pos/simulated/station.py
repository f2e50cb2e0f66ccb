"""The checkout screen's simulator: a person chooses what the customer presents, the real paths read it.

The simulated reader and camera are payment sources that wait, while armed,
for the simulator to put something in front of them. A presented card goes
through the card source (the test card in the simulated PN532's field, read
by nfcpy and the EMV kernel); a presented wallet code is drawn as a QR image
and read back through the real camera path (`pos.sources.qr.source.CameraSource`:
OpenCV capture, zxing-cpp decoding, payload classification), so the simulator
skips no code a real till runs. Loaded by the device assembly only when the
configuration names the simulated reader.
"""
from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

import cv2

from acquirer.config import CARDS_FILE
from acquirer.protocol.wallet_app import AppAnswer
from acquirer.protocol.wallets import WALLETS_FILE
from drivers.camera import CameraError
from drivers.sim.contactless import load_profiles
from drivers.sim.wallet import CODE_KINDS, VirtualWallet, code_image
from pos.core.config import PosConfig
from pos.core.payment import CardData, PaymentRequest, WalletCode
from pos.sources.qr.errors import QrPayloadError
from pos.devices.kinds import CAMERA, READER, NotArmed
from pos.devices.terminal import WALLET_APPS_FILE
from pos.journal.store import Txn
from pos.simulated.virtual_card import ATC_DIR, VirtualCard, VirtualCards

T = TypeVar("T")


class _Slot(Generic[T]):
    """Where the simulator puts what the customer presents, while a read waits for it."""

    def __init__(self) -> None:
        self._waiting: asyncio.Future[T] | None = None

    @property
    def armed(self) -> bool:
        return self._waiting is not None and not self._waiting.done()

    async def wait(self) -> T:
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting = future
        try:
            return await future
        finally:
            self._waiting = None

    def put(self, item: T) -> None:
        if self._waiting is None or self._waiting.done():
            raise NotArmed("no payment is waiting")
        self._waiting.set_result(item)


class SimulatedReader:
    """The simulated contactless reader, armed: waits for the simulator's tap, then reads it.

    The tap itself is the contactless integration's `VirtualCard`: the card
    goes into the simulated PN532's field and the terminal's reader reads it
    through nfcpy and the EMV kernel, as a real tap.
    """

    name = READER

    def __init__(self) -> None:
        self.slot: _Slot[VirtualCard] = _Slot()

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        tap = await self.slot.wait()
        return await tap.read(request)


class SimulatedCamera:
    """The code scanner, simulated: shows the presented code's QR image to the real camera path.

    A code the terminal refuses (or an image it cannot read) is reported to
    `on_problem` and the camera waits for the next presentation, as a real
    scanner keeps scanning.
    """

    name = CAMERA

    def __init__(self, frames_dir: Path, backend: str, on_problem: Callable[[str], None] | None = None) -> None:
        self.frames_dir = frames_dir
        self.backend = backend
        self.on_problem = on_problem
        self.slot: _Slot[str] = _Slot()
        self._numbers = itertools.count(1)

    async def read(self, request: PaymentRequest) -> CardData | WalletCode:
        from pos.sources.qr.source import CameraSource  # OpenCV's capture stack loads on first scan

        while True:
            payload = await self.slot.wait()
            image = self._draw(payload)
            refused: list[str] = []
            camera = CameraSource(image, backend=self.backend, timeout_s=10.0,
                                  on_refused=refused_into(refused))
            try:
                return await camera.read(request)
            except CameraError as e:
                self._problem("; ".join(refused) or str(e))
            finally:
                image.unlink(missing_ok=True)

    def _draw(self, payload: str) -> Path:
        self.frames_dir.mkdir(parents=True, exist_ok=True)
        path = self.frames_dir / f"code-{next(self._numbers)}.png"
        if not cv2.imwrite(str(path), code_image(payload)):
            raise CameraError(f"simulated camera: cannot write the frame {path}")
        return path

    def _problem(self, text: str) -> None:
        if self.on_problem is not None:
            self.on_problem(text)


def refused_into(messages: list[str]) -> Callable[[QrPayloadError], None]:
    """Collects the words of each code the camera refused, for the problem report."""
    return lambda error: messages.append(error.message)


#: taps that go wrong, for seeing what the till does then: (name, the cards in the field, their fault)
TROUBLE = (
    ("pulled-away", ("unionpay-debit",), "pulled-away"),     # leaves the field in the middle of the read
    ("two-cards", ("unionpay-debit", "visa"), None),          # two cards in the field at once
    ("declining", ("visa",), "declining"),                    # the card itself refuses to go online
    ("locked-phone", ("unionpay-phone",), "locked-phone"),    # a phone still locked: see phone
)


@dataclass(frozen=True)
class Presentable:
    """One thing the simulator can put in front of the till."""

    key: str          # "card:visa", "code:alipay", "trouble:two-cards"
    group: str        # "cards", "devices" (phones and bands), "codes" or "trouble"
    name: str         # the test card's name or the code kind
    label: str        # what the card says about itself (cards) or "" (codes: the TUI names them)
    device: str       # READER or CAMERA


class Simulator:
    """Lets a person choose what the customer presents: a test card, phone, band or wallet code."""

    def __init__(self, config: PosConfig, cards: VirtualCards, reader: SimulatedReader,
                 camera: SimulatedCamera | None) -> None:
        cards_file = config.config_dir / CARDS_FILE
        self._cards = cards
        # one ATC store for a card's taps and its CPM codes: the issuer never sees an ATC twice;
        # payment codes are made with the test wallets' keys (wallets.toml), as the wallet app would
        self._wallet = VirtualWallet(cards_file=cards_file, wallets_file=config.config_dir / WALLETS_FILE,
                                     state_dir=config.state_dir / ATC_DIR)
        self._apps_address = config.state_dir / WALLET_APPS_FILE
        self.reader = reader
        self.camera = camera
        profiles = load_profiles(cards_file)
        items = []
        for profile in profiles.values():
            group = "cards" if profile.form == "card" else "devices"
            items.append(Presentable(f"card:{profile.name}", group, profile.name, profile.label, READER))
        items.sort(key=lambda p: p.group)   # cards, then phones and bands (file order within each)
        if camera is not None:   # a real camera sees real phones only
            items += [Presentable(f"code:{kind}", "codes", kind, "", CAMERA) for kind in CODE_KINDS]
        self._trouble = {name: (names, fault) for name, names, fault in TROUBLE
                         if all(card in profiles for card in names)}
        items += [Presentable(f"trouble:{name}", "trouble", name, " + ".join(names), READER)
                  for name, (names, _) in self._trouble.items()]
        self.items: tuple[Presentable, ...] = tuple(items)

    def card_of(self, token_key: bytes, txn: Txn) -> str | None:
        """The key of the test card that paid `txn` (found by its PAN token), to suggest for a void or refund."""
        name = self._cards.name_for(token_key, txn.pan_token)
        return f"card:{name}" if name is not None else None

    def find(self, key: str) -> Presentable:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"the simulator has nothing called {key!r}")

    @property
    def waiting(self) -> bool:
        return self.reader.slot.armed or (self.camera is not None and self.camera.slot.armed)

    def present(self, key: str) -> Presentable:
        """Put `key` in front of its device; `NotArmed` when no payment waits on that device."""
        item = self.find(key)
        if item.device == READER:
            if not self.reader.slot.armed:
                raise NotArmed("no payment is waiting")
            if item.group == "trouble":
                names, fault = self._trouble[item.name]
                self.reader.slot.put(self._cards.card(*names, fault=fault))
            else:
                self.reader.slot.put(self._cards.card(item.name))
        else:
            if self.camera is None or not self.camera.slot.armed:
                raise NotArmed("no payment is waiting")
            code = self._wallet.cpm_code() if item.name == "cpm" else self._wallet.issue(item.name)
            self.camera.slot.put(code.payload)
        return item

    def pay_shown_code(self, payload: str, wallet: str) -> AppAnswer:
        """The customer scans the merchant-presented code on screen and pays it in `wallet`'s app.

        Goes through the acquirer's wallet-apps endpoint, as `pos sim pay-mpm`
        does; the embedded host writes where it listens into the state
        directory. Blocking (a socket exchange with the host): call it off the
        loop that runs the embedded host. `WalletError` when the endpoint is
        unreachable or answers nonsense.
        """
        from drivers.sim.wallet import WalletUnreachable

        try:
            host, _, port = self._apps_address.read_text().strip().rpartition(":")
        except OSError as e:
            raise WalletUnreachable(f"no wallet-apps endpoint of an embedded host: {e}") from None
        return self._wallet.pay_merchant_code(payload, wallet, (host, int(port)))
