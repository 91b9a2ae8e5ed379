"""Sealed envelope bodies, written here from RFC 9180 (HPKE base mode, DHKEM(X25519,
HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305) with the `cryptography` primitives only, so the
tests check the node's sealing against an independent implementation of the standard.

A node's X25519 key pair is DeriveKeyPair("comity envelope sealing key v1" || Ed25519 seed);
the HPKE info is "comity-sealed-body/v1 <reader> " + the canonical JSON of
{"from", "to", "kind", "id"} (reader: "receiver" on the wire, "sender-outbox" for the
outbox's own copy); the body on the wire is {"sealed": {"enc": B64, "ct": B64}}.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SEALED_KINDS = {"stix-objects", "sighting", "request", "attachment", "governance"}
KEM_ID, KDF_ID, AEAD_ID = 0x0020, 0x0001, 0x0003
KEM_SUITE = b"KEM" + KEM_ID.to_bytes(2, "big")
HPKE_SUITE = b"HPKE" + KEM_ID.to_bytes(2, "big") + KDF_ID.to_bytes(2, "big") + AEAD_ID.to_bytes(2, "big")
DERIVATION_LABEL = b"comity envelope sealing key v1"


def _extract(salt: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt or b"\0" * 32, ikm, hashlib.sha256).digest()


def _expand(prk: bytes, info: bytes, length: int) -> bytes:
    out, block, i = b"", b"", 1
    while len(out) < length:
        block = hmac.new(prk, block + info + bytes([i]), hashlib.sha256).digest()
        out, i = out + block, i + 1
    return out[:length]


def _labeled_extract(suite: bytes, salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return _extract(salt, b"HPKE-v1" + suite + label + ikm)


def _labeled_expand(suite: bytes, prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    return _expand(prk, length.to_bytes(2, "big") + b"HPKE-v1" + suite + label + info, length)


def _raw(pub: X25519PublicKey) -> bytes:
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


def derive_key(seed: bytes) -> X25519PrivateKey:
    """The X25519 key of the node whose Ed25519 seed is `seed` (RFC 9180 DeriveKeyPair)."""
    prk = _labeled_extract(KEM_SUITE, b"", b"dkp_prk", DERIVATION_LABEL + seed)
    return X25519PrivateKey.from_private_bytes(_labeled_expand(KEM_SUITE, prk, b"sk", b"", 32))


def public_text(key: X25519PrivateKey) -> str:
    return "x25519:" + base64.b64encode(_raw(key.public_key())).decode()


def parse_public(text: str) -> X25519PublicKey:
    assert text.startswith("x25519:"), text
    return X25519PublicKey.from_public_bytes(base64.b64decode(text.removeprefix("x25519:")))


def _key_schedule(shared: bytes, info: bytes) -> tuple[bytes, bytes]:
    psk_id_hash = _labeled_extract(HPKE_SUITE, b"", b"psk_id_hash", b"")
    info_hash = _labeled_extract(HPKE_SUITE, b"", b"info_hash", info)
    context = b"\0" + psk_id_hash + info_hash
    secret = _labeled_extract(HPKE_SUITE, shared, b"secret", b"")
    return (_labeled_expand(HPKE_SUITE, secret, b"key", context, 32),
            _labeled_expand(HPKE_SUITE, secret, b"base_nonce", context, 12))


def _shared(dh: bytes, enc: bytes, pk_r: bytes) -> bytes:
    prk = _labeled_extract(KEM_SUITE, b"", b"eae_prk", dh)
    return _labeled_expand(KEM_SUITE, prk, b"shared_secret", enc + pk_r, 32)


def info(frm: str, to: str, kind: str, env_id: str, reader: str = "receiver") -> bytes:
    ctx = json.dumps({"from": frm, "id": env_id, "kind": kind, "to": to}, sort_keys=True,
                     separators=(",", ":"), ensure_ascii=False)
    return f"comity-sealed-body/v1 {reader} {ctx}".encode()


def seal(recipient: X25519PublicKey, info_: bytes, plaintext: bytes) -> dict:
    eph = X25519PrivateKey.from_private_bytes(os.urandom(32))
    enc = _raw(eph.public_key())
    key, nonce = _key_schedule(_shared(eph.exchange(recipient), enc, _raw(recipient)), info_)
    ct = ChaCha20Poly1305(key).encrypt(nonce, plaintext, b"")
    return {"enc": base64.b64encode(enc).decode(), "ct": base64.b64encode(ct).decode()}


def open_(recipient: X25519PrivateKey, info_: bytes, sealed: dict) -> bytes:
    enc = base64.b64decode(sealed["enc"])
    pk_r = _raw(recipient.public_key())
    shared = _shared(recipient.exchange(X25519PublicKey.from_public_bytes(enc)), enc, pk_r)
    key, nonce = _key_schedule(shared, info_)
    return ChaCha20Poly1305(key).decrypt(nonce, base64.b64decode(sealed["ct"]), b"")


def seal_body(env: dict, recipient: X25519PublicKey) -> dict:
    """The envelope `env` (body in plaintext) with its body sealed to `recipient`."""
    body = json.dumps(env["body"], separators=(",", ":"), ensure_ascii=False).encode()
    sealed = seal(recipient, info(env["from"], env["to"], env["kind"], env["id"]), body)
    return {**env, "body": {"sealed": sealed}}
