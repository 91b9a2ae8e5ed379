"""Founding a federation with the CLI, end to end: node A drafts a genesis document with B
and C as founders, the shipped rules and the eleven UN GGE 2015 norms
(examples/genesis-norms-gge-2015.json); B and C sign the file in turn on their own nodes;
A, B, C and a fourth node that pins nobody adopt it and end with the same rules, norms and
founders. A changed or incompletely signed file is refused with the reason, changing
nothing; a second adoption is refused."""

from __future__ import annotations

import contextlib
import json
import secrets
from pathlib import Path

import pytest

from conftest import ComityNode, target
from federation_nodes import cli_json, federation

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: governance")

NORMS = Path(__file__).resolve().parents[2] / "examples" / "genesis-norms-gge-2015.json"


def refused(node: ComityNode, *args) -> str:
    cp = node.cli(*args, check=False)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode != 0, f"{args} succeeded: {cp.stdout!r}"
    return err


def governance(node: ComityNode) -> tuple:
    d = ["--data-dir", node.data_dir]
    rules = json.loads(node.cli("governance", "rules", *d).stdout)
    norms = [(n["norm"], n["version"], n["texts"], n["proposal"]) for n in cli_json(node, "governance", "norms",
                                                                                  "--json", *d)]
    members = sorted(line.split("\t")[0] for line in node.cli("member", "list", *d).stdout.decode().splitlines()
                     if not line.endswith("(this node)"))
    return rules, norms, members


def test_founders_sign_in_turn_and_every_node_adopts_the_same_genesis(tmp_path):
    with federation(tmp_path, "ABC", [], serve="") as w, contextlib.ExitStack() as stack:
        a, b, c = w["A"], w["B"], w["C"]
        d = ComityNode(tmp_path / "node-d")
        stack.callback(d.stop)
        d.cli("init", "--data-dir", d.data_dir, "--organisation", "CERT-D", "--country", "XD",
              env={"COMITY_ADMIN_PASSWORD": "pw-" + secrets.token_hex(8)})
        draft, by_b, full = tmp_path / "draft.json", tmp_path / "by-b.json", tmp_path / "genesis.json"
        cp = a.node.cli("governance", "genesis", "draft", "--title", "Test federation", "--founder", b.id,
                        "--founder", c.id, "--norms", NORMS, "--out", draft, "--data-dir", a.node.data_dir)
        genesis_id = cp.stdout.decode().strip()
        assert genesis_id.startswith("genesis--"), genesis_id
        assert "still to sign" in cp.stderr.decode(), cp.stderr
        # Adopting before every founder signed: refused, nothing changed.
        before = governance(a.node)
        assert "not signed yet by" in refused(a.node, "governance", "genesis", "adopt", draft,
                                              "--data-dir", a.node.data_dir)
        assert governance(a.node) == before
        b.node.cli("governance", "genesis", "sign", draft, "--out", by_b, "--data-dir", b.node.data_dir)
        # D is no founder: it cannot sign.
        assert "not a founder" in refused(d, "governance", "genesis", "sign", by_b, "--out", tmp_path / "x.json",
                                          "--data-dir", d.data_dir)
        cp = c.node.cli("governance", "genesis", "sign", by_b, "--out", full, "--data-dir", c.node.data_dir)
        assert "signed by every founder" in cp.stderr.decode(), cp.stderr
        shown = a.node.cli("governance", "genesis", "show", full).stdout.decode()
        assert shown.count("\tsigned") == 3 and shown.count("norm\tgge-2015-13") == 11, shown

        # A changed file does not adopt anywhere.
        doc = json.loads(full.read_text())
        doc["genesis"]["norms"][5]["texts"]["en"] = "Anything goes."
        changed = tmp_path / "changed.json"
        changed.write_text(json.dumps(doc))
        d_before = governance(d)
        assert "does not verify" in refused(d, "governance", "genesis", "adopt", changed, "--data-dir", d.data_dir)
        assert governance(d) == d_before

        for node in (a.node, b.node, c.node, d):
            out = cli_json(node, "governance", "genesis", "adopt", full, "--data-dir", node.data_dir)
            assert out["id"] == genesis_id and out["norms"] == 11, out
        assert governance(d)[2] == sorted([a.id, b.id, c.id])
        for m in (a, b, c):
            assert cli_json(d, "member", "show", m.id, "--data-dir", d.data_dir)["public_key"] == m.public_key
        rules, norms, _ = governance(a.node)
        assert len(norms) == 11 and all(p == genesis_id and v == 1 for (_, v, _, p) in norms), norms
        assert set(norms[0][2]) == {"ar", "en", "es", "fr", "ru", "zh"}, norms[0][2]
        for node in (b.node, c.node, d):
            assert governance(node)[:2] == (rules, norms)
        # Adopted once: a second adoption is refused.
        assert "rules or proposals already" in refused(b.node, "governance", "genesis", "adopt", full,
                                                        "--data-dir", b.node.data_dir)


def test_a_node_admitted_later_catches_up_on_what_was_decided_since_the_genesis(tmp_path):
    """A, B and C found the federation with short voting periods; D, not a founder, adopts
    the genesis and is admitted by a vote held beside a norm's adoption. D then catches up
    from A and B (`comity governance catch-up`) and holds the same rules, norms and members
    as they do; a second catch-up applies nothing."""
    from test_governance import RULES, WAIT, api, ok
    from federation_nodes import wait_until
    with federation(tmp_path, "ABC", [], serve="") as w, contextlib.ExitStack() as stack:
        a, b, c = w["A"], w["B"], w["C"]
        d = ComityNode(tmp_path / "node-d")
        stack.callback(d.stop)
        d.cli("init", "--data-dir", d.data_dir, "--organisation", "CERT-D", "--country", "XD",
              env={"COMITY_ADMIN_PASSWORD": "pw-" + secrets.token_hex(8)})
        mine = cli_json(d, "member", "show-local", "--data-dir", d.data_dir)
        rules, draft, by_b, full = (tmp_path / n for n in ("rules.json", "draft.json", "by-b.json", "genesis.json"))
        rules.write_text(json.dumps(RULES))
        a.node.cli("governance", "genesis", "draft", "--title", "Late joiner", "--founder", b.id, "--founder", c.id,
                   "--norms", NORMS, "--rules", rules, "--out", draft, "--data-dir", a.node.data_dir)
        b.node.cli("governance", "genesis", "sign", draft, "--out", by_b, "--data-dir", b.node.data_dir)
        c.node.cli("governance", "genesis", "sign", by_b, "--out", full, "--data-dir", c.node.data_dir)
        for node in (a.node, b.node, c.node, d):
            node.cli("governance", "genesis", "adopt", full, "--data-dir", node.data_dir)
        for m in (a, b, c):
            m.start()

        admit = {"kind": "admit_member", "member": mine["identity"]["id"], "public_key": mine["public_key"],
                 "country": "XD"}
        norm = {"kind": "adopt_norm", "norm": "late-joiner",
                "texts": {"en": "Members share what they decided with those who join later."}}
        ids = [ok(api(a, "POST", "/proposals", {"action": admit, "sponsors": [b.id, c.id]}), 201)["id"],
               ok(api(b, "POST", "/proposals", {"action": norm}), 201)["id"]]
        for pid in ids:
            for m in (a, b, c):
                wait_until(lambda m=m, pid=pid: api(m, "GET", f"/proposals/{pid}").status_code == 200, WAIT,
                           f"{m.letter} holds {pid}", nodes=[m.node])
                ok(api(m, "POST", f"/proposals/{pid}/vote", {"choice": "yes"}))
        for pid in ids:
            for m in (a, b, c):
                wait_until(lambda m=m, pid=pid: ok(api(m, "GET", f"/proposals/{pid}"))["state"] == "executed" or None,
                           WAIT, f"{m.letter} executed {pid}", nodes=[m.node])

        # Before its catch-up, D holds the genesis alone: no admission, no new norm.
        assert len(governance(d)[1]) == 11
        cp = d.cli("governance", "catch-up", "--from", a.id, "--from", b.id, "--json", "--data-dir", d.data_dir)
        report = json.loads(cp.stdout)
        assert report["stopped"] is None, report
        assert sorted(x["proposal"] for x in report["applied"]) == sorted(ids), report
        assert all(x["executed"] for x in report["applied"]), report
        rules_a, norms_a, members_a = governance(a.node)
        rules_d, norms_d, members_d = governance(d)
        assert rules_d == rules_a
        assert norms_d == norms_a and ("late-joiner", 1, norm["texts"], ids[1]) in norms_d
        assert sorted(members_d + [mine["identity"]["id"]]) == sorted(members_a + [a.id])
        again = json.loads(d.cli("governance", "catch-up", "--from", a.id, "--json", "--data-dir", d.data_dir).stdout)
        assert again["applied"] == [] and again["stopped"] is None and again["held"] == 2, again
        # An unknown peer is refused with the reason and nothing changes.
        cp = d.cli("governance", "catch-up", "--from", "identity--00000000-0000-4000-8000-000000000999",
                   "--data-dir", d.data_dir, check=False)
        assert cp.returncode != 0 and cp.stderr, cp
        assert governance(d) == (rules_d, norms_d, members_d)
