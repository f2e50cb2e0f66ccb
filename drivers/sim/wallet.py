"""A virtual wallet app: payment codes and EMVCo CPM codes, as QR images and camera video.

What a customer's phone does at a checkout, for tests and demos:

- wallet payment codes (Alipay, WeChat Pay, UnionPay app): one-time digits in
  each wallet's published shape that carry the account's number and the
  issue time under a MAC with the wallet's test key from the wallets file
  (`acquirer.protocol.wallet_codes`), so the wallet back end, in another
  process, checks them without hearing from the phone (it refuses a code 60 s
  after issue and accepts each code once);
- EMVCo consumer-presented codes (CPM): a card from the test card file
  (`config/cards.toml`) with a real ARQC made from the card's issuer master
  key, so the simulated issuer verifies it exactly as it verifies a chip card.
  The phone does not know the amount when it shows the code, so the ARQC
  covers amount 0 (9F02) and the transparent template carries every ARQC
  input for the issuer. The card profiles and the ATC store are those of the
  virtual contactless cards (`drivers.sim.contactless`): one card, one ATC.

- paying a merchant-presented code the customer scanned (`pay_merchant_code`):
  the app sends the code's payload and a fresh payment code of its account to
  the acquirer's wallet-apps endpoint (`acquirer.protocol.wallet_app`).

`on_issue` is called with every `IssuedCode` (tests and demos watch what the
phone showed). Everything random comes from one seeded generator: the same
seed, clock and ATC state give the same codes and the same video.
"""
from __future__ import annotations

import base64
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import qrcode
import qrcode.constants

from acquirer.protocol.clock import CHINA
from acquirer.protocol.cryptogram import cryptogram_for
from acquirer.protocol.tlv import build
from acquirer.protocol.wallet_app import MAX_LINE, AppAnswer, AppMessageError, MerchantCodePayment
from acquirer.protocol.wallet_codes import CODE_TTL_S, FIXED_DIGITS, SHAPES, make_code
from acquirer.protocol.wallets import WalletAccount, WalletFileError, Wallets, load_wallets
from drivers.sim.contactless.atc import DEFAULT_STATE_DIR, AtcStore
from drivers.sim.contactless.profiles import CardProfile, load_profiles
from drivers.sim.video import code_video_frames, write_video

__all__ = [
    "CODE_TTL_S", "CODE_KINDS", "IssuedCode", "VirtualWallet", "WalletError", "WalletUnreachable",
    "code_image", "write_wallet_code",
]

WALLET_KINDS = tuple(shape.kind for shape in SHAPES)
CODE_KINDS = WALLET_KINDS + ("cpm",)
DEFAULT_CPM_CARD = "unionpay-debit"
APP_TIMEOUT_S = 10.0                 # the app gives up on its wallet's answer after this long

_SHAPES = {shape.kind: shape for shape in SHAPES}
# card verification results the phone reports (CDCVM done on the phone, online cryptogram requested)
_CVR = {"unionpay": "03A00000", "visa": "03A00000", "mastercard": "A00000000000"}
_AIP = bytes.fromhex("7C00")         # application interchange profile of a CPM card: online only
_SERVICE_CODE = "201"                # international, IC card


class WalletError(ValueError):
    """The wallet cannot do what was asked (unknown kind, card or account, unwritable file, no answer)."""


class WalletUnreachable(WalletError):
    """The acquirer's wallet-apps endpoint cannot be reached (nothing was paid)."""


@dataclass(frozen=True)
class IssuedCode:
    """A code the phone shows: `payload` is the QR text, `issued_at` Unix seconds (UTC)."""

    kind: str                        # "alipay", "wechat", "unionpay" or "cpm"
    payload: str
    issued_at: float
    account: str                     # the wallet account's name (payment codes) or test card name (CPM)

    @property
    def expires_at(self) -> float:
        return self.issued_at + CODE_TTL_S

    def __repr__(self) -> str:  # a CPM payload holds a PAN (base64): keep it out of logs
        return f"IssuedCode({self.kind} for {self.account}, {len(self.payload)} chars, issued {self.issued_at:.0f})"


class VirtualWallet:
    """One customer's wallet app.

    Payment codes need the wallets file (`wallets_file`: each wallet's test key
    and the accounts); `account` names the account to pay from (default: the
    first account of the code's wallet). CPM codes need the card file and an
    ATC store: the card in the wallet is the same card as the virtual
    contactless one, so both draw their ATCs from one `AtcStore` and the
    issuer never sees an ATC twice.
    """

    def __init__(self, *, seed: int | None = None, account: str | None = None,
                 wallets_file: str | os.PathLike[str] | None = None,
                 cards_file: str | os.PathLike[str] | None = None,
                 state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR,
                 clock: Callable[[], float] = time.time,
                 on_issue: Callable[[IssuedCode], None] | None = None) -> None:
        self.account = account
        self._rng = np.random.default_rng(seed)
        self._wallets_file = Path(wallets_file) if wallets_file is not None else None
        self._wallets: Wallets | None = None
        self._cards_file = Path(cards_file) if cards_file is not None else None
        self._atc_store = AtcStore(Path(state_dir))
        self._clock = clock
        self._on_issue = on_issue

    def issue(self, kind: str) -> IssuedCode:
        """A code of `kind`: a wallet payment code of the account, or a CPM code for the default card."""
        if kind == "cpm":
            return self.cpm_code()
        shape = _SHAPES.get(kind)
        if shape is None:
            raise WalletError(f"unknown code kind {kind!r}: choose one of {', '.join(CODE_KINDS)}")
        account, key = self._account(kind)
        prefix = int(self._rng.integers(shape.prefixes.start, shape.prefixes.stop))
        nonce = "".join(str(d) for d in self._rng.integers(0, 10, size=shape.issued_length - FIXED_DIGITS))
        now = self._clock()
        code = make_code(kind, key, account=account.number, issued_at=now, prefix=prefix, nonce=nonce)
        return self._issued(IssuedCode(kind, code, now, account.name))

    def pay_merchant_code(self, merchant_code: str, wallet: str, address: tuple[str, int], *,
                          timeout_s: float = APP_TIMEOUT_S) -> AppAnswer:
        """Pay a scanned merchant-presented code from the account, through the acquirer's wallet-apps endpoint.

        The app proves its account with a fresh payment code, as a scanned code
        would; `WalletError` when the endpoint cannot be reached or answers nonsense.
        """
        payment = MerchantCodePayment(wallet, self.issue(wallet).payload, merchant_code)
        try:
            with socket.create_connection(address, timeout=timeout_s) as conn:
                conn.sendall(payment.to_line())
                line = conn.makefile("rb").readline(MAX_LINE)
        except OSError as e:
            raise WalletUnreachable(f"wallet apps endpoint {address[0]}:{address[1]} unreachable: {e}") from None
        try:
            return AppAnswer.from_line(line)
        except AppMessageError as e:
            raise WalletError(f"wallet apps endpoint {address[0]}:{address[1]}: {e}") from None

    def _account(self, kind: str) -> tuple[WalletAccount, bytes]:
        """The account paying with a `kind` code, and its wallet's key."""
        if self._wallets_file is None:
            raise WalletError("a payment code needs the wallets file (wallets_file)")
        if self._wallets is None:   # a bad file is the kit's SettingsError: `file: key: reason`, exit 4
            self._wallets = load_wallets(self._wallets_file)
        wallets = self._wallets
        try:
            account = wallets.account(self.account) if self.account else wallets.first_account(kind)
        except WalletFileError as e:
            raise WalletError(str(e)) from None
        if account.wallet != kind or kind not in wallets.settings:
            raise WalletError(f"account {account.name} is a {account.wallet} account: it shows no {kind} code")
        return account, wallets.settings[kind].key

    def cpm_code(self, cards: Sequence[str] = (DEFAULT_CPM_CARD,), amount_fen: int = 0) -> IssuedCode:
        """An EMVCo CPM code with one application template (61) per card, in the order given."""
        if not cards:
            raise WalletError("a CPM code needs at least one card")
        if self._cards_file is None:
            raise WalletError("a CPM code needs the card file (cards_file)")
        profiles = load_profiles(self._cards_file)
        unknown = [name for name in cards if name not in profiles]
        if unknown:
            raise WalletError(f"{self._cards_file}: no card named {', '.join(unknown)}")
        now = self._clock()
        templates = [("61", self._application_template(profiles[name], now, amount_fen)) for name in cards]
        payload = base64.b64encode(build([("85", b"CPV01"), *templates])).decode("ascii")
        return self._issued(IssuedCode("cpm", payload, now, ",".join(cards)))

    def _issued(self, code: IssuedCode) -> IssuedCode:
        if self._on_issue is not None:
            self._on_issue(code)
        return code

    def _application_template(self, card: CardProfile, now: float, amount_fen: int) -> bytes:
        """61 template: AID, label, track 2, PAN and a 63 template with the ARQC and its inputs."""
        version = cryptogram_for(card.scheme, card.cvn)
        atc = self._atc_store.next(card.name)
        tags = {
            "9F02": _bcd(str(amount_fen).zfill(12)),
            "9F03": bytes(6),
            "9F1A": _bcd("0156"),
            "95": bytes(5),
            "5F2A": _bcd("0156"),
            "9A": _bcd(datetime.fromtimestamp(now, CHINA).strftime("%y%m%d")),
            "9C": b"\x00",
            "9F37": self._rng.bytes(4),
            "82": _AIP,
            "9F36": atc.to_bytes(2, "big"),
            "9F10": version.make_iad(bytes.fromhex(_CVR[card.scheme])),
        }
        arqc = version.arqc(version.icc_mk(card.imk_ac, card.pan, card.psn), tags)
        transparent = build([("9F26", arqc), ("9F27", b"\x80"), *tags.items(), ("5F34", _bcd(card.psn))])
        track2 = f"{card.pan}D{card.expiry}{_SERVICE_CODE}00000000"
        return build([
            ("4F", card.aid),
            ("50", card.label.encode("ascii")),
            ("57", _bcd(track2)),
            ("5A", _bcd(card.pan)),
            ("63", transparent),
        ])


def code_image(payload: str, *, box_px: int = 8, border: int = 4) -> np.ndarray:
    """The QR code of `payload` as a grayscale image (error correction M, as wallet apps use)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_px, border=border)
    qr.add_data(payload)
    qr.make(fit=True)
    return np.array(qr.make_image().convert("L"), dtype=np.uint8)


def write_wallet_code(kind: str, out: str | os.PathLike[str], *, seed: int | None = None,
                      card: str = DEFAULT_CPM_CARD, account: str | None = None,
                      wallets_file: str | os.PathLike[str] | None = None,
                      cards_file: str | os.PathLike[str] | None = None,
                      state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR,
                      clock: Callable[[], float] = time.time,
                      on_issue: Callable[[IssuedCode], None] | None = None) -> IssuedCode:
    """`pos sim wallet-code KIND --out FILE`: write a new code as a .png image or an .avi camera video.

    `wallets_file` (and `account`) serve the payment codes, `cards_file`,
    `card` and `state_dir` (the ATC store) KIND "cpm".
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".avi"):
        raise WalletError(f"output {out} must end in .png (image) or .avi (camera video)")
    wallet = VirtualWallet(seed=seed, account=account, wallets_file=wallets_file, cards_file=cards_file,
                           state_dir=state_dir, clock=clock, on_issue=on_issue)
    code = wallet.cpm_code([card]) if kind == "cpm" else wallet.issue(kind)
    image = code_image(code.payload)
    if suffix == ".png":
        if not cv2.imwrite(str(out), image):
            raise WalletError(f"cannot write image {out}")
    else:
        write_video(out, code_video_frames(image, seed=0 if seed is None else seed))
    return code


def _bcd(digits: str) -> bytes:
    """Digits (and a track 2 'D' separator) packed two per byte, padded with F to a whole byte."""
    return bytes.fromhex(digits + "F" * (len(digits) % 2))
