"""Governance between three real `comity serve` processes, driven over
`/api/v1/governance` (and `comity governance` beside a running node): a norm adopted by
vote, ballots arriving in different orders, one node down while others vote and catching up
afterwards; every node ends with the same outcome digest and the same norms registry. An
admission without its sponsors is refused with the reason and nothing is tabled; who may
read and who may act is checked as a matrix, denials included. The core's shortest voting
period is a minute, so the vote takes a little over one.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta, timezone

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from conftest import ADMIN_PASSWORD, target
from federation_nodes import cli_json, envelope, federation, log_entries, node_key, post_inbox, signed, wait_until

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: governance")

ADMIN = ("admin", ADMIN_PASSWORD)
ANALYST = ("analyst", "analyst-password-1")
VIEWER = ("viewer", "viewer-password-1")
WAIT = 150
KINDS = ["admit_member", "suspend_member", "reinstate_member", "expel_member", "adopt_norm", "amend_norm",
         "repeal_norm", "change_rules", "joint_statement"]
# No delay, the shortest voting period the core allows (a minute), two sponsors to admit.
RULES = {
    "voting_delay_seconds": 0, "voting_period_seconds": 60, "execution_window_seconds": 600,
    "quorum": "1/2", "abstentions_count_toward_quorum": True,
    "kinds": {k: {"majority": "2/3" if k in ("admit_member", "expel_member", "change_rules") else "1/2",
                  "sponsors": 2 if k == "admit_member" else 0} for k in KINDS},
}
NORM = {"kind": "adopt_norm", "norm": "gge-2015-13f",
        "texts": {"en": "A State should not conduct or knowingly support ICT activity that intentionally "
                        "damages critical infrastructure.",
                  "fr": "Un État ne devrait pas mener ni soutenir sciemment d'activités informatiques qui "
                        "endommagent intentionnellement une infrastructure critique.",
                  "ar": "لا ينبغي للدولة أن تضطلع بنشاط يلحق الضرر عمداً بالبنية التحتية الحيوية"}}


def api(m, method: str, path: str, body=None, auth=ADMIN):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = json.dumps(body).encode() if body is not None else None
    return requests.request(method, m.url + "/api/v1/governance" + path, data=data, headers=headers,
                            auth=auth, timeout=60)


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def new_key() -> str:
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def held(m, pid: str) -> dict | None:
    """Proposal `pid` as `m` holds it, read with the CLI beside the running node."""
    out = m.node.cli("governance", "list", "--json", "--data-dir", m.node.data_dir).stdout
    return next((p for p in json.loads(out) if p["id"] == pid), None)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("governance")
    with federation(tmp, "ABC", [], serve="") as w:
        rules = tmp / "rules.json"
        rules.write_text(json.dumps(RULES))
        for x in "ABC":
            node = w[x].node
            node.cli("governance", "rules", "--set", str(rules), "--data-dir", node.data_dir)
            for (name, password), role in [(ANALYST, "analyst"), (VIEWER, "viewer")]:
                node.cli("user", "add", name, "--role", role, "--data-dir", node.data_dir,
                         env={"COMITY_USER_PASSWORD": password})
            w[x].start()
        yield w


def test_a_norm_adopted_by_vote_is_the_same_on_every_node(world):
    a, b, c = world["A"], world["B"], world["C"]
    logged = sum(e["kind"] == "governance.act" for e in log_entries(a))
    tabled = ok(api(a, "POST", "/proposals", {"action": NORM}), 201)
    pid = tabled["id"]
    assert tabled["state"] == "active" and tabled["proposer"] == a.id, tabled
    for m in (b, c):
        wait_until(lambda m=m: held(m, pid), WAIT, f"{m.letter} holds {pid}", nodes=[m.node])
    # C goes down; B then A vote while it is away.
    c.node.stop()
    try:
        ok(api(b, "POST", f"/proposals/{pid}/vote", {"choice": "yes"}))
        ok(api(a, "POST", f"/proposals/{pid}/vote", {"choice": "no"}))
        ok(api(a, "POST", f"/proposals/{pid}/vote", {"choice": "yes"}))  # A changes its mind
    finally:
        c.start()
    out = c.node.cli("governance", "vote", pid, "abstain", "--json", "--data-dir", c.node.data_dir).stdout
    assert json.loads(out)["outcome"]["abstain"] == 1

    def final(m):
        p = ok(api(m, "GET", f"/proposals/{pid}"))
        return p if p["counted"] else None
    outcomes = [wait_until(lambda m=m: final(m), WAIT, f"{m.letter} counted {pid}", nodes=[m.node])
                for m in (a, b, c)]
    for p in outcomes:
        assert p["state"] == "executed", p
        o = p["outcome"]
        assert (o["yes"], o["no"], o["abstain"], o["turnout"]) == (2, 0, 1, 3), o
        assert o["digest"] == outcomes[0]["outcome"]["digest"]
    superseded = [r for r in outcomes[0]["outcome"]["refused"] if r["reason"]["reason"] == "superseded"]
    assert len(superseded) == 1 and superseded[0]["member"] == a.id
    norms = [ok(api(m, "GET", "/norms", auth=ANALYST))["norms"] for m in (a, b, c)]
    assert norms[0] == norms[1] == norms[2]
    assert [(n["norm"], n["version"], n["proposal"]) for n in norms[0]] == [("gge-2015-13f", 1, pid)]
    assert norms[0][0]["texts"] == NORM["texts"]
    # tabled, three ballots, the outcome and its execution, each in A's log
    assert sum(e["kind"] == "governance.act" for e in log_entries(a)) >= logged + 6


def test_an_admission_without_its_sponsors_is_refused_and_nothing_is_tabled(world):
    a, b = world["A"], world["B"]
    before = ok(api(a, "GET", "/proposals"))["proposals"]
    admit = {"kind": "admit_member", "member": "identity--5e1f0b8e-5d1c-4b7e-9a41-0d6c9f2a7e11",
             "public_key": new_key(), "country": "FR"}
    r = api(a, "POST", "/proposals", {"action": admit, "sponsors": [b.id]})
    assert r.status_code == 422, r.text
    assert "admit_member proposals need 2 sponsors besides the proposer; this one has 1" in r.text
    for bad, says in [({"action": {"kind": "adopt_norm"}}, "missing field"),
                      ({"action": NORM, "weight": 2}, "unknown field"),
                      ({"action": {**NORM, "texts": {}}}, "a text in at least one language is needed"),
                      ({"action": NORM, "sponsors": ["identity--00000000-0000-4000-8000-000000000999"]},
                       "is not an active member")]:
        r = api(a, "POST", "/proposals", bad)
        assert r.status_code in (400, 422) and says in r.text, (bad, r.status_code, r.text)
    assert ok(api(a, "GET", "/proposals"))["proposals"] == before


def test_who_may_read_and_who_may_act(world):
    a = world["A"]
    pid = ok(api(a, "POST", "/proposals", {"action": {**NORM, "norm": "matrix"}}), 201)["id"]
    for auth, read, act in [(ADMIN, 200, 200), (ANALYST, 200, 403), (VIEWER, 403, 403),
                            (("admin", "wrong"), 401, 401), (None, 401, 401)]:
        for path in ("/proposals", f"/proposals/{pid}", "/norms"):
            assert api(a, "GET", path, auth=auth).status_code == read, (auth, path)
        assert api(a, "POST", f"/proposals/{pid}/vote", {"choice": "yes"}, auth=auth).status_code == act, auth
        if act != 200:
            assert api(a, "POST", "/proposals", {"action": NORM}, auth=auth).status_code == act, auth
    assert api(a, "GET", "/proposals/proposal--00000000-0000-4000-8000-000000000000").status_code == 404
    r = api(a, "POST", f"/proposals/{pid}/vote", {"choice": "maybe"})
    assert r.status_code == 400, r.text


def test_a_members_keys_replaced_by_vote_are_pinned_everywhere_and_the_member_goes_on_with_them(world):
    """The member prepares a key (`comity key prepare`), B tables `revoke_member_key` with
    it, the three vote; every node, the member's own included, pins the new keys. The member
    moves the prepared key file in place and restarts: its next proposal is taken by the
    others, and an envelope signed by its old key is refused. Runs last: it changes A's key."""
    a, b, c = world["A"], world["B"], world["C"]
    d = ["--data-dir", a.node.data_dir]
    old_key = node_key(a)
    prepared = a.node.cli("key", "prepare", *d)
    new_key_text, encryption_key = prepared.stdout.decode().split()
    assert new_key_text.startswith("ed25519:") and new_key_text != a.public_key, new_key_text
    assert encryption_key.startswith("x25519:"), encryption_key
    nxt = a.node.data_dir / "node.key.next"
    assert nxt.exists() and nxt.read_text() != (a.node.data_dir / "node.key").read_text()
    again = a.node.cli("key", "prepare", *d, check=False)
    assert again.returncode != 0 and b"node.key.next exists" in again.stderr, again.stderr

    since = (datetime.now(timezone.utc) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    action = {"kind": "revoke_member_key", "member": a.id, "revoked_from": since,
              "new_key": new_key_text, "encryption_key": encryption_key}
    before = ok(api(b, "GET", "/proposals"))["proposals"]
    for bad in [{**action, "new_key": b.public_key},          # pinned for another member
                {**action, "new_key": a.public_key},          # the member's own key
                {**action, "member": "identity--00000000-0000-4000-8000-000000000999"},
                {**action, "revoked_from": "2999-01-01T00:00:00Z"},
                {**action, "new_key": "ed25519:not-a-key"}]:
        r = api(b, "POST", "/proposals", {"action": bad})
        assert r.status_code in (400, 422), (bad, r.status_code, r.text)
    assert ok(api(b, "GET", "/proposals"))["proposals"] == before, "a refused proposal left nothing"

    pid = ok(api(b, "POST", "/proposals", {"action": action}), 201)["id"]
    for m in (a, c):
        wait_until(lambda m=m: held(m, pid), WAIT, f"{m.letter} holds {pid}", nodes=[m.node])
    for m in (a, b, c):
        ok(api(m, "POST", f"/proposals/{pid}/vote", {"choice": "yes"}))

    def executed(m):
        p = ok(api(m, "GET", f"/proposals/{pid}"))
        return p if p["counted"] else None
    outcomes = [wait_until(lambda m=m: executed(m), WAIT, f"{m.letter} counted {pid}", nodes=[m.node])
                for m in (a, b, c)]
    assert [p["state"] for p in outcomes] == ["executed"] * 3, outcomes
    assert len({p["outcome"]["digest"] for p in outcomes}) == 1
    for m in (b, c):
        on = cli_json(m.node, "member", "show", a.id, "--data-dir", m.node.data_dir)
        assert (on["public_key"], on["encryption_key"]) == (new_key_text, encryption_key), on
    mine = cli_json(a.node, "member", "show-local", *d)
    assert (mine["public_key"], mine["encryption_key"]) == (new_key_text, encryption_key), mine
    history = json.loads(a.node.cli("key", "history", "--json", *d).stdout)
    assert [s["statement"]["type"] for s in history][-1:] == ["key-replacement"], history

    # The member swaps the prepared key in and restarts; the others take what it signs now.
    a.node.stop()
    nxt.replace(a.node.data_dir / "node.key")
    a.public_key = new_key_text
    a.start()
    later = ok(api(a, "POST", "/proposals", {"action": {**NORM, "norm": "after-the-replacement"}}), 201)["id"]
    for m in (b, c):
        wait_until(lambda m=m: held(m, later), WAIT, f"{m.letter} holds A's proposal signed by the new key",
                   nodes=[a.node, m.node])
    # What the revoked key signs now is refused at the gate.
    env = envelope(a.id, b.id, 10_000, kind="governance", body={"x": 1})
    r = post_inbox(b, signed(env, old_key, seal=False), old_key)
    assert r.status_code == 401, (r.status_code, r.text)
