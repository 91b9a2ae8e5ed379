"""The transparency log of a running node, driven through `comity log …` and HTTP.

Objects posted over TAXII are committed to the log through salted commitments (entry
version 2) that open, for an admin, to exactly the object (`/log/objects/…` and
`comity log verify-object`); `comity log checkpoint/entry/prove`
give a proof that `comity log verify` and an independent Python verifier (the one of
test_tlog_independent.py, written from the RFC and C2SP specs) accept; a node killed with
SIGKILL during heavy appends keeps every acknowledged entry and stays consistent with every
checkpoint it published; two logs signed by the same key (a fork) are caught by
`comity log audit` and by the witness endpoint, with the evidence printed.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading
import time
from pathlib import Path

import requests

from conftest import add_and_wait, make_indicator, post_objects, running_comity, taxii_headers
from test_tlog_independent import (
    b64,
    consistent,
    find_sig,
    leaf_hash,
    parse_checkpoint,
    parse_vkey,
    root_from_inclusion,
    split_note,
)


def canonical(obj: dict) -> bytes:
    """RFC 8785 for the ASCII, integer-free objects of these tests."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def log_cli(node, *args, check=True) -> subprocess.CompletedProcess:
    return node.cli("log", *args, "--data-dir", node.data_dir, check=check)


def checkpoint_of(node) -> str:
    return log_cli(node, "checkpoint").stdout.decode()


def verify_note(note: str, vkey: str):
    """Checks the log signature independently; returns (origin, size, root)."""
    name, key_id, sig_type, key = parse_vkey(vkey)
    assert sig_type == 0x01
    text, sigs = split_note(note)
    key.verify(find_sig(sigs, name, key_id), text.encode())
    return parse_checkpoint(text)


def entries_of(node, size: int) -> list[bytes]:
    return [log_cli(node, "entry", str(i)).stdout for i in range(size)]


def tree_root(leaves: list[bytes]) -> bytes:
    """RFC 9162 MTH, straight from the definition."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + tree_root(leaves[:k]) + tree_root(leaves[k:])).digest()


def test_posted_objects_are_committed_and_proofs_verify_independently(comity_binary, tmp_path):
    with running_comity(tmp_path) as node:
        vkey = log_cli(node, "key").stdout.decode().strip()
        objects = [make_indicator(i) for i in range(5)]
        st = add_and_wait(node, node.collections["default"], objects)
        assert st["success_count"] == 5
        note = checkpoint_of(node)
        origin, size, root = verify_note(note, vkey)
        assert origin == vkey.split("+")[0]
        entries = entries_of(node, size)
        assert tree_root([leaf_hash(e) for e in entries]) == root
        accepted = [json.loads(e) for e in entries if json.loads(e)["kind"] == "object.accepted"]
        assert len(accepted) == 5
        # Version 2: an entry shows its kind and time; the rest is a salted commitment,
        # opened only for a reader of the object, with the object.
        for entry in accepted:
            assert sorted(entry) == ["commitment", "kind", "time", "v"] and entry["v"] == 2
        commitments = {e["commitment"] for e in accepted}
        (tmp_path / "key").write_text(vkey + "\n")
        for obj in objects:
            found = opened(node, obj)
            assert found["entry"] in [e.decode() for e in entries]
            assert json.loads(found["entry"])["commitment"] in commitments
            opening = json.loads(found["opening"])
            assert opening["subject"] == f"{obj['id']}@{obj['modified']}"
            assert opening["sha256"] == hashlib.sha256(canonical(obj)).hexdigest()
            assert opening["actor"] == origin  # no created_by_ref: this node originated it
            # Offline, with the CLI: the object, its entry, opening and proof.
            (tmp_path / "commitments.json").write_text(json.dumps({"commitments": [found]}))
            (tmp_path / "object.json").write_text(json.dumps(obj))
            ok = node.cli("log", "verify-object", "--key", tmp_path / "key",
                          tmp_path / "commitments.json", tmp_path / "object.json")
            assert b"OK: " + opening["subject"].encode() in ok.stdout
        # A changed object, a forged opening or a proof of another entry do not verify.
        found = opened(node, objects[0])
        bad_object = dict(objects[0], pattern="[ipv4-addr:value = '192.0.2.1']")
        salt = json.loads(found["opening"])["salt"]
        forged = dict(found, opening=found["opening"].replace(salt, "0" * 64))
        other = dict(found, proof=opened(node, objects[1])["proof"])
        for name, commitment, obj in [("object", found, bad_object), ("opening", forged, objects[0]),
                                      ("proof", other, objects[0])]:
            (tmp_path / "commitments.json").write_text(json.dumps({"commitments": [commitment]}))
            (tmp_path / "object.json").write_text(json.dumps(obj))
            bad = node.cli("log", "verify-object", "--key", tmp_path / "key",
                           tmp_path / "commitments.json", tmp_path / "object.json", check=False)
            assert bad.returncode == 1 and b"verification failed" in bad.stderr, name

        index = size - 1
        proof_text = log_cli(node, "prove", str(index)).stdout
        (tmp_path / "proof").write_bytes(proof_text)
        (tmp_path / "entry").write_bytes(entries[index])
        ok = node.cli("log", "verify", "--key", tmp_path / "key", tmp_path / "proof", tmp_path / "entry")
        assert b"OK" in ok.stdout
        (tmp_path / "bad").write_bytes(entries[index] + b" ")
        bad = node.cli("log", "verify", "--key", tmp_path / "key", tmp_path / "proof", tmp_path / "bad",
                       check=False)
        assert bad.returncode != 0 and b"verification failed" in bad.stderr

        # The proof, checked by the independent verifier.
        lines = proof_text.decode().split("\n")
        assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[1] == f"index {index}"
        blank = lines.index("", 2)
        hashes = [b64(h) for h in lines[2:blank]]
        proof_note = "\n".join(lines[blank + 1:])
        _, p_size, p_root = verify_note(proof_note, vkey)
        assert root_from_inclusion(index, p_size, leaf_hash(entries[index]), hashes) == p_root

        # Tiles and the checkpoint over HTTP, for authenticated callers only.
        r = requests.get(node.base + "/log/checkpoint", timeout=10)
        assert r.status_code == 401
        r = requests.get(node.base + "/log/checkpoint", auth=node.admin, timeout=10)
        assert r.status_code == 200
        _, http_size, _ = verify_note(r.text, vkey)
        r = requests.get(node.base + f"/log/tile/0/000.p/{http_size}", auth=node.admin, timeout=10)
        assert r.status_code == 200
        assert [r.content[i:i + 32] for i in range(0, len(r.content), 32)] == [
            leaf_hash(e) for e in entries_of(node, http_size)]


def test_kill9_during_appends_keeps_acknowledged_entries_and_consistency(comity_binary, tmp_path):
    with running_comity(tmp_path) as node:
        vkey = log_cli(node, "key").stdout.decode().strip()
        cid = node.collections["default"]
        acknowledged: list[dict] = []
        published: list[tuple[int, bytes]] = []
        stop = threading.Event()

        def writer(offset: int):
            session = node.session()
            i = 0
            while not stop.is_set():
                batch = [make_indicator(offset + i * 200 + k) for k in range(200)]
                i += 1
                try:
                    r = post_objects(node, cid, batch, session=session, timeout=30)
                except requests.RequestException:
                    return
                if r.status_code == 202:
                    acknowledged.extend(batch)

        threads = [threading.Thread(target=writer, args=(n * 1_000_000,)) for n in range(2)]
        for t in threads:
            t.start()
        deadline = time.time() + 4
        while time.time() < deadline:
            r = requests.get(node.base + "/log/checkpoint", auth=node.admin, timeout=10)
            _, size, root = verify_note(r.text, vkey)
            published.append((size, root))
            time.sleep(0.3)
        node.kill9()
        stop.set()
        for t in threads:
            t.join(30)
        assert acknowledged and published

        node.start()
        _, size, root = verify_note(checkpoint_of(node), vkey)
        entries = entries_of_range(node, size)
        leaves = [leaf_hash(e) for e in entries]
        assert tree_root(leaves) == root
        # Every acknowledged object has its entry: each of a sample opens to it.
        assert sum(json.loads(e)["kind"] == "object.accepted" for e in entries) >= len(acknowledged)
        on_record = {e.decode() for e in entries}
        for obj in acknowledged[::max(1, len(acknowledged) // 25)] + acknowledged[-1:]:
            found = opened(node, obj)
            assert found["entry"] in on_record and found["index"] < size
        for old_size, old_root in published:
            assert old_size <= size
            if old_size:
                assert tree_root(leaves[:old_size]) == old_root


def opened(node, obj: dict) -> dict:
    """The one commitment the node gives an admin for `obj` (in the default collection),
    checked the way an independent reader would: the opening hashes to the commitment."""
    cid = node.collections["default"]
    r = requests.get(node.base + f"/log/objects/{node.api_root_name}/{cid}/{obj['id']}/",
                     auth=node.admin, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    (found,) = r.json()["commitments"]
    digest = hashlib.sha256(b"comity/log-opening/v2\n" + found["opening"].encode()).hexdigest()
    assert json.loads(found["entry"])["commitment"] == digest
    return found


def entries_of_range(node, size: int) -> list[bytes]:
    """Every entry, read from the entry bundles (`/log/tile/entries/…`)."""
    out: list[bytes] = []
    for n in range((size + 255) // 256):
        width = min(256, size - n * 256)
        path = f"{n:03d}" if n < 1000 else None
        assert path is not None
        suffix = "" if width == 256 else f".p/{width}"
        r = requests.get(node.base + f"/log/tile/entries/{path}{suffix}", auth=node.admin, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        data, i = r.content, 0
        while i < len(data):
            length = int.from_bytes(data[i:i + 2], "big")
            out.append(data[i + 2:i + 2 + length])
            i += 2 + length
    assert len(out) == size
    return out


def test_a_fork_is_detected_by_audit_and_by_the_witness(comity_binary, tmp_path):
    with running_comity(tmp_path / "a") as a, running_comity(tmp_path / "w") as w:
        vkey = log_cli(a, "key").stdout.decode().strip()
        origin = vkey.split("+")[0]
        add_and_wait(a, a.collections["default"], [make_indicator(i) for i in range(3)])
        a_note = checkpoint_of(a)
        # A second node signing with the very same key: a split view of "one" log.
        key_env = {"COMITY_NODE_KEY_FILE": str(a.data_dir / "node.key")}
        b_dir = tmp_path / "b" / "data"
        from conftest import ComityNode

        b = ComityNode(b_dir)
        b.cli("init", "--data-dir", b_dir, env={"COMITY_ADMIN_PASSWORD": "secret", **key_env})
        try:
            import os

            old = os.environ.get("COMITY_NODE_KEY_FILE")
            os.environ["COMITY_NODE_KEY_FILE"] = key_env["COMITY_NODE_KEY_FILE"]
            try:
                b.start()
                b.cli("log", "checkpoint", "--data-dir", b_dir)
            finally:
                if old is None:
                    del os.environ["COMITY_NODE_KEY_FILE"]
                else:
                    os.environ["COMITY_NODE_KEY_FILE"] = old
            add_and_wait(b, b.collections["default"], [make_indicator(100 + i) for i in range(9)])
            b_note = requests.get(b.base + "/log/checkpoint", auth=b.admin, timeout=10).text
            assert verify_note(b_note, vkey)[0] == origin

            log_cli(w, "trust", origin, vkey)
            url_a = f"http://admin:secret@127.0.0.1:{a.port}"
            url_b = f"http://admin:secret@127.0.0.1:{b.port}"
            first = w.cli("log", "audit", url_a, "--data-dir", w.data_dir)
            assert b"OK" in first.stdout
            again = w.cli("log", "audit", url_a, "--data-dir", w.data_dir)
            assert b"OK" in again.stdout
            fork = w.cli("log", "audit", url_b, "--data-dir", w.data_dir, check=False)
            assert fork.returncode != 0, fork.stdout
            out = fork.stdout.decode()
            assert "FORK" in out
            assert a_note.split("\n\n")[0] in out and b_note.split("\n\n")[0] in out

            # The witness endpoint of a fresh witness: cosigns A, refuses B's fork with 422.
            with running_comity(tmp_path / "w2") as w2:
                log_cli(w2, "trust", origin, vkey)
                _, a_size, _ = parse_checkpoint(split_note(a_note)[0])
                r = requests.post(w2.base + "/log/add-checkpoint", data=f"old 0\n\n{a_note}", timeout=10)
                assert r.status_code == 200, r.text
                assert r.text.startswith("\u2014 ")
                b_same = requests.get(b.base + "/log/checkpoint", auth=b.admin, timeout=10).text
                _, b_size, _ = parse_checkpoint(split_note(b_same)[0])
                # B's log at A's size differs from A: prove B's size from A's size out of B's tiles.
                proof = consistency_from_tiles(b, a_size, b_size)
                body = f"old {a_size}\n" + "".join(base64_line(h) for h in proof) + "\n" + b_same
                r = requests.post(w2.base + "/log/add-checkpoint", data=body, timeout=10)
                assert r.status_code == 422, (r.status_code, r.text)
                assert "fork evidence" in w2.log()
                unknown = a_note.replace(origin, origin + "x", 1)
                r = requests.post(w2.base + "/log/add-checkpoint", data=f"old 0\n\n{unknown}", timeout=10)
                assert r.status_code in (403, 404)
        finally:
            b.stop()


def base64_line(h: bytes) -> str:
    import base64

    return base64.b64encode(h).decode() + "\n"


def consistency_from_tiles(node, old: int, new: int) -> list[bytes]:
    """RFC 9162 SUBPROOF over the level-0 hashes of the node's tiles (small trees only)."""
    assert new <= 256
    r = requests.get(node.base + f"/log/tile/0/000.p/{new}" if new < 256 else node.base + "/log/tile/0/000",
                     auth=node.admin, timeout=10)
    leaves = [r.content[i:i + 32] for i in range(0, len(r.content), 32)]

    def subproof(m, leaves, complete):
        n = len(leaves)
        if m == n:
            return [] if complete else [tree_root(leaves)]
        k = 1
        while k * 2 < n:
            k *= 2
        if m <= k:
            return subproof(m, leaves[:k], complete) + [tree_root(leaves[k:])]
        return subproof(m - k, leaves[k:], False) + [tree_root(leaves[:k])]

    proof = subproof(old, leaves, True)
    assert not consistent(old, new, b"\0" * 32, tree_root(leaves), proof)
    return proof
