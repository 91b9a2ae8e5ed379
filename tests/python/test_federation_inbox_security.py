"""The federation inbox under attack, over real HTTP between real nodes.

- Requests not signed by a registered, active member are turned away before their body is
  read: 48 unauthenticated uploads of nearly 64 MiB each leave the receiver's RSS flat (read
  from /proc/PID/status), and a real peer's delivery still succeeds meanwhile.
- Forged senders get unsigned HTTP errors, never a statement signed by the node.
- A member with no agreement in force shares nothing, not even TLP:CLEAR; a member with one
  shares only what it covers.
- Per-peer quotas (objects and bytes per hour, comity.toml) refuse, with a signed receipt
  and without recording, what goes beyond them; the envelope comes in once allowed.
- A collection is shared with peers only once an admin federates it (a logged choice).
"""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import add_and_wait, proc_status, target
from federation_nodes import (AB, CLEAR, GREEN, INBOX, NOT_A_MEMBER, envelope, federation, indicator, log_entries,
                              malware, node_key, post_inbox, receipt, request_signature, shared_by, signed,
                              unsigned_error, wait_until)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")

MIB = 1024 * 1024


def upload(port: int, headers: dict, length: int, sent: list, i: int):
    """One HTTP/1.1 POST to the inbox that announces `length` bytes and sends them in 1 MiB
    chunks, as fast as the server takes them, until it has sent them all or the server
    answers or closes. `sent[i]` is how many body bytes went out."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    s.sendall(f"POST {INBOX} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              f"Content-Length: {length}\r\n{head}\r\n".encode())
    chunk = b"x" * MIB
    try:
        while sent[i] < length:
            n = min(MIB, length - sent[i])
            s.sendall(chunk[:n])
            sent[i] += n
    except OSError:
        pass
    finally:
        s.close()


def test_unauthenticated_uploads_are_turned_away_unread_and_a_real_peer_still_delivers(tmp_path):
    with federation(tmp_path, "AB", [AB]) as w:
        a, b = w["A"], w["B"]
        forger = Ed25519PrivateKey.generate()
        pid = b.node.pid
        before = proc_status(pid)["VmRSS"]
        # 48 uploads of nearly 64 MiB: half without a signature, half signed by a forger in
        # A's name (a fresh nonce each, a real Ed25519 signature, the wrong key)
        length = 64 * MIB - 1024
        headers = [{} if k % 2 == 0 else request_signature(b"x" * 16, forger, a.id) for k in range(48)]
        sent = [0] * 48
        peak = before
        threads = [threading.Thread(target=upload, args=(b.port, headers[k], length, sent, k)) for k in range(48)]
        for t in threads:
            t.start()
        # meanwhile A shares objects over its real sender
        objs = [indicator(i, GREEN) for i in range(50)]
        add_and_wait(a.node, a.node.collections["default"], objs)
        while any(t.is_alive() for t in threads):
            peak = max(peak, proc_status(pid)["VmRSS"])
            time.sleep(0.05)
        for t in threads:
            t.join()
        peak = max(peak, proc_status(pid)["VmRSS"])
        want = {o["id"] for o in objs}
        wait_until(lambda: want <= {o["id"] for o in shared_by(b, a)}, 120, "A's objects at B", nodes=[a.node, b.node])
        after = proc_status(pid)["VmRSS"]
        grown_mb = (peak - before) / 1024
        print(f"B's RSS: before {before / 1024:.1f} MB, peak {peak / 1024:.1f} MB, after {after / 1024:.1f} MB; "
              f"body bytes the clients got out: {sum(sent) / MIB:.0f} MiB of {48 * length / MIB:.0f} MiB")
        assert grown_mb < 40, f"B's RSS grew by {grown_mb:.0f} MB under unauthenticated uploads"
        assert sum(sent) < 48 * length / 4, f"B read {sum(sent) / MIB:.0f} MiB of unauthenticated bodies"
        assert b.node.healthy()


def test_forged_senders_get_unsigned_errors_and_nothing_is_recorded(tmp_path):
    with federation(tmp_path, "ABC", [AB], serve="B") as w:
        a, b, c = w["A"], w["B"], w["C"]
        forger = Ed25519PrivateKey.generate()
        for frm in (a.id, c.id, "identity--00000000-0000-4000-8000-000000000001", "x" * 150):
            e = envelope(frm, b.id, 1, [indicator(1, CLEAR)])
            data = signed(e, forger)
            err = unsigned_error(post_inbox(b, data, forger), 401, NOT_A_MEMBER)
            assert e["id"] not in json.dumps(err) and "signature" not in err
            # with no signature at all: the same, and the connection is not kept
            r = requests.post(b.url + INBOX, data=data, headers={"Content-Type": "application/json"}, timeout=30)
            unsigned_error(r, 401, "the request has no Content-Digest header")
            assert r.headers.get("Connection", "").lower() == "close", r.headers
        assert shared_by(b, a) == [] and shared_by(b, c) == []


def test_a_member_without_an_agreement_shares_nothing_and_one_with_an_agreement_only_what_it_covers(tmp_path):
    # A and B share under AB (indicator and malware up to AMBER); C is registered on B but
    # has no agreement with it
    with federation(tmp_path, "ABC", [AB], serve="B") as w:
        a, b, c = w["A"], w["B"], w["C"]
        key_a, key_c = node_key(a), node_key(c)
        many = [indicator(i, CLEAR) for i in range(10_000)]
        e = envelope(c.id, b.id, 1, many)
        started = time.monotonic()
        r = post_inbox(b, signed(e, key_c), key_c, timeout=300)
        took = time.monotonic() - started
        body = receipt(r, b, 422, to=c.id, envelope_id=e["id"], seq=1, outcome="refused")
        assert body["reason"] == (f"no agreement in force between {c.id} and this node: nothing it shares is "
                                  f"taken in"), body
        assert shared_by(b, c) == []
        print(f"10,000 CLEAR objects from a member without an agreement refused in {took:.2f} s")
        # the refusal is recorded: the same envelope again gets the same receipt
        assert post_inbox(b, signed(e, key_c), key_c, timeout=300).content == r.content
        # from A: CLEAR of a type AB does not list is refused object by object
        campaign = {"type": "campaign", "spec_version": "2.1", "id": "campaign--2b6cb5b9-0a5f-4c5e-8e1b-5b3f0f0c0c01",
                    "created": "2024-05-01T10:00:00.000Z", "modified": "2024-05-01T10:00:00.000Z",
                    "name": "CLEAR but not in AB", "object_marking_refs": [CLEAR]}
        fine = [indicator(1, CLEAR), malware(2, CLEAR)]
        e = envelope(a.id, b.id, 1, [campaign, *fine])
        body = receipt(post_inbox(b, signed(e, key_a), key_a), b, 200, to=a.id, envelope_id=e["id"], seq=1,
                       outcome="delivered")
        assert body["accepted"] == 2, body
        assert body["refused"] == [{"id": campaign["id"],
                                    "reason": f"no agreement in force between {a.id} and this node covers it"}], body
        assert {o["id"] for o in shared_by(b, a)} == {o["id"] for o in fine}


def test_per_peer_quotas_refuse_with_a_signed_unrecorded_receipt(tmp_path):
    with federation(tmp_path, "AB", [AB], serve="") as w:
        a, b = w["A"], w["B"]
        with open(b.node.data_dir / "comity.toml", "a") as f:
            f.write("\n[federation]\nquota_objects_per_hour = 101\nquota_bytes_per_hour = 200000\n")
        b.start()
        key_a = node_key(a)
        first = envelope(a.id, b.id, 1, [indicator(i, GREEN) for i in range(80)])
        receipt(post_inbox(b, signed(first, key_a), key_a), b, 200, to=a.id, envelope_id=first["id"], seq=1,
                outcome="delivered")
        # 30 more objects: beyond the 101 an hour; a signed refusal, 429 with Retry-After
        over = envelope(a.id, b.id, 2, [indicator(100 + i, GREEN) for i in range(30)])
        r = post_inbox(b, signed(over, key_a), key_a)
        body = receipt(r, b, 429, to=a.id, envelope_id=over["id"], seq=2, outcome="refused")
        assert body["reason"].startswith(f"{a.id} is over its quota of 101 objects per hour (30 asked, 21 left)"), body
        assert int(r.headers["Retry-After"]) >= 1, r.headers
        # not recorded: the sequence number is still free, and a smaller envelope fits
        fits = envelope(a.id, b.id, 2, [indicator(200 + i, GREEN) for i in range(20)])
        receipt(post_inbox(b, signed(fits, key_a), key_a), b, 200, to=a.id, envelope_id=fits["id"], seq=2,
                outcome="delivered")
        # bytes: one object with a large description goes beyond the 200,000 bytes an hour
        big = envelope(a.id, b.id, 3, [indicator(300, GREEN, description="x" * 250_000)])
        body = receipt(post_inbox(b, signed(big, key_a), key_a), b, 429, to=a.id, envelope_id=big["id"], seq=3,
                       outcome="refused")
        assert "over its quota of 200000 bytes per hour" in body["reason"], body
        assert len(shared_by(b, a)) == 100


def collection_state(node, cid: str) -> str:
    """What `comity collection list` says of collection `cid`: federated or not."""
    lines = [line.split("\t") for line in node.cli("collection", "list", "--data-dir", node.data_dir)
             .stdout.decode().splitlines()]
    return next(cols[3] for cols in lines if cols[0] == cid)


def test_a_collection_is_shared_with_peers_only_once_an_admin_federates_it(tmp_path):
    with federation(tmp_path, "AB", [AB]) as w:
        a, b = w["A"], w["B"]
        ana = a.node.add_user("ana", "a long analyst passphrase", "analyst")
        incident = a.node.add_collection("Incident 2026-117", write=["ana"])
        assert collection_state(a.node, incident) == "not federated"
        assert collection_state(a.node, a.node.collections["default"]) == "federated"  # set by the helper

        def reaches_b(objs: list) -> None:
            want = {o["id"] for o in objs}
            wait_until(lambda: want <= {o["id"] for o in shared_by(b, a)}, 120, "objects at B", nodes=[a.node, b.node])

        # readable by one analyst only, GREEN and within AB: not shared while not federated
        hidden = [indicator(i, GREEN) for i in range(5)]
        add_and_wait(a.node, incident, hidden, user=ana)
        marker = [indicator(100, GREEN)]
        add_and_wait(a.node, a.node.collections["default"], marker)
        reaches_b(marker)
        assert not {o["id"] for o in hidden} & {o["id"] for o in shared_by(b, a)}
        # the admin turns it on: a logged choice; what is stored from then on is shared
        a.node.cli("collection", "federate", incident, "on", "--data-dir", a.node.data_dir)
        assert collection_state(a.node, incident) == "federated"
        subject = f"collection:default/{incident}"
        logged = [e for e in log_entries(a) if e["subject"] == subject and e["kind"] == "collection.changed"]
        # made, ana's grant, then the choice: {"federated": true}, canonical JSON
        assert len(logged) == 3, logged
        assert logged[-1]["sha256"] == hashlib.sha256(b'{"federated":true}').hexdigest(), logged
        later = [indicator(200 + i, GREEN) for i in range(3)]
        add_and_wait(a.node, incident, later, user=ana)
        reaches_b(later)
        assert not {o["id"] for o in hidden} & {o["id"] for o in shared_by(b, a)}
        # and off again: nothing more leaves it
        a.node.cli("collection", "federate", incident, "off", "--data-dir", a.node.data_dir)
        assert collection_state(a.node, incident) == "not federated"
        after = [indicator(300 + i, GREEN) for i in range(3)]
        add_and_wait(a.node, incident, after, user=ana)
        marker = [indicator(400, GREEN)]
        add_and_wait(a.node, a.node.collections["default"], marker)
        reaches_b(marker)
        assert not {o["id"] for o in hidden + after} & {o["id"] for o in shared_by(b, a)}
        # a policy view cannot be federated (it shows what others may read; it holds nothing)
        view = a.node.cli("collection", "add-view", "--data-dir", a.node.data_dir, "--title", "B's view",
                          "--source", a.node.collections["default"], "--member", b.id).stdout.decode().strip()
        r = a.node.cli("collection", "federate", view, "on", "--data-dir", a.node.data_dir, check=False)
        assert r.returncode != 0 and b"only plain collections are federated" in r.stderr, r.stderr
        assert collection_state(a.node, view) == "not federated"
