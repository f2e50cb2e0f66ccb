"""A virtual wallet app: payment codes and EMVCo CPM codes, as QR images and camera video.

What a customer's phone does at a checkout, for tests and demos:

- wallet payment codes (Alipay, WeChat Pay, UnionPay app): one-time digits in
  each wallet's published shape, stamped with their issue time (the wallet
  back end refuses a code 60 s after issue and accepts each code once);
- EMVCo consumer-presented codes (CPM): a card from the test card file
  (`config/cards.toml`) with a real ARQC made from the card's issuer master
  key, so the simulated issuer verifies it exactly as it verifies a chip card.
  The phone does not know the amount when it shows the code, so the ARQC
  covers amount 0 (9F02) and the transparent template carries every ARQC
  input for the issuer. The card profiles and the ATC store are those of the
  virtual contactless cards (`drivers.sim.contactless`): one card, one ATC.

The wallet back end must learn of each code the phone shows: `on_issue` is
called with every `IssuedCode` (the acquirer's wallet channel registers them).
Everything random comes from one seeded generator: the same seed, clock and
ATC state give the same codes and the same video.
"""
from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import qrcode
import qrcode.constants

from acquirer.protocol.cryptogram import cryptogram_for
from acquirer.protocol.tlv import build
from drivers.sim.contactless.atc import DEFAULT_STATE_DIR, AtcStore
from drivers.sim.contactless.profiles import CardProfile, load_profiles
from drivers.sim.video import code_video_frames, write_video

__all__ = [
    "CODE_TTL_S", "CODE_KINDS", "IssuedCode", "VirtualWallet", "WalletError",
    "code_image", "write_wallet_code",
]

CODE_TTL_S = 60                      # a wallet payment code is refused this long after issue
WALLET_KINDS = ("alipay", "wechat", "unionpay")
CODE_KINDS = WALLET_KINDS + ("cpm",)
DEFAULT_CPM_CARD = "unionpay-debit"
CHINA = ZoneInfo("Asia/Shanghai")

# (first two digits: low, high inclusive; total digits) of each wallet's codes, payments.md section 4
_CODE_SHAPES = {"alipay": (25, 30, 18), "wechat": (10, 15, 18), "unionpay": (62, 62, 19)}
# card verification results the phone reports (CDCVM done on the phone, online cryptogram requested)
_CVR = {"unionpay": "03A00000", "visa": "03A00000", "mastercard": "A00000000000"}
_AIP = bytes.fromhex("7C00")         # application interchange profile of a CPM card: online only
_SERVICE_CODE = "201"                # international, IC card


class WalletError(ValueError):
    """The wallet cannot make the code asked for (unknown kind or card, unwritable file)."""


@dataclass(frozen=True)
class IssuedCode:
    """A code the phone shows: `payload` is the QR text, `issued_at` Unix seconds (UTC)."""

    kind: str                        # "alipay", "wechat", "unionpay" or "cpm"
    payload: str
    issued_at: float
    account: str                     # the wallet account (payment codes) or test card name (CPM)

    @property
    def expires_at(self) -> float:
        return self.issued_at + CODE_TTL_S

    def __repr__(self) -> str:  # a CPM payload holds a PAN (base64): keep it out of logs
        return f"IssuedCode({self.kind} for {self.account}, {len(self.payload)} chars, issued {self.issued_at:.0f})"


class VirtualWallet:
    """One customer's wallet app.

    CPM codes need the card file and an ATC store: the card in the wallet is
    the same card as the virtual contactless one, so both draw their ATCs from
    one `AtcStore` and the issuer never sees an ATC twice.
    """

    def __init__(self, *, seed: int | None = None, account: str = "wallet-0001",
                 cards_file: str | os.PathLike[str] | None = None,
                 state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR,
                 clock: Callable[[], float] = time.time,
                 on_issue: Callable[[IssuedCode], None] | None = None) -> None:
        self.account = account
        self._rng = np.random.default_rng(seed)
        self._cards_file = Path(cards_file) if cards_file is not None else None
        self._atc_store = AtcStore(Path(state_dir))
        self._clock = clock
        self._on_issue = on_issue

    def issue(self, kind: str) -> IssuedCode:
        """A code of `kind`: a wallet payment code, or a CPM code for the default card."""
        if kind == "cpm":
            return self.cpm_code()
        shape = _CODE_SHAPES.get(kind)
        if shape is None:
            raise WalletError(f"unknown code kind {kind!r}: choose one of {', '.join(CODE_KINDS)}")
        low, high, length = shape
        prefix = int(self._rng.integers(low, high + 1))
        digits = "".join(str(d) for d in self._rng.integers(0, 10, size=length - 2))
        return self._issued(IssuedCode(kind, f"{prefix:02d}{digits}", self._clock(), self.account))

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
                      card: str = DEFAULT_CPM_CARD, cards_file: str | os.PathLike[str] | None = None,
                      state_dir: str | os.PathLike[str] = DEFAULT_STATE_DIR,
                      on_issue: Callable[[IssuedCode], None] | None = None) -> IssuedCode:
    """`pos sim wallet-code KIND --out FILE`: write a new code as a .png image or an .avi camera video.

    `cards_file` and `state_dir` (the ATC store) are needed for KIND "cpm" only.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".png", ".avi"):
        raise WalletError(f"output {out} must end in .png (image) or .avi (camera video)")
    wallet = VirtualWallet(seed=seed, cards_file=cards_file, state_dir=state_dir, on_issue=on_issue)
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
