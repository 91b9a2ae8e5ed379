"""An independent verifier for comity-tlog's checkpoints and proofs.

Written in Python from the specifications alone (RFC 9162 sections 2.1.3.2 and
2.1.4.2; c2sp.org/signed-note, tlog-checkpoint, tlog-cosignature and
tlog-proof), sharing no code with the Rust crate, and using the `cryptography`
package for Ed25519. The data comes from the crate's test-only example
`tlog_fixture`: run via `cargo run -q -p comity-tlog --example tlog_fixture`
from the repository root, or the binary named by $TLOG_FIXTURE_BIN.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

REPO = Path(__file__).resolve().parents[2]
EM_DASH = "\u2014"


@pytest.fixture(scope="module")
def fixture() -> dict:
    binary = os.environ.get("TLOG_FIXTURE_BIN")
    cmd = [binary] if binary else ["cargo", "run", "-q", "-p", "comity-tlog", "--example", "tlog_fixture"]
    out = subprocess.run(cmd, cwd=REPO, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def leaf_hash(entry: bytes) -> bytes:
    return sha256(b"\x00" + entry)


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right)


def b64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)


def parse_vkey(vkey: str):
    """name+hex(key id)+base64(type || public key); checks the key id."""
    name, hex_id, material = vkey.split("+", 2)
    raw = b64(material)
    sig_type, public = raw[0], raw[1:]
    assert len(public) == 32
    key_id = sha256(name.encode() + b"\n" + bytes([sig_type]) + public)[:4]
    assert key_id.hex() == hex_id, "key id is SHA-256(name || 0x0A || type || key)[:4]"
    return name, key_id, sig_type, Ed25519PublicKey.from_public_bytes(public)


def split_note(msg: str):
    """Text (with its final newline) and [(name, key id, signature bytes)]."""
    cut = msg.rindex("\n\n")
    text, sig_block = msg[: cut + 1], msg[cut + 2 :]
    sigs = []
    for line in sig_block.splitlines():
        assert line.startswith(EM_DASH + " ")
        name, sig = line[2:].split(" ")
        raw = b64(sig)
        sigs.append((name, raw[:4], raw[4:]))
    return text, sigs


def find_sig(sigs, name, key_id) -> bytes:
    found = [s for (n, k, s) in sigs if n == name and k == key_id]
    assert len(found) == 1
    return found[0]


def parse_checkpoint(text: str):
    lines = text.split("\n")
    assert lines[-1] == ""
    origin, size, root = lines[0], int(lines[1]), b64(lines[2])
    assert str(size) == lines[1] and len(root) == 32
    return origin, size, root


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: list[bytes]) -> bytes:
    """RFC 9162, 2.1.3.2."""
    if index >= size:
        raise ValueError("index out of range")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ValueError("proof too long")
        if fn % 2 == 1 or fn == sn:
            r = node_hash(p, r)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ValueError("proof too short")
    return r


def consistent(first: int, second: int, first_hash: bytes, second_hash: bytes, proof: list[bytes]) -> bool:
    """RFC 9162, 2.1.4.2, for 0 < first < second."""
    if not proof:
        return False
    if first & (first - 1) == 0:
        proof = [first_hash] + proof
    fn, sn = first - 1, second - 1
    while fn % 2 == 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while fn % 2 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_hash and sr == second_hash and sn == 0


def test_checkpoint_log_signature_verifies(fixture):
    name, key_id, sig_type, key = parse_vkey(fixture["log_vkey"])
    assert sig_type == 0x01
    text, sigs = split_note(fixture["checkpoint"])
    assert parse_checkpoint(text)[0] == fixture["origin"] == name
    signature = find_sig(sigs, name, key_id)
    key.verify(signature, text.encode())
    with pytest.raises(InvalidSignature):
        key.verify(signature, text.replace("\n37\n", "\n38\n").encode())


def test_witness_cosignature_verifies(fixture):
    name, key_id, sig_type, key = parse_vkey(fixture["witness_vkey"])
    assert sig_type == 0x04
    text, sigs = split_note(fixture["checkpoint"])
    raw = find_sig(sigs, name, key_id)
    assert len(raw) == 8 + 64
    timestamp = int.from_bytes(raw[:8], "big")
    message = f"cosignature/v1\ntime {timestamp}\n{text}".encode()
    key.verify(raw[8:], message)
    with pytest.raises(InvalidSignature):
        key.verify(raw[8:], f"cosignature/v1\ntime {timestamp + 1}\n{text}".encode())


def test_every_inclusion_proof_verifies_against_the_checkpoint(fixture):
    text, _ = split_note(fixture["checkpoint"])
    _, size, root = parse_checkpoint(text)
    assert size == len(fixture["entries"]) == len(fixture["inclusion"])
    for entry, proof in zip(fixture["entries"], fixture["inclusion"]):
        # Entries are canonical JSON: sorted keys, no whitespace.
        assert json.dumps(json.loads(entry), sort_keys=True, separators=(",", ":"), ensure_ascii=False) == entry
        hashes = [b64(h) for h in proof["hashes"]]
        leaf = leaf_hash(entry.encode())
        assert root_from_inclusion(proof["index"], size, leaf, hashes) == root
        assert root_from_inclusion(proof["index"], size, leaf_hash(entry.encode() + b" "), hashes) != root


def test_version_2_entries_commit_to_their_openings(fixture):
    """Entry version 2, from its description: the entry shows kind and time, and its
    commitment is SHA-256 of the domain line and the opening's canonical bytes."""
    assert len(fixture["openings"]) == len(fixture["entries"])
    salts = set()
    for entry, opening in zip(fixture["entries"], fixture["openings"]):
        e, o = json.loads(entry), json.loads(opening)
        assert sorted(e) == ["commitment", "kind", "time", "v"] and e["v"] == 2
        assert sorted(o) == ["actor", "salt", "sha256", "subject"]
        assert json.dumps(o, sort_keys=True, separators=(",", ":"), ensure_ascii=False) == opening
        assert len(o["salt"]) == 64 and o["subject"] not in entry
        salts.add(o["salt"])
        digest = hashlib.sha256(b"comity/log-opening/v2\n" + opening.encode()).hexdigest()
        assert e["commitment"] == digest
        changed = opening.replace(o["salt"], "0" * 64)
        assert hashlib.sha256(b"comity/log-opening/v2\n" + changed.encode()).hexdigest() != digest
    assert len(salts) == len(fixture["entries"])


def test_consistency_proof_from_an_older_tree_verifies(fixture):
    text, _ = split_note(fixture["checkpoint"])
    _, size, root = parse_checkpoint(text)
    c = fixture["consistency"]
    old_root = b64(c["old_root"])
    proof = [b64(h) for h in c["hashes"]]
    assert consistent(c["old_size"], size, old_root, root, proof)
    assert not consistent(c["old_size"], size, root, old_root, proof)


def test_tlog_proof_text_verifies(fixture):
    lines = fixture["tlog_proof"].split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert lines[1].startswith("index ")
    index = int(lines[1][len("index ") :])
    blank = lines.index("", 2)
    proof = [b64(h) for h in lines[2:blank]]
    note = "\n".join(lines[blank + 1 :])
    assert note == fixture["checkpoint"]
    name, key_id, _, key = parse_vkey(fixture["log_vkey"])
    text, sigs = split_note(note)
    key.verify(find_sig(sigs, name, key_id), text.encode())
    _, size, root = parse_checkpoint(text)
    entry = fixture["entries"][index].encode()
    assert root_from_inclusion(index, size, leaf_hash(entry), proof) == root
