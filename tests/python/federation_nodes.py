"""Real federations of `comity serve` processes for the Python tests, set up only with the
CLI (see test_federation.py): members (`init` with endpoints, mutual `member add`),
agreements proposed by one party and signed by every other, the policy engine's rules
computed here in Python, the nodes' journals, metrics and logs read back, signed envelopes
and inbox requests made by hand, and a TCP proxy that misbehaves on purpose. Shared by
test_federation.py, test_federation_inbox_security.py, test_sightings.py,
test_witnessing.py, test_markings_fail_closed.py and test_identity_policy.py.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import random
import re
import socket
import sqlite3
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from sealing import SEALED_KINDS, derive_key, info, open_, parse_public, public_text, seal_body
from conftest import (ADMIN_PASSWORD, ComityNode, assert_taxii_error, backend, fetch_all, free_port,
                      postgres_backend)

# --------------------------------------------------------------------------------------
# constants
# --------------------------------------------------------------------------------------

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"
LEVEL = {CLEAR: 0, GREEN: 1, AMBER: 2, AMBER_STRICT: 3, RED: 4}
LEVEL_BY_NAME = {"clear": 0, "green": 1, "amber": 2, "amber+strict": 3, "red": 4}
NAME_OF_LEVEL = {0: "CLEAR", 1: "GREEN", 2: "AMBER", 3: "AMBER+STRICT", 4: "RED"}
PURPOSES = ("intelligence", "police-cooperation", "judicial-assistance")  # the engine's order
LAW_ENFORCEMENT = {"police-cooperation", "judicial-assistance"}
# properties the engine never counts as content (policy/mod.rs: IDENTITY and ENVELOPE)
NOT_CONTENT = {"type", "spec_version", "id", "created", "modified", "created_by_ref", "object_marking_refs",
               "granular_markings", "x_comity_handling", "x_comity_red_recipients"}

T0 = "2024-05-01T10:00:00.000Z"
INBOX = "/federation/v1/inbox"
# what the inbox tells every request not signed by a registered, active member
NOT_A_MEMBER = "the request is not signed with the pinned key of a registered, active member of this node"
DRAIN_TIMEOUT = 300  # seconds; the machine is slow and backoff grows to minutes

# the three member authorities of the tests
NAMES = {"A": ("CERT-A", "XA", "cert"), "B": ("Police-B", "XB", "police"), "C": ("Police-C", "XC", "police")}


# --------------------------------------------------------------------------------------
# agreements and the policy, restated in Python
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Terms:
    """The terms of an agreement, proposed by its first party (`comity agreement create`)."""
    title: str
    parties: str  # letters, e.g. "AB"
    types: tuple
    max_tlp: str
    purposes: tuple = ("intelligence",)
    handling: tuple = ()

    def covers(self, obj: dict, level: int, purpose: str) -> bool:
        codes = set(obj.get("x_comity_handling", {}).get("codes", []))
        return (obj["type"] in self.types and level <= LEVEL_BY_NAME[self.max_tlp]
                and codes <= set(self.handling) and purpose in self.purposes)


AB = Terms("A-B bilateral", "AB", ("indicator", "malware"), "amber", handling=("H2",))
ABC = Terms("A-B-C trilateral", "ABC", ("indicator",), "green")
# RED reaches C under this one only when an object names C; H0 only for police cooperation
AC_RED = Terms("A-C police channel", "AC", ("indicator",), "red", purposes=("police-cooperation",),
               handling=("H0",))


def level_of(obj: dict) -> int:
    """The object-level TLP level; an object without a TLP marking counts as AMBER."""
    levels = [LEVEL[m] for m in obj.get("object_marking_refs", []) if m in LEVEL]
    return max(levels) if levels else LEVEL[AMBER]


class Model:
    """The sharing rules of the policy engine (crates/node/src/policy), written again from
    their documentation, to say object by object who receives what.

    A sends an object to peer P when, for some purpose of the agreements it shares with P,
    the engine allows it; P's inbox then judges what arrives as A's own object under P's
    copies of those agreements (any purpose), and stores it only if allowed too."""

    def __init__(self, ids: dict[str, str], terms: list[Terms]):
        self.ids = ids
        self.letter = {v: k for k, v in ids.items()}
        self.terms = terms

    def between(self, x: str, y: str) -> list[Terms]:
        return [t for t in self.terms if x in t.parties and y in t.parties]

    def _check(self, obj: dict, level: int, giver: str, receiver: str, originator: str, purpose: str) -> bool:
        """The engine's rules for a peer `receiver` getting `obj` at `level` from `giver`."""
        if originator == receiver:
            return True  # the originating member always gets its own object
        ours = originator == giver
        if not ours and level > LEVEL[GREEN]:
            return False  # another member's AMBER and above is never relayed
        if not self._any_reader(obj, level, receiver, purpose):
            return False
        codes = set(obj.get("x_comity_handling", {}).get("codes", []))
        if not ours and codes & {"H2", "H3"}:
            return False
        # README sharing rule 1: CLEAR too travels only under an agreement that covers it
        return any(t.covers(obj, level, purpose) for t in self.between(giver, receiver))

    def _check_local(self, obj: dict, level: int, reader: str, originator: str, purpose: str) -> bool:
        """The engine's rules for a TAXII read by a user of `reader`'s node."""
        return originator == reader or self._any_reader(obj, level, reader, purpose)

    def _any_reader(self, obj: dict, level: int, reader: str, purpose: str) -> bool:
        """The rules for every reader, local or peer: RED only to its named recipients, H0
        only for police cooperation or judicial assistance, H1 never for judicial assistance."""
        if level == LEVEL[RED] and self.ids[reader] not in obj.get("x_comity_red_recipients", []):
            return False
        codes = set(obj.get("x_comity_handling", {}).get("codes", []))
        if "H0" in codes and purpose not in LAW_ENFORCEMENT:
            return False
        return not ("H1" in codes and purpose == "judicial-assistance")

    @staticmethod
    def _release(obj: dict, check, purposes) -> dict | None:
        """`obj` as the first purpose that allows it releases it (redacted), or None."""
        level = level_of(obj)
        for purpose in purposes:
            if not check(level, purpose):
                continue
            redact = set()
            for g in obj.get("granular_markings", []):
                gl = LEVEL.get(g.get("marking_ref"))
                if gl is not None and gl > level and not check(gl, purpose):
                    redact.update(g["selectors"])
            if not redact:
                return obj
            content = [k for k in obj if k not in NOT_CONTENT]
            if redact & {"type", "spec_version", "id", "created", "modified"} or all(k in redact for k in content):
                return None
            out = {k: v for k, v in obj.items() if k not in redact}
            kept = []
            for g in obj.get("granular_markings", []):
                sel = [s for s in g["selectors"] if s not in redact]
                if sel:
                    kept.append({**g, "selectors": sel})
            if kept:
                out["granular_markings"] = kept
            else:
                out.pop("granular_markings", None)
            return out
        return None

    def sent(self, obj: dict, giver: str, peer: str) -> dict | None:
        """What `giver`'s node queues for `peer` (None: nothing)."""
        agreements = self.between(giver, peer)
        if not agreements:
            return None
        purposes = [p for p in PURPOSES if any(p in t.purposes for t in agreements)]
        by = obj.get("created_by_ref")
        originator = self.letter.get(by, giver) if by else giver
        if originator == peer:
            return None  # a member's own objects are not sent back to it
        return self._release(obj, lambda lvl, p: self._check(obj, lvl, giver, peer, originator, p), purposes)

    def accepted(self, obj: dict, giver: str, receiver: str) -> bool:
        """Whether `receiver`'s inbox stores `obj` from `giver` (judged as `giver`'s own): an
        agreement between them must cover it for the purpose, whatever its TLP (CLEAR too)."""
        level = level_of(obj)
        agreements = self.between(giver, receiver)

        def check(lvl: int, p: str) -> bool:
            return (any(t.covers(obj, level, p) for t in agreements)
                    and self._check(obj, lvl, giver, receiver, giver, p))

        return self._release(obj, check, PURPOSES) is not None

    def read(self, obj: dict, reader: str, origin: str, role: str) -> dict | None:
        """What the admin of `reader`'s node reads over TAXII of an object `origin` shared
        (the collection's origin is the originator, whatever created_by_ref says), for the
        purpose of the reader's member role."""
        purpose = {"police": "police-cooperation", "judicial": "judicial-assistance",
                   "central-authority": "judicial-assistance"}.get(role, "intelligence")
        return self._release(obj, lambda lvl, p: self._check_local(obj, lvl, reader, origin, p), [purpose])

    def read_all(self, stored: dict[str, dict], reader: str, origin: str, role: str) -> dict[str, dict]:
        out = {}
        for i, o in stored.items():
            r = self.read(o, reader, origin, role)
            if r is not None:
                out[i] = r
        return out

    def outcome(self, objects: list[dict], giver: str, peer: str):
        """(sent: id -> object as sent, stored: id -> object as stored) for one peer."""
        sent, stored = {}, {}
        for o in objects:
            s = self.sent(o, giver, peer)
            if s is None:
                continue
            sent[o["id"]] = s
            if self.accepted(s, giver, peer):
                stored[o["id"]] = s
        return sent, stored


# --------------------------------------------------------------------------------------
# objects
# --------------------------------------------------------------------------------------


def indicator(i: int, marking: str | None = CLEAR, **extra) -> dict:
    obj = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0,
        "modified": T0, "name": f"federated indicator {i}",
        "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
        "pattern_type": "stix", "valid_from": T0,
    }
    if marking:
        obj["object_marking_refs"] = [marking]
    obj.update(extra)
    return obj


def malware(i: int, marking: str | None = CLEAR, **extra) -> dict:
    obj = {"type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created": T0,
           "modified": T0, "name": f"federated malware {i}", "is_family": False}
    if marking:
        obj["object_marking_refs"] = [marking]
    obj.update(extra)
    return obj


def mixed_objects(n: int, ids: dict[str, str], seed: int = 20241127) -> list[dict]:
    """`n` objects of A under every marking: both types at every TLP level (and unmarked),
    RED naming B, C, both or nobody, handling codes H0/H1/H2, some of C's (and B's, and a
    stranger's) by their created_by_ref, some with a granular RED description. Each name
    says what the object is, so that a failure reads."""
    rng = random.Random(seed)
    markings = [CLEAR, GREEN, AMBER, AMBER_STRICT, RED, None]
    stranger = f"identity--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
    out = []
    for i in range(n):
        make = indicator if i % 10 < 7 else malware
        marking = markings[(i // 2) % len(markings)] if i < 24 else rng.choice(markings)
        extra: dict = {}
        tags = [make.__name__, NAME_OF_LEVEL[LEVEL[marking]] if marking else "unmarked"]
        if marking == RED:
            who = rng.choice([["B"], ["C"], ["B", "C"], []])
            if who:  # STIX lists are never empty: naming nobody is leaving the property out
                extra["x_comity_red_recipients"] = [ids[w] for w in who]
            tags.append("red->" + ("".join(who) or "nobody"))
        codes = rng.choices([[], ["H2"], ["H0"], ["H1"], ["H0", "H2"]], weights=[60, 15, 15, 5, 5])[0]
        if codes:
            extra["x_comity_handling"] = {"codes": codes}
            tags.append("+".join(codes))
        by = rng.choices(["A", "none", "C", "B", "stranger"], weights=[10, 55, 22, 8, 5])[0]
        if by == "stranger":
            extra["created_by_ref"] = stranger
        elif by != "none":
            extra["created_by_ref"] = ids[by]
        if by not in ("none", "A"):
            tags.append("by " + by)
        if rng.random() < 0.05 and marking in (CLEAR, GREEN, AMBER):
            extra["description"] = "the source is an informant in the group"
            extra["granular_markings"] = [{"selectors": ["description"], "marking_ref": RED}]
            tags.append("granular")
        o = make(i, marking, **extra)
        o["name"] = f"#{i} " + " ".join(tags)
        out.append(o)
    return out


def describe(objs: dict[str, dict], ids, most: int = 25) -> list[str]:
    """The names of the objects `ids` (at most `most` of them, then how many more)."""
    out = sorted(objs[i]["name"] if i in objs else i for i in ids)
    return out if len(out) <= most else out[:most] + [f"... and {len(out) - most} more"]


# --------------------------------------------------------------------------------------
# members: nodes set up with the CLI
# --------------------------------------------------------------------------------------


@dataclass
class Member:
    letter: str
    node: ComityNode
    name: str
    country: str
    role: str
    port: int
    id: str = ""
    public_key: str = ""
    encryption_key: str = ""

    @property
    def key(self) -> Ed25519PublicKey:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(self.public_key.removeprefix("ed25519:")))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli_text(self, *args) -> str:
        return self.node.cli(*args).stdout.decode().strip()

    def start(self):
        self.node.start(port=self.port, timeout=120)


def cli_json(node: ComityNode, *args):
    return json.loads(node.cli(*args).stdout)


def init_member(tmp: Path, letter: str, stack: contextlib.ExitStack, port: int | None = None) -> Member:
    name, country, role = NAMES[letter]
    node = ComityNode(tmp / f"node-{letter.lower()}")
    stack.enter_context(postgres_backend(node.data_dir))  # a no-op unless COMITY_TEST_BACKEND=postgres
    stack.callback(node.stop)
    m = Member(letter, node, name, country, role, port or free_port())
    node.cli("init", "--data-dir", node.data_dir, "--organisation", name, "--country", country,
             "--member-role", role, "--endpoint", m.url, env={"COMITY_ADMIN_PASSWORD": ADMIN_PASSWORD})
    node.admin = ("admin", ADMIN_PASSWORD)
    rec = cli_json(node, "member", "show-local", "--data-dir", node.data_dir)
    m.id, m.public_key, m.encryption_key = rec["identity"]["id"], rec["public_key"], rec["encryption_key"]
    ENCRYPTION_KEYS[m.id] = m.encryption_key
    assert rec["endpoint"] == m.url, rec
    federate_default(node)
    return m


def federate_default(node: ComityNode, state: str = "on") -> str:
    """Sharing a collection is an admin's explicit choice (off for a new one): the members of
    these tests share what is stored in their `default` collection. Returns its id."""
    cid = next(line.split("\t")[0] for line in node.cli("collection", "list", "--data-dir", node.data_dir)
               .stdout.decode().splitlines() if line.split("\t")[1] == "default")
    node.cli("collection", "federate", cid, state, "--data-dir", node.data_dir)
    return cid


def pin(on: Member, peer: Member, endpoint: str | None = None):
    """`on` registers `peer` with its id and key; `endpoint` is where `on` delivers to it."""
    out = on.cli_text("member", "add", "--data-dir", on.node.data_dir, "--name", peer.name, "--country",
                      peer.country, "--role", peer.role, "--public-key", peer.public_key,
                      "--encryption-key", peer.encryption_key, "--id", peer.id, "--endpoint", endpoint or peer.url)
    assert out == peer.id, out


def create_args(m: Member, terms: Terms, members: dict[str, Member]) -> list[str]:
    """`comity agreement create` on `m` for `terms`, with every other party."""
    args = ["agreement", "create", "--data-dir", m.node.data_dir, "--title", terms.title,
            "--type", ",".join(terms.types), "--max-tlp", terms.max_tlp, "--purpose", ",".join(terms.purposes)]
    for other in terms.parties:
        if other != m.letter:
            args += ["--with", members[other].id]
    if terms.handling:
        args += ["--handling", ",".join(terms.handling)]
    return args


def agreement_doc(m: Member, agreement: str) -> bytes:
    """The agreement as `m` holds it (`comity agreement show`: the signed document)."""
    return m.node.cli("agreement", "show", agreement, "--data-dir", m.node.data_dir).stdout


def import_doc(m: Member, doc: bytes, tmp: Path) -> str:
    path = tmp / f"agreement-{uuid.uuid4()}.json"
    path.write_bytes(doc)
    return m.cli_text("agreement", "import", str(path), "--data-dir", m.node.data_dir)


def agreements_of(m: Member) -> dict[str, dict]:
    """id -> {"status", "signed", "missing", "agreement"}, as `m`'s node API lists them."""
    r = requests.get(m.url + "/api/v1/agreements", auth=m.node.admin, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text)
    return {a["agreement"]["id"]: a for a in r.json()["agreements"]}


def sign_agreement(members: dict[str, Member], terms: Terms, tmp: Path) -> dict[str, str]:
    """The first party proposes `terms`, every other party's node signs the proposal, and
    every party takes in every signed copy, the documents handed over out of band (`comity
    agreement create|sign --offline`, `show`, `import`: the outboxes carry only objects).
    Every party then holds the same agreement, signed by all; returns letter -> its id."""
    parties = [members[x] for x in terms.parties]
    proposer = parties[0]
    agreement = proposer.cli_text(*create_args(proposer, terms, members), "--offline")
    assert re.fullmatch(r"agreement--[0-9a-f-]{36}", agreement), agreement
    proposal = agreement_doc(proposer, agreement)
    copies = [proposal]
    for m in parties[1:]:
        assert import_doc(m, proposal, tmp) == agreement
        m.node.cli("agreement", "sign", agreement, "--offline", "--data-dir", m.node.data_dir)
        copies.append(agreement_doc(m, agreement))
    for m in parties:
        for doc in copies:
            import_doc(m, doc, tmp)
        listed = m.cli_text("agreement", "list", "--data-dir", m.node.data_dir)
        line = next(x for x in listed.splitlines() if x.startswith(agreement))
        n = len(parties)
        assert line.split("\t")[1:3] == ["active", f"signed {n}/{n}"], line
    return {x: agreement for x in terms.parties}


@dataclass
class World:
    members: dict[str, Member]
    terms: list[Terms]
    agreements: dict[str, dict[str, str]] = field(default_factory=dict)  # title -> letter -> id
    model: Model = field(init=False)

    def __post_init__(self):
        self.model = Model({k: m.id for k, m in self.members.items()}, self.terms)

    def __getitem__(self, letter: str) -> Member:
        return self.members[letter]


@contextlib.contextmanager
def federation(tmp: Path, letters: str, terms: list[Terms], *, serve: str | None = None,
               endpoints: dict[tuple[str, str], str] | None = None, ports: dict[str, int] | None = None):
    """Members `letters` (on `ports[x]` when given), each pinning every other (at
    `endpoints[(on, peer)]` when given), all signing `terms` (see `sign_agreement`); the members in
    `serve` (default all) serving."""
    with contextlib.ExitStack() as stack:
        members = {x: init_member(tmp, x, stack, port=(ports or {}).get(x)) for x in letters}
        for a in letters:
            for b in letters:
                if a != b:
                    pin(members[a], members[b], (endpoints or {}).get((a, b)))
        signed_ids = {t.title: sign_agreement(members, t, tmp) for t in terms}
        for x in (letters if serve is None else serve):
            members[x].start()
        yield World(members, terms, signed_ids)


# --------------------------------------------------------------------------------------
# observing nodes: TAXII, /metrics, logs, and (SQLite backend) their journals
# --------------------------------------------------------------------------------------


def shared_collection_id(sender: Member) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, sender.id))


def shared_by(receiver: Member, sender: Member) -> list[dict]:
    """Every object in `receiver`'s "Shared by <sender>" collection ([] when it does not exist)."""
    n = receiver.node
    cid = shared_collection_id(sender)
    r = requests.get(n.collection_url(cid), auth=n.admin, headers={"Accept": "application/taxii+json;version=2.1"},
                     timeout=60)
    if r.status_code == 404:
        return []
    assert r.status_code == 200, (r.status_code, r.text)
    col = r.json()
    assert col["title"] == f"Shared by {sender.name}", col
    assert col["can_read"] is True, col
    return fetch_all(n, cid)


def stored_objects(m: Member, where: str, *params) -> list[dict] | None:
    """The object versions of `m`'s collections `c` matching `where`, in row order, read from
    its SQLite database (None on PostgreSQL): the text of rows kept as text, the zstd frame
    of the others unpacked with the dictionary the row names."""
    rows = db_rows(m, "SELECT o.json, o.packed, o.dictionary FROM objects o "
                      "JOIN collections c ON c.ckey = o.ckey WHERE " + where + " ORDER BY o.seq",
                   *params)
    if rows is None:
        return None
    import zstandard
    dictionaries = {i: zstandard.ZstdCompressionDict(b) for i, b in
                    db_rows(m, "SELECT id, bytes FROM dictionaries")}
    out = []
    for text, frame, dictionary in rows:
        if frame is not None:
            d = zstandard.ZstdDecompressor(dict_data=dictionaries[dictionary]) if dictionary \
                else zstandard.ZstdDecompressor()
            text = d.decompress(frame).decode()
        out.append(json.loads(text))
    return out


def stored_rows(receiver: Member, sender: Member) -> list[dict] | None:
    """Every object version in `receiver`'s collection of `sender`'s objects, as stored (SQLite only)."""
    return stored_objects(receiver, "c.origin = ?", sender.id)


def assert_same(got: list[dict], expected: dict[str, dict], names: dict[str, dict], what: str):
    ids = [o["id"] for o in got]
    dups = [i for i, k in Counter(ids).items() if k > 1]
    assert not dups, f"{what}: duplicates {describe(names, dups)}"
    extra = set(ids) - set(expected)
    missing = set(expected) - set(ids)
    assert not extra and not missing, (f"{what}: {len(got)} objects, expected {len(expected)}; "
                                       f"extra {describe(names, extra)}, missing {describe(names, missing)}")
    for o in got:
        assert o == expected[o["id"]], f"{what}: {o.get('name')} differs:\n{o}\n!=\n{expected[o['id']]}"


def assert_holds(w: World, receiver: Member, sender: Member, stored: dict[str, dict], names: dict[str, dict],
                 what: str):
    """`receiver` holds exactly `stored` (id -> object) from `sender`, each once, JSON-equal, and
    nothing else: as stored (SQLite), and as its admin reads the "Shared by <sender>"
    collection over TAXII (which is the policy of a local read: a RED part not naming the
    reader is withheld from it, even of an object the reader's node holds)."""
    rows = stored_rows(receiver, sender)
    if rows is not None:
        assert_same(rows, stored, names, what + " (stored)")
    readable = w.model.read_all(stored, receiver.letter, sender.letter, receiver.role)
    assert_same(shared_by(receiver, sender), readable, names, what + " (TAXII read)")


def metrics(node: ComityNode) -> list[tuple[str, dict, float]]:
    r = requests.get(node.base + "/metrics", auth=node.admin, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    out = []
    for line in r.text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric(node: ComityNode, name: str, **labels) -> float | None:
    """The value of one sample (None when absent)."""
    vals = [v for n, lab, v in metrics(node) if n == name and all(lab.get(k) == w for k, w in labels.items())]
    assert len(vals) <= 1, (name, labels, vals)
    return vals[0] if vals else None


def outbox_figures(node: ComityNode) -> dict[str, tuple[float, float]]:
    """peer -> (pending envelopes, lag in seconds) from /metrics."""
    figures: dict[str, list] = {}
    for n, lab, v in metrics(node):
        if n == "comity_federation_outbox_pending":
            figures.setdefault(lab["peer"], [None, None])[0] = v
        elif n == "comity_federation_outbox_lag_seconds":
            figures.setdefault(lab["peer"], [None, None])[1] = v
    return {k: tuple(v) for k, v in figures.items()}


def wait_until(pred, timeout: float, what: str, *, every: float = 0.25, nodes=()):
    deadline = time.time() + timeout
    while True:
        for n in nodes:
            assert n.alive(), f"{n.data_dir.name} died while waiting for {what}:\n{n.log()}"
        got = pred()
        if got:
            return got
        if time.time() > deadline:
            logs = "\n".join(f"--- {n.data_dir.name}\n{n.log()}" for n in nodes)
            raise AssertionError(f"not {what} after {timeout}s\n{logs}")
        time.sleep(every)


def wait_drained(sender: Member, peers: list[Member], timeout: float = DRAIN_TIMEOUT,
                 others: tuple = ()) -> dict:
    """Until `sender`'s outbox metrics say nothing is pending for any of `peers`."""
    last = {}

    def drained():
        nonlocal last
        last = outbox_figures(sender.node)
        return all(p.id in last and last[p.id][0] == 0 for p in peers)

    try:
        wait_until(drained, timeout, "drained", nodes=[sender.node, *others])
    except AssertionError as e:
        raise AssertionError(f"{sender.letter}'s outbox: {last}\n{e}") from None
    for p in peers:
        assert last[p.id][1] == 0, f"lag {last[p.id][1]} s with nothing pending for {p.letter}"
    return last


def db_rows(m: Member, query: str, *params) -> list | None:
    """Rows of a read-only query on the member's SQLite database (None on PostgreSQL)."""
    if backend() != "sqlite":
        return None
    con = sqlite3.connect(f"file:{m.node.data_dir / 'comity.sqlite3'}?mode=ro", uri=True, timeout=60)
    try:
        return con.execute(query, params).fetchall()
    finally:
        con.close()


def canonical(value) -> bytes:
    """RFC 8785 for the JSON values used here (strings, integers, objects, lists)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# What an envelope's signature covers: these members, and `body_sha256`, the hex SHA-256 of
# the body's bytes exactly as they travel (the body is sent verbatim, never re-serialised).
SIGNED_MEMBERS = ("v", "id", "from", "to", "kind", "created", "seq")


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def raw_members(text: str | bytes) -> dict[str, str]:
    """The members of a JSON object, each value as the exact text it has in `text`."""
    text = text.decode() if isinstance(text, bytes) else text
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0)
    assert text[i] == "{", text[:100]
    out: dict[str, str] = {}
    i = _skip_ws(text, i + 1)
    while text[i] != "}":
        key, i = dec.raw_decode(text, i)
        i = _skip_ws(text, i)
        assert text[i] == ":", text[i:i + 50]
        start = _skip_ws(text, i + 1)
        _, end = dec.raw_decode(text, start)
        out[key] = text[start:end]
        i = _skip_ws(text, end)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
    return out


def raw_elements(text: str) -> list[str]:
    """The elements of a JSON array, each as the exact text it has in `text`."""
    dec = json.JSONDecoder()
    i = _skip_ws(text, 0)
    assert text[i] == "[", text[:100]
    out = []
    i = _skip_ws(text, i + 1)
    while text[i] != "]":
        _, end = dec.raw_decode(text, i)
        out.append(text[i:end])
        i = _skip_ws(text, end)
        if text[i] == ",":
            i = _skip_ws(text, i + 1)
    return out


def signed_part(env: dict, body_text: str | None) -> bytes:
    part = {k: env[k] for k in SIGNED_MEMBERS if k in env}
    if body_text is not None:
        part["body_sha256"] = hashlib.sha256(body_text.encode()).hexdigest()
    return canonical(part)


def verify_signed(text: str | bytes, key: Ed25519PublicKey) -> dict:
    """The envelope (JSON text as it travelled) without its signature, after checking the
    signature with `key`."""
    raw = raw_members(text)
    env = {k: json.loads(v) for k, v in raw.items()}
    sig = env.pop("signature")
    try:
        key.verify(base64.b64decode(sig, validate=True), signed_part(env, raw.get("body")))
    except InvalidSignature:
        raise AssertionError(f"signature does not verify: {env}") from None
    return env


def assert_exactly_once(sender: Member, receiver: Member, sent: dict[str, dict], stored: dict[str, dict]):
    """In the journals (SQLite only): `sender`'s outbox for `receiver` is delivered in full,
    each object queued once; `receiver`'s inbox took the same envelopes, each once, in seq
    order; the receipts (signed by the receiver, the same on both sides) count exactly the
    objects stored and list exactly the ones refused."""
    outbox = db_rows(sender, "SELECT seq, id, body, delivered_at, receipt FROM outbox WHERE peer = ? ORDER BY seq",
                     receiver.id)
    inbox = db_rows(receiver, "SELECT seq, id, outcome, receipt FROM inbox WHERE sender = ? "
                              "ORDER BY received_at, seq", sender.id)
    if outbox is None:
        return
    where = f"{sender.letter} -> {receiver.letter}"
    assert [r[0] for r in outbox] == list(range(1, len(outbox) + 1)), f"{where}: outbox seqs {[r[0] for r in outbox]}"
    assert all(r[3] is not None for r in outbox), f"{where}: undelivered {[r[0] for r in outbox if r[3] is None]}"
    assert [(r[0], r[1]) for r in inbox] == [(r[0], r[1]) for r in outbox], (
        f"{where}: inbox took {[(r[0], r[1][:8]) for r in inbox]}, outbox sent {[(r[0], r[1][:8]) for r in outbox]}")
    assert all(r[2] == "delivered" for r in inbox), f"{where}: {[(r[0], r[2]) for r in inbox]}"
    # The outbox holds each body sealed (to the receiver, and to the sender for itself):
    # opened here with the sender's key, by an independent HPKE implementation.
    assert all("objects" not in r[2] for r in outbox), f"{where}: a body waits unsealed"
    own = sealing_key(sender)
    queued = [o["id"] for r in outbox for o in json.loads(open_(
        own, info(sender.id, receiver.id, "stix-objects", r[1], "sender-outbox"), json.loads(r[2])["keep"]))["objects"]]
    dups = [i for i, k in Counter(queued).items() if k > 1]
    assert not dups, f"{where}: objects queued twice {describe(sent, dups)}"
    assert set(queued) == set(sent), (f"{where}: queued extra {describe(sent, set(queued) - set(sent))}, "
                                      f"not queued {describe(sent, set(sent) - set(queued))}")
    accepted, refused = 0, []
    for (seq, env_id, _, receipt_in), (_, _, _, _, receipt_out) in zip(inbox, outbox):
        rec = verify_signed(receipt_in, receiver.key)
        assert json.loads(receipt_out) == json.loads(receipt_in), f"{where}: seq {seq}: the receipts differ"
        assert (rec["kind"], rec["from"], rec["to"]) == ("receipt", receiver.id, sender.id), rec
        body = rec["body"]
        assert (body["envelope"], body["seq"], body["outcome"]) == (env_id, seq, "delivered"), body
        accepted += body["accepted"]
        refused += [x["id"] for x in body.get("refused", [])]
    assert accepted == len(stored), f"{where}: receipts count {accepted} objects stored, expected {len(stored)}"
    assert set(refused) == set(sent) - set(stored), (
        f"{where}: refused {describe(sent, refused)}, expected {describe(sent, set(sent) - set(stored))}")


# --------------------------------------------------------------------------------------
# envelopes made here, signed with a node's real key
# --------------------------------------------------------------------------------------


def node_key(m: Member) -> Ed25519PrivateKey:
    """The private key in `<data dir>/node.key`: PRIVATE+KEY+<name>+<hex>+<base64(0x01 || seed)>."""
    parts = (m.node.data_dir / "node.key").read_text().strip().split("+", 4)
    assert parts[:2] == ["PRIVATE", "KEY"] and len(parts) == 5, "unexpected key file format"
    raw = base64.b64decode(parts[4])
    assert len(raw) == 33 and raw[0] == 1, len(raw)
    key = Ed25519PrivateKey.from_private_bytes(raw[1:])
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert "ed25519:" + base64.b64encode(pub).decode() == m.public_key, "node.key is not the member's key"
    return key


def sealing_key(m: Member):
    """The member's X25519 key, derived from its identity key as the node derives it."""
    seed = node_key(m).private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    key = derive_key(seed)
    assert public_text(key) == m.encryption_key, "the derived key is not the one the record publishes"
    return key


def stamp(t: dt.datetime | None = None) -> str:
    t = t or dt.datetime.now(dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(frm: str, to: str, seq: int, objects: list | None = None, *, kind: str = "stix-objects",
             created: str | None = None, body=None, **over) -> dict:
    env = {"v": 1, "id": str(uuid.uuid4()), "from": frm, "to": to, "kind": kind, "created": created or stamp(),
           "seq": seq, "body": body if body is not None else {"objects": objects or []}}
    env.update(over)
    return env


# The encryption key each member set up here publishes, by member id: what `signed` seals to.
ENCRYPTION_KEYS: dict[str, str] = {}


def signed(env: dict, key: Ed25519PrivateKey, *, seal: bool = True) -> bytes:
    """The envelope as it travels, signed with `key`: the body written once, compactly, and
    hashed as written. A body of a sealed kind is first sealed to the receiver (when its key
    is known here), as a node seals it; `seal=False` sends it as given."""
    already = isinstance(env.get("body"), dict) and "sealed" in env["body"]
    if seal and env.get("kind") in SEALED_KINDS and "body" in env and not already and env.get("to") in ENCRYPTION_KEYS:
        env = seal_body(env, parse_public(ENCRYPTION_KEYS[env["to"]]))
    body_text = json.dumps(env["body"], separators=(",", ":"), ensure_ascii=False) if "body" in env else None
    sig = base64.b64encode(key.sign(signed_part(env, body_text))).decode()
    rest = json.dumps({**{k: v for k, v in env.items() if k != "body"}, "signature": sig}, ensure_ascii=False)
    if body_text is None:
        return rest.encode()
    return (rest[:-1] + ', "body": ' + body_text + "}").encode()


def request_signature(data: bytes, key: Ed25519PrivateKey, sender: str, *, created: int | None = None,
                      nonce: str | None = None, path: str = INBOX, method: str = "POST") -> dict:
    """The headers of a federation request (by default to the inbox) signed by `sender` with
    `key` (RFC 9421: Ed25519 over the method, the path and the Content-Digest, with created,
    keyid, nonce and alg)."""
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"
    params = (f'("@method" "@path" "content-digest");created={int(time.time()) if created is None else created};'
              f'keyid="{sender}";nonce="{nonce or uuid.uuid4()}";alg="ed25519"')
    base = f'"@method": {method}\n"@path": {path}\n"content-digest": {digest}\n"@signature-params": {params}'
    sig = base64.b64encode(key.sign(base.encode())).decode()
    return {"Content-Digest": digest, "Signature-Input": f"comity={params}", "Signature": f"comity=:{sig}:"}


def post_inbox(receiver: Member, data: bytes, key: Ed25519PrivateKey | None = None, *, sender: str | None = None,
               headers: dict | None = None, timeout: float = 120) -> requests.Response:
    """POST `data` to the receiver's inbox, the request signed with `key` as `sender` (by
    default the envelope's `from`); unsigned without a key."""
    h = {"Content-Type": "application/json", **(headers or {})}
    if key is not None:
        h.update(request_signature(data, key, sender or json.loads(data)["from"]))
    return requests.post(receiver.url + INBOX, data=data, headers=h, timeout=timeout)


def unsigned_error(r: requests.Response, status: int, says: str) -> dict:
    """An HTTP error with no signed statement in it: the TAXII error shape, saying `says`."""
    err = assert_taxii_error(r, status)
    assert says in err["description"], f"{err['description']!r} lacks {says!r}"
    assert "signature" not in json.loads(r.content) and "envelope" not in json.loads(r.content), r.text
    return err


def receipt(r: requests.Response, receiver: Member, status: int, *, to: str, envelope_id: str, seq: int,
            outcome: str) -> dict:
    """The body of a receipt answered with `status`, after checking it is a receipt signed by
    `receiver` for that envelope."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:1500]}"
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.headers
    rec = verify_signed(r.content, receiver.key)
    assert set(rec) == {"v", "id", "from", "to", "kind", "created", "seq", "body"}, rec
    assert (rec["v"], rec["kind"], rec["from"], rec["to"], rec["seq"]) == (1, "receipt", receiver.id, to, 0), rec
    uuid.UUID(rec["id"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", rec["created"]), rec["created"]
    body = rec["body"]
    assert (body["envelope"], body["seq"], body["outcome"]) == (envelope_id, seq, outcome), body
    return body


def refusal(r: requests.Response, receiver: Member, env: dict | None, reason: str) -> dict:
    """A 422 with a signed refusal of `env` whose reason contains `reason`."""
    to, eid, seq = (env["from"], env["id"], env["seq"]) if env else ("", "", 0)
    body = receipt(r, receiver, 422, to=to, envelope_id=eid, seq=seq, outcome="refused")
    assert reason in body.get("reason", ""), f"reason {body.get('reason')!r} lacks {reason!r}"
    assert body["accepted"] == 0 and "refused" not in body, body
    return body


# --------------------------------------------------------------------------------------
# a flaky network between two nodes
# --------------------------------------------------------------------------------------


class FlakyProxy:
    """A loopback TCP proxy in front of a node's port that reads one HTTP/1.1 request per
    connection and, by the plan given, for the next connections:

    - ``drop``: reads the request and closes the connection without forwarding it;
    - ``delay``: waits ``delay`` seconds, forwards, waits again, answers in full;
    - ``truncate``: forwards, then answers only the first half of the response and closes;
    - ``hold``: forwards, then keeps the answer until ``release()``;
    - ``garbage``: forwards, then answers 200 with bytes that are no receipt at all;
    - ``forged``: forwards, then answers the real receipt with one character of its
      signature changed;
    - ``pass`` (when the plan is used up): forwards and answers in full.

    Answers carry ``Connection: close`` so that every request takes a new connection, and so
    a new step of the plan. Every connection is written down as it goes: its mode, the
    envelope's id and seq, whether it was forwarded, the receiver's status and answer (None
    when there was none), and when it is done."""

    def __init__(self, upstream_port: int, delay: float = 2.0):
        self.upstream = upstream_port
        self.delay = delay
        self.plan: deque[str] = deque()
        self.seen: list[dict] = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def then(self, mode: str, n: int = 1):
        with self.lock:
            self.plan.extend([mode] * n)

    def release(self):
        self.released.set()

    def log(self, done_only: bool = True) -> list[dict]:
        """The sequenced envelopes posted through the proxy (done ones only, unless asked)."""
        with self.lock:
            return [dict(e) for e in self.seen if (e["done"] or not done_only)
                    and (e["request"] or "").startswith(f"POST {INBOX} ") and e["seq"] != 0]

    def close(self):
        self.closed = True
        self.released.set()
        self.sock.close()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            entry = {"mode": None, "request": None, "id": None, "seq": None, "forwarded": False, "status": None,
                     "answer": None, "done": False}
            with self.lock:
                self.seen.append(entry)
            threading.Thread(target=self._serve, args=(conn, entry), daemon=True).start()

    @staticmethod
    def _read_message(sock: socket.socket, until_eof: bool = False) -> bytes:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
        head, _, rest = data.partition(b"\r\n\r\n")
        if until_eof:
            while chunk := sock.recv(65536):
                rest += chunk
            return head + b"\r\n\r\n" + rest
        m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
        need = int(m.group(1)) if m else 0
        while len(rest) < need:
            chunk = sock.recv(min(1 << 20, need - len(rest)))
            if not chunk:
                break
            rest += chunk
        return head + b"\r\n\r\n" + rest

    @staticmethod
    def _close_header(message: bytes) -> bytes:
        head, _, body = message.partition(b"\r\n\r\n")
        lines = [ln for ln in head.split(b"\r\n") if not ln.lower().startswith(b"connection:")]
        return b"\r\n".join(lines + [b"Connection: close"]) + b"\r\n\r\n" + body

    def _serve(self, conn: socket.socket, entry: dict):
        try:
            conn.settimeout(300)
            request = self._read_message(conn)
            line = request.split(b"\r\n", 1)[0].decode(errors="replace")
            body = request.partition(b"\r\n\r\n")[2]
            seq = None
            with contextlib.suppress(ValueError, AttributeError):
                env = json.loads(body)
                with self.lock:
                    entry["id"], entry["seq"] = env.get("id"), env.get("seq")
                seq = env.get("seq")
            with self.lock:
                entry["request"] = line
                # the plan is for sequenced envelopes; anything else the node sends (pulls,
                # witnessing's unsequenced checkpoints) passes
                planned = line.startswith(f"POST {INBOX} ") and seq != 0
                mode = entry["mode"] = self.plan.popleft() if self.plan and planned else "pass"
            if mode == "drop":
                return
            if mode == "delay":
                time.sleep(self.delay)
            with socket.create_connection(("127.0.0.1", self.upstream), timeout=300) as up:
                up.sendall(self._close_header(request))
                with self.lock:
                    entry["forwarded"] = True
                response = self._read_message(up, until_eof=True)
            status = re.match(rb"HTTP/1\.1 (\d{3})", response)
            with self.lock:
                entry["status"] = int(status.group(1)) if status else None
                entry["answer"] = response.partition(b"\r\n\r\n")[2] or None
            response = self._close_header(response)
            if mode == "delay":
                time.sleep(self.delay)
            if mode == "hold":
                self.released.wait(300)
            if mode == "truncate":
                conn.sendall(response[: len(response) // 2])
            elif mode == "garbage":
                junk = b"\x00\xffnot a receipt <html>" + bytes(range(256))
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(junk)).encode() + b"\r\nConnection: close\r\n\r\n" + junk)
            elif mode == "forged":
                head, _, answer = response.partition(b"\r\n\r\n")
                sig = re.search(rb'"signature":"([A-Za-z0-9+/])', answer)
                at = sig.start(1)
                flipped = b"B" if answer[at:at + 1] != b"B" else b"C"
                conn.sendall(head + b"\r\n\r\n" + answer[:at] + flipped + answer[at + 1:])
            else:
                conn.sendall(response)
        except OSError as e:
            with self.lock:
                entry["error"] = repr(e)
        finally:
            with contextlib.suppress(OSError):
                conn.close()
            with self.lock:
                entry["done"] = True


def log_entries(m: Member) -> list[dict]:
    """Every entry of `m`'s transparency log in the clear (`comity log checkpoint|entry
    --reveal`: version 2 entries opened with the openings the node keeps)."""
    cp = m.node.cli("log", "checkpoint", "--data-dir", m.node.data_dir).stdout.decode()
    size = int(cp.splitlines()[1])
    return [json.loads(m.node.cli("log", "entry", str(i), "--reveal", "--data-dir", m.node.data_dir).stdout)
            for i in range(size)]
