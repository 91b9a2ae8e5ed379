"""Two real `comity serve` nodes on TLS only, with certificates made here for a private CA
(the `cryptography` package): each trusts the CA through `[tls] peer_ca_files`, an object
posted to one is shared with the other over HTTPS, plain HTTP to a node gets nothing, and a
plain `http://` endpoint off loopback is refused unless the admin allows it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from conftest import ADMIN_PASSWORD, ComityNode, add_and_wait, fetch_all, free_port
from federation_nodes import (NAMES, Member, Terms, cli_json, federate_default, indicator, pin,
                              shared_collection_id, sign_agreement)

TERMS = Terms("A-B over TLS", "AB", ("indicator",), "amber")


def _key():
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class Ca:
    """A private CA that signs node certificates for localhost and 127.0.0.1."""

    def __init__(self, cn: str = "Comity test CA"):
        self.key = _key()
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
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def node_pair(self, cn: str) -> tuple[bytes, bytes]:
        key = _key()
        now = dt.datetime.now(dt.timezone.utc)
        san = x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                           x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
        cert = (x509.CertificateBuilder().subject_name(_name(cn)).issuer_name(self.cert.subject)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
                .add_extension(san, critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        return cert.public_bytes(serialization.Encoding.PEM), _pem_key(key)


@dataclass
class TlsMember(Member):
    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"


def init_tls_member(tmp: Path, letter: str, ca: Ca, stack: contextlib.ExitStack) -> TlsMember:
    name, country, role = NAMES[letter]
    node = ComityNode(tmp / f"node-{letter.lower()}")
    stack.callback(node.stop)
    m = TlsMember(letter, node, name, country, role, free_port())
    node.cli("init", "--data-dir", node.data_dir, "--organisation", name, "--country", country,
             "--member-role", role, "--endpoint", m.url, env={"COMITY_ADMIN_PASSWORD": ADMIN_PASSWORD})
    node.admin = ("admin", ADMIN_PASSWORD)
    rec = cli_json(node, "member", "show-local", "--data-dir", node.data_dir)
    m.id, m.public_key, m.encryption_key = rec["identity"]["id"], rec["public_key"], rec["encryption_key"]
    federate_default(node)
    tls = node.data_dir / "tls"
    tls.mkdir()
    cert, key = ca.node_pair(name)
    (tls / "cert.pem").write_bytes(cert)
    (tls / "key.pem").write_bytes(key)
    (tls / "ca.pem").write_bytes(ca.pem())
    config = node.data_dir / "comity.toml"
    config.write_text(config.read_text() + "\n[tls]\ncert_file = \"tls/cert.pem\"\nkey_file = \"tls/key.pem\"\n"
                      "peer_ca_files = [\"tls/ca.pem\"]\n")
    return m


def start_tls(m: TlsMember, ca_file: Path, timeout: float = 120):
    node = m.node
    node.port = m.port
    node.base = m.url
    node.api_root = f"{node.base}/taxii2/{node.api_root_name}/"
    env = dict(os.environ)
    env.setdefault("RUST_LOG", "info")
    with open(node.log_path, "ab") as logf:
        node.proc = subprocess.Popen([str(node.bin), "serve", "--data-dir", str(node.data_dir), "--listen",
                                      f"127.0.0.1:{m.port}"], stdout=logf, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert node.proc.poll() is None, f"comity serve exited {node.proc.returncode}:\n{node.log()}"
        try:
            if requests.get(node.base + "/healthz", timeout=1, verify=str(ca_file)).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"comity serve not healthy over TLS after {timeout}s:\n{node.log()}")


def session(m: TlsMember, ca_file: Path) -> requests.Session:
    s = m.node.session()
    s.trust_env = False  # else a CA bundle named in the environment wins over `verify`
    s.verify = str(ca_file)
    return s


def test_two_nodes_on_tls_share_an_object_and_refuse_plain_http(tmp_path):
    ca = Ca()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    with contextlib.ExitStack() as stack:
        a, b = (init_tls_member(tmp_path, x, ca, stack) for x in "AB")
        pin(a, b)
        pin(b, a)
        sign_agreement({"A": a, "B": b}, TERMS, tmp_path)
        for m in (a, b):
            start_tls(m, ca_file)

        # TLS only: plain HTTP to the port gets no HTTP answer
        with socket.create_connection(("127.0.0.1", a.port), timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            got = b""
            with contextlib.suppress(OSError):
                while chunk := s.recv(4096):
                    got += chunk
        assert b"HTTP/1.1 200" not in got, got
        # a client without the CA is refused
        try:
            requests.get(a.url + "/healthz", timeout=10)
            raise AssertionError("a client not trusting the CA was served")
        except requests.exceptions.SSLError:
            pass

        obj = indicator(1)
        default = next(line.split("\t")[0] for line in a.node.cli("collection", "list", "--data-dir", a.node.data_dir)
                       .stdout.decode().splitlines() if line.split("\t")[1] == "default")
        st = add_and_wait(a.node, default, [obj], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        cid = shared_collection_id(a)
        deadline = time.time() + 120
        got = []
        while time.time() < deadline:
            r = session(b, ca_file).get(b.node.collection_url(cid), timeout=30)
            if r.status_code == 200:
                got = fetch_all(b.node, cid, session=session(b, ca_file))
                if got:
                    break
            time.sleep(0.5)
        assert [o["id"] for o in got] == [obj["id"]], (got, a.node.log()[-3000:], b.node.log()[-3000:])

        # a plain http:// endpoint off loopback: refused, unless allowed for that member
        c_name, c_country, c_role = NAMES["C"]
        other = ComityNode(tmp_path / "node-c")
        other.cli("init", "--data-dir", other.data_dir, env={"COMITY_ADMIN_PASSWORD": ADMIN_PASSWORD})
        c_key = cli_json(other, "member", "show-local", "--data-dir", other.data_dir)["public_key"]
        add = ["member", "add", "--data-dir", b.node.data_dir, "--name", c_name, "--country", c_country,
               "--role", c_role, "--public-key", c_key, "--endpoint", "http://cti.example.org:8425"]
        refused = b.node.cli(*add, check=False)
        assert refused.returncode != 0
        assert b"--allow-plain-http" in refused.stderr, refused.stderr
        allowed = b.node.cli(*add, "--allow-plain-http")
        assert b"plain http:// allowed" in allowed.stderr, allowed.stderr


def test_sighup_reloads_the_certificate_and_a_bad_pair_is_refused(tmp_path):
    import signal
    old_ca, new_ca = Ca("Old CA"), Ca("New CA")
    old_file, new_file = tmp_path / "old-ca.pem", tmp_path / "new-ca.pem"
    old_file.write_bytes(old_ca.pem())
    new_file.write_bytes(new_ca.pem())
    with contextlib.ExitStack() as stack:
        a = init_tls_member(tmp_path, "A", old_ca, stack)
        tls = a.node.data_dir / "tls"
        good_cert = (tls / "cert.pem").read_bytes()

        # a key that is not the certificate's: `serve` refuses to start, saying so
        other_cert, _ = old_ca.node_pair("other")
        (tls / "cert.pem").write_bytes(other_cert)
        cp = subprocess.run([str(a.node.bin), "serve", "--data-dir", str(a.node.data_dir), "--listen",
                             f"127.0.0.1:{a.port}"], capture_output=True, timeout=120)
        assert cp.returncode != 0
        assert b"does not go with the certificate" in cp.stderr, cp.stderr
        (tls / "cert.pem").write_bytes(good_cert)

        start_tls(a, old_file)

        def served_with(ca_file: Path) -> bool:
            s = requests.Session()
            s.trust_env = False
            try:
                return s.get(a.url + "/healthz", timeout=10, verify=str(ca_file)).status_code == 200
            except requests.exceptions.SSLError:
                return False

        assert served_with(old_file) and not served_with(new_file)
        # a bad pair on SIGHUP: logged, the old certificate stays in force
        (tls / "key.pem").write_bytes(_pem_key(_key()))
        a.node.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 30
        while "not reloaded" not in a.node.log() and time.time() < deadline:
            time.sleep(0.1)
        assert "not reloaded" in a.node.log(), a.node.log()[-3000:]
        assert served_with(old_file)

        cert, key = new_ca.node_pair("CERT-A")
        (tls / "cert.pem").write_bytes(cert)
        (tls / "key.pem").write_bytes(key)
        a.node.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 30
        while not served_with(new_file) and time.time() < deadline:
            time.sleep(0.1)
        assert served_with(new_file) and not served_with(old_file), a.node.log()[-3000:]
        assert a.node.alive()


def test_a_peer_whose_certificate_the_federation_does_not_trust_gets_nothing(tmp_path):
    ca, rogue = Ca(), Ca("Rogue CA")
    ca_file, rogue_file = tmp_path / "ca.pem", tmp_path / "rogue.pem"
    ca_file.write_bytes(ca.pem())
    rogue_file.write_bytes(rogue.pem())
    with contextlib.ExitStack() as stack:
        a = init_tls_member(tmp_path, "A", ca, stack)
        b = init_tls_member(tmp_path, "B", ca, stack)
        # B serves a certificate of a CA that A does not trust
        cert, key = rogue.node_pair("Police-B")
        (b.node.data_dir / "tls" / "cert.pem").write_bytes(cert)
        (b.node.data_dir / "tls" / "key.pem").write_bytes(key)
        pin(a, b)
        pin(b, a)
        sign_agreement({"A": a, "B": b}, TERMS, tmp_path)
        start_tls(a, ca_file)
        start_tls(b, rogue_file)
        default = next(line.split("\t")[0] for line in a.node.cli("collection", "list", "--data-dir", a.node.data_dir)
                       .stdout.decode().splitlines() if line.split("\t")[1] == "default")
        st = add_and_wait(a.node, default, [indicator(1)], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        deadline = time.time() + 60
        while "UnknownIssuer" not in a.node.log() and time.time() < deadline:
            time.sleep(0.2)
        assert "UnknownIssuer" in a.node.log(), a.node.log()[-3000:]
        r = session(b, rogue_file).get(b.node.collection_url(shared_collection_id(a)), timeout=30)
        assert r.status_code == 404, (r.status_code, r.text)
