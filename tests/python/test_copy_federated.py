"""``comity copy`` moves a federated node to PostgreSQL with its federation: the members and
agreements it pinned, its API tokens, every peer's outbox and its inbox journal, and its
cooperation requests with their signed histories. After the move the node goes on where it
stopped: what its peer sends next is accepted, what it sends next follows its last sequence
number (a peer refuses a reused one), and both sides keep one history.

Needs PostgreSQL at $COMITY_TEST_PG (default postgres://postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import ComityNode, backend, postgres_database, psql, target
from federation_nodes import federation
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


def test_a_node_with_what_copy_does_not_carry_is_refused_and_nothing_is_copied(tmp_path):
    node = ComityNode(tmp_path / "a")
    node.init()
    node.cli("feed", "add", "local-list", "--kind", "list", "--url", "http://127.0.0.1:9/ips.txt",
             "--data-dir", node.data_dir)
    with postgres_database() as url:
        done = subprocess.run([str(node.bin), "copy", "--from", str(node.data_dir), "--to", url],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode != 0
        assert "feed subscriptions, which `comity copy` does not carry yet" in done.stderr, done.stderr
        assert psql("SELECT count(*) FROM pg_tables WHERE tablename = 'objects'",
                    db=url.rsplit("/", 1)[1]).strip() == "0", "nothing was created"
