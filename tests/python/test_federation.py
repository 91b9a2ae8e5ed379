"""Federation between real nodes: signed envelopes, durable outboxes, the inbox.

Three `comity serve` processes on loopback (A, B, C), set up only with the CLI: `init` with
endpoints, mutual `member add` with ids, keys and endpoints, and agreements proposed by one
party and signed by every other (the documents handed over with `comity agreement show` and
`import`, so that the outboxes carry only objects). Objects posted to A over TAXII must reach B's and C's "Shared by A" collections
exactly as the policy engine allows, object by object (the expected recipients are computed
here, in Python, from the rules), exactly once, in sequence order, whatever happens:

1. exact delivery of 300 objects (in envelopes of 50), then of 100,000 (in envelopes of
   1,000, posted from two clients), under every TLP level, handling codes, RED recipients,
   granular markings and objects of other members;
2. kill -9 of the receiver and of the sender while envelopes are queued or in flight;
3. forged, replayed, out-of-order, malformed, untimely and unauthorised envelopes posted
   straight to B's inbox, signed with A's real key (read from A's data directory) or not;
4. a flaky network: a TCP proxy between A and B that drops, delays, then truncates answers;
5. `comity demo --once` as a smoke test;
6. agreements across nodes: proposed over the API, signed on each node (API and CLI), in
   force everywhere only once every signature is there, then objects flow; and forged,
   foreign, changed, replayed and suspended-sender agreement envelopes, each refused with a
   signed receipt and logged, the stored agreements unchanged;

and around them: catch-up pulls (a member reads only its own outbox), a peer registering
the sender late, a crash between storing objects and queuing them, a member suspended (or
an agreement terminated) while envelopes wait for it, envelopes racing for one sequence
number or leaving a gap, and a peer that never answers.

Exactly-once is checked twice: through TAXII (B holds exactly the expected objects) and,
with the SQLite backend, in the nodes' own journals (A's outbox and B's inbox: every
envelope once, sequence numbers 1..N in the order received, every object sent once, the
receipts' counts adding up, every receipt signed by B).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import uuid
from collections import Counter, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import (ADMIN_PASSWORD, ComityNode, add_and_wait, assert_taxii_error, backend, comity_bin,
                      fetch_all, free_port, post_objects, postgres_backend, target)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")

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
    m.id, m.public_key = rec["identity"]["id"], rec["public_key"]
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
                      peer.country, "--role", peer.role, "--public-key", peer.public_key, "--id", peer.id,
                      "--endpoint", endpoint or peer.url)
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


def stored_rows(receiver: Member, sender: Member) -> list[dict] | None:
    """Every object version in `receiver`'s collection of `sender`'s objects, as stored (SQLite only)."""
    rows = db_rows(receiver, "SELECT o.json FROM objects o JOIN collections c ON c.ckey = o.ckey "
                             "WHERE c.origin = ? ORDER BY o.seq", sender.id)
    return None if rows is None else [json.loads(r[0]) for r in rows]


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
    queued = [o["id"] for r in outbox for o in json.loads(r[2])["objects"]]
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


def stamp(t: dt.datetime | None = None) -> str:
    t = t or dt.datetime.now(dt.timezone.utc)
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(frm: str, to: str, seq: int, objects: list | None = None, *, kind: str = "stix-objects",
             created: str | None = None, body=None, **over) -> dict:
    env = {"v": 1, "id": str(uuid.uuid4()), "from": frm, "to": to, "kind": kind, "created": created or stamp(),
           "seq": seq, "body": body if body is not None else {"objects": objects or []}}
    env.update(over)
    return env


def signed(env: dict, key: Ed25519PrivateKey) -> bytes:
    """The envelope as it travels, signed with `key`: the body written once, compactly, and
    hashed as written."""
    body_text = json.dumps(env["body"], separators=(",", ":"), ensure_ascii=False) if "body" in env else None
    sig = base64.b64encode(key.sign(signed_part(env, body_text))).decode()
    rest = json.dumps({**{k: v for k, v in env.items() if k != "body"}, "signature": sig}, ensure_ascii=False)
    if body_text is None:
        return rest.encode()
    return (rest[:-1] + ', "body": ' + body_text + "}").encode()


def request_signature(data: bytes, key: Ed25519PrivateKey, sender: str, *, created: int | None = None,
                      nonce: str | None = None, path: str = INBOX) -> dict:
    """The headers of an inbox request signed by `sender` with `key` (RFC 9421: Ed25519 over
    the method, the path and the Content-Digest, with created, keyid, nonce and alg)."""
    digest = "sha-256=:" + base64.b64encode(hashlib.sha256(data).digest()).decode() + ":"
    params = (f'("@method" "@path" "content-digest");created={int(time.time()) if created is None else created};'
              f'keyid="{sender}";nonce="{nonce or uuid.uuid4()}";alg="ed25519"')
    base = f'"@method": POST\n"@path": {path}\n"content-digest": {digest}\n"@signature-params": {params}'
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


# --------------------------------------------------------------------------------------
# 1. three nodes: exactly what the policy allows, object by object
# --------------------------------------------------------------------------------------


def test_three_nodes_share_exactly_what_the_policy_allows(tmp_path):
    three_nodes_share_exactly(tmp_path, 300, 50)


def test_three_nodes_share_exactly_what_the_policy_allows_at_scale(tmp_path):
    """The same, with 100,000 objects posted in envelopes of 1,000 (the acceptance of the
    federation at scale): every object checked against the model, as stored and as read."""
    three_nodes_share_exactly(tmp_path, 100_000, 1000, clients=2)


def three_nodes_share_exactly(tmp_path, n: int, per: int, clients: int = 1):
    """`n` mixed objects posted to A in envelopes of `per` (from `clients` threads): B and C
    each hold exactly what the model says, once, and nothing is passed on."""
    terms = [AB, ABC, AC_RED]
    with federation(tmp_path, "ABC", terms) as w:
        a, b, c = w["A"], w["B"], w["C"]
        ids = {x: w[x].id for x in "ABC"}
        objects = mixed_objects(n, ids)
        names = {o["id"]: o for o in objects}
        sent_b, stored_b = w.model.outcome(objects, "A", "B")
        sent_c, stored_c = w.model.outcome(objects, "A", "C")
        # the mix must exercise every rule, both ways
        assert n * 0.13 < len(stored_b) < n * 0.83 and n * 0.13 < len(stored_c) < n * 0.83, (
            len(stored_b), len(stored_c))
        for kind in ("indicator", "malware"):
            for lvl in range(5):
                assert any(o["type"] == kind and level_of(o) == lvl for o in objects), (kind, lvl)
        assert any(level_of(o) == 4 for o in stored_c.values()), "no RED reaches C"
        assert not any(level_of(o) == 4 for o in stored_b.values())
        assert any(o.get("created_by_ref") == ids["C"] and level_of(o) == 1 for o in stored_b.values())
        assert any("H2" in o.get("x_comity_handling", {}).get("codes", []) for o in stored_b.values())
        assert any("H0" in o.get("x_comity_handling", {}).get("codes", []) for o in stored_c.values())
        assert any("granular_markings" in names[i] and "description" not in o for i, o in stored_b.items())
        # A's node and C's inbox judge alike, and A sends no member its own objects back,
        # except that C's inbox takes in only what an agreement in force covers, TLP:CLEAR
        # included: of what A sends, C refuses exactly the CLEAR objects no agreement covers.
        assert set(stored_c) <= set(sent_c), set(stored_c) - set(sent_c)
        uncovered = set(sent_c) - set(stored_c)
        assert all(level_of(names[i]) == 0 for i in uncovered), describe(names, uncovered)
        assert all(not any(t.covers(names[i], 0, p) for t in w.model.between("A", "C") for p in PURPOSES)
                   for i in uncovered), describe(names, uncovered)

        # posted in n/per requests: an envelope for each peer that may receive some of a request
        batches = [objects[i:i + per] for i in range(0, len(objects), per)]
        envelopes = {p: sum(1 for batch in batches if any(o["id"] in sent for o in batch))
                     for p, sent in ((b.id, sent_b), (c.id, sent_c))}

        def post(part: list[list[dict]]):
            session = a.node.session()
            for batch in part:
                st = add_and_wait(a.node, a.node.collections["default"], batch, session=session)
                assert st["success_count"] == len(batch) and st["failure_count"] == 0, st

        t0 = time.time()
        if clients == 1:
            post(batches)
        else:
            with ThreadPoolExecutor(clients) as pool:
                list(pool.map(post, [batches[k::clients] for k in range(clients)]))
        posted_in = time.time() - t0
        wait_drained(a, [b, c], others=(b.node, c.node))
        drained_in = time.time() - t0 - posted_in

        checked = time.time()
        assert_holds(w, b, a, stored_b, names, "B's Shared by A")
        assert_holds(w, c, a, stored_c, names, "C's Shared by A")
        assert_exactly_once(a, b, sent_b, stored_b)
        assert_exactly_once(a, c, sent_c, stored_c)
        outbox = db_rows(a, "SELECT peer, count(*) FROM outbox GROUP BY peer ORDER BY peer")
        if outbox is not None:
            assert dict(outbox) == envelopes, outbox
        # what was received is not passed on: B and C queue nothing, hold nothing of each other
        for m in (b, c):
            assert outbox_figures(m.node) == {}, (m.letter, outbox_figures(m.node))
        assert shared_by(b, c) == [] and shared_by(c, b) == [] and shared_by(a, b) == [] and shared_by(a, c) == []
        # A's own collection holds what was posted, once
        own = db_rows(a, "SELECT o.json FROM objects o JOIN collections c ON c.ckey = o.ckey WHERE c.id = ?",
                      a.node.collections["default"])
        if own is not None:
            assert_same([json.loads(r[0]) for r in own], names, names, "A's own collection")
        print(f"{n} objects: posted to A in {posted_in:.1f} s, drained {drained_in:.1f} s later, "
              f"checked in {time.time() - checked:.1f} s; B stores {len(stored_b)}, C {len(stored_c)}")
        assert drained_in < DRAIN_TIMEOUT


# --------------------------------------------------------------------------------------
# 2. kill -9: the receiver while envelopes are queued or in flight, then the sender
# --------------------------------------------------------------------------------------


def deliverable(start: int, n: int, ids: dict[str, str]) -> list[dict]:
    """Objects of A that B may all receive under AB (CLEAR, GREEN, AMBER; H2; malware)."""
    out = []
    for i in range(start, start + n):
        marking = (CLEAR, GREEN, AMBER)[i % 3]
        extra = {"x_comity_handling": {"codes": ["H2"]}} if i % 7 == 0 else {}
        o = (malware if i % 5 == 0 else indicator)(i, marking, **extra)
        o["name"] = f"#{i} kill test"
        out.append(o)
    return out


def test_kill9_of_receiver_and_sender_loses_and_duplicates_nothing(tmp_path):
    """A delivers to B through a proxy that passes everything, except when told to hold an
    answer: that makes "B applied the envelope, A has not recorded the receipt" certain
    rather than a matter of timing."""
    with contextlib.ExitStack() as stack:
        b_port = free_port()
        proxy = FlakyProxy(b_port)
        stack.callback(proxy.close)
        w = stack.enter_context(federation(tmp_path, "AB", [AB], ports={"B": b_port},
                                           endpoints={("A", "B"): proxy.url}))
        a, b = w["A"], w["B"]
        ids = {x: w[x].id for x in "AB"}
        cid = a.node.collections["default"]
        posted: dict[str, dict] = {}
        n = 0

        def post(count: int) -> requests.Response:
            nonlocal n
            objs = deliverable(n, count, ids)
            n += count
            r = post_objects(a.node, cid, objs, timeout=300)
            assert r.status_code == 202, (r.status_code, r.text[:500])
            assert r.json()["success_count"] == count, r.json()
            posted.update({o["id"]: o for o in objs})
            return r

        def check(what: str):
            wait_drained(a, [b], others=(b.node,))
            assert_holds(w, b, a, dict(posted), posted, what)

        def sent_so_far() -> int:
            return len(proxy.log(done_only=False))

        # 1. the receiver is down: attempts fail, the envelopes wait in A's outbox
        b.node.kill9()
        post(60)
        post(60)
        # attempts at once, after ~1 s, after ~2 s more: by a lag of 5 s, at least two failed
        wait_until(lambda: outbox_figures(a.node)[b.id][1] >= 5, 120, "five seconds of lag", nodes=[a.node])
        assert outbox_figures(a.node)[b.id][0] == 2, outbox_figures(a.node)
        assert all(e["status"] is None for e in proxy.log()), "B answered while it was down"
        b.start()
        check("after the receiver came back")

        # 2. the receiver is frozen with an envelope in flight, then killed
        os.kill(b.node.pid, signal.SIGSTOP)
        before = sent_so_far()
        post(50)
        wait_until(lambda: any(e["forwarded"] for e in proxy.log(done_only=False)[before:]), 120,
                   "an envelope forwarded to the frozen receiver", nodes=[a.node])
        b.node.kill9()
        b.start()
        check("after the receiver was killed with an envelope in flight")

        # 3. the receiver is killed while it receives: big envelopes, killed at varied moments
        for k in range(3):
            before = sent_so_far()
            post(900)
            wait_until(lambda: sent_so_far() > before, 120, "an envelope on its way", every=0.01, nodes=[a.node])
            time.sleep(0.1 * k)
            b.node.kill9()
            time.sleep(0.5)
            b.start()
        check("after the receiver was killed three times while receiving")

        # 4. the sender is killed right after a POST was answered 202: the outbox is durable
        for _ in range(3):
            post(40)
            a.node.kill9()
            a.start()
        check("after the sender was killed right after 202")

        # 5. the sender is killed after B applied an envelope, before A heard of it: the
        # restarted sender sends the same envelope again and B answers with the same receipt
        proxy.released.clear()
        proxy.then("hold")
        before = sent_so_far()
        post(70)
        wait_until(lambda: any(e["mode"] == "hold" and e["status"] == 200 for e in proxy.log(done_only=False)),
                   120, "B applied the held envelope", nodes=[a.node, b.node])
        held = [e for e in proxy.log(done_only=False) if e["mode"] == "hold"][0]
        a.node.kill9()
        proxy.release()
        a.start()
        check("after the sender was killed before it heard the receipt")
        again = [e for e in proxy.log() if e["seq"] == held["seq"]]
        assert [e["mode"] for e in again] == ["hold", "pass"], again
        assert again[1]["id"] == held["id"] and again[1]["status"] == 200, again
        assert again[1]["answer"] == held["answer"], "B answered the resent envelope with another receipt"

        # 6. the sender is killed at varied moments while it delivers
        for k in range(3):
            before = sent_so_far()
            post(900)
            wait_until(lambda: sent_so_far() > before, 120, "an envelope on its way", every=0.01, nodes=[a.node])
            time.sleep(0.1 * k)
            a.node.kill9()
            a.start()
        check("after the sender was killed while delivering")
        assert_exactly_once(a, b, dict(posted), dict(posted))
        assert len(posted) == 2 * 60 + 50 + 3 * 900 + 3 * 40 + 70 + 3 * 900
        # every envelope the proxy saw answered carries a receipt signed by B for it
        for e in proxy.log():
            if e["status"] == 200:
                body = verify_signed(e["answer"], b.key)["body"]
                assert body["envelope"] == e["id"] and body["seq"] == e["seq"], (e["seq"], body)


@pytest.mark.skipif(backend() != "sqlite", reason="watches the node's SQLite database for the moment to kill")
def test_objects_stored_just_before_a_crash_are_still_shared(tmp_path):
    """A is killed the moment a POST's objects are committed, before it answered. The client
    posts them again (it had no answer). Every object must still reach B."""
    with federation(tmp_path, "AB", [AB]) as w:
        a, b = w["A"], w["B"]
        ids = {x: w[x].id for x in "AB"}
        cid = a.node.collections["default"]
        posted: dict[str, dict] = {}
        for attempt in range(5):
            objs = deliverable(10000 * attempt, 3000, ids)
            have = len(posted)
            answer: dict = {}
            t = threading.Thread(target=lambda: answer.setdefault(
                "r", _try(lambda: post_objects(a.node, cid, objs, timeout=300))))
            t.start()
            while t.is_alive():  # kill A the moment the objects are committed (or once it answered)
                own = db_rows(a, "SELECT count(*) FROM objects o JOIN collections c ON c.ckey = o.ckey "
                                 "WHERE c.id = ?", cid)
                if own[0][0] >= have + len(objs):
                    break
                time.sleep(0.002)
            a.node.kill9()
            queued = db_rows(a, "SELECT count(*) FROM outbox")[0][0]
            t.join(60)
            posted.update({o["id"]: o for o in objs})
            a.start()
            r = post_objects(a.node, cid, objs, timeout=300)  # the client's retry
            assert r.status_code == 202, r.text[:300]
            assert r.json()["success_count"] == len(objs), r.json()
            wait_until(lambda: outbox_figures(a.node).get(b.id, (0.0, 0.0))[0] == 0, DRAIN_TIMEOUT, "drained",
                       nodes=[a.node, b.node])
            assert_holds(w, b, a, posted, posted, f"attempt {attempt}: killed when {queued} envelopes were queued")


def _try(fn):
    try:
        return fn()
    except requests.RequestException as e:
        return repr(e)


@pytest.mark.parametrize("change", ["member suspended", "agreement terminated"])
def test_nothing_queued_leaves_once_the_member_is_suspended_or_the_agreement_ends(tmp_path, change):
    """B is down while A queues objects for it; then A suspends B (`comity member suspend`)
    or terminates the agreement (`comity agreement terminate`). When B is back, nothing of
    what was queued may reach it: suspended, "from now on it receives nothing"; without an
    agreement in force, GREEN and AMBER are not covered."""
    with federation(tmp_path, "AB", [AB]) as w:
        a, b = w["A"], w["B"]
        ids = {x: w[x].id for x in "AB"}
        b.node.kill9()
        objs = [o for o in deliverable(0, 30, ids) if o["object_marking_refs"] != [CLEAR]]
        add_and_wait(a.node, a.node.collections["default"], objs)
        assert outbox_figures(a.node)[b.id][0] == 1
        if change == "member suspended":
            a.node.cli("member", "suspend", b.id, "--data-dir", a.node.data_dir)
        else:
            a.node.cli("agreement", "terminate", w.agreements[AB.title]["A"], "--data-dir", a.node.data_dir)
        b.start()
        # A's next attempt was due within its backoff (a few seconds); give it 20 s more
        due = db_rows(a, "SELECT max(next_attempt_at) FROM outbox WHERE delivered_at IS NULL")
        until = (due[0][0] / 1e6 if due and due[0][0] else time.time()) + 20
        wait_until(lambda: time.time() > until or outbox_figures(a.node)[b.id][0] == 0, 120, "a chance to send",
                   nodes=[a.node, b.node])
        got = shared_by(b, a)
        assert got == [], f"B, {change} on A, received {len(got)} objects queued before"
        if change == "agreement terminated":
            # A's withdrawal reached B: the agreement has ended there too
            ag = w.agreements[AB.title]["B"]
            wait_until(lambda: agreements_of(b)[ag]["status"] == "terminated", 120,
                       "B hears that A withdrew", nodes=[a.node, b.node])


def test_a_peer_that_registers_the_sender_late_still_gets_everything(tmp_path):
    """The usual order of joining: A registers B and proposes an agreement; B registers A a
    little later. Meanwhile B turns A's requests away before reading them (A is not a
    registered member: an unsigned 401, nothing recorded), and A keeps the proposal for its
    retries. CLEAR objects A stores before the agreement is in force are queued for nobody
    (README sharing rule 1: CLEAR too travels only under an agreement in force). Once B has
    registered A, A's retries (or B's catch-up pull) bring the proposal, which B's admin
    then signs; what A shares once the agreement is in force follows."""
    with contextlib.ExitStack() as stack:
        a = init_member(tmp_path, "A", stack)
        b = init_member(tmp_path, "B", stack)
        members = {"A": a, "B": b}
        pin(a, b)
        w = World(members, [AB])
        for x in "AB":
            members[x].start()
        ag = a.cli_text(*create_args(a, AB, members))
        wait_until(lambda: f"inbox request refused sender={a.id}" in b.node.log(), 120,
                   "B turning away the requests of an unknown member", nodes=[a.node, b.node])
        ids = {x: m.id for x, m in members.items()}
        first = [o for o in deliverable(0, 60, ids) if o["object_marking_refs"] == [CLEAR]]
        add_and_wait(a.node, a.node.collections["default"], first)
        pin(b, a)
        wait_until(lambda: ag in agreements_of(b), 90, "B getting A's proposal", nodes=[a.node, b.node])
        held = agreements_of(b)[ag]
        assert (held["status"], held["signed"], held["missing"]) == ("proposed", [a.id], [b.id]), held
        wait_drained(a, [b], others=(b.node,))
        assert shared_by(b, a) == [], "objects taken in before an agreement was in force"
        b.node.cli("agreement", "sign", ag, "--data-dir", b.node.data_dir)
        wait_until(lambda: agreements_of(a)[ag]["status"] == "active", 90, "B's signature at A",
                   nodes=[a.node, b.node])
        later = deliverable(100, 20, ids)
        add_and_wait(a.node, a.node.collections["default"], later)
        want_later = {o["id"] for o in later}
        try:
            wait_until(lambda: want_later <= {o["id"] for o in shared_by(b, a)}, 90, "the later objects at B",
                       nodes=[a.node, b.node])
        except AssertionError:
            raise AssertionError(f"B holds {len(shared_by(b, a))} of the {len(later)} objects A shared after B "
                                 f"registered it; A's outbox: {outbox_figures(a.node)}\n{a.node.log()[-1500:]}")
        every = {o["id"]: o for o in later}
        assert_holds(w, b, a, every, every, "after B registered A")
        early = {o["id"] for o in first} & {o["id"] for o in shared_by(b, a)}
        assert not early, f"README sharing rule 1: CLEAR objects stored before the agreement reached B: {early}"
        journal = db_rows(b, "SELECT kind, outcome, reason FROM inbox WHERE sender = ? ORDER BY seq", a.id)
        if journal is not None:
            assert journal[0][:2] == ("agreement", "delivered"), journal


# --------------------------------------------------------------------------------------
# 3. envelopes made by hand, straight to B's inbox
# --------------------------------------------------------------------------------------


@pytest.fixture
def inbox_world(tmp_path):
    """A, B and C registered with each other, AB and ABC signed; only B serves (A's own
    sender must not use up A's sequence numbers to B)."""
    with federation(tmp_path, "ABC", [AB, ABC], serve="B") as w:
        yield w


def test_forged_replayed_and_bad_envelopes_to_the_inbox(inbox_world):
    w = inbox_world
    a, b, c = w["A"], w["B"], w["C"]
    key_a = node_key(a)
    forger = Ed25519PrivateKey.generate()
    refused_before = metric(b.node, "comity_federation_envelopes_refused_total") or 0
    refusals = 0

    def send(env: dict, key=key_a) -> requests.Response:
        return post_inbox(b, signed(env, key), key)

    # 1. the next envelope: delivered, receipt signed by B
    good = [indicator(1, CLEAR), indicator(2, GREEN), malware(3, AMBER), indicator(4, GREEN,
                                                                                x_comity_handling={"codes": ["H2"]})]
    e1 = envelope(a.id, b.id, 1, good)
    r1 = send(e1)
    body = receipt(r1, b, 200, to=a.id, envelope_id=e1["id"], seq=1, outcome="delivered")
    assert body == {"envelope": e1["id"], "seq": 1, "outcome": "delivered", "accepted": 4}, body
    stored = {o["id"]: o for o in good}
    assert_holds(w, b, a, stored, stored, "after the first envelope")

    # 2. the same envelope again: the very same receipt
    r = send(e1)
    assert r.status_code == 200 and r.content == r1.content, (r.status_code, r.text, r1.text)

    # 3. a new envelope with a sequence number used already: refused, not recorded (the
    # number belongs to the envelope that has it), and refused the same way again
    e = envelope(a.id, b.id, 1, [indicator(5, CLEAR)])
    used = f"sequence number 1 was used already by another envelope from {a.id}; the next is 2"
    r = send(e)
    refusal(r, b, e, used)
    refusals += 1
    refusal(send(e), b, e, used)
    refusals += 1

    # 4. a gap: 409, nothing recorded (the same envelope is refused the same way again)
    e = envelope(a.id, b.id, 4, [indicator(6, CLEAR)])
    for _ in range(2):
        err = assert_taxii_error(send(e), 409)
        assert "expects sequence number 2 next" in err["description"], err

    # 5. what cannot be trusted gets an unsigned HTTP error, never a statement signed by B,
    # and is not recorded. A request not signed with the pinned key of a registered, active
    # member is refused before its body is read (the same answer whoever it claims to be):
    not_member = NOT_A_MEMBER
    forged = envelope(a.id, b.id, 2, [indicator(7, CLEAR)])
    unsigned_error(send(forged, forger), 401, not_member)
    unsigned_error(post_inbox(b, signed(forged, key_a)), 401, "the request has no Content-Digest header")
    stranger = f"identity--{uuid.uuid4()}"
    e = envelope(stranger, b.id, 1, [indicator(9, CLEAR)])
    unsigned_error(send(e, forger), 401, not_member)
    # B itself is not a peer of B
    e = envelope(b.id, b.id, 1, [indicator(9, CLEAR)])
    unsigned_error(post_inbox(b, signed(e, key_a), key_a), 401, not_member)
    # a request signed by A, replayed, or with its signature, digest or time changed
    data = signed(forged, key_a)
    h = request_signature(data, key_a, a.id)
    r = post_inbox(b, data, headers=h)
    receipt(r, b, 200, to=a.id, envelope_id=forged["id"], seq=2, outcome="delivered")
    stored.update({o["id"]: o for o in forged["body"]["objects"]})
    unsigned_error(post_inbox(b, data, headers=h), 401, "this request signature was used already")
    e = envelope(a.id, b.id, 3, [indicator(26, CLEAR)])
    data = signed(e, key_a)
    h = request_signature(data, key_a, a.id)
    raw = bytearray(base64.b64decode(h["Signature"][len("comity=:"):-1]))
    raw[10] ^= 1
    h["Signature"] = "comity=:" + base64.b64encode(bytes(raw)).decode() + ":"
    unsigned_error(post_inbox(b, data, headers=h), 401, not_member)
    h = request_signature(data, key_a, a.id, created=int(time.time()) - 600)
    unsigned_error(post_inbox(b, data, headers=h), 401, "more than 300 s from this node's clock")
    h = request_signature(data, key_a, a.id)
    unsigned_error(post_inbox(b, data + b" ", headers=h), 400, "the body does not match the signed Content-Digest")
    h = request_signature(data, key_a, a.id)
    h["Signature-Input"] = h["Signature-Input"].replace(' "content-digest"', "")
    unsigned_error(post_inbox(b, data, headers=h), 401, "the covered components must be")
    # signed requests of A whose envelope A did not sign, or that are no envelope of A's
    forged = envelope(a.id, b.id, 3, [indicator(7, CLEAR)])
    unsigned_error(post_inbox(b, signed(forged, forger), key_a), 400,
                   f"the signature does not verify with the pinned key of {a.id}")
    tampered = envelope(a.id, b.id, 3, [indicator(8, CLEAR)])
    data = signed(tampered, key_a)
    assert data.count(b"federated indicator 8") == 1
    r = post_inbox(b, data.replace(b"federated indicator 8", b"federated indicator 9"), key_a)
    unsigned_error(r, 400, f"the signature does not verify with the pinned key of {a.id}")
    # the body is signed as its bytes travel: the same JSON spaced out does not verify
    respaced = envelope(a.id, b.id, 3, [indicator(8, CLEAR)])
    data = signed(respaced, key_a)
    body = raw_members(data)["body"]
    r = post_inbox(b, data.replace(body.encode(), json.dumps(json.loads(body), indent=1).encode()), key_a)
    unsigned_error(r, 400, f"the signature does not verify with the pinned key of {a.id}")
    e = envelope(c.id, b.id, 1, [indicator(9, CLEAR)])
    unsigned_error(post_inbox(b, signed(e, key_a), key_a, sender=a.id), 400,
                   f"the envelope is from {c.id}, but the request was signed by {a.id}")
    e = envelope(a.id, c.id, 3, [indicator(10, CLEAR)])
    unsigned_error(send(e), 400, f"the envelope is addressed to {c.id}, not to this node")
    r = post_inbox(b, b'{"v":1,"id":"' + str(uuid.uuid4()).encode() + b'","from":', key_a, sender=a.id)
    unsigned_error(r, 400, "not an envelope: EOF while parsing")
    r = post_inbox(b, b"\xff\xfe not json", key_a, sender=a.id)
    unsigned_error(r, 400, "not an envelope:")
    e = envelope(a.id, b.id, 3, [indicator(11, CLEAR)], extra_field=1)
    unsigned_error(send(e), 400, "not an envelope: unknown field `extra_field`")
    e = envelope(a.id, b.id, 3, [indicator(12, CLEAR)], v=2)
    unsigned_error(send(e), 400, "envelope format version 2 is not supported (this node reads version 1)")
    e = envelope(a.id, b.id, 3, [indicator(13, CLEAR)], kind="gossip")
    unsigned_error(send(e), 400, "not an envelope: unknown variant `gossip`")
    e = {k: v for k, v in envelope(a.id, b.id, 3, [indicator(14, CLEAR)]).items() if k != "created"}
    unsigned_error(send(e), 400, "not an envelope: missing field `created`")
    # none of these was recorded: the forged envelope's id, rightly signed, is delivered as seq 3
    assert_holds(w, b, a, stored, stored, "after rejections that are not recorded")
    r = send(forged)
    body = receipt(r, b, 200, to=a.id, envelope_id=forged["id"], seq=3, outcome="delivered")
    assert body["accepted"] == 1, body
    stored.update({o["id"]: o for o in forged["body"]["objects"]})

    # 6. refusals recorded against A (they take their sequence number)
    e = envelope(a.id, b.id, 4, [indicator(15, CLEAR)],
                 created=stamp(dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)))
    r = send(e)
    refusal(r, b, e, "is in the future (more than 5 minutes ahead of this node's clock)")
    assert send(e).content == r.content, "a recorded refusal is answered the same"
    refusals += 2
    e = envelope(a.id, b.id, 5, [indicator(16, CLEAR)],
                 created=stamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=91)))
    refusal(send(e), b, e, "is more than 90 days old")
    refusals += 1
    e = envelope(a.id, b.id, 6, None, kind="cosignature", body={"cosignature": "x"})
    refusal(send(e), b, e, "envelopes of kind cosignature are not accepted by this node yet")
    refusals += 1
    e = envelope(a.id, b.id, 7, None, body={"objets": [indicator(17, CLEAR)]})
    refusal(send(e), b, e, 'the body is not {"objects": [...]}')
    refusals += 1
    e = envelope(a.id, b.id, 8, [indicator(18, CLEAR)], created="yesterday")
    refusal(send(e), b, e, 'the envelope\'s time "yesterday" is not an RFC 3339 timestamp')
    refusals += 1

    # 7. objects outside every agreement: listed in a delivered receipt, not stored
    c_stuff = {
        "campaign": {"type": "campaign", "spec_version": "2.1", "id": f"campaign--{uuid.uuid4()}", "created": T0,
                     "modified": T0, "name": "not in any agreement", "object_marking_refs": [GREEN]},
        "strict": indicator(19, AMBER_STRICT),
        "red to B": indicator(20, RED, x_comity_red_recipients=[b.id]),
        "H0": indicator(21, GREEN, x_comity_handling={"codes": ["H0"]}),
        "H3": indicator(22, GREEN, x_comity_handling={"codes": ["H3"], "restrictions": "ask first"}),
    }
    fine = indicator(23, AMBER)
    invalid = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}"}
    e = envelope(a.id, b.id, 9, [*c_stuff.values(), fine, invalid])
    r = send(e)
    body = receipt(r, b, 200, to=a.id, envelope_id=e["id"], seq=9, outcome="delivered")
    assert body["accepted"] == 1, body
    assert body["reason"] == f"{len(c_stuff) + 1} objects refused", body
    why = {x["id"]: x["reason"] for x in body["refused"]}
    assert set(why) == {o["id"] for o in c_stuff.values()} | {invalid["id"]}, body["refused"]
    for o in c_stuff.values():
        assert why[o["id"]] == f"no agreement in force between {a.id} and this node covers it", why[o["id"]]
    assert why[invalid["id"]], body
    stored[fine["id"]] = fine

    # 8. a suspended sender: refused at the door, unsigned and unrecorded; once reinstated,
    # the same envelope is delivered
    b.node.cli("member", "suspend", a.id, "--data-dir", b.node.data_dir)
    e = envelope(a.id, b.id, 10, [indicator(24, CLEAR)])
    unsigned_error(send(e), 401, not_member)
    b.node.cli("member", "reinstate", a.id, "--data-dir", b.node.data_dir)
    body = receipt(send(e), b, 200, to=a.id, envelope_id=e["id"], seq=10, outcome="delivered")
    assert body["accepted"] == 1, body
    stored.update({o["id"]: o for o in e["body"]["objects"]})
    assert_holds(w, b, a, stored, stored, "after all bad envelopes")

    # 9. more than 64 MiB: 413 before the body is read (signed by A), 401 unsigned
    big = b"x" * (64 * 1024 * 1024 + 1)
    unsigned_error(post_inbox(b, big, key_a, sender=a.id, timeout=600), 413, "at most 67108864 bytes")
    unsigned_error(post_inbox(b, big, timeout=600), 401, "the request has no Content-Digest header")
    assert b.node.healthy()

    # the refusals were counted; A, reinstated, goes on at seq 10
    assert (metric(b.node, "comity_federation_envelopes_refused_total") or 0) - refused_before == refusals
    e = envelope(a.id, b.id, 11, [indicator(25, GREEN)])
    body = receipt(send(e), b, 200, to=a.id, envelope_id=e["id"], seq=11, outcome="delivered")
    assert body["accepted"] == 1, body
    stored.update({o["id"]: o for o in e["body"]["objects"]})
    assert_holds(w, b, a, stored, stored, "at the end")
    journal = db_rows(b, "SELECT seq, outcome FROM inbox WHERE sender = ? ORDER BY received_at", a.id)
    if journal is not None:
        # The envelope that reused seq 1 is not in the journal: one number, one envelope.
        assert journal == [(1, "delivered"), (2, "delivered"), (3, "delivered"), (4, "refused"),
                           (5, "refused"), (6, "refused"), (7, "refused"), (8, "refused"), (9, "delivered"),
                           (10, "delivered"), (11, "delivered")], journal
        assert db_rows(b, "SELECT count(*) FROM inbox WHERE sender != ?", a.id) == [(0,)]


def test_concurrent_envelopes_with_one_sequence_number_are_applied_once(inbox_world):
    """Eight different envelopes of A, all with the next sequence number, at once: one is
    delivered, seven are refused (as "used already", or turned away as too many at once),
    and only the winner's objects are stored."""
    w = inbox_world
    a, b = w["A"], w["B"]
    key_a = node_key(a)
    stored: dict[str, dict] = {}
    report = []
    for seq in range(1, 6):
        envs = [envelope(a.id, b.id, seq, [indicator(seq * 1000 + k * 50 + j, CLEAR) for j in range(50)])
                for k in range(8)]
        bodies = [signed(e, key_a) for e in envs]
        start = threading.Barrier(len(envs))
        answers: list = [None] * len(envs)

        def go(k):
            start.wait()
            answers[k] = post_inbox(b, bodies[k], key_a)

        threads = [threading.Thread(target=go, args=(k,)) for k in range(len(envs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        statuses = [r.status_code for r in answers]
        won = [k for k, s in enumerate(statuses) if s == 200]
        report.append((seq, statuses))
        for k in won:
            stored.update({o["id"]: o for o in envs[k]["body"]["objects"]})
        assert len(won) == 1, f"seq {seq}: {len(won)} envelopes delivered with one sequence number: {report}"
        # B serves at most 2 requests of one sender at once: the others are turned away at
        # the door (429, unsigned, nothing applied) or lose the race inside (signed refusal).
        for k, r in enumerate(answers):
            if k not in won and r.status_code == 429:
                unsigned_error(r, 429, "envelopes in flight already")
            elif k not in won:
                refusal(r, b, envs[k], f"sequence number {seq} was used already")
    assert_holds(w, b, a, stored, stored, "after concurrent envelopes")


@pytest.mark.parametrize("why", ["future", "old", "kind"])
def test_a_refused_envelope_beyond_the_next_seq_does_not_use_up_the_ones_before(inbox_world, why):
    """An envelope whose sequence number leaves a gap is not next: it must not be recorded
    (409), or if refused, not move the sequence on; the envelopes of the gap still arrive."""
    w = inbox_world
    a, b = w["A"], w["B"]
    key_a = node_key(a)
    e1 = envelope(a.id, b.id, 1, [indicator(1, CLEAR)])
    receipt(post_inbox(b, signed(e1, key_a), key_a), b, 200, to=a.id, envelope_id=e1["id"], seq=1, outcome="delivered")
    now = dt.datetime.now(dt.timezone.utc)
    bad = {
        "future": envelope(a.id, b.id, 5, [indicator(2, CLEAR)], created=stamp(now + dt.timedelta(hours=1))),
        "old": envelope(a.id, b.id, 5, [indicator(2, CLEAR)], created=stamp(now - dt.timedelta(days=91))),
        "kind": envelope(a.id, b.id, 5, None, kind="cosignature", body={}),
    }[why]
    r = post_inbox(b, signed(bad, key_a), key_a)
    first = (r.status_code, r.text[:300])
    e2 = envelope(a.id, b.id, 2, [indicator(3, CLEAR)])
    r2 = post_inbox(b, signed(e2, key_a), key_a)
    assert r2.status_code == 200, (f"the envelope with seq 5 ({why}) was answered {first}; then the next one, "
                                   f"seq 2, was answered {r2.status_code}: {r2.text[:400]}")
    receipt(r2, b, 200, to=a.id, envelope_id=e2["id"], seq=2, outcome="delivered")


def pull(node_of: Member, asker: Member, after: int, key: Ed25519PrivateKey | None = None,
         query_after: int | None = None, **over) -> requests.Response:
    """GET `node_of`'s /federation/v1/outbox?after=N as `asker`, with a signed pull request."""
    env = envelope(asker.id, node_of.id, 0, None, kind="pull", body={"after": after})
    env.update(over)
    token = base64.b64encode(signed(env, key or node_key(asker))).decode()
    return requests.get(node_of.url + "/federation/v1/outbox",
                        params={"after": after if query_after is None else query_after},
                        headers={"Authorization": f"Comity-Envelope {token}"}, timeout=60)


def test_catch_up_pulls_give_each_member_its_own_outbox_and_nothing_to_anyone_else(tmp_path):
    """Only A serves: B and C are down, so A's outbox keeps what it queued for them. A pull
    is authenticated by a fresh pull envelope signed by the asking member; it answers that
    member's envelopes, signed by A, and nothing else; it marks nothing delivered."""
    with federation(tmp_path, "ABC", [AB, ABC], serve="A") as w:
        a, b, c = w["A"], w["B"], w["C"]
        ids = {x: w[x].id for x in "ABC"}
        objects = mixed_objects(120, ids, seed=7)
        names = {o["id"]: o for o in objects}
        for i in range(0, len(objects), 40):
            add_and_wait(a.node, a.node.collections["default"], objects[i:i + 40])
        before = outbox_figures(a.node)
        assert before[b.id][0] == 3 and before[c.id][0] >= 1, before

        def pulled(r: requests.Response, asker: Member) -> list[dict]:
            assert r.status_code == 200, (r.status_code, r.text[:500])
            body = r.json()
            assert set(body) == {"more", "envelopes"} and body["more"] is False, {k: body[k] for k in body
                                                                                  if k != "envelopes"}
            envs = [verify_signed(e, a.key) for e in raw_elements(raw_members(r.text)["envelopes"])]
            for e in envs:
                assert (e["v"], e["from"], e["to"], e["kind"]) == (1, a.id, asker.id, "stix-objects"), e
            return envs

        for asker, letter in ((b, "B"), (c, "C")):
            sent, _ = w.model.outcome(objects, "A", letter)
            envs = pulled(pull(a, asker, 0), asker)
            assert [e["seq"] for e in envs] == list(range(1, len(envs) + 1)), [e["seq"] for e in envs]
            got = [o for e in envs for o in e["body"]["objects"]]
            assert_same(got, sent, names, f"{letter}'s pull")
        envs = pulled(pull(a, b, 1), b)
        assert [e["seq"] for e in envs] == [2, 3]
        assert pulled(pull(a, b, 3), b) == []

        stale = stamp(dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
        stranger = Member("X", b.node, "X", "XX", "cert", b.port, f"identity--{uuid.uuid4()}", new_key_text())
        cases = [
            ("no credentials", requests.get(a.url + "/federation/v1/outbox", params={"after": 0}, timeout=60),
             401, "a pull needs `Authorization: Comity-Envelope"),
            ("forged", pull(a, b, 0, key=Ed25519PrivateKey.generate()), 401,
             f"the signature does not verify with the pinned key of {b.id}"),
            ("for another node", pull(a, b, 0, to=c.id), 401, f"the envelope is addressed to {c.id}"),
            ("stale", pull(a, b, 0, created=stale), 401, "a pull request must be fresh"),
            ("not a pull", pull(a, b, 0, kind="stix-objects"), 401, "not a pull request: the kind is stix-objects"),
            ("unknown member", pull(a, stranger, 0, key=Ed25519PrivateKey.generate()), 401,
             f"the sender {stranger.id} is not a registered member"),
            ("query differs", pull(a, b, 0, query_after=1), 400, "asks for after=0, the query for after=1"),
            ("A itself", pull(a, a, 0), 401, f"the sender {a.id} is not a registered member"),
        ]
        for what, r, status, text in cases:
            err = assert_taxii_error(r, status)
            assert text in err.get("description", ""), (what, err)
            assert "envelopes" not in r.text, what
        a.node.cli("member", "suspend", b.id, "--data-dir", a.node.data_dir)
        err = assert_taxii_error(pull(a, b, 0), 401)
        assert f"the sender {b.id} is suspended" in err["description"], err
        pending = {k: v[0] for k, v in outbox_figures(a.node).items()}
        assert pending == {k: v[0] for k, v in before.items()}, "a pull changed A's outbox"


def new_key_text() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


# --------------------------------------------------------------------------------------
# 4. a flaky network between A and B
# --------------------------------------------------------------------------------------


def test_a_flaky_network_delivers_everything_exactly_once(tmp_path):
    with contextlib.ExitStack() as stack:
        # B's port is known only once B exists: the proxy forwards to a port chosen now
        b_port = free_port()
        proxy = FlakyProxy(b_port, delay=2.0)
        stack.callback(proxy.close)
        # the plan, connection by connection: three dropped, two delayed, three truncated,
        # two answered with garbage, two with a forged receipt
        proxy.then("drop", 3)
        proxy.then("delay", 2)
        proxy.then("truncate", 3)
        proxy.then("garbage", 2)
        proxy.then("forged", 2)
        w = stack.enter_context(federation(tmp_path, "AB", [AB], ports={"B": b_port},
                                           endpoints={("A", "B"): proxy.url}))
        a, b = w["A"], w["B"]
        ids = {x: w[x].id for x in "AB"}
        cid = a.node.collections["default"]
        posted: dict[str, dict] = {}

        def post(start):
            objs = deliverable(start, 30, ids)
            add_and_wait(a.node, cid, objs)
            posted.update({o["id"]: o for o in objs})

        post(0)
        wait_until(lambda: len(proxy.log()) >= 1, 120, "a first dropped connection", nodes=[a.node])
        post(100)  # queued behind the first envelope while the network is down
        wait_until(lambda: len(proxy.log()) >= 5, 180, "drops and delays", nodes=[a.node, b.node])
        post(200)  # the truncated ones
        wait_until(lambda: len(proxy.log()) >= 13, 240, "truncations, garbage, forgeries, then a clean pass",
                   nodes=[a.node, b.node])
        post(300)  # after the network healed
        wait_drained(a, [b], others=(b.node,))
        assert_holds(w, b, a, posted, posted, "after the flaky network")
        assert_exactly_once(a, b, posted, posted)

        seen = proxy.log()
        got = [(s["mode"], s["seq"], s["status"]) for s in seen]
        assert got == [("drop", 1, None)] * 3 + [("delay", 1, 200), ("delay", 2, 200)] + [
            ("truncate", 3, 200)] * 3 + [("garbage", 3, 200)] * 2 + [("forged", 3, 200)] * 2 + [
            ("pass", 3, 200), ("pass", 4, 200)], got
        # A reported each bad answer and kept serving its users meanwhile
        warnings = a.node.log_path.read_text(errors="replace")
        assert warnings.count("delivery failed") >= 9, warnings[-2000:]
        assert requests.get(a.node.base + "/taxii2/", auth=a.node.admin, timeout=30,
                            headers={"Accept": "application/taxii+json;version=2.1"}).status_code == 200
        # a retry is the same envelope; the answer to a retry is the receipt already given
        for seq in (1, 3):
            tries = [s for s in seen if s["seq"] == seq]
            assert len({s["id"] for s in tries}) == 1, tries
        answers = [s["answer"] for s in seen if s["seq"] == 3]
        assert len(set(answers)) == 1, "B answered the retries of seq 3 with different receipts"
        body = verify_signed(answers[0], b.key)["body"]
        assert body["seq"] == 3 and body["accepted"] == 30, body


def test_a_peer_that_never_answers_does_not_hold_up_the_others(tmp_path):
    """B is frozen (SIGSTOP): its port accepts connections, nothing answers. What A shares
    must still reach C promptly; B gets everything, once, when it is thawed."""
    with federation(tmp_path, "ABC", [AB, ABC]) as w:
        a, b, c = w["A"], w["B"], w["C"]
        ids = {x: w[x].id for x in "ABC"}
        posted: dict[str, dict] = {}
        os.kill(b.node.pid, signal.SIGSTOP)
        try:
            for k in range(3):
                objs = deliverable(100 * k, 20, ids)
                add_and_wait(a.node, a.node.collections["default"], objs)
                posted.update({o["id"]: o for o in objs})
                t0 = time.time()
                want = set(w.model.outcome(objs, "A", "C")[1])
                assert want, "nothing of the batch is for C"
                try:
                    wait_until(lambda: want <= {o["id"] for o in shared_by(c, a)}, 20, "C served",
                               nodes=[a.node, c.node])
                except AssertionError:
                    raise AssertionError(f"batch {k}: C did not get it within 20 s while B was frozen "
                                         f"(outbox {outbox_figures(a.node)})") from None
                assert time.time() - t0 < 20
        finally:
            os.kill(b.node.pid, signal.SIGCONT)
        _, for_c = w.model.outcome(list(posted.values()), "A", "C")
        wait_drained(a, [b, c], others=(b.node, c.node))
        assert_holds(w, c, a, for_c, posted, "C")
        assert_holds(w, b, a, posted, posted, "B, thawed")
        assert_exactly_once(a, b, posted, posted)


# --------------------------------------------------------------------------------------
# 5. comity demo --once
# --------------------------------------------------------------------------------------


def three_free_ports() -> int:
    for _ in range(200):
        base = random.randint(20000, 60000)
        socks = []
        try:
            for p in range(base, base + 3):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise AssertionError("no three consecutive free ports")


DEMO_ROLES = {"A": "cert", "B": "police", "C": "central-authority"}
DEMO_TERMS = [
    Terms("AB", "AB", ("indicator", "malware"), "amber", ("intelligence", "police-cooperation")),
    Terms("ABC", "ABC", ("indicator",), "green", PURPOSES),
]


def test_demo_once_shares_what_its_agreements_allow(tmp_path):
    demo = tmp_path / "demo"
    port = three_free_ports()
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMITY_")}
    env["RUST_LOG"] = "warn"
    cp = subprocess.run([str(comity_bin()), "demo", "--dir", str(demo), "--port", str(port), "--once"],
                        capture_output=True, timeout=600, env=env)
    out = cp.stdout.decode()
    assert cp.returncode == 0, f"exit {cp.returncode}\n{out}\n{cp.stderr.decode()[-3000:]}"
    # the summary, node by node
    nodes = {}
    for block in out.split("\n\n"):
        m = re.search(r"^(.+) \((X[ABC]), ", block, re.M)
        if not m:
            continue
        letter = m.group(2)[1]
        nodes[letter] = {
            "name": m.group(1),
            "password": re.search(r"password (\S+)", block).group(1),
            "id": re.search(r"member\s+(identity--\S+)", block).group(1),
            "data": Path(re.search(r"data\s+(.+)", block).group(1).strip()),
            "collections": {t.strip(): (int(k), c) for t, k, c in
                            re.findall(r"collection (.+?)\s+(\d+) objects\s+\((\S+)\)", block)},
            "sent": re.findall(r"sent to (.+): (\d+) envelopes delivered, (\d+) pending", block),
        }
    assert set(nodes) == set("ABC"), out
    for x, n in nodes.items():
        assert len(n["sent"]) == 2 and all(p == "0" for _, _, p in n["sent"]), (x, n["sent"])
    # serve each data directory again to read what it holds
    model = Model({x: n["id"] for x, n in nodes.items()}, DEMO_TERMS)
    with contextlib.ExitStack() as stack:
        held = {}
        for x, n in nodes.items():
            node = ComityNode(n["data"])
            node.admin = ("admin", n["password"])
            stack.callback(node.stop)
            node.start(timeout=120)
            held[x] = {t: fetch_all(node, cid) for t, (_, cid) in n["collections"].items()}
        for x, n in nodes.items():
            for title, (count, _) in n["collections"].items():
                assert len(held[x][title]) == count, (x, title, count, len(held[x][title]))
        for giver in "ABC":
            own = held[giver]["default"]
            assert len(own) == 20, (giver, len(own))
            for peer in "ABC":
                if peer == giver:
                    continue
                _, expected = model.outcome(own, giver, peer)
                readable = model.read_all(expected, peer, giver, DEMO_ROLES[peer])
                title = f"Shared by {nodes[giver]['name']}"
                assert_same(held[peer].get(title, []), readable, {o["id"]: o for o in own}, f"{peer}'s {title}")
                assert nodes[peer]["collections"][title][0] == len(expected)


# --------------------------------------------------------------------------------------
# 6. agreements across nodes
# --------------------------------------------------------------------------------------


def log_entries(m: Member) -> list[dict]:
    """Every entry of `m`'s transparency log in the clear (`comity log checkpoint|entry
    --reveal`: version 2 entries opened with the openings the node keeps)."""
    cp = m.node.cli("log", "checkpoint", "--data-dir", m.node.data_dir).stdout.decode()
    size = int(cp.splitlines()[1])
    return [json.loads(m.node.cli("log", "entry", str(i), "--reveal", "--data-dir", m.node.data_dir).stdout)
            for i in range(size)]


def agreement_committed(m: Member, held: dict) -> bool:
    """Whether `m`'s log commits to the agreement exactly as `held` (one entry of the node
    API's listing) says: an `agreement.changed` entry by `m` over its status and document."""
    digest = hashlib.sha256(canonical({"status": held["status"], "document": held["agreement"]})).hexdigest()
    return any(e["kind"] == "agreement.changed" and e["subject"] == held["agreement"]["id"]
               and e["sha256"] == digest for e in log_entries(m))


def test_an_agreement_proposed_and_signed_across_nodes_is_in_force_everywhere_then_objects_flow(tmp_path):
    """A proposes ABC over the node API; B's admin signs over the API, C's with the CLI. No
    node applies it until it holds all three signatures; then each holds the same terms
    signed by all three, each signature is in its signer's log, and objects flow."""
    with federation(tmp_path, "ABC", []) as w:
        a, b, c = w["A"], w["B"], w["C"]
        ids = {x: w[x].id for x in "ABC"}
        r = requests.post(a.url + "/api/v1/agreements", auth=a.node.admin, timeout=60, json={
            "title": ABC.title, "partners": [b.id, c.id],
            "scope": {"object_types": list(ABC.types), "max_tlp": ABC.max_tlp, "handling": [],
                      "purposes": list(ABC.purposes)}})
        assert r.status_code == 201, r.text
        proposed = r.json()
        ag = proposed["agreement"]["id"]
        assert (proposed["status"], proposed["signed"], sorted(proposed["missing"])) == (
            "proposed", [a.id], sorted([b.id, c.id])), proposed
        assert agreement_committed(a, proposed)
        # while it is proposed, a GREEN indicator of A is shared with nobody
        early = indicator(900, GREEN)
        add_and_wait(a.node, a.node.collections["default"], [early])
        for m in (b, c):
            wait_until(lambda m=m: ag in agreements_of(m), 60, f"the proposal at {m.letter}", nodes=[a.node, m.node])
            held = agreements_of(m)[ag]
            assert (held["status"], held["signed"]) == ("proposed", [a.id]), held
            assert held["agreement"] == proposed["agreement"], "the proposal arrives as it was made"
        # B signs over the API: still proposed everywhere (C is missing)
        r = requests.post(f"{b.url}/api/v1/agreements/{ag}/sign", auth=b.node.admin, timeout=60)
        assert r.status_code == 200, r.text
        signed_b = r.json()
        assert (signed_b["status"], signed_b["missing"]) == ("proposed", [c.id]), signed_b
        assert agreement_committed(b, signed_b), "B's signature is in B's log"
        r = requests.post(f"{b.url}/api/v1/agreements/{ag}/sign", auth=b.node.admin, timeout=60)
        assert assert_taxii_error(r, 400)["description"] == f"this node has signed agreement {ag} already"
        wait_until(lambda: set(agreements_of(a)[ag]["signed"]) == {a.id, b.id}, 60, "B's signature at A",
                   nodes=[a.node, b.node])
        assert agreements_of(a)[ag]["status"] == "proposed"
        # C signs with the CLI (the server running): C holds all three, then A and B do
        c.node.cli("agreement", "sign", ag, "--data-dir", c.node.data_dir)
        for m in (a, b, c):
            wait_until(lambda m=m: agreements_of(m)[ag]["status"] == "active", 60, f"in force at {m.letter}",
                       nodes=[a.node, b.node, c.node])
        docs = {}
        for m in (a, b, c):
            held = agreements_of(m)[ag]
            assert (sorted(held["signed"]), held["missing"]) == (sorted(ids.values()), []), (m.letter, held)
            doc = json.loads(agreement_doc(m, ag))
            docs[m.letter] = doc
            sigs = {s["member"]: s for s in doc.pop("signatures")}
            assert set(sigs) == set(ids.values())
            for member, sig in sigs.items():
                signer = next(x for x in (a, b, c) if x.id == member)
                assert sig["public_key"] == signer.public_key
                signer.key.verify(base64.b64decode(sig["signature"]), canonical(doc))
            line = next(x for x in m.cli_text("agreement", "list", "--data-dir", m.node.data_dir).splitlines()
                        if x.startswith(ag))
            assert line.split("\t")[1:3] == ["active", "signed 3/3"], line
        assert docs["A"] == docs["B"] == docs["C"], "every party holds the same terms"
        for m in (a, b, c):
            assert agreement_committed(m, agreements_of(m)[ag]), f"{m.letter}'s log lacks the signed agreement"
        # now objects flow, to both
        objs = [indicator(901 + i, GREEN) for i in range(5)]
        add_and_wait(a.node, a.node.collections["default"], objs)
        for m in (b, c):
            wait_until(lambda m=m: {o["id"] for o in objs} <= {o["id"] for o in shared_by(m, a)}, 90,
                       f"objects at {m.letter}", nodes=[a.node, m.node])
            got = {o["id"] for o in shared_by(m, a)}
            assert early["id"] not in got, "an object stored before the agreement was in force went out"
            assert got == {o["id"] for o in objs}, (m.letter, got)


def agreement_body(parties: list[Member], proposer: Member, *, agreement_id: str | None = None,
                   max_tlp: str = "amber", sign: list[tuple[str, str, Ed25519PrivateKey]] | None = None) -> dict:
    """An agreement document made here: terms by `proposer`, and a signature for each
    (member id, public key, private key) of `sign` (the proposer's by default)."""
    doc = {
        "id": agreement_id or f"agreement--{uuid.uuid4()}",
        "title": "made by hand",
        "proposer": proposer.id,
        "parties": sorted(p.id for p in parties),
        "scope": {"object_types": ["indicator"], "max_tlp": max_tlp, "handling": [], "purposes": ["intelligence"]},
        "valid_from": "2026-01-01T00:00:00.000Z",
        "valid_until": None,
        "created": "2026-01-01T00:00:00.000Z",
    }
    sign = sign if sign is not None else [(proposer.id, proposer.public_key, node_key(proposer))]
    doc["signatures"] = [{"member": member, "public_key": pub,
                          "signature": base64.b64encode(key.sign(canonical(doc))).decode()}
                         for member, pub, key in sign]
    return doc


def test_bad_agreement_envelopes_are_refused_with_a_signed_receipt_and_logged(tmp_path):
    """Agreement envelopes made by hand, signed with A's (or C's) real key, straight to B's
    inbox: a good proposal is stored as proposed; a forged party signature, a signature by
    a member who is no party, changed terms under the same id, a sender who is no party, and
    a suspended sender are each refused with a signed receipt, recorded, and committed to
    B's log as `envelope.refused`, B's agreements unchanged. A replayed envelope gets the
    very same receipt and changes nothing."""
    with federation(tmp_path, "ABC", [], serve="B") as w:
        a, b, c = w["A"], w["B"], w["C"]
        key_a, key_c = node_key(a), node_key(c)
        forger = Ed25519PrivateKey.generate()
        good = agreement_body([a, b], a)
        ag = good["id"]

        def send(seq: int, doc: dict, frm: Member = a, key=key_a) -> tuple[dict, requests.Response]:
            env = envelope(frm.id, b.id, seq, kind="agreement", body={"agreement": doc})
            return env, post_inbox(b, signed(env, key), key)

        # 1. the proposal: stored as proposed, not signed for B
        e1, r1 = send(1, good)
        body = receipt(r1, b, 200, to=a.id, envelope_id=e1["id"], seq=1, outcome="delivered")
        assert body == {"envelope": e1["id"], "seq": 1, "outcome": "delivered", "accepted": 1}, body
        held = agreements_of(b)
        assert list(held) == [ag] and held[ag]["agreement"] == good, held
        assert (held[ag]["status"], held[ag]["signed"], held[ag]["missing"]) == ("proposed", [a.id], [b.id])
        assert agreement_committed(b, held[ag])
        before_log = len(log_entries(b))

        # 2. a replay: the very same receipt, nothing applied again
        r = post_inbox(b, signed(e1, key_a), key_a)
        assert r.status_code == 200 and r.content == r1.content, (r.status_code, r.text, r1.text)
        assert agreements_of(b) == held
        assert len(log_entries(b)) == before_log, "a replay is not applied again"

        def refused_and_logged(seq: int, doc: dict, reason: str, frm: Member = a, key=key_a):
            env, r = send(seq, doc, frm, key)
            refusal(r, b, env, reason)
            assert agreements_of(b) == held, f"{reason}: B's agreements changed"
            assert post_inbox(b, signed(env, key), key).content == r.content, "a recorded refusal is answered the same"
            entries = [e for e in log_entries(b) if e["subject"] == f"envelope:{env['id']}"]
            assert [(e["kind"], e["actor"]) for e in entries] == [("envelope.refused", frm.id)], entries
            return env

        # 3. a forged signature of a party (B's pinned key claimed, another key used)
        forged = agreement_body([a, b], a, agreement_id=ag, sign=[(a.id, a.public_key, key_a),
                                                                  (b.id, b.public_key, forger)])
        refused_and_logged(2, forged, f"the signature of {b.id} on agreement {ag} does not verify with its pinned key")
        # 4. a signature by a member who is not a party (C's real one)
        foreign = agreement_body([a, b], a, agreement_id=ag, sign=[(a.id, a.public_key, key_a),
                                                                   (c.id, c.public_key, key_c)])
        refused_and_logged(3, foreign, f"carries a signature by {c.id}, who is not one of its parties")
        # 5. changed terms under the same id, rightly signed by A
        changed = agreement_body([a, b], a, agreement_id=ag, max_tlp="red")
        refused_and_logged(4, changed, f"this node holds agreement {ag} with other terms")
        # 6. a sender who is not a party (C, with its own key)
        refused_and_logged(1, good, f"the sender {c.id} is not a party to agreement {ag}", frm=c, key=key_c)
        # 7. a suspended sender: turned away before its body is read (unsigned, unrecorded),
        # even for a new agreement
        b.node.cli("member", "suspend", a.id, "--data-dir", b.node.data_dir)
        fresh = agreement_body([a, b], a)
        _, r = send(5, fresh, a, key_a)
        unsigned_error(r, 401, NOT_A_MEMBER)
        b.node.cli("member", "reinstate", a.id, "--data-dir", b.node.data_dir)
        assert fresh["id"] not in agreements_of(b)
        assert agreements_of(b) == held
        journal = db_rows(b, "SELECT seq, kind, outcome FROM inbox WHERE sender = ? ORDER BY seq", a.id)
        if journal is not None:
            assert journal == [(1, "agreement", "delivered"), (2, "agreement", "refused"),
                               (3, "agreement", "refused"), (4, "agreement", "refused")], journal

        # B's admin signs the agreement as A proposed it: in force on B
        b.node.cli("agreement", "sign", ag, "--data-dir", b.node.data_dir)
        now = agreements_of(b)[ag]
        assert (now["status"], sorted(now["signed"]), now["missing"]) == ("active", sorted([a.id, b.id]), []), now
        assert {k: v for k, v in now["agreement"].items() if k != "signatures"} == \
            {k: v for k, v in good.items() if k != "signatures"}, "the terms are A's"
        assert agreement_committed(b, now), "B's signature is in B's log"

        # A party's withdrawal travels: a non-party's, or one for an agreement B does not
        # hold, is refused; A's ends the agreement on B, committed to B's log, once.
        def withdraw(seq: int, ag_id: str, frm: Member = a, key=key_a):
            env = envelope(frm.id, b.id, seq, kind="agreement", body={"terminated": ag_id})
            return env, post_inbox(b, signed(env, key), key)

        env, r = withdraw(2, ag, frm=c, key=key_c)
        refusal(r, b, env, f"{c.id} is not a party to agreement {ag}")
        unknown = f"agreement--{uuid.uuid4()}"
        env, r = withdraw(5, unknown)
        refusal(r, b, env, f"this node holds no agreement {unknown}")
        mixed = envelope(a.id, b.id, 6, kind="agreement", body={"agreement": good, "terminated": ag})
        refusal(post_inbox(b, signed(mixed, key_a), key_a), b, mixed, "either an agreement or a termination")
        assert agreements_of(b)[ag]["status"] == "active", "refusals changed nothing"
        env, r = withdraw(7, ag)
        body = receipt(r, b, 200, to=a.id, envelope_id=env["id"], seq=7, outcome="delivered")
        assert body["accepted"] == 1, body
        ended = agreements_of(b)[ag]
        assert ended["status"] == "terminated", ended
        assert agreement_committed(b, ended), "the end is in B's log"
        env, r = withdraw(8, ag)
        assert receipt(r, b, 200, to=a.id, envelope_id=env["id"], seq=8, outcome="delivered")["accepted"] == 0
