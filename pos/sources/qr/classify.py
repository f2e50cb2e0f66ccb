"""One entry point for whatever the camera read: a card (EMVCo CPM) or a wallet code, or a refusal.

The engine calls `classify_payload` on every new payload from the scanner. A
refusal is a `QrPayloadError` whose `message` the face shows; nothing is sent
to the host for it, and the scan goes on for the next code.
"""
from __future__ import annotations

from pos.core.payment import CardData, WalletCode
from pos.sources.qr.cpm import cpm_card_data, is_cpm, parse_cpm
from pos.sources.qr.errors import MerchantCodeScanned, UnknownPayload
from pos.sources.qr.wallet_codes import classify_wallet_code, is_digits

MPM_PREFIX = "000201"  # payload format indicator, the start of every EMVCo merchant-presented code


def classify_payload(payload: str) -> CardData | WalletCode:
    """CardData (entry mode 03, field 55) for a CPM code, WalletCode for wallet digits; else QrPayloadError."""
    text = payload.strip()
    if not text:
        raise UnknownPayload("empty payload")
    if is_digits(text):
        return classify_wallet_code(text)
    if text.startswith(MPM_PREFIX):
        raise MerchantCodeScanned("payload is an EMVCo merchant-presented code (starts 000201)")
    if is_cpm(text):
        return cpm_card_data(parse_cpm(text))
    raise UnknownPayload(f"payload of {len(text)} characters is neither an EMVCo CPM code nor wallet digits")
