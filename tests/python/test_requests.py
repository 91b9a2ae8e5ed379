"""Cooperation requests between three real `comity serve` processes, driven over
`/api/v1/requests` (and `comity request` beside a running node): whole lives of every kind
(information asked and supplied, conditions accepted, preservation extended and linked,
refusal, postponement, an emergency production, withdrawal), evidence uploaded with a
resume and delivered to the other side, the same signed history on both sides, every event in both logs; who may do what (a matrix, denials included); bad
input refused with a precise error and nothing changed; a node offline during an act
catching up.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from pathlib import Path

import pytest
import requests

from conftest import ADMIN_PASSWORD, add_and_wait, target
from federation_nodes import (AMBER, GREEN, RED, Terms, federation, indicator, log_entries, malware,
                              wait_until)

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: cooperation requests")

OFFICER = ("liaison", "liaison-password-1")
WAIT = 120


def doc(kind: str) -> dict:
    base = {
        "authority": {"name": "Unité cyber", "contact": "+00 1 23 45", "time_zone": "Europe/Paris",
                      "office_hours": "24/7"},
        "legal_basis": {"instrument": "Budapest Convention", "article": "29"},
        "summary": "Rançongiciel — 勒索软件 — برامج الفدية",
        "offence": "unauthorised access",
    }
    base["details"] = {
        "assistance": {"incident": "C2 at 203.0.113.7", "help_sought": "takedown"},
        "preservation": {"data": "logs", "relation_to_offence": "C2", "custodian": "ACME",
                         "necessity": "rotation", "mla_to_follow": True},
        "disclosure": {"preservation": "earlier", "communication": "C2 session"},
        "production": {"categories": ["subscriber"], "addressee": "ACME",
                       "time_range": {"from": "2026-11-01T00:00:00Z", "to": "2026-11-02T00:00:00Z",
                                      "time_zone": "UTC"}},
        "mla": {"purpose": "prosecution", "assistance_sought": "images", "laws": "art. 2",
                "proceedings": "2026/1"},
    }[kind]
    return base


def api(m, method: str, path: str, body=None, auth=OFFICER, raw: bytes | None = None, headers=None):
    h = {"Content-Type": "application/json"} if body is not None or raw is not None else {}
    h.update(headers or {})
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    return requests.request(method, m.url + "/api/v1/requests" + path, data=data, headers=h, auth=auth, timeout=60)


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def new(a, b, kind: str, emergency: bool = False, **extra) -> str:
    d = doc(kind)
    d.update(extra)
    r = ok(api(a, "POST", "", {"kind": kind, "to": b.id, "emergency": emergency, "document": d}), 201)
    assert r["state"] == "draft" and r["allowed"] == ["submit"], r
    return r["id"]


def act(m, rid: str, what: str, **details) -> dict:
    return ok(api(m, "POST", f"/{rid}/{what}", details))


def held(m, rid: str) -> dict | None:
    """The request as `m` holds it, read the way the CLI reads it (opening it through the
    API would record a retrieval)."""
    out = m.node.cli("request", "list", "--json", "--limit", "1000", "--officer", OFFICER[0],
                     "--data-dir", m.node.data_dir).stdout
    return next((r for r in json.loads(out) if r["id"] == rid), None)


def reach(m, rid: str, state: str, events: int | None = None) -> dict:
    def there():
        r = held(m, rid)
        return r if r and r["state"] == state else None
    got = wait_until(there, WAIT, f"{m.letter} holds {rid} as {state}", nodes=[m.node])
    return got


def history(m, rid: str) -> list[tuple]:
    """The signed history as `comity request show` prints it (on the requested side, the
    first showing records the retrieval receipt)."""
    out = m.node.cli("request", "show", rid, "--json", "--officer", OFFICER[0], "--data-dir",
                     m.node.data_dir).stdout
    return [(h["n"], h["act"], h["by"], h["sha256"]) for h in json.loads(out)["history"]]


def same_history(x, y, rid: str) -> list[tuple]:
    wait_until(lambda: history(x, rid) == history(y, rid), WAIT, "both sides hold the same history",
               nodes=[x.node, y.node])
    return history(x, rid)


def add_users(m):
    for name, role in [(OFFICER[0], "liaison"), ("viewer", "viewer"), ("analyst", "analyst")]:
        m.node.cli("user", "add", name, "--role", role, "--data-dir", m.node.data_dir,
                   env={"COMITY_USER_PASSWORD": OFFICER[1]})


def later(days: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with federation(tmp_path_factory.mktemp("requests"), "ABC", []) as w:
        for x in "ABC":
            add_users(w[x])
        yield w


def test_a_request_lives_its_whole_life_with_the_same_signed_history_on_both_sides(world, tmp_path):
    a, b = world["A"], world["B"]
    logged = {m.letter: sum(e["kind"] == "request.event" for e in log_entries(m)) for m in (a, b)}
    rid = new(a, b, "mla")
    act(a, rid, "submit")
    reach(a, rid, "delivered")
    # the first opening by B's officer is the signed retrieval receipt A receives
    opened = ok(api(b, "GET", f"/{rid}"))
    assert opened["history"][-1]["act"] == "retrieve" and opened["history"][-1]["officer"] == "liaison"
    assert opened["document"]["summary"] == doc("mla")["summary"]
    act(b, rid, "acknowledge")
    # an act with no details needs no body
    r = requests.post(f"{b.url}/api/v1/requests/{rid}/review", auth=OFFICER, timeout=60)
    assert r.status_code == 200 and r.json()["state"] == "under_review", r.text
    act(b, rid, "request_info", note="Which servers?")
    reach(a, rid, "info_requested")
    act(a, rid, "supply_info", note="203.0.113.7")
    reach(b, rid, "under_review")
    act(b, rid, "accept_with_conditions", conditions="for proceedings 2026/1 only")
    reach(a, rid, "accepted_with_conditions")
    act(a, rid, "accept_conditions")
    reach(b, rid, "accepted")
    act(b, rid, "execute")
    # evidence: bytes B does not hold cannot be listed
    r = api(b, "POST", f"/{rid}/execute_partially",
            {"attachments": [{"name": "part1.e01", "sha256": "a" * 64, "size": 10}]})
    assert r.status_code == 400 and "does not hold its bytes" in r.text, r.text
    # uploaded over the API, interrupted and resumed, then listed in the signed event
    part1 = bytes(range(256)) * 6000 + b"end"
    sha1 = hashlib.sha256(part1).hexdigest()
    put = lambda offset, chunk: requests.put(  # noqa: E731
        f"{b.url}/api/v1/requests/{rid}/attachments/{sha1}?size={len(part1)}&offset={offset}",
        data=chunk, auth=OFFICER, headers={"Content-Type": "application/octet-stream"}, timeout=60)
    assert ok(put(0, part1[:1_000_000]))["held"] == 1_000_000
    r = put(0, part1[:1_000_000])
    assert r.status_code == 409 and r.json()["held"] == 1_000_000, r.text
    assert ok(put(1_000_000, part1[1_000_000:]))["complete"] is True
    act(b, rid, "execute_partially", attachments=[{"name": "part1.e01", "sha256": sha1, "size": len(part1)}])
    # stored and listed by the CLI beside the running node
    part2 = tmp_path / "part2.e01"
    part2.write_bytes(b"second image " * 1000)
    sha2 = hashlib.sha256(part2.read_bytes()).hexdigest()
    b.node.cli("request", "transition", rid, "complete", "--attach", str(part2), "--officer", OFFICER[0],
               "--data-dir", b.node.data_dir)
    reach(a, rid, "executed")
    # the bytes reach A through the federation and are served once checked
    def arrived():
        r = requests.get(f"{a.url}/api/v1/requests/{rid}/attachments/{sha1}", auth=OFFICER, timeout=60)
        return r if r.status_code == 200 else None
    got = wait_until(arrived, WAIT, "A holds part1.e01", nodes=[a.node, b.node])
    assert got.content == part1 and got.headers["Comity-Attachment-Sha256"] == sha1
    out = tmp_path / "copy.e01"
    wait_until(lambda: a.node.cli("request", "attachment", rid, sha2, "--out", str(out), "--officer",
                                  OFFICER[0], "--data-dir", a.node.data_dir, check=False).returncode == 0,
               WAIT, "A holds part2.e01", nodes=[a.node, b.node])
    assert out.read_bytes() == part2.read_bytes()
    act(a, rid, "close")
    reach(b, rid, "closed")
    events = same_history(a, b, rid)
    assert [e[1] for e in events] == [
        "submit", "deliver", "retrieve", "acknowledge", "review", "request_info", "supply_info",
        "accept_with_conditions", "accept_conditions", "execute", "execute_partially", "complete", "close"]
    # every event is one entry in each log
    for m in (a, b):
        now = sum(e["kind"] == "request.event" for e in log_entries(m))
        assert now - logged[m.letter] == len(events), (m.letter, now, logged[m.letter])


def test_preservation_refusal_postponement_emergency_and_withdrawal(world):
    a, b, c = world["A"], world["B"], world["C"]
    # preservation A -> C: at least 60 days, extended, linked to the production that follows
    pres = new(a, c, "preservation")
    act(a, pres, "submit")
    reach(c, pres, "delivered")
    for step in ("acknowledge", "review", "accept"):
        act(c, pres, step)
    r = api(c, "POST", f"/{pres}/preserve", {"until": later(30)})
    assert r.status_code == 400 and "at least 60 days" in r.json()["description"], r.text
    act(c, pres, "preserve", until=later(61))
    act(c, pres, "extend", until=later(91))
    reach(a, pres, "extended")
    prod = new(a, c, "production")
    act(a, pres, "link", link=prod)
    reach(c, pres, "linked")
    same_history(a, c, pres)

    # refusal B -> A with a reason from the dictionary
    ref = new(b, a, "disclosure")
    act(b, ref, "submit")
    reach(a, ref, "delivered")
    act(a, ref, "acknowledge")
    r = api(a, "POST", f"/{ref}/refuse", {"reason": "because"})
    assert r.status_code == 400, r.text
    act(a, ref, "refuse", reason="dual_criminality", note="not an offence here")
    reach(b, ref, "refused")
    shown = ok(api(b, "GET", f"/{ref}"))
    assert shown["history"][-1]["details"]["reason"] == "dual_criminality"

    # postponement, then resumed
    post = new(c, b, "assistance")
    act(c, post, "submit")
    reach(b, post, "delivered")
    act(b, post, "acknowledge")
    act(b, post, "review")
    act(b, post, "postpone", note="pending domestic proceedings")
    reach(c, post, "postponed")
    act(b, post, "resume")
    reach(c, post, "under_review")

    # an emergency production, due in 8 hours from B's signed acknowledgement, answered at once
    emer = new(c, b, "production", emergency=True, emergency_justification="imminent threat to life")
    act(c, emer, "submit")
    reach(b, emer, "delivered")
    acked = act(b, emer, "acknowledge")
    signed_at = dt.datetime.fromisoformat(acked["history"][-1]["at"].replace("Z", "+00:00"))
    due = dt.datetime.fromisoformat(acked["due"].replace("Z", "+00:00"))
    assert due - signed_at == dt.timedelta(hours=8), (acked["due"], acked["history"][-1]["at"])
    assert reach(c, emer, "acknowledged")["due"] == acked["due"], "the same deadline on both sides"
    for step in ("review", "accept", "execute", "complete"):
        act(b, emer, step)
    assert reach(c, emer, "executed")["due"] is None

    # withdrawal by the requester
    wd = new(a, b, "assistance")
    act(a, wd, "submit")
    reach(b, wd, "delivered")
    act(a, wd, "withdraw", note="solved")
    reach(b, wd, "withdrawn")
    same_history(a, b, wd)


def test_who_may_see_and_act_and_what_is_refused(world):
    a, b = world["A"], world["B"]
    rid = new(a, b, "assistance")
    matrix = {
        OFFICER: 200,
        ("admin", ADMIN_PASSWORD): 200,
        ("analyst", OFFICER[1]): 403,
        ("viewer", OFFICER[1]): 403,
        ("liaison", "wrong password"): 401,
        None: 401,
    }
    for auth, status in matrix.items():
        assert api(a, "GET", "", auth=auth).status_code == status, auth
        assert api(a, "GET", f"/{rid}", auth=auth).status_code == status, auth
        r = api(a, "POST", "", {"kind": "assistance", "to": b.id, "document": doc("assistance")}, auth=auth)
        assert r.status_code == (201 if status == 200 else status), (auth, r.text)
    before = held(a, rid)

    def refused(r, status: int, says: str):
        assert r.status_code == status, (r.status_code, r.text)
        assert says in r.json()["description"], r.json()

    refused(api(a, "POST", "", raw=b"{not json"), 400, "invalid body")
    refused(api(a, "POST", "", {"kind": "mla", "to": 7, "document": {}}), 400, "invalid body")
    refused(api(a, "POST", "", {"kind": "rumour", "to": b.id, "document": {}}), 400, "invalid body")
    refused(api(a, "POST", "", {"kind": "mla", "to": b.id, "document": {}, "x": 1}), 400, "unknown field")
    refused(api(a, "POST", "", raw=b"{" + b" " * 300_000 + b"}"), 413, "at most")
    refused(api(a, "POST", "", {"kind": "mla", "to": "identity--<script>", "document": {}}), 400,
            "not a registered member")
    refused(api(a, "POST", "", raw=b"{}", headers={"Content-Type": "text/plain"}), 415, "application/json")
    refused(api(a, "POST", f"/{rid}/obliterate", {}), 404, "unknown act")
    r = requests.post(f"{a.url}/api/v1/requests/{rid}/submit", data=b"note=x", auth=OFFICER, timeout=60)
    refused(r, 415, "application/json")
    refused(api(a, "POST", f"/{rid}/accept", {}), 409, "allowed now: submit")
    refused(api(a, "POST", f"/{rid}/submit", {"reason": "other"}), 400, "goes with refuse only")
    refused(api(a, "GET", "/request--00000000-0000-4000-8000-000000000000"), 404, "not found")
    refused(api(a, "GET", "/request--" + "%3Cscript%3E" * 500), 400, "a request id is request--<UUID>")
    refused(api(a, "GET", "?kind=gossip"), 400, "unknown request kind")
    refused(api(a, "GET", "?limit=-1"), 400, "invalid query")
    incomplete = new(a, b, "preservation", offence="")
    refused(api(a, "POST", f"/{incomplete}/submit", {}), 422, "offence (Budapest Convention art. 29(2)(b))")
    assert held(a, incomplete)["state"] == "draft"
    assert held(a, rid) == before, "nothing changed"
    # B never heard of A's drafts
    assert held(b, rid) is None and held(b, incomplete) is None
    # A peer member's token cannot reach the route
    r = requests.get(a.url + "/api/v1/requests", headers={"Authorization": "Bearer nope"}, timeout=60)
    assert r.status_code == 401, r.text


def test_a_node_offline_during_an_act_catches_up(world):
    a, c = world["A"], world["C"]
    rid = new(a, c, "assistance")
    act(a, rid, "submit")
    reach(c, rid, "delivered")
    c.node.stop()
    try:
        act(a, rid, "withdraw", note="while C was down")
        assert held(c, rid)["state"] == "delivered"
    finally:
        c.start()
    reach(c, rid, "withdrawn")
    # reading C's history is C's officer opening the request: the retrieval receipt comes last
    events = same_history(a, c, rid)
    assert [e[1] for e in events] == ["submit", "deliver", "withdraw", "retrieve"]


def test_response_times_are_the_same_over_the_api_and_the_cli(world):
    a, b = world["A"], world["B"]
    rid = new(a, b, "mla")
    act(a, rid, "submit")
    reach(b, rid, "delivered")
    act(b, rid, "acknowledge")
    act(b, rid, "review")
    act(b, rid, "refuse", reason="immunity")
    reach(a, rid, "refused")
    stats = ok(api(a, "GET", "/statistics"))["statistics"]
    cli = json.loads(a.node.cli("request", "stats", "--json", "--officer", OFFICER[0], "--data-dir",
                                a.node.data_dir).stdout)
    assert stats == cli, (stats, cli)
    mla = next(s for s in stats if s["partner"] == b.id and s["kind"] == "mla" and s["side"] == "requester")
    assert mla["requests"] >= 1 and mla["refused"] >= 1, mla
    assert mla["to_acknowledge"] is not None and mla["to_decide"] is not None, mla
    assert api(a, "GET", "/statistics", auth=("viewer", OFFICER[1])).status_code == 403


def test_a_court_file_verifies_offline_on_both_sides_and_any_change_is_caught(world, tmp_path):
    a, b = world["A"], world["B"]
    rid = new(a, b, "preservation")
    act(a, rid, "submit")
    reach(b, rid, "delivered")
    ok(api(b, "GET", f"/{rid}"))  # the signed retrieval
    act(b, rid, "acknowledge")
    act(b, rid, "refuse", reason="data_not_held", note="logs rotated — 日志已轮换")
    reach(a, rid, "refused")
    same_history(a, b, rid)

    def export(m) -> Path:
        out = tmp_path / f"{m.letter}.court.json"
        m.node.cli("request", "export", rid, "--out", out, "--officer", OFFICER[0],
                   "--data-dir", m.node.data_dir)
        return out

    def key_of(m) -> Path:
        path = tmp_path / f"{m.letter}.key"
        path.write_bytes(m.node.cli("log", "key", "--data-dir", m.node.data_dir).stdout)
        return path

    def verify(file: Path, key: Path):
        return a.node.cli("request", "verify", file, "--key", key, "--json", check=False)

    files = {m.letter: export(m) for m in (a, b)}
    for m in (a, b):
        done = verify(files[m.letter], key_of(m))
        assert done.returncode == 0, done.stderr
        events = json.loads(done.stdout)
        assert [e["act"] for e in events] == ["submit", "deliver", "retrieve", "acknowledge", "refuse"]
        assert {e["by"] for e in events} == {a.id, b.id}
        assert all(e["log_index"] >= 0 for e in events)
    # one side's file is not the other side's log
    wrong = verify(files["A"], key_of(b))
    assert wrong.returncode == 1 and "made by the log" in wrong.stderr.decode(), wrong.stderr

    original = json.loads(files["A"].read_text())

    def tampered(name: str, change) -> str:
        doc = json.loads(json.dumps(original))
        change(doc)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        done = verify(path, key_of(a))
        assert done.returncode == 1, (name, done.stdout)
        return done.stderr.decode()

    def edit_note(doc):
        doc["events"][4]["event"] = doc["events"][4]["event"].replace("rotated", "deleted")
    assert "event 5" in tampered("note", edit_note)
    assert "event 3" in tampered("dropped", lambda d: d["events"].pop(2))
    def swap_proofs(doc):
        doc["events"][1]["commitments"], doc["events"][2]["commitments"] = \
            doc["events"][2]["commitments"], doc["events"][1]["commitments"]
    assert "event 2: no log entry commits to it" in tampered("swapped", swap_proofs)
    def other_key(doc):
        doc["members"][b.id] = doc["members"][a.id]
    assert "signature does not verify" in tampered("key", other_key)
    def forged_checkpoint(doc):
        c = doc["events"][0]["commitments"][0]
        c["proof"] = c["proof"].replace("\n\n", "\n\n\u2014 forged\n", 1)
    assert "event 1" in tampered("checkpoint", forged_checkpoint)
    # the same file over the API, for officers only
    served = ok(api(a, "GET", f"/{rid}/file"))
    assert [e["event"] for e in served["events"]] == [e["event"] for e in original["events"]]
    assert api(a, "GET", f"/{rid}/file", auth=("viewer", OFFICER[1])).status_code == 403
    assert api(a, "GET", f"/{rid}/file", auth=None).status_code == 401
    assert api(a, "GET", "/request--not-a-uuid/file").status_code == 400
    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"format": "comity-request-file/1"}')
    done = verify(garbage, key_of(a))
    assert done.returncode != 0 and "is not a court file" in done.stderr.decode()


# A and B agree on police cooperation over indicators up to AMBER: what a request may carry.
POLICE_AB = Terms("A-B police cooperation", "AB", ("indicator",), "amber", purposes=("police-cooperation",))


def test_the_policy_engine_decides_which_objects_a_request_carries_and_what_of_them(tmp_path):
    with federation(tmp_path, "AB", [POLICE_AB]) as w:
        a, b = w["A"], w["B"]
        for m in (a, b):
            add_users(m)
        green = indicator(1, GREEN, description="seen on 4 hospitals")
        # the description is RED inside an AMBER indicator: B may have the indicator, not it
        redacted = indicator(2, AMBER, description="named informant",
                             granular_markings=[{"marking_ref": RED, "selectors": ["description"]}])
        red = indicator(3, RED)
        other_type = malware(4, GREEN)
        add_and_wait(a.node, a.node.collections["default"], [green, redacted, red, other_type],
                     user=a.node.admin)
        absent = f"indicator--{'0' * 8}-0000-4000-8000-{'0' * 12}"

        # a request naming objects the policy lets go: they travel in the signed submission
        rid = new(a, b, "assistance", related_objects=[green["id"], redacted["id"]])
        act(a, rid, "submit")
        reach(b, rid, "delivered")
        submitted = ok(api(b, "GET", f"/{rid}"))["history"][0]
        assert submitted["act"] == "submit"
        carried = submitted["details"]["objects"]
        assert carried[0] == green, carried[0]
        assert "description" not in carried[1] and "granular_markings" not in carried[1], carried[1]
        assert {k: v for k, v in carried[1].items() if k not in ("description", "granular_markings")} == \
            {k: v for k, v in redacted.items() if k not in ("description", "granular_markings")}
        # both sides hold (and logged) the same submission, objects included
        assert same_history(a, b, rid)[0][1] == "submit"
        assert ok(api(a, "GET", f"/{rid}"))["history"][0]["details"]["objects"] == carried

        # refused at submission, naming the object and why; the draft stays a draft
        for ids, kind, words in [
            ([green["id"], red["id"]], "assistance", [red["id"], "police-cooperation"]),
            ([other_type["id"]], "preservation", [other_type["id"], "may not go to"]),
            ([green["id"]], "mla", [green["id"], "judicial-assistance"]),
            ([absent], "assistance", [absent, "holds no object"]),
        ]:
            rid = new(a, b, kind, related_objects=ids)
            r = api(a, "POST", f"/{rid}/submit", {})
            assert r.status_code == 400, (r.status_code, r.text)
            for w_ in words:
                assert w_ in r.text, (w_, r.text)
            held_a = ok(api(a, "GET", f"/{rid}"))
            assert held_a["state"] == "draft" and "history" not in held_a, held_a

        # hostile or malformed lists are refused at drafting, with the field named
        for bad, words in [
            ("indicator--x", "a list of STIX ids"),
            (["not an id"], "is not a STIX id"),
            ([green["id"], green["id"]], "twice"),
            ([1], "is not a STIX id"),
            ([f"indicator--{uuid.uuid4()}" for _ in range(101)], "may name 100"),
        ]:
            d = doc("assistance")
            d["related_objects"] = bad
            r = api(a, "POST", "", {"kind": "assistance", "to": b.id, "emergency": False, "document": d})
            assert r.status_code == 400 and words in r.text and "related_objects" in r.text, (bad, r.status_code, r.text)

        # objects are the node's to release, never an officer's to give
        rid = new(a, b, "assistance")
        r = api(a, "POST", f"/{rid}/submit", {"objects": [green]})
        assert r.status_code == 400 and "released by the node" in r.text, r.text
        assert ok(api(a, "GET", f"/{rid}"))["state"] == "draft"
