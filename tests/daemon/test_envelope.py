"""The security envelope against Adyen's published vector, and its failures."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from pos.daemon.envelope import BadHmac, EnvelopeError, EnvelopeKey, Keyring, UnknownKey, open_message, seal_message

VECTOR = Path(__file__).parent / "vectors" / "adyen_node_local_enc_response.json"
PASSPHRASE = "p@ssw0rd123456"
KEY_ID = "CryptoKeyIdentifier12345"


def _vector() -> dict:
    return json.loads(VECTOR.read_text())


def test_published_vector_opens_to_the_payment_response():
    ring = Keyring([EnvelopeKey.derive(KEY_ID, 1, PASSPHRASE)])
    message, key = open_message("SaleToPOIResponse", _vector()["SaleToPOIResponse"], ring)
    payment = message["SaleToPOIResponse"]["PaymentResponse"]
    assert payment["POIData"]["POITransactionID"]["TransactionID"] == "4r7i001557325515012.8815573255107661"
    assert payment["Response"]["Result"] == "Success"
    assert key.identifier == KEY_ID


def test_sealing_with_the_vectors_nonce_reproduces_its_hmac():
    body = _vector()["SaleToPOIResponse"]
    key = EnvelopeKey.derive(KEY_ID, 1, PASSPHRASE)
    clear = key.open(body["NexoBlob"], body["SecurityTrailer"])
    import base64
    blob, trailer = key.seal(clear, base64.b64decode(body["SecurityTrailer"]["Nonce"]))
    assert trailer["Hmac"] == body["SecurityTrailer"]["Hmac"]
    assert blob == "".join(body["NexoBlob"].split())


def test_wrong_passphrase_is_a_bad_hmac():
    ring = Keyring([EnvelopeKey.derive(KEY_ID, 1, "not the passphrase")])
    with pytest.raises(BadHmac):
        open_message("SaleToPOIResponse", _vector()["SaleToPOIResponse"], ring)


def test_altered_hmac_is_refused():
    body = _vector()["SaleToPOIResponse"]
    body["SecurityTrailer"]["Hmac"] = "AAAA" + body["SecurityTrailer"]["Hmac"][4:]
    with pytest.raises(BadHmac):
        open_message("SaleToPOIResponse", body, Keyring([EnvelopeKey.derive(KEY_ID, 1, PASSPHRASE)]))


@pytest.mark.parametrize("key_id, version", [("OtherKey", 1), (KEY_ID, 2)])
def test_unknown_key_or_version(key_id, version):
    ring = Keyring([EnvelopeKey.derive(key_id, version, PASSPHRASE)])
    with pytest.raises(UnknownKey):
        open_message("SaleToPOIResponse", _vector()["SaleToPOIResponse"], ring)


@pytest.mark.parametrize("mutate", [
    lambda b: b.pop("NexoBlob"),
    lambda b: b.__setitem__("NexoBlob", "%%%"),
    lambda b: b["SecurityTrailer"].__setitem__("Nonce", "AAAA"),
    lambda b: b.__setitem__("SecurityTrailer", "x"),
])
def test_malformed_envelopes(mutate):
    body = _vector()["SaleToPOIResponse"]
    mutate(body)
    with pytest.raises(EnvelopeError):
        open_message("SaleToPOIResponse", body, Keyring([EnvelopeKey.derive(KEY_ID, 1, PASSPHRASE)]))


def test_round_trip_keeps_the_header_in_clear():
    key = EnvelopeKey.derive("K1", 3, "secret")
    message = {"SaleToPOIRequest": {"MessageHeader": {"ServiceID": "1"}, "LoginRequest": {"OperatorID": "7"}}}
    sealed = seal_message("SaleToPOIRequest", message, key)
    assert sealed["SaleToPOIRequest"]["MessageHeader"] == {"ServiceID": "1"}
    assert "LoginRequest" not in json.dumps(sealed)
    opened, _ = open_message("SaleToPOIRequest", sealed["SaleToPOIRequest"], Keyring([key]))
    assert opened == message
