"""Sightings back to originators, between real `comity serve` processes.

A shares an indicator with B under an agreement that covers indicators only; B's analysts
sight it (one sighting posted over TAXII, one brought in with `comity import`); each goes
back to A in a `sighting` envelope, stripped of B's local references, and lands in A's
collection "Sightings from <B>", readable over TAXII and counted by `comity sightings`. C,
which agrees with B on indicators but originated nothing, gets nothing. Then sighting
envelopes made by hand, straight to A's inbox: of an object A did not originate, malformed,
forged, from a suspended member, from a member without an agreement, above the agreement's
TLP: each refused with a signed receipt, recorded and logged (all but the forged one, whose
sender cannot be trusted), nothing stored; a good one is stored, and its replay gets the
same receipt.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from conftest import add_and_wait, fetch_all, target
from federation_nodes import (AMBER, RED, T0, Terms, db_rows, envelope, federation, indicator, log_entries, metric,
                              NOT_A_MEMBER, node_key, outbox_figures, post_inbox, receipt, refusal, shared_by, signed,
                              unsigned_error, wait_drained,
                              wait_until)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")

# indicators only: a sighting goes back to the originator without `sighting` in the scope
AB_IND = Terms("A-B indicators", "AB", ("indicator",), "amber")
BC_IND = Terms("B-C indicators", "BC", ("indicator",), "amber")


def sightings_collection_id(sender) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"sightings:{sender.id}"))


def sightings_from(receiver, sender) -> list[dict] | None:
    """The objects of `receiver`'s "Sightings from <sender>" collection over TAXII (None when
    it does not exist)."""
    n = receiver.node
    cid = sightings_collection_id(sender)
    r = requests.get(n.collection_url(cid), auth=n.admin, headers={"Accept": "application/taxii+json;version=2.1"},
                     timeout=60)
    if r.status_code == 404:
        return None
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json()["title"] == f"Sightings from {sender.name}", r.json()
    return fetch_all(n, cid)


def sighting(of: str, marking: str = AMBER, **extra) -> dict:
    obj = {"type": "sighting", "spec_version": "2.1", "id": f"sighting--{uuid.uuid4()}", "created": T0,
           "modified": T0, "sighting_of_ref": of, "count": 4, "first_seen": T0, "last_seen": T0,
           "object_marking_refs": [marking]}
    obj.update(extra)
    return obj


def counted(m, indicator_id: str) -> list[dict]:
    """What `comity sightings --indicator` counts, checked against `GET /api/v1/sightings`."""
    out = json.loads(m.node.cli("sightings", "--indicator", indicator_id, "--json",
                                "--data-dir", m.node.data_dir).stdout)
    r = requests.get(m.url + "/api/v1/sightings", params={"indicator": indicator_id}, auth=m.node.admin, timeout=60)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.json() == {"sightings": out}, (r.json(), out)
    return out


def test_a_sighting_goes_back_to_the_originator_only(tmp_path):
    with federation(tmp_path, "ABC", [AB_IND, BC_IND]) as w:
        a, b, c = w["A"], w["B"], w["C"]
        ind = indicator(1, AMBER)
        st = add_and_wait(a.node, a.node.collections["default"], [ind])
        assert st["success_count"] == 1, st
        wait_until(lambda: any(o["id"] == ind["id"] for o in shared_by(b, a)), 120, "B holds A's indicator",
                   nodes=[a.node, b.node])

        # B's analysts sight it: where (B itself and a local site), with local evidence
        site = f"identity--{uuid.uuid4()}"
        evidence = f"observed-data--{uuid.uuid4()}"
        s1 = sighting(ind["id"], where_sighted_refs=[b.id, site], observed_data_refs=[evidence])
        st = add_and_wait(b.node, b.node.collections["default"], [s1])
        assert st["success_count"] == 1, st
        got = wait_until(lambda: sightings_from(a, b), 120, "A holds B's sighting", nodes=[a.node, b.node])
        assert [o["id"] for o in got] == [s1["id"]], got
        sent = got[0]
        assert sent["created_by_ref"] == b.id, sent
        assert sent["where_sighted_refs"] == [b.id], "only B itself, a member A knows, is kept"
        assert "observed_data_refs" not in sent, "B's local evidence is not named"
        assert {k: v for k, v in sent.items() if k not in ("created_by_ref", "where_sighted_refs")} == \
            {k: v for k, v in s1.items() if k not in ("where_sighted_refs", "observed_data_refs")}
        assert counted(a, ind["id"]) == [{"target": ind["id"], "member": b.id, "sightings": 1, "count": 4,
                                          "last_seen": T0}]

        r = requests.get(a.url + "/api/v1/sightings", auth=a.node.admin, timeout=60)
        assert r.status_code == 200 and len(r.json()["sightings"]) == 1, r.text
        r = requests.get(a.url + "/api/v1/sightings?indicator=x;drop", auth=a.node.admin, timeout=60)
        assert r.status_code == 400, r.text
        r = requests.get(a.url + "/api/v1/sightings", timeout=60)
        assert r.status_code == 401, r.text

        # a second sighting, imported with the CLI beside the running server
        s2 = sighting(ind["id"], count=6, last_seen="2024-05-02T10:00:00.000Z")
        path = tmp_path / "sighting.json"
        path.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": [s2]}))
        b.node.cli("import", str(path), "--data-dir", b.node.data_dir)
        wait_until(lambda: len(sightings_from(a, b) or []) == 2, 120, "A holds both sightings",
                   nodes=[a.node, b.node])
        assert counted(a, ind["id"]) == [{"target": ind["id"], "member": b.id, "sightings": 2, "count": 10,
                                          "last_seen": "2024-05-02T10:00:00.000Z"}]
        # per time window: the API and the CLI agree; a Wednesday and a Thursday share a week
        for window, expected in (("day", [{"start": "2024-05-01", "sightings": 1, "count": 4},
                                          {"start": "2024-05-02", "sightings": 1, "count": 6}]),
                                 ("week", [{"start": "2024-04-29", "sightings": 2, "count": 10}])):
            r = requests.get(a.url + "/api/v1/sightings", params={"indicator": ind["id"], "window": window},
                             auth=a.node.admin, timeout=60)
            assert r.status_code == 200 and r.json()["sightings"][0]["windows"] == expected, (window, r.text)
            cli = json.loads(a.node.cli("sightings", "--indicator", ind["id"], "--window", window, "--json",
                                        "--data-dir", a.node.data_dir).stdout)
            assert cli == r.json()["sightings"], (cli, r.text)
        r = requests.get(a.url + "/api/v1/sightings", params={"window": "fortnight"}, auth=a.node.admin, timeout=60)
        assert r.status_code == 400 and "unknown variant `fortnight`" in r.text, r.text
        bad = a.node.cli("sightings", "--window", "fortnight", "--data-dir", a.node.data_dir, check=False)
        assert bad.returncode != 0 and b"is not a window: day, week or month" in bad.stderr, bad.stderr
        # A's log commits to both as objects accepted from B
        accepted = {e["subject"].split("@")[0] for e in log_entries(a)
                    if e["kind"] == "object.accepted" and e["actor"] == b.id}
        assert {s1["id"], s2["id"]} <= accepted, accepted

        # the indicator fires in B's telemetry: `comity match` writes the sighting (unmarked:
        # AMBER to the policy), imported it goes back to A too
        r = b.node.cli("match", "--data-dir", b.node.data_dir, "--sightings", "--identity", b.id, "--quiet",
                       input=b"ipv4-addr 10.0.0.1\nipv4-addr 192.0.2.99\n")
        matched = [json.loads(line) for line in r.stdout.decode().splitlines()]
        assert [m["sighting_of_ref"] for m in matched] == [ind["id"]], matched
        path.write_text(json.dumps(matched))
        b.node.cli("import", str(path), "--data-dir", b.node.data_dir)
        wait_until(lambda: len(sightings_from(a, b) or []) == 3, 120, "A holds the matched sighting",
                   nodes=[a.node, b.node])
        assert counted(a, ind["id"])[0]["sightings"] == 3

        # a TLP:RED sighting not naming A stays with B (the policy decides, as for any exit),
        # and so does one of B's own indicator
        own = indicator(2, AMBER)
        st = add_and_wait(b.node, b.node.collections["default"], [sighting(ind["id"], RED), own,
                                                                   sighting(own["id"])])
        assert st["success_count"] == 3, st

        # C, not the originator, gets nothing: no envelope, no sighting
        wait_drained(b, [a], others=(a.node, c.node))
        assert outbox_figures(b.node).get(c.id, (0, 0))[0] == 0
        kinds = db_rows(b, "SELECT peer, kind FROM outbox ORDER BY peer, seq")
        if kinds is not None:  # SQLite: B's journal holds the two sightings for A, its indicator for C
            assert kinds == sorted([(a.id, "sighting")] * 3 + [(a.id, "stix-objects"), (c.id, "stix-objects")]), kinds
        assert len(sightings_from(a, b)) == 3
        assert sightings_from(c, b) is None
        assert not any(o["type"] == "sighting" for o in shared_by(c, b))
        # and A got the sightings only as sightings (no agreement lists the type)
        assert not any(o["type"] == "sighting" for o in shared_by(a, b))


def test_bad_sighting_envelopes_are_refused_with_a_signed_receipt_and_logged(tmp_path):
    """Only A serves; B's and C's envelopes are made here, signed with their real keys."""
    with federation(tmp_path, "ABC", [AB_IND], serve="A") as w:
        a, b, c = w["A"], w["B"], w["C"]
        key_b, key_c = node_key(b), node_key(c)
        forger = Ed25519PrivateKey.generate()
        ind = indicator(1, AMBER)
        add_and_wait(a.node, a.node.collections["default"], [ind])
        refused_before = metric(a.node, "comity_federation_envelopes_refused_total") or 0
        seq = 0
        logged = {}  # envelope id -> sender, of the recorded refusals

        def send(body: dict, frm=b, key=key_b, at: int | None = None):
            env = envelope(frm.id, a.id, at if at is not None else seq + 1, kind="sighting", body=body)
            return env, post_inbox(a, signed(env, key), key)

        def refused_and_logged(body: dict, reason: str, frm=b, key=key_b, at: int | None = None):
            nonlocal seq
            env, r = send(body, frm, key, at)
            refusal(r, a, env, reason)
            if frm is b:
                seq += 1
            assert post_inbox(a, signed(env, key), key).content == r.content, "a recorded refusal is answered the same"
            assert sightings_from(a, frm) is None, "nothing stored"
            logged[env["id"]] = frm.id

        # of an object A did not originate
        other = f"indicator--{uuid.uuid4()}"
        refused_and_logged({"sighting": sighting(other)}, f"{other} is not an object this node originated")
        # of an object A holds but B originated (posted on A under B's name)
        by_b = indicator(2, AMBER, created_by_ref=b.id)
        add_and_wait(a.node, a.node.collections["default"], [by_b])
        refused_and_logged({"sighting": sighting(by_b["id"])}, "is not an object this node originated")
        # malformed: no sighting_of_ref; not a sighting; not a sighting body
        broken = sighting(ind["id"])
        del broken["sighting_of_ref"]
        refused_and_logged({"sighting": broken}, "the sighting is not valid STIX 2.1")
        refused_and_logged({"sighting": indicator(3, AMBER)}, "carries a STIX sighting, not a indicator")
        refused_and_logged({"objects": [sighting(ind["id"])]}, "the body is not {\"sighting\"")
        # above what the agreement admits
        refused_and_logged({"sighting": sighting(ind["id"], RED)}, "the policy does not let this sighting come")
        # from C, which has no agreement with A
        refused_and_logged({"sighting": sighting(ind["id"])}, f"no agreement is in force between {c.id}",
                           frm=c, key=key_c, at=1)
        # from a suspended B: turned away before its body is read, unsigned, not recorded
        a.node.cli("member", "suspend", b.id, "--data-dir", a.node.data_dir)
        env, r = send({"sighting": sighting(ind["id"])})
        unsigned_error(r, 401, NOT_A_MEMBER)
        a.node.cli("member", "reinstate", b.id, "--data-dir", a.node.data_dir)
        # forged: not B's key; an unsigned error, not recorded, not logged
        env, r = send({"sighting": sighting(ind["id"])}, key=forger)
        unsigned_error(r, 401, NOT_A_MEMBER)
        r = post_inbox(a, signed(env, forger), key_b)
        unsigned_error(r, 400, f"the signature does not verify with the pinned key of {b.id}")
        assert sightings_from(a, b) is None
        # every recorded refusal is committed to A's log once, the forged one not at all
        entries = [e for e in log_entries(a) if e["subject"].startswith("envelope:")]
        assert sorted((e["subject"], e["kind"], e["actor"]) for e in entries) == \
            sorted((f"envelope:{i}", "envelope.refused", frm) for i, frm in logged.items()), entries
        assert metric(a.node, "comity_federation_envelopes_refused_total") >= refused_before + 10

        # a good one: stored; its replay gets the very same receipt
        good = sighting(ind["id"])
        env, r = send({"sighting": good})
        body = receipt(r, a, 200, to=b.id, envelope_id=env["id"], seq=seq + 1, outcome="delivered")
        assert body["accepted"] == 1, body
        again = post_inbox(a, signed(env, key_b), key_b)
        assert again.status_code == 200 and again.content == r.content
        assert [o["id"] for o in sightings_from(a, b)] == [good["id"]]
        assert counted(a, ind["id"])[0]["sightings"] == 1
