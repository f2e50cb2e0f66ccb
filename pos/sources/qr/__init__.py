"""QR payment codes on the terminal side: classify what the camera read.

- `classify_payload(text)` -> `CardData` (EMVCo CPM) or `WalletCode`, or a `QrPayloadError`
  whose `message` is for the screen.
- The EMVCo merchant-presented code the terminal shows for a sale is built (and read, by the
  customer's simulated wallet) with `acquirer.protocol.mpm`.
- `pos.sources.qr.source.CameraSource`: the camera as the engine's `PaymentSource` (imported from
  there, so that `import pos.sources.qr` does not load OpenCV).
"""
from pos.sources.qr.classify import classify_payload
from pos.sources.qr.cpm import CpmApplication, CpmPayload, cpm_card_data, parse_cpm
from pos.sources.qr.errors import (
    MalformedCpm,
    MerchantCodeScanned,
    QrPayloadError,
    UnknownPayload,
    UnsupportedApplication,
)
from pos.sources.qr.wallet_codes import classify_wallet_code

__all__ = [
    "CpmApplication", "CpmPayload", "MalformedCpm", "MerchantCodeScanned", "QrPayloadError",
    "UnknownPayload", "UnsupportedApplication", "classify_payload", "classify_wallet_code",
    "cpm_card_data", "parse_cpm",
]
