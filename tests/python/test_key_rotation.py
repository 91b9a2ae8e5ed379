"""Key rotation end to end with real `comity` processes over HTTP: node A rotates its
identity key (`comity key rotate`, then a restart); B takes the rotation statement A
announces, pins the new key, and sharing and witnessing go on without loss (B cosigns A's
checkpoints signed by the new key under the same origin). What the old key signs after the
rotation is refused: an envelope, and a rotation to another key. The keys endpoint refuses
forged, malformed and oversized bodies, and answers an unknown member as it answers a
forgery, leaving the pinned record as it was."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import add_and_wait, target
from federation_nodes import (CLEAR, ENCRYPTION_KEYS, Terms, canonical, cli_json, envelope, federation,
                              indicator, node_key, post_inbox, shared_by, signed, stamp, wait_until)
from test_witnessing import cosigners, key_id, sig_line, split_note

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")

AB = Terms("A-B", "AB", ("indicator",), "amber")
KEYS = "/federation/v1/keys"
WAIT = 120


def public_text(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def pinned(on, member: str) -> dict:
    return cli_json(on.node, "member", "show", member, "--data-dir", on.node.data_dir)


def checkpoint(m) -> str:
    r = requests.get(m.url + "/log/checkpoint", auth=m.node.admin, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.text


def signed_by_log_key(note: str, origin: str, key) -> bool:
    """Whether the note carries a signature line by `key` as the log `origin`."""
    _, lines = split_note(note)
    return any(n == origin and raw[:4] == key_id(origin, 1, key) for n, raw in map(sig_line, lines))


def post_keys(receiver, body: bytes) -> requests.Response:
    return requests.post(receiver.url + KEYS, data=body, headers={"Content-Type": "application/json"}, timeout=30)


def test_a_rotated_node_keeps_sharing_and_being_witnessed_and_its_old_key_is_refused(tmp_path):
    with federation(tmp_path, "AB", [AB], serve="") as w:
        a, b = w["A"], w["B"]
        for m in (a, b):
            with open(m.node.data_dir / "comity.toml", "a") as f:
                f.write("\n[witnessing]\ninterval_seconds = 1\n")
            m.start()
        nodes = [a.node, b.node]
        origin = checkpoint(a).split("\n")[0]
        witness_b = {"B": (checkpoint(b).split("\n")[0], b.key)}
        first = indicator(1)
        add_and_wait(a.node, a.node.collections["default"], [first])
        wait_until(lambda: [o["id"] for o in shared_by(b, a)] == [first["id"]], WAIT, "B holding the first",
                   nodes=nodes)
        wait_until(lambda: cosigners(checkpoint(a), witness_b) == {"B"} or None, WAIT, "B cosigning A", nodes=nodes)

        old_key, old_public = node_key(a), a.public_key
        a.node.stop()
        cp = a.node.cli("key", "rotate", "--data-dir", a.node.data_dir)
        new_public = cp.stdout.decode().strip()
        assert new_public.startswith("ed25519:") and new_public != old_public, new_public
        assert "Restart `comity serve`" in cp.stderr.decode(), cp.stderr
        retired = list(a.node.data_dir.glob("node.key.retired-*"))
        assert len(retired) == 1 and retired[0].read_text() != (a.node.data_dir / "node.key").read_text()
        mine = cli_json(a.node, "member", "show-local", "--data-dir", a.node.data_dir)
        assert mine["public_key"] == new_public and mine["encryption_key"] != a.encryption_key
        a.public_key, a.encryption_key = new_public, mine["encryption_key"]
        ENCRYPTION_KEYS[a.id] = a.encryption_key
        history = json.loads(a.cli_text("key", "history", "--json", "--data-dir", a.node.data_dir))
        assert [s["statement"]["type"] for s in history] == ["key-rotation"], history
        assert history[0]["statement"]["old_key"] == old_public and history[0]["statement"]["new_key"] == new_public

        # Restarted, A announces the rotation; B pins the new keys and the sharing goes on.
        size_before = int(checkpoint(b).split("\n")[1])
        a.start()
        second = indicator(2)
        add_and_wait(a.node, a.node.collections["default"], [second])
        wait_until(lambda: sorted(o["id"] for o in shared_by(b, a)) == sorted([first["id"], second["id"]]), WAIT,
                   "B holding both", nodes=nodes)
        on_b = pinned(b, a.id)
        assert on_b["public_key"] == new_public and on_b["encryption_key"] == a.encryption_key, on_b
        assert int(checkpoint(b).split("\n")[1]) > size_before, "B logged the change"
        # A's checkpoints are signed by the new key under the same origin, and B cosigns them.
        note = checkpoint(a)
        assert note.split("\n")[0] == origin
        assert signed_by_log_key(note, origin, a.key) and not signed_by_log_key(note, origin, old_key.public_key())
        wait_until(lambda: cosigners(checkpoint(a), witness_b) == {"B"} and
                   signed_by_log_key(checkpoint(a), origin, a.key) or None, WAIT, "B cosigning A's new checkpoints",
                   nodes=nodes)

        # The old key, stolen, signs an envelope: refused before its body is read.
        env = envelope(a.id, b.id, 50, [indicator(3, CLEAR)])
        r = post_inbox(b, signed(env, old_key), old_key)
        assert r.status_code == 401, (r.status_code, r.text)
        # ...and a rotation to the thief's key: not taken, and B still pins A's new key.
        thief = Ed25519PrivateKey.generate()
        statement = {"type": "key-rotation", "member": a.id, "old_key": old_public, "new_key": public_text(thief),
                     "encryption_key": a.encryption_key, "at": stamp()}
        sigs = [base64.b64encode(k.sign(canonical(statement))).decode() for k in (old_key, thief)]
        forged = json.dumps({"member": a.id, "statements": [{"statement": statement, "signatures": sigs}]}).encode()
        r = post_keys(b, forged)
        assert r.status_code == 422, (r.status_code, r.text)
        refusal = r.json()
        # An unknown member gets the very same answer: the endpoint tells an outsider nothing.
        unknown = forged.replace(a.id.encode(), b"identity--00000000-0000-4000-8000-000000000000")
        r2 = post_keys(b, unknown)
        assert (r2.status_code, r2.json()) == (422, refusal), r2.text
        # Malformed, mistyped and oversized bodies.
        for body, status in [(b"{not json", 400), (b'{"member": 1, "statements": []}', 400),
                             (json.dumps({"member": a.id, "statements": [], "extra": 1}).encode(), 400),
                             (json.dumps({"member": a.id, "statements": [{"statement": {"type": "key-escrow"},
                                                                          "signatures": []}]}).encode(), 400),
                             (b'{"member": "' + b"x" * 70_000 + b'", "statements": []}', 413)]:
            r = post_keys(b, body)
            assert r.status_code == status, (body[:80], r.status_code, r.text)
        # The genuine history again: taken already, nothing changes.
        r = post_keys(b, json.dumps({"member": a.id, "statements": history}).encode())
        assert (r.status_code, r.json()) == (200, {"taken": 0}), r.text
        assert pinned(b, a.id) == on_b
        assert "key statements refused" in b.node.log()

        # A revokes its former key (beside its running node); B takes the revocation with
        # A's next envelope. The current key cannot be revoked.
        d = ["--data-dir", a.node.data_dir]
        cp = a.node.cli("key", "revoke", new_public, *d, check=False)
        assert cp.returncode != 0 and "current key cannot be revoked" in cp.stderr.decode(), cp.stderr
        a.node.cli("key", "revoke", old_public, "--from", history[0]["statement"]["at"], *d)
        revoked = json.loads(a.cli_text("key", "history", "--json", *d))
        assert [s["statement"]["type"] for s in revoked] == ["key-rotation", "key-revocation"], revoked
        assert revoked[1]["statement"]["key"] == old_public
        assert f"former\t{old_public}\tuntil" in a.cli_text("key", "history", *d)
        wait_until(lambda: len(pinned(b, a.id).get("key_history", [])) == 2 or None, WAIT,
                   "B taking the revocation", nodes=nodes)
        assert pinned(b, a.id)["key_history"] == revoked
