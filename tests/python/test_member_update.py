"""Updating a pinned peer's record, end to end with real `comity` processes: `comity member
update --from FILE` takes a newer record signed by the pinned key (a new endpoint and
contact here), keeps the member's standing, and refuses, leaving the pinned record as it
was, the same file again, an older file, and a record for the same member under a
stranger's key; and a serving node's changed record reaches its serving peers by itself,
in a `member` envelope."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from conftest import ComityNode, target
from federation_nodes import cli_json, federation, wait_until

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: members")


def new_node(tmp: Path, name: str) -> ComityNode:
    node = ComityNode(tmp / name)
    node.cli("init", "--data-dir", node.data_dir, "--organisation", name, "--country", "ZZ",
             env={"COMITY_ADMIN_PASSWORD": "pw-" + secrets.token_hex(8)})
    return node


def record_file(node: ComityNode, path: Path) -> Path:
    node.cli("member", "show-local", "--out", path, "--data-dir", node.data_dir)
    return path


def refused(node: ComityNode, *args) -> str:
    cp = node.cli(*args, check=False)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 2, f"{args} exited {cp.returncode}: {err}"
    assert cp.stdout == b""
    return err


def pinned(node: ComityNode, member: str) -> dict:
    return cli_json(node, "member", "show", member, "--data-dir", node.data_dir)


def test_a_newer_record_signed_by_the_pinned_key_is_taken_and_nothing_else(tmp_path):
    a, b, stranger = (new_node(tmp_path, n) for n in ("node-a", "node-b", "stranger"))
    first = record_file(b, tmp_path / "b-1.json")
    b_id = json.loads(first.read_text())["record"]["identity"]["id"]
    a.cli("member", "add", "--from", first, "--data-dir", a.data_dir)
    a.cli("member", "suspend", b_id, "--data-dir", a.data_dir)
    before = pinned(a, b_id)

    b.cli("member", "set-local", "--name", "node-b", "--country", "ZZ", "--role", "cert", "--endpoint",
          "https://cti.b.example", "--contact", "24/7 desk", "--data-dir", b.data_dir)
    second = record_file(b, tmp_path / "b-2.json")
    cp = a.cli("member", "update", "--from", second, "--data-dir", a.data_dir)
    assert f"Updated member {b_id} (node-b)" in cp.stderr.decode()
    after = pinned(a, b_id)
    want = json.loads(second.read_text())["record"]
    assert after == want
    assert after["endpoint"] == "https://cti.b.example"
    assert after["identity"]["created"] == before["identity"]["created"]
    listing = a.cli("member", "list", "--data-dir", a.data_dir).stdout.decode()
    assert f"{b_id}\tsuspended\t" in listing, listing

    # the same file again, and the older one: refused, the newer record stays
    for again in (second, first):
        err = refused(a, "member", "update", "--from", again, "--data-dir", a.data_dir)
        assert "an older or replayed record is not taken" in err, err
    # b's identity under a stranger's key, signed by the stranger
    forged_file = record_file(stranger, tmp_path / "stranger.json")
    forged = json.loads(forged_file.read_text())
    forged_record = dict(want, public_key=forged["record"]["public_key"])
    doctored = tmp_path / "doctored.json"
    doctored.write_text(json.dumps(dict(forged, record=forged_record)))
    err = refused(a, "member", "update", "--from", doctored, "--data-dir", a.data_dir)
    assert "signature does not verify" in err, err
    # a member this node does not pin
    err = refused(a, "member", "update", "--from", forged_file, "--data-dir", a.data_dir)
    assert "is registered: pin it first" in err, err
    assert pinned(a, b_id) == after


def test_a_serving_node_s_changed_record_reaches_its_peers_by_itself(tmp_path):
    with federation(tmp_path, "ABC", []) as w:
        b = w["B"]
        b.node.cli("member", "set-local", "--name", b.name, "--country", b.country, "--role", b.role,
                   "--endpoint", b.url, "--contact", "desk@b.example", "--data-dir", b.node.data_dir)
        mine = cli_json(b.node, "member", "show-local", "--data-dir", b.node.data_dir)
        for peer in (w["A"], w["C"]):
            wait_until(lambda: pinned(peer.node, b.id) == dict(mine, local=False) or None, 120,
                       f"B's record pinned on {peer.letter}", nodes=[b.node, peer.node])
