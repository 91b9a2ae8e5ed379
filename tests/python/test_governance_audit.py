"""Cancellation and audits between three real `comity serve` processes. The proposer
cancels its proposal while it is pending and every node holds it canceled; a cancellation
by another member, after voting opened or again is refused with the reason and changes
nothing. `comity governance audit` asks peers for their signed dossiers over the federation
route: an honest peer agrees; a peer whose stored outcome was altered in its database, or
which hands over a ballot whose bytes were forged, is caught with the evidence and the
command exits 1. Who may call the dossier route is checked, denials and replays included.
The rules give 30 s of voting delay and the shortest voting period (a minute).
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import uuid

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openapi_schema_validator import OAS31Validator

from conftest import ADMIN_PASSWORD, backend, psql, target
from federation_nodes import federation, log_entries, node_key, request_signature, wait_until

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: governance")

ADMIN = ("admin", ADMIN_PASSWORD)
ANALYST = ("analyst", "analyst-password-1")
WAIT = 150
DELAY = 30
KINDS = ["admit_member", "suspend_member", "reinstate_member", "expel_member", "adopt_norm", "amend_norm",
         "repeal_norm", "change_rules", "joint_statement"]
RULES = {
    "voting_delay_seconds": DELAY, "voting_period_seconds": 60, "execution_window_seconds": 600,
    "quorum": "1/2", "abstentions_count_toward_quorum": True,
    "kinds": {k: {"majority": "2/3" if k in ("admit_member", "expel_member", "change_rules") else "1/2",
                  "sponsors": 2 if k == "admit_member" else 0} for k in KINDS},
}


def statement(text: str) -> dict:
    return {"kind": "joint_statement", "texts": {"en": text, "es": f"«{text}»"}}


def api(m, method: str, path: str, body=None, auth=ADMIN):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = json.dumps(body).encode() if body is not None else None
    return requests.request(method, m.url + "/api/v1/governance" + path, data=data, headers=headers,
                            auth=auth, timeout=60)


def ok(r, status: int = 200) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    return r.json()


def state(m, pid: str) -> str:
    return ok(api(m, "GET", f"/proposals/{pid}"))["state"]


def cli(m, *args, check: bool = True):
    return m.node.cli("governance", *args, "--data-dir", m.node.data_dir, check=check)


def audit(m, pid: str, *peers) -> tuple[int, list[dict]]:
    """`comity governance audit PID --peer … --json` on `m` beside its running node."""
    args = [a for p in peers for a in ("--peer", p.id)]
    cp = cli(m, "audit", pid, *args, "--json", check=False)
    assert cp.returncode in (0, 1), cp
    return cp.returncode, json.loads(cp.stdout)


def tamper(m, sql: str, *params: str):
    """Runs `sql` on `m`'s database behind its node's back (parameters as text)."""
    if backend() == "sqlite":
        con = sqlite3.connect(m.node.data_dir / "comity.sqlite3", timeout=60)
        with con:
            con.execute(sql, params)
        con.close()
        return
    url = (m.node.data_dir / "comity.toml").read_text().split('url = "')[1].split('"')[0]
    for p in params:
        sql = sql.replace("?", "$q$" + p + "$q$", 1)
    psql(sql, db=url.rsplit("/", 1)[1])


def conforms(m, schema: str, instance):
    """Validates `instance` against the schema `schema` of the OpenAPI document `m` serves."""
    doc = requests.get(m.url + "/api/v1/openapi.json", timeout=60).json()
    OAS31Validator({"$ref": f"#/components/schemas/{schema}", "components": doc["components"]}).validate(instance)


def dossier_get(m, pid: str, key: Ed25519PrivateKey | None, sender: str, *, path: str | None = None,
                headers: dict | None = None) -> requests.Response:
    """GET `m`'s dossier of `pid`, signed as `sender` with `key` over `path` (the real one by default)."""
    real = f"/federation/v1/governance/proposals/{pid}"
    h = dict(headers or {})
    if key is not None:
        h.update(request_signature(b"", key, sender, path=path or real, method="GET"))
    return requests.get(m.url + real, headers=h, timeout=60)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("governance-audit")
    with federation(tmp, "ABC", [], serve="") as w:
        rules = tmp / "rules.json"
        rules.write_text(json.dumps(RULES))
        for x in "ABC":
            node = w[x].node
            node.cli("governance", "rules", "--set", str(rules), "--data-dir", node.data_dir)
            node.cli("user", "add", ANALYST[0], "--role", "analyst", "--data-dir", node.data_dir,
                     env={"COMITY_USER_PASSWORD": ANALYST[1]})
            w[x].start()
        # Tabled first, so its voting delay runs out while the cancellation is tested.
        w.audited = ok(api(w["A"], "POST", "/proposals", {"action": statement("Audited statement")}), 201)["id"]
        yield w


def test_the_proposer_cancels_while_pending_and_every_node_holds_it_canceled(world):
    a, b, c = world["A"], world["B"], world["C"]
    tabled = ok(api(a, "POST", "/proposals", {"action": statement("To be withdrawn")}), 201)
    pid = tabled["id"]
    assert tabled["state"] == "pending", tabled
    for m in (b, c):
        wait_until(lambda m=m: api(m, "GET", f"/proposals/{pid}").status_code == 200, WAIT,
                   f"{m.letter} holds {pid}", nodes=[m.node])
    # Another member, a reader, or no one may not cancel it; nothing changes.
    r = api(b, "POST", f"/proposals/{pid}/cancel")
    assert r.status_code == 400 and f"only the proposer, {a.id}, may cancel proposal {pid}" in r.text, r.text
    assert api(a, "POST", f"/proposals/{pid}/cancel", auth=ANALYST).status_code == 403
    assert api(a, "POST", f"/proposals/{pid}/cancel", auth=None).status_code == 401
    assert api(a, "POST", "/proposals/proposal--00000000-0000-4000-8000-000000000000/cancel").status_code == 404
    assert state(a, pid) == state(b, pid) == "pending"

    out = json.loads(cli(a, "cancel", pid, "--json").stdout)
    assert out["state"] == "canceled", out
    conforms(a, "Proposal", out)
    for m in (b, c):
        wait_until(lambda m=m: state(m, pid) == "canceled", WAIT, f"{m.letter} holds {pid} canceled",
                   nodes=[m.node])
    r = api(a, "POST", f"/proposals/{pid}/cancel")
    assert r.status_code == 400 and f"proposal {pid} was canceled already" in r.text, r.text
    # No ballot is taken on it.
    r = api(b, "POST", f"/proposals/{pid}/vote", {"choice": "yes"})
    assert r.status_code == 400 and "canceled by its proposer" in r.text, r.text
    for m in (a, b):
        assert any(e["subject"] == f"{pid}#canceled" for e in log_entries(m)), m.letter


def test_an_audit_agrees_with_honest_peers_and_catches_an_altered_outcome_and_a_forged_ballot(world):
    a, b, c = world["A"], world["B"], world["C"]
    pid = world.audited
    wait_until(lambda: all(api(m, "GET", f"/proposals/{pid}").status_code == 200 and state(m, pid) == "active"
                           for m in (a, b, c)), WAIT + DELAY, "voting open everywhere", nodes=[a.node, b.node, c.node])
    r = api(a, "POST", f"/proposals/{pid}/cancel")
    assert r.status_code == 400 and "can no longer be canceled: voting has opened" in r.text, r.text
    for m, choice in ((a, "yes"), (b, "yes"), (c, "no")):
        ok(api(m, "POST", f"/proposals/{pid}/vote", {"choice": choice}))

    def counted(m):
        p = ok(api(m, "GET", f"/proposals/{pid}"))
        return p if p["counted"] and p["outcome"]["turnout"] == 3 else None
    outcomes = [wait_until(lambda m=m: counted(m), WAIT, f"{m.letter} counted {pid}", nodes=[m.node])
                for m in (a, b, c)]
    assert len({p["outcome"]["digest"] for p in outcomes}) == 1

    # Honest peers agree, in text and in JSON.
    text = cli(a, "audit", pid, "--peer", b.id, "--peer", c.id).stdout.decode()
    lines = text.splitlines()
    assert [line.split("\t")[1:3] for line in lines] == [[b.id, "agree"], [c.id, "agree"]], text
    code, reports = audit(a, pid, b, c)
    assert code == 0 and [r["agree"] for r in reports] == [True, True], reports
    for r in reports:
        assert r["here"]["derived"] == r["there"]["derived"] == r["there"]["claimed"], r
        assert r["there"]["derived"]["decision"] == "succeeded" and r["there"]["ballots"] == 3, r
        assert r["forged"] == [] and r["findings"] == [] and r["only_there"] == [] == r["only_here"], r

    # B's stored outcome is altered in its database: caught, with both outcomes.
    stored = dict(outcomes[1]["outcome"])
    stored.update(decision="defeated", yes=0, majority_met=False)
    tamper(b, "UPDATE gov_outcomes SET decision = ?, json = ? WHERE proposal = ?",
           "defeated", json.dumps(stored), pid)
    assert ok(api(b, "GET", f"/proposals/{pid}"))["state"] == "defeated"
    code, [report] = audit(a, pid, b)
    assert code == 1 and not report["agree"], report
    assert report["there"]["claimed"]["decision"] == "defeated", report
    assert report["there"]["derived"]["decision"] == "succeeded", report
    assert any("claims the outcome defeated (yes 0, no 1" in f and "does not hash to its digest" in f
               for f in report["findings"]), report["findings"]
    cp = cli(a, "audit", pid, "--peer", b.id, check=False)
    assert cp.returncode == 1 and f"{pid}\t{b.id}\tdisagree" in cp.stdout.decode(), cp

    # C hands over a ballot whose bytes were forged (B's ballot, its choice changed).
    b_ballot = next(json.loads(t) for t in ballots_of(c, a, pid) if json.loads(t)["member"] == b.id)
    forged = json.dumps({**b_ballot, "choice": "no", "sequence": b_ballot["sequence"] + 1})
    sha = hashlib.sha256(forged.encode()).hexdigest()
    tamper(c, "INSERT INTO gov_ballots (proposal, sha256, member, received_at, refusal, json) "
              "VALUES (?, ?, ?, 0, NULL, ?)", pid, sha, b.id, forged)
    code, [report] = audit(a, pid, c)
    assert code == 1 and not report["agree"], report
    assert [(f["sha256"], f["member"], f["reason"]["reason"]) for f in report["forged"]] == \
        [(sha, b.id, "bad_signature")], report
    assert [h["sha256"] for h in report["only_there"]] == [sha], report
    assert report["there"]["derived"]["yes"] == 2, "the forgery is not counted"
    assert any("a forgery, not counted" in f for f in report["findings"]), report["findings"]

    # Without --peer: every peer, each disagreeing.
    code, reports = audit(a, pid)
    assert code == 1 and sorted(r["peer"] for r in reports) == sorted([b.id, c.id]), reports
    assert not any(r["agree"] for r in reports)


def ballots_of(m, asker, pid: str) -> list[str]:
    """The ballot texts `m` hands over for `pid`, read from its dossier as `asker` asks for it."""
    r = dossier_get(m, pid, node_key(asker), asker.id)
    assert r.status_code == 200, r.text
    return r.json()["ballots"]


def test_only_a_member_signing_afresh_gets_a_dossier(world):
    a, b = world["A"], world["B"]
    pid = world.audited
    key = node_key(a)
    r = dossier_get(b, pid, key, a.id)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["member"] == b.id and json.loads(d["proposal"])["proposal"]["id"] == pid, d
    assert len(d["ballots"]) == 3 and d["outcome"]["proposal"] == pid, d
    conforms(b, "Dossier", d)
    # The same signature again, none, another key, another path, a password: refused.
    headers = request_signature(b"", key, a.id, path=f"/federation/v1/governance/proposals/{pid}", method="GET")
    assert dossier_get(b, pid, None, a.id, headers=headers).status_code == 200
    replay = dossier_get(b, pid, None, a.id, headers=headers)
    assert replay.status_code == 401 and "used already" in replay.text, replay.text
    assert dossier_get(b, pid, None, a.id).status_code == 401
    assert dossier_get(b, pid, Ed25519PrivateKey.generate(), a.id).status_code == 401
    other = f"/federation/v1/governance/proposals/proposal--{uuid.uuid4()}"
    assert dossier_get(b, pid, key, a.id, path=other).status_code == 401
    post_signed = request_signature(b"", key, a.id, path=f"/federation/v1/governance/proposals/{pid}")
    assert dossier_get(b, pid, None, a.id, headers=post_signed).status_code == 401
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    assert dossier_get(b, pid, None, a.id, headers={"Authorization": basic}).status_code == 401
    unknown = dossier_get(b, f"proposal--{uuid.uuid4()}", key, a.id)
    assert unknown.status_code == 404, unknown.text
