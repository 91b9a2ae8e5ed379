"""Real `comity serve` nodes on TLS only, with certificates made here for a private CA (the
`cryptography` package): each trusts the CA through `[tls] peer_ca_files`, an object posted
to one is shared with the other over HTTPS, plain HTTP to a node gets nothing, and a plain
`http://` endpoint off loopback is refused unless the admin allows it. Three nodes with
mutual TLS on (`[tls] client_ca_files`, each presenting its certificate as a client) share
an object, cosign each other's logs and catch up after one is stopped and restarted. A peer
serving an expired certificate, or one of another CA, gets nothing; with mutual TLS a sender
presenting no client certificate, one of another CA, or one of the federation CA for
another host than its endpoint's, gets nothing accepted and nothing stored; one presenting a
good certificate is accepted; TAXII reads by a user work without a client certificate.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from conftest import ADMIN_PASSWORD, ComityNode, add_and_wait, fetch_all, free_port
from federation_nodes import (NAMES, Member, Terms, cli_json, db_rows, federate_default, indicator, pin,
                              shared_collection_id, sign_agreement, wait_until)
from private_ca import Ca, new_key, pem_key
from test_witnessing import cosigners

TERMS = Terms("A-B over TLS", "AB", ("indicator",), "amber")
TERMS3 = Terms("A-B-C over TLS", "ABC", ("indicator",), "green")
WAIT = 300  # seconds; the machine is slow and a refused delivery is retried after a growing backoff


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
    configure(m)
    return m


TLS_TABLE = "\n[tls]\n"


def configure(m: TlsMember, *tls_lines: str, witness_every: int | None = None):
    """Writes the node's `[tls]` table (its certificate, its key, the CA for peers, and
    `tls_lines`) at the end of its comity.toml, replacing the one written before, and a
    `[witnessing]` table when `witness_every` is given."""
    config = m.node.data_dir / "comity.toml"
    text = config.read_text().split(TLS_TABLE)[0]
    lines = ['cert_file = "tls/cert.pem"', 'key_file = "tls/key.pem"', 'peer_ca_files = ["tls/ca.pem"]', *tls_lines]
    text += TLS_TABLE + "\n".join(lines) + "\n"
    if witness_every is not None:
        text += f"[witnessing]\ninterval_seconds = {witness_every}\n"
    config.write_text(text)


# Mutual TLS: peers' client certificates must come from the federation CA, and the node
# presents its own certificate (issued by that CA, with no key-usage restriction) as a client.
MUTUAL = ('client_ca_files = ["tls/ca.pem"]', 'client_cert_file = "tls/cert.pem"', 'client_key_file = "tls/key.pem"')


def start_tls(m: TlsMember, ca_file: Path, timeout: float = 120, verify: bool | None = None):
    """Starts the node and waits until it answers over TLS, its certificate verified with
    `ca_file` (unless `verify` is False: for a node serving a certificate meant to fail)."""
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
            if requests.get(node.base + "/healthz", timeout=1,
                            verify=str(ca_file) if verify is None else verify).status_code == 200:
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
        (tls / "key.pem").write_bytes(pem_key(new_key()))
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


def default_collection(m: TlsMember) -> str:
    return next(line.split("\t")[0] for line in m.node.cli("collection", "list", "--data-dir", m.node.data_dir)
                .stdout.decode().splitlines() if line.split("\t")[1] == "default")


def held(reader: TlsMember, sender: TlsMember, ca_file: Path | bool) -> list[str]:
    """The ids in `reader`'s "Shared by <sender>" collection ([] when there is none), read by
    its admin over TAXII without a client certificate (the server's certificate verified with
    `ca_file`, or not at all when it is False)."""
    s = reader.node.session()
    s.trust_env = False
    s.verify = str(ca_file) if ca_file is not False else False
    cid = shared_collection_id(sender)
    r = s.get(reader.node.collection_url(cid), timeout=30)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, (r.status_code, r.text)
    return sorted(o["id"] for o in fetch_all(reader.node, cid, session=s))


def checkpoint(m: TlsMember, ca_file: Path) -> str:
    r = session(m, ca_file).get(m.url + "/log/checkpoint", timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.text


def cosigned(m: TlsMember, others: list[TlsMember], ca_file: Path) -> tuple[int, set[str]]:
    """The size of `m`'s latest checkpoint, and which of `others` validly cosigned it."""
    note = checkpoint(m, ca_file)
    witnesses = {o.letter: (checkpoint(o, ca_file).split("\n")[0], o.key) for o in others}
    return int(note.split("\n")[1]), cosigners(note, witnesses)


def delivery_errors(sender: TlsMember, peer: TlsMember) -> str:
    """The errors `sender`'s outbox keeps for its undelivered envelopes to `peer` (SQLite),
    and its log."""
    rows = db_rows(sender, "SELECT last_error FROM outbox WHERE peer = ? AND delivered_at IS NULL", peer.id) or []
    return "\n".join(str(r[0]) for r in rows) + "\n" + sender.node.log()


def test_three_nodes_on_mutual_tls_share_cosign_and_catch_up_after_a_restart(tmp_path):
    ca = Ca()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    with contextlib.ExitStack() as stack:
        w = {x: init_tls_member(tmp_path, x, ca, stack) for x in "ABC"}
        for x in w:
            for y in w:
                if x != y:
                    pin(w[x], w[y])
        sign_agreement(w, TERMS3, tmp_path)
        for m in w.values():
            configure(m, *MUTUAL, witness_every=1)
            start_tls(m, ca_file)
        a, b, c = w["A"], w["B"], w["C"]
        nodes = [m.node for m in w.values()]
        first = indicator(1)
        st = add_and_wait(a.node, default_collection(a), [first], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        for peer in (b, c):
            wait_until(lambda: held(peer, a, ca_file) == [first["id"]], WAIT, f"{peer.letter} holding A's object",
                       nodes=nodes)
        for x, m in w.items():
            others = [o for o in w.values() if o is not m]
            want = {o.letter for o in others}
            wait_until(lambda: cosigned(m, others, ca_file)[1] == want, WAIT, f"{x} cosigned by the others",
                       nodes=nodes)

        # C stops; A goes on with B; C restarted catches up, and cosigns A's grown log.
        c.node.stop()
        size_without_c, _ = cosigned(a, [b], ca_file)
        second = indicator(2)
        st = add_and_wait(a.node, default_collection(a), [second], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        both = sorted([first["id"], second["id"]])
        wait_until(lambda: held(b, a, ca_file) == both, WAIT, "B holding both objects", nodes=[a.node, b.node])
        start_tls(c, ca_file)
        wait_until(lambda: held(c, a, ca_file) == both, WAIT, "C caught up", nodes=nodes)

        def grown_and_cosigned_by_both():
            size, by = cosigned(a, [b, c], ca_file)
            return size > size_without_c and by == {"B", "C"}

        wait_until(grown_and_cosigned_by_both, WAIT, "A's grown log cosigned by B and C", nodes=nodes)
        assert all(m.node.alive() for m in w.values())


def test_a_peer_serving_an_expired_certificate_gets_nothing(tmp_path):
    ca = Ca()
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    with contextlib.ExitStack() as stack:
        a, b = (init_tls_member(tmp_path, x, ca, stack) for x in "AB")
        cert, key = ca.node_pair(b.name, days=-1)
        (b.node.data_dir / "tls" / "cert.pem").write_bytes(cert)
        (b.node.data_dir / "tls" / "key.pem").write_bytes(key)
        pin(a, b)
        pin(b, a)
        sign_agreement({"A": a, "B": b}, TERMS, tmp_path)
        start_tls(a, ca_file)
        start_tls(b, ca_file, verify=False)
        try:
            session(b, ca_file).get(b.url + "/healthz", timeout=10)
            raise AssertionError("a client verifying B's expired certificate was served")
        except requests.exceptions.SSLError:
            pass
        st = add_and_wait(a.node, default_collection(a), [indicator(1)], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        wait_until(lambda: "certificate expired" in delivery_errors(a, b) or "Expired" in delivery_errors(a, b),
                   WAIT, "A refusing B's expired certificate", nodes=[a.node, b.node])
        assert held(b, a, False) == []


def mutual_pair(tmp_path: Path, ca: Ca, stack: contextlib.ExitStack) -> tuple[TlsMember, TlsMember]:
    """A and B pinning each other under an agreement, B serving with mutual TLS on (client
    certificates of `ca`, whose certificate is `tmp_path/ca.pem`); A not started."""
    a, b = (init_tls_member(tmp_path, x, ca, stack) for x in "AB")
    pin(a, b)
    pin(b, a)
    sign_agreement({"A": a, "B": b}, TERMS, tmp_path)
    configure(b, 'client_ca_files = ["tls/ca.pem"]')
    start_tls(b, tmp_path / "ca.pem")
    return a, b


def test_with_mutual_tls_only_a_sender_with_a_good_client_certificate_is_accepted(tmp_path):
    ca, rogue = Ca(), Ca("Rogue CA")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    with contextlib.ExitStack() as stack:
        a, b = mutual_pair(tmp_path, ca, stack)
        # TAXII reads by a user need no client certificate
        r = session(b, ca_file).get(b.node.collection_url(default_collection(b)), timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)

        def refused_with(says, where: str):
            start_tls(a, ca_file)
            obj = indicator(1)
            st = add_and_wait(a.node, default_collection(a), [obj], session=session(a, ca_file))
            assert st["success_count"] == 1, st

            def failed_and_said():
                rows = db_rows(a, "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND last_error IS NOT NULL")
                return rows in ([(1,)], None) and says()

            wait_until(failed_and_said, WAIT, f"A's delivery refused ({where})", nodes=[a.node, b.node])
            a.node.stop()
            assert held(b, a, ca_file) == []
            assert db_rows(b, "SELECT count(*) FROM inbox") in ([(0,)], None)
            return obj

        # A presents a client certificate of another CA: the handshake fails
        cert, key = rogue.node_pair(a.name)
        (a.node.data_dir / "tls" / "rogue-cert.pem").write_bytes(cert)
        (a.node.data_dir / "tls" / "rogue-key.pem").write_bytes(key)
        configure(a, 'client_cert_file = "tls/rogue-cert.pem"', 'client_key_file = "tls/rogue-key.pem"')
        sent = [refused_with(lambda: "client certificate refused" in b.node.log()
                             and "UnknownIssuer" in b.node.log(), "B's log: another CA")]
        # A presents none: the federation routes answer 403
        configure(a)
        sent.append(refused_with(lambda: "403 Forbidden: " in delivery_errors(a, b)
                                 and "require a TLS client certificate" in delivery_errors(a, b), "403"))
        # A presents a certificate of the federation CA for another host than its endpoint's
        cert, key = ca.node_pair(a.name, names=("peer.example.org",))
        (a.node.data_dir / "tls" / "other-cert.pem").write_bytes(cert)
        (a.node.data_dir / "tls" / "other-key.pem").write_bytes(key)
        configure(a, 'client_cert_file = "tls/other-cert.pem"', 'client_key_file = "tls/other-key.pem"')
        sent.append(refused_with(lambda: "403 Forbidden: " in delivery_errors(a, b) and
                                 "client certificate is not valid for localhost, the host of member "
                                 f"{a.id}'s endpoint" in delivery_errors(a, b), "403, another host"))
        # A presents its certificate of the federation CA: accepted
        configure(a, 'client_cert_file = "tls/cert.pem"', 'client_key_file = "tls/key.pem"')
        start_tls(a, ca_file)
        want = sorted(o["id"] for o in sent)
        wait_until(lambda: held(b, a, ca_file) == want, WAIT, "B holding A's objects", nodes=[a.node, b.node])


def test_sighup_reloads_the_client_certificate_the_federation_client_presents(tmp_path):
    import signal
    ca, rogue = Ca(), Ca("Rogue CA")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(ca.pem())
    with contextlib.ExitStack() as stack:
        a, b = mutual_pair(tmp_path, ca, stack)
        # A starts presenting a client certificate of a CA that B does not accept
        tls = a.node.data_dir / "tls"
        cert, key = rogue.node_pair(a.name)
        (tls / "client-cert.pem").write_bytes(cert)
        (tls / "client-key.pem").write_bytes(key)
        configure(a, 'client_cert_file = "tls/client-cert.pem"', 'client_key_file = "tls/client-key.pem"')
        start_tls(a, ca_file)
        pid = a.node.proc.pid
        obj = indicator(1)
        st = add_and_wait(a.node, default_collection(a), [obj], session=session(a, ca_file))
        assert st["success_count"] == 1, st
        wait_until(lambda: "client certificate refused" in b.node.log() and "UnknownIssuer" in b.node.log(),
                   WAIT, "B refusing A's client certificate", nodes=[a.node, b.node])
        assert held(b, a, ca_file) == []
        # the admin puts a certificate of the federation CA in the same files and sends SIGHUP:
        # the next delivery presents it, without a restart
        cert, key = ca.node_pair(a.name)
        (tls / "client-cert.pem").write_bytes(cert)
        (tls / "client-key.pem").write_bytes(key)
        a.node.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "SIGHUP: TLS client certificate and key reloaded" in a.node.log(), 30,
                   "A reloading its client certificate", nodes=[a.node])
        wait_until(lambda: held(b, a, ca_file) == [obj["id"]], WAIT, "B holding A's object", nodes=[a.node, b.node])
        assert a.node.alive() and a.node.proc.pid == pid
