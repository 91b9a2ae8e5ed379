"""``comity copy`` moves a federated node to PostgreSQL with its federation: the members and
agreements it pinned, its API tokens, every peer's outbox and its inbox journal, and its
cooperation requests with their signed histories, governance (a canceled proposal included) and feed subscriptions. After the move the node goes on where it
stopped: what its peer sends next is accepted, what it sends next follows its last sequence
number (a peer refuses a reused one), and both sides keep one history.

Needs PostgreSQL at $COMITY_TEST_PG (default postgres://postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import json
import subprocess

import pytest

from conftest import backend, postgres_database, target
from federation_nodes import federation, wait_until
from test_governance import NORM, RULES
from test_requests import OFFICER, act, add_users, new, reach, same_history

pytestmark = pytest.mark.skipif(
    target() != "comity" or backend() == "postgres",
    reason="comity on SQLite, copied to PostgreSQL",
)


def copy_report(src, url: str) -> dict[str, list[str]]:
    done = subprocess.run([str(src.bin), "copy", "--from", str(src.data_dir), "--to", url],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [line.split("\t") for line in done.stdout.strip().splitlines()[1:]]
    return {r[0]: r[1:] for r in rows}


def test_a_copied_node_keeps_its_members_requests_and_sequence_numbers(tmp_path):
    with federation(tmp_path, "AB", []) as w:
        a, b = w["A"], w["B"]
        for m in (a, b):
            add_users(m)
        token = a.node.cli("token", "create", "--label", "partner feed", "--user", "admin",
                           "--data-dir", a.node.data_dir).stdout.decode().strip()
        assert token
        rid = new(a, b, "preservation")
        act(a, rid, "submit")
        reach(b, rid, "delivered")
        act(b, rid, "acknowledge")
        reach(a, rid, "acknowledged")
        before = same_history(a, b, rid)

        a.node.stop()
        with postgres_database() as url:
            report = copy_report(a.node, url)
            for part in ("registry", "api-tokens", "outbox", "inbox", "requests",
                         "transparency-log"):
                assert part in report, (part, report)
                count, _sha, verdict = report[part]
                assert verdict == "identical", (part, report[part])
                assert int(count) > 0, (part, report[part])

            toml = a.node.data_dir / "comity.toml"
            toml.write_text(toml.read_text() + f'\n[database]\nurl = "{url}"\n')
            a.start()
            try:
                assert reach(a, rid, "acknowledged")
                # the peer's next envelope is accepted by the copy...
                act(b, rid, "review")
                reach(a, rid, "under_review")
                # ...and the copy's next envelope follows its last number, so the peer takes it
                act(a, rid, "withdraw", note="solved elsewhere")
                reach(b, rid, "withdrawn")
                after = same_history(a, b, rid)
                assert after[:len(before)] == before
                assert [e[1] for e in after[len(before):]] == ["review", "withdraw"]
                listed = a.node.cli("token", "list", "--data-dir", a.node.data_dir).stdout.decode()
                assert "partner feed" in listed
            finally:
                a.node.stop()


def test_governance_and_feed_subscriptions_are_copied_and_verified(tmp_path):
    with federation(tmp_path, "AB", [], serve="") as w:
        node = w["A"].node
        rules = tmp_path / "rules.json"
        # A few seconds of voting delay: the second proposal is canceled while pending.
        rules.write_text(json.dumps({**RULES, "voting_delay_seconds": 3}))
        node.cli("governance", "rules", "--set", str(rules), "--data-dir", node.data_dir)
        action = tmp_path / "norm.json"
        action.write_text(json.dumps(NORM))
        proposal, withdrawn = (json.loads(node.cli("governance", "propose", "--action", str(action), "--json",
                                                   "--data-dir", node.data_dir).stdout) for _ in range(2))
        node.cli("governance", "cancel", withdrawn["id"], "--data-dir", node.data_dir)
        wait_until(lambda: node.cli("governance", "vote", proposal["id"], "yes", "--data-dir", node.data_dir,
                                    check=False).returncode == 0, 60, "voting opens")
        node.cli("feed", "add", "local-list", "--kind", "list", "--url", "http://127.0.0.1:9/ips.txt",
                 "--data-dir", node.data_dir)
        with postgres_database() as url:
            report = copy_report(node, url)
            for part in ("governance", "feeds"):
                count, _sha, verdict = report[part]
                assert verdict == "identical" and int(count) > 0, (part, report[part])
            # the copy reads back as the node: its proposal with the ballot, and the feed
            toml = node.data_dir / "comity.toml"
            toml.write_text(toml.read_text() + f'\n[database]\nurl = "{url}"\n')
            copied = json.loads(node.cli("governance", "list", "--json", "--data-dir", node.data_dir).stdout)
            assert sorted((p["id"], p["state"]) for p in copied) == \
                sorted([(proposal["id"], "active"), (withdrawn["id"], "canceled")]), copied
            assert "local-list" in node.cli("feed", "list", "--data-dir", node.data_dir).stdout.decode()
