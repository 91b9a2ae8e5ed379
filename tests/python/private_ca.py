"""A private CA made with the `cryptography` package, for nodes serving TLS in the tests and
benches: a self-signed CA certificate, and node certificates for localhost and 127.0.0.1
(valid, or expired) signed by it."""

from __future__ import annotations

import datetime as dt
import ipaddress

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def new_key():
    """A new P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def pem_key(key) -> bytes:
    """The key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Ca:
    """A private CA that signs node certificates (for localhost and 127.0.0.1 unless told)."""

    def __init__(self, cn: str = "Comity test CA"):
        self.key = new_key()
        now = dt.datetime.now(dt.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(_name(cn))
                     .public_key(self.key.public_key()).serial_number(x509.random_serial_number())
                     .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                                  content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False), critical=True)
                     .sign(self.key, hashes.SHA256()))

    def pem(self) -> bytes:
        """The CA certificate, PEM."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def node_pair(self, cn: str, days: int = 30, names: tuple[str, ...] = ("localhost", "127.0.0.1")
                  ) -> tuple[bytes, bytes]:
        """A certificate for `names` (host names or IP addresses) valid until `days` from now
        (negative: expired), and its key."""
        key = new_key()
        now = dt.datetime.now(dt.timezone.utc)

        def general_name(name: str) -> x509.GeneralName:
            try:
                return x509.IPAddress(ipaddress.ip_address(name))
            except ValueError:
                return x509.DNSName(name)

        san = x509.SubjectAlternativeName([general_name(n) for n in names])
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=60)).not_valid_after(now + dt.timedelta(days=days))
                .add_extension(san, critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM), pem_key(key)
