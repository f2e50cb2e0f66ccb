"""QR payment codes on the terminal side: classify what the camera read, and make merchant codes.

- `classify_payload(text)` -> `CardData` (EMVCo CPM) or `WalletCode`, or a `QrPayloadError`
  whose `message` is for the screen.
- `build_dynamic_mpm(...)` / `parse_mpm(text)`: the EMVCo merchant-presented code for a sale.
- `pos.qr.source.CameraSource`: the camera as the engine's `PaymentSource` (imported from
  there, so that `import pos.qr` does not load OpenCV).
"""
from pos.qr.classify import classify_payload
from pos.qr.cpm import CpmApplication, CpmPayload, cpm_card_data, parse_cpm
from pos.qr.errors import (
    MalformedCpm,
    MalformedMpm,
    MerchantCodeScanned,
    QrPayloadError,
    UnknownPayload,
    UnsupportedApplication,
)
from pos.qr.mpm import MerchantPresentedCode, build_dynamic_mpm, crc16_ccitt_false, parse_mpm
from pos.qr.wallet_codes import classify_wallet_code

__all__ = [
    "CpmApplication", "CpmPayload", "MalformedCpm", "MalformedMpm", "MerchantCodeScanned",
    "MerchantPresentedCode", "QrPayloadError", "UnknownPayload", "UnsupportedApplication",
    "build_dynamic_mpm", "classify_payload", "classify_wallet_code", "cpm_card_data", "crc16_ccitt_false",
    "parse_cpm", "parse_mpm",
]
