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

The nodes, members, agreements and envelopes are made by federation_nodes.py.
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
import subprocess
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import (ComityNode, add_and_wait, assert_taxii_error, backend, comity_bin, fetch_all, free_port,
                      post_objects, target)
from sealing import info, open_
from federation_nodes import (AB, ABC, AC_RED, AMBER, AMBER_STRICT, CLEAR, DRAIN_TIMEOUT, GREEN, NOT_A_MEMBER, PURPOSES,
                              RED, T0, FlakyProxy, Member, Model, Terms, World, agreement_doc, agreements_of,
                              assert_exactly_once, assert_holds, assert_same, canonical, create_args, db_rows,
                              stored_objects,
                              describe, envelope, federation, indicator, init_member, level_of, log_entries, malware,
                              metric, mixed_objects, node_key, outbox_figures, pin, post_inbox, raw_elements,
                              raw_members, receipt, refusal, request_signature, sealing_key, shared_by, signed, stamp,
                              unsigned_error, verify_signed, wait_drained, wait_until)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")


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
        own = stored_objects(a, "c.id = ?", a.node.collections["default"])
        if own is not None:
            assert_same(own, names, names, "A's own collection")
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
        wait_until(lambda: f"federation request refused sender={a.id}" in b.node.log(), 120,
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
    data = signed(tampered, key_a, seal=False)  # the signature is checked before the body is opened
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
            # each body is sealed to the asker: opened with its key
            own = sealing_key(asker)
            got = [o for e in envs for o in json.loads(open_(own, info(e["from"], e["to"], e["kind"], e["id"]),
                                                             e["body"]["sealed"]))["objects"]]
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
