"""Witnessing over envelopes between real nodes.

Three `comity serve` processes (A, B, C) set up only with the CLI, each pinning the others,
each submitting its checkpoint every second (`[witnessing] interval_seconds = 1` in
comity.toml). The test checks, independently of the Rust code (Python `cryptography`):

1. every node collects the other two nodes' cosignatures of its latest checkpoint, serves
   them appended to its checkpoint (`GET /log/checkpoint`, `/log/checkpoint/cosigned`,
   `comity witness checkpoint`), each a valid C2SP cosignature/v1 by the peer's pinned key;
2. a forged checkpoint envelope, signed with A's real key (read from its data directory),
   of the size B cosigned but another root, is refused by B with a signed `cosignature`
   answer carrying B's earlier cosigned checkpoint as evidence; B keeps an alert with both
   signed notes (`comity witness alerts`/`alert`), counts it in /metrics, commits it to
   its log as `witness.alert`, and its witness state does not move;
3. bad input (a forged envelope signature, an unknown sender, a garbage proof, an oversized
   note, a note signed by another key) is refused precisely, with no alert and no change;
4. (SQLite) A's database rolled back to an earlier copy: B and C raise `rollback` alerts,
   A raises `peer-ahead` alerts, each with evidence signed by A's key.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import shutil
import time
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import add_and_wait, backend, target
from federation_nodes import (INBOX, Member, db_rows, envelope, init_member, metric, node_key, pin,
                              post_inbox, signed, unsigned_error, verify_signed, wait_until)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: witnessing")

WAIT = 120  # seconds; the machine is slow


# --------------------------------------------------------------------------------------
# C2SP signed notes, checkpoints and cosignatures, written again here
# --------------------------------------------------------------------------------------


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(name: str, kind: int, key: Ed25519PublicKey) -> bytes:
    """sumdb/note key id: the first 4 bytes of SHA-256(name, newline, type byte, key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + raw_public(key)).digest()[:4]


def split_note(note: str) -> tuple[str, list[str]]:
    """The text (with its final newline) and the signature lines of a signed note."""
    cut = note.rindex("\n\n")
    return note[:cut + 1], [l for l in note[cut + 2:].split("\n") if l]


def parse_checkpoint(text: str) -> tuple[str, int, bytes]:
    origin, size, root = text.split("\n")[:3]
    return origin, int(size), base64.b64decode(root)


def sig_line(line: str) -> tuple[str, bytes]:
    assert line.startswith("\u2014 "), line
    name, b64 = line[2:].split(" ")
    return name, base64.b64decode(b64)


def check_log_signature(note: str, origin: str, key: Ed25519PublicKey) -> tuple[int, bytes]:
    """The size and root of a checkpoint note after checking the log's Ed25519 signature."""
    text, lines = split_note(note)
    got_origin, size, root = parse_checkpoint(text)
    assert got_origin == origin, (got_origin, origin)
    sigs = [sig_line(l) for l in lines]
    mine = [raw for name, raw in sigs if name == origin and raw[:4] == key_id(origin, 1, key)]
    assert mine, f"no signature of {origin} in {lines}"
    key.verify(mine[0][4:], text.encode())
    return size, root


def cosigners(note: str, witnesses: dict[str, tuple[str, Ed25519PublicKey]]) -> set[str]:
    """Which of `witnesses` (letter -> (cosigner name, key)) validly cosigned the note
    (cosignature/v1: 8-byte timestamp, then Ed25519 over `cosignature/v1`, the time line
    and the checkpoint text). A line claiming a witness that does not verify fails."""
    text, lines = split_note(note)
    found = set()
    for line in lines:
        name, raw = sig_line(line)
        for letter, (wname, key) in witnesses.items():
            if name == wname and raw[:4] == key_id(wname, 4, key):
                ts = int.from_bytes(raw[4:12], "big")
                assert abs(ts - time.time()) < 3600, ts
                key.verify(raw[12:], f"cosignature/v1\ntime {ts}\n".encode() + text.encode())
                found.add(letter)
    return found


def sign_note(text: str, origin: str, key: Ed25519PrivateKey) -> str:
    kid = key_id(origin, 1, key.public_key())
    sig = base64.b64encode(kid + key.sign(text.encode())).decode()
    return f"{text}\n\u2014 {origin} {sig}\n"


# --------------------------------------------------------------------------------------
# nodes
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def witnessing_world(tmp, letters: str = "ABC"):
    with contextlib.ExitStack() as stack:
        members = {x: init_member(tmp, x, stack) for x in letters}
        for a in letters:
            for b in letters:
                if a != b:
                    pin(members[a], members[b])
        for m in members.values():
            with open(m.node.data_dir / "comity.toml", "a") as f:
                f.write("\n[witnessing]\ninterval_seconds = 1\n")
            m.start()
        yield members


def get(m: Member, path: str) -> requests.Response:
    return requests.get(m.url + path, auth=m.node.admin, timeout=30)


def origin_of(m: Member) -> str:
    r = get(m, "/log/checkpoint")
    assert r.status_code == 200, r.text
    return r.text.split("\n")[0]


def witness_keys(members: dict[str, Member], but: str) -> dict[str, tuple[str, Ed25519PublicKey]]:
    return {x: (origin_of(m), m.key) for x, m in members.items() if x != but}


def latest_fully_cosigned(members: dict[str, Member], x: str) -> str | None:
    """x's latest checkpoint when it carries valid cosignatures from every other node."""
    r = get(members[x], "/log/checkpoint")
    if r.status_code != 200:
        return None
    want = set(members) - {x}
    return r.text if cosigners(r.text, witness_keys(members, x)) == want else None


def alerts(m: Member) -> list[dict]:
    cp = m.node.cli("witness", "alerts", "--data-dir", m.node.data_dir, check=False)
    out = cp.stdout.decode().strip()
    assert cp.returncode == (1 if out else 0), (cp.returncode, out, cp.stderr)
    rows = []
    for line in filter(None, out.split("\n")):
        id_, at, peer, kind, detail = line.split("\t")
        rows.append({"id": int(id_), "at": at, "peer": peer, "kind": kind, "detail": detail})
    return rows


def alert(m: Member, id_: int) -> dict:
    return json.loads(m.node.cli("witness", "alert", str(id_), "--data-dir", m.node.data_dir).stdout)


def post_objects(m: Member, n: int, tag: str):
    objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2026-11-27T08:00:00.000Z", "modified": "2026-11-27T08:00:00.000Z",
             "name": f"{tag} {i}", "pattern": f"[ipv4-addr:value = '203.0.113.{i % 250}']",
             "pattern_type": "stix", "valid_from": "2026-11-27T08:00:00Z"} for i in range(n)]
    add_and_wait(m.node, m.node.collections["default"], objs, user=m.node.admin)


def checkpoint_envelope(frm: Member, to: Member, text: str, key: Ed25519PrivateKey, **over) -> tuple[dict, bytes]:
    env = envelope(frm.id, to.id, 0, kind="checkpoint", body={"add_checkpoint": text}, **over)
    return env, signed(env, key)


def witness_answer(r: requests.Response, by: Member, to: Member, env: dict, status: int) -> dict:
    """The body of a signed `cosignature` answer to `env` with HTTP `status`."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:1500]}"
    ans = verify_signed(r.content, by.key)
    assert (ans["kind"], ans["from"], ans["to"], ans["seq"]) == ("cosignature", by.id, to.id, 0), ans
    body = ans["body"]
    assert body["envelope"] == env["id"] and body["status"] == status, body
    return body


# --------------------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------------------


def test_three_nodes_collect_cosignatures_and_a_forked_checkpoint_raises_an_alert(tmp_path):
    with witnessing_world(tmp_path) as w:
        a, b, c = w["A"], w["B"], w["C"]
        post_objects(a, 3, "grow A")
        nodes = [m.node for m in w.values()]
        for x in "ABC":
            wait_until(lambda: latest_fully_cosigned(w, x), WAIT, f"{x} cosigned by the others", nodes=nodes)
        # The largest cosigned checkpoint, also from the CLI, carries both cosignatures.
        for x, m in w.items():
            for note in (get(m, "/log/checkpoint/cosigned").text,
                         m.node.cli("witness", "checkpoint", "--data-dir", m.node.data_dir).stdout.decode()):
                check_log_signature(note, origin_of(m), m.key)
                assert cosigners(note, witness_keys(w, x)) == set(w) - {x}, note
            for peer in set(w) - {x}:
                assert (metric(m.node, "comity_witness_cosignatures_total", peer=w[peer].id) or 0) >= 1
        assert all(alerts(m) == [] for m in w.values())

        # B's witness state for A is A's latest checkpoint, once A's log is still.
        note = wait_until(lambda: latest_fully_cosigned(w, "A"), WAIT, "A still", nodes=nodes)
        a_origin = origin_of(a)
        size, root = check_log_signature(note, a_origin, a.key)
        key_a = node_key(a)

        # A forked checkpoint: A's real key, the size B cosigned, another root.
        forged_text = f"{a_origin}\n{size}\n{base64.b64encode(hashlib.sha256(b'fork').digest()).decode()}\n"
        forged = sign_note(forged_text, a_origin, key_a)
        env, data = checkpoint_envelope(a, b, f"old {size}\n\n{forged}", key_a)
        body = witness_answer(post_inbox(b, data, key_a), b, a, env, 422)
        assert body["outcome"] == "refused" and "forked" in body["reason"], body
        assert check_log_signature(body["evidence"], a_origin, a.key) == (size, root)
        assert cosigners(body["evidence"], {"B": (origin_of(b), b.key)}) == {"B"}
        found = alerts(b)
        assert [(x["peer"], x["kind"]) for x in found] == [(a.id, "fork")], found
        ev = alert(b, found[0]["id"])
        assert ev["theirs"] == forged
        assert check_log_signature(ev["ours"], a_origin, a.key) == (size, root)
        assert metric(b.node, "comity_witness_alerts_total", kind="fork") == 1
        # The same forgery again: the same evidence, kept once.
        env2, data2 = checkpoint_envelope(a, b, f"old {size}\n\n{forged}", key_a)
        witness_answer(post_inbox(b, data2, key_a), b, a, env2, 422)
        assert len(alerts(b)) == 1
        # Committed to B's log (SQLite: read B's entries directly).
        # Sealed entries (version 2): actor and subject are in the openings kept beside them.
        rows = db_rows(b, "SELECT e.entry, o.opening FROM tlog_entries e JOIN tlog_openings o USING (idx)")
        if rows is not None:
            logged = [json.loads(r[1]) for r in rows if b'"witness.alert"' in r[0]]
            assert [(e["actor"], e["subject"]) for e in logged] == [(a.id, f"witness-alert:{found[0]['id']}")]

        # Bad input: precise refusals, no alert, no change.
        good = f"old {size}\n\n{note}"
        stranger = Ed25519PrivateKey.generate()
        env, data = checkpoint_envelope(a, b, good, stranger)
        unsigned_error(post_inbox(b, data, key_a), 400, "does not verify with the pinned key")
        unsigned_error(post_inbox(b, data, stranger), 401, "not signed with the pinned key of a registered")
        env, data = checkpoint_envelope(a, b, good, key_a, **{"from": "identity--" + str(uuid.uuid4())})
        unsigned_error(post_inbox(b, data, key_a), 401, "not signed with the pinned key of a registered")
        env, data = checkpoint_envelope(a, b, f"old {size}\nnot*a*hash\n\n{note}", key_a)
        body = witness_answer(post_inbox(b, data, key_a), b, a, env, 400)
        assert "proof line is not a base64 hash" in body["reason"], body
        for extra, want in ((1 << 20, "the limit is 1048576"), ((1 << 20) + 8192, "request body too large")):
            big = sign_note(forged_text + "x" * extra + "\n", a_origin, key_a)
            env, data = checkpoint_envelope(a, b, f"old {size}\n\n{big}", key_a)
            body = witness_answer(post_inbox(b, data, key_a), b, a, env, 400)
            assert want in body["reason"], body
        impostor = sign_note(forged_text, a_origin, stranger)
        env, data = checkpoint_envelope(a, b, f"old {size}\n\n{impostor}", key_a)
        body = witness_answer(post_inbox(b, data, key_a), b, a, env, 403)
        assert "not signed by the pinned key" in body["reason"], body
        assert len(alerts(b)) == 1 and metric(b.node, "comity_witness_alerts_total", kind="fork") == 1
        # A's next real checkpoint is still cosigned by B (and C).
        post_objects(a, 2, "grow A again")
        later = wait_until(lambda: latest_fully_cosigned(w, "A"), WAIT, "A cosigned after growing", nodes=nodes)
        assert check_log_signature(later, a_origin, a.key)[0] > size
        assert all(alerts(m) == [] for m in (a, c))


@pytest.mark.skipif(backend() != "sqlite", reason="rolls back the SQLite database file")
def test_a_rolled_back_node_is_caught_by_its_witnesses(tmp_path):
    with witnessing_world(tmp_path) as w:
        a, b, c = w["A"], w["B"], w["C"]
        nodes = [m.node for m in w.values()]
        post_objects(a, 2, "before")
        wait_until(lambda: latest_fully_cosigned(w, "A"), WAIT, "A cosigned", nodes=nodes)
        # Keep a copy of A's database as it is now.
        a.node.stop()
        saved = tmp_path / "saved"
        saved.mkdir()
        db_files = [p for p in a.node.data_dir.iterdir() if p.name.startswith("comity.sqlite3")]
        for p in db_files:
            shutil.copy2(p, saved / p.name)
        a.start()
        post_objects(a, 8, "after")
        grown = wait_until(lambda: latest_fully_cosigned(w, "A"), WAIT, "A cosigned larger", nodes=nodes)
        a_origin = origin_of(a)
        big_size, _ = check_log_signature(grown, a_origin, a.key)
        # Roll A back.
        a.node.stop()
        for p in a.node.data_dir.iterdir():
            if p.name.startswith("comity.sqlite3"):
                p.unlink()
        for p in saved.iterdir():
            shutil.copy2(p, a.node.data_dir / p.name)
        a.start()
        post_objects(a, 1, "rolled back")

        def caught():
            got = {x: alerts(w[x]) for x in "ABC"}
            return got if got["B"] and got["C"] and len(got["A"]) >= 2 else None

        got = wait_until(caught, WAIT, "the rollback caught", nodes=nodes)
        for x in "BC":
            # One alert per checkpoint A presented since (A's own alerts grow its log).
            assert {(r["peer"], r["kind"]) for r in got[x]} == {(a.id, "rollback")}, got[x]
            for r in got[x]:
                ev = alert(w[x], r["id"])
                ours = check_log_signature(ev["ours"], a_origin, a.key)
                theirs = check_log_signature(ev["theirs"], a_origin, a.key)
                assert ours[0] == big_size and theirs[0] < big_size, (ours, theirs)
            assert metric(w[x].node, "comity_witness_alerts_total", kind="rollback") >= 1
        assert {(r["peer"], r["kind"]) for r in got["A"]} == {(b.id, "peer-ahead"), (c.id, "peer-ahead")}, got["A"]
        for r in got["A"]:
            ev = alert(a, r["id"])
            assert check_log_signature(ev["ours"], a_origin, a.key)[0] < big_size
        assert metric(a.node, "comity_witness_alerts_total", kind="peer-ahead") >= 1
        # B's and C's witness states still hold the larger checkpoint.
        for x in "BC":
            rows = db_rows(w[x], "SELECT size FROM tlog_witnessed WHERE origin = ?", a_origin)
            assert rows == [(big_size,)], rows
