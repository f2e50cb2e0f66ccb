"""The daemon's TLS certificate: configured, or made once at first start under the state directory.

Adyen's libraries, when given a certificate to pin, trust it as the only CA
and then accept the server only if its subject CN looks like a terminal's:
`<model>-<serial>.(test|live).terminal.adyen.com` or
`legacy-terminal-certificate.(test|live).terminal.adyen.com`. The generated
certificate therefore names this terminal `tillkit-<TID>.test.terminal.adyen.com`
(so a register pins `<state dir>/tls/daemon.crt` unchanged) and also carries
the loopback and listen addresses as subject alternative names for other
clients. It is self-signed and marked as a CA so it can be its own trust anchor.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TLS_DIR = "tls"
CERT_FILE, KEY_FILE = "daemon.crt", "daemon.key"
VALID_DAYS = 3650


def terminal_cn(tid: str) -> str:
    return f"tillkit-{tid}.test.terminal.adyen.com"


def ensure_certificate(state_dir: Path, tid: str, listen_host: str) -> tuple[Path, Path]:
    """(certificate, key) under `<state dir>/tls/`, generated if absent (key file mode 0600)."""
    directory = state_dir / TLS_DIR
    cert_path, key_path = directory / CERT_FILE, directory / KEY_FILE
    if cert_path.exists() and key_path.exists():
        return cert_path, key_path
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_cn(tid)),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "tillkit pos daemon")])
    alt: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.DNSName(terminal_cn(tid)),
                                   x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    try:
        address = ipaddress.ip_address(listen_host)
        if not address.is_unspecified and str(address) != "127.0.0.1":
            alt.append(x509.IPAddress(address))
    except ValueError:
        alt.append(x509.DNSName(listen_host))
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=False,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .add_extension(x509.SubjectAlternativeName(alt), critical=False)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    key_path.with_suffix(".tmp").rename(key_path)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context
