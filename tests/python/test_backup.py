"""`comity backup` while the node takes writes, and `comity restore` checked against the
backup's digests: the restored node answers TAXII and proves its log exactly as the
original did at the backup point. Bad input (existing files, non-empty directories, files
that are not backups, tampered backups, missing keys) is refused with a precise error and
leaves nothing behind."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from conftest import ComityNode, backend, fetch_all, make_indicator, post_objects, running_comity
from test_tlog_node import checkpoint_of, entries_of_range, log_cli, tree_root, verify_note
from test_tlog_independent import leaf_hash
from federation_nodes import federation
from test_requests import OFFICER, add_users, doc

pytestmark = pytest.mark.skipif(backend() != "sqlite", reason="backups of the embedded store")


def write_load(node, stop: threading.Event, posted: list):
    """Posts envelopes of 100 indicators until told to stop."""
    s = node.session()
    i = 0
    while not stop.is_set():
        batch = [make_indicator(i + k) for k in range(100)]
        r = post_objects(node, node.collections["default"], batch, session=s)
        assert r.status_code == 202, r.text
        posted.append(len(batch))
        i += 100


def manifest(node):
    return [(m["id"], m["version"], m["date_added"])
            for m in fetch_all(node, node.collections["default"], endpoint="manifest",
                               params={"match[version]": "all"}, key="objects")]


def test_a_backup_under_write_load_restores_to_the_node_as_it_was(comity_binary, tmp_path):
    with running_comity(tmp_path / "a") as a:
        stop, posted = threading.Event(), []
        writer = threading.Thread(target=write_load, args=(a, stop, posted))
        writer.start()
        try:
            time.sleep(1.5)
            before = sum(posted)
            backup = tmp_path / "a.backup"
            done = a.cli("backup", "--data-dir", a.data_dir, "--to", backup)
            time.sleep(1.0)
        finally:
            stop.set()
            writer.join()
        assert before > 0 and sum(posted) > before, "the load ran before and after the backup"
        assert "Backed up" in done.stderr.decode()
        assert stat.S_IMODE(os.stat(backup).st_mode) == 0o600, "a backup holds the key"
        vkey = log_cli(a, "key").stdout.decode().strip()

        restored = ComityNode(tmp_path / "b" / "data")
        out = restored.cli("restore", "--from", backup, "--data-dir", restored.data_dir)
        assert "identical" in out.stdout.decode() and "DIFFERENT" not in out.stdout.decode()
        restored.admin = a.admin
        restored.start()
        try:
            original, copy = manifest(a), manifest(restored)
            assert copy, "the snapshot holds objects"
            assert len(copy) < len(original), "writes after the backup are not in it"
            cut = max(d for _, _, d in copy)
            assert copy == [m for m in original if m[2] <= cut], \
                "the backup is the collection exactly as of one commit"
            # The same objects, byte for byte as served.
            ids = {i for i, _, _ in copy}
            by_id = lambda node: {o["id"]: o for o in fetch_all(node, node.collections["default"])
                                  if o["id"] in ids}
            assert by_id(restored) == by_id(a)

            # The log: the restored node signs with the same key; its first `size` entries
            # (the log at the backup point, as the restore reported it) are the original's,
            # so both have the same root at that size, computed here independently.
            size = next(int(line.split("\t")[1]) for line in out.stdout.decode().splitlines()
                        if line.startswith("transparency-log\t"))
            assert size >= len(copy)
            restored_entries = entries_of_range(restored, size)
            assert restored_entries == entries_of_range(a, size)
            assert tree_root([leaf_hash(e) for e in restored_entries]) == \
                tree_root([leaf_hash(e) for e in entries_of_range(a, size)])
            _, now, root = verify_note(checkpoint_of(restored), vkey)
            assert now >= size
            assert tree_root([leaf_hash(e) for e in entries_of_range(restored, now)]) == root
        finally:
            restored.stop()


def test_bad_backups_and_restores_are_refused_and_leave_nothing(comity_binary, tmp_path):
    with running_comity(tmp_path / "a") as a:
        r = post_objects(a, a.collections["default"], [make_indicator(i) for i in range(50)])
        assert r.status_code == 202
        backup = tmp_path / "a.backup"
        a.cli("backup", "--data-dir", a.data_dir, "--to", backup)

        again = a.cli("backup", "--data-dir", a.data_dir, "--to", backup, check=False)
        assert again.returncode == 2 and "exists; name a new file" in again.stderr.decode()
        none = a.cli("backup", "--data-dir", tmp_path / "nothing", "--to", tmp_path / "x",
                     check=False)
        assert none.returncode == 2 and "holds no Comity node" in none.stderr.decode()
        assert not (tmp_path / "x").exists()

        node = ComityNode(tmp_path / "r" / "data")

        def restore(*args):
            return node.cli("restore", "--data-dir", node.data_dir, *args, check=False)

        def left_behind():
            return sorted(p.name for p in node.data_dir.iterdir()) if node.data_dir.exists() else []

        # Not empty.
        node.data_dir.mkdir(parents=True)
        (node.data_dir / "keep.txt").write_text("mine")
        cp = restore("--from", backup)
        assert cp.returncode == 2 and "is not empty" in cp.stderr.decode()
        assert left_behind() == ["keep.txt"]
        (node.data_dir / "keep.txt").unlink()

        # Not a backup: garbage, then a live store's database.
        junk = tmp_path / "junk"
        junk.write_bytes(b"\x00not sqlite" * 100)
        cp = restore("--from", junk)
        assert cp.returncode == 2 and "is not an SQLite database" in cp.stderr.decode(), cp.stderr
        assert left_behind() == []
        cp = restore("--from", a.data_dir / "comity.sqlite3")
        assert cp.returncode == 2 and "is not a backup made by `comity backup`" in cp.stderr.decode()
        assert left_behind() == []

        # Tampered: one stored object changed inside the backup file (objects are stored
        # compressed: the first one is given the last one's compressed text).
        tampered = tmp_path / "tampered.backup"
        tampered.write_bytes(backup.read_bytes())
        db = sqlite3.connect(tampered)
        changed = db.execute(
            "UPDATE objects SET (packed, dictionary) = "
            "(SELECT packed, dictionary FROM objects WHERE packed IS NOT NULL "
            " ORDER BY seq DESC LIMIT 1) "
            "WHERE seq = (SELECT min(seq) FROM objects WHERE packed IS NOT NULL)").rowcount
        db.commit()
        assert changed == 1
        assert not Path(f"{tampered}-wal").exists(), "a backup is one file, not in WAL mode"
        db.close()
        cp = restore("--from", tampered)
        assert cp.returncode == 1, cp.stderr
        assert "DIFFERENT" in cp.stdout.decode() and "nothing restored" in cp.stderr.decode()
        assert left_behind() == []

        # Without its key: refused unless the key is given; then it serves with that key.
        keyless = tmp_path / "keyless.backup"
        a.cli("backup", "--data-dir", a.data_dir, "--to", keyless, "--without-key")
        cp = restore("--from", keyless)
        assert cp.returncode == 2 and "give the node's key file with --key" in cp.stderr.decode()
        assert left_behind() == []
        cp = restore("--from", keyless, "--key", a.data_dir / "node.key")
        assert cp.returncode == 0, cp.stderr
        assert log_cli(node, "key").stdout == log_cli(a, "key").stdout


def test_a_backup_carries_the_requests_attachments_and_restore_checks_them(comity_binary, tmp_path):
    with federation(tmp_path / "fed", "AB", [], serve="") as w:
        a, b = w["A"], w["B"]
        add_users(a)
        officer = ("--officer", OFFICER[0], "--data-dir", a.node.data_dir)
        document = tmp_path / "request.json"
        document.write_text(json.dumps(doc("preservation")))
        made = a.node.cli("request", "new", "--kind", "preservation", "--to", b.id,
                          "--document", document, *officer)
        rid = next(word for word in made.stdout.decode().split() if word.startswith("request--"))
        evidence, attach = {}, []
        for name, data in [("one.log", b"first log line\n" * 5000), ("two.bin", bytes(range(256)) * 4)]:
            path = tmp_path / name
            path.write_bytes(data)
            evidence[hashlib.sha256(data).hexdigest()] = data
            attach += ["--attach", path]
        a.node.cli("request", "transition", rid, "submit", *attach, *officer)

        backup = tmp_path / "a.backup"
        done = a.node.cli("backup", "--data-dir", a.node.data_dir, "--to", backup)
        assert "Adding 2 attachment files" in done.stderr.decode()

        restored = ComityNode(tmp_path / "r" / "data")
        out = restored.cli("restore", "--from", backup, "--data-dir", restored.data_dir)
        assert "2 attachment files verified" in out.stderr.decode(), out.stderr
        for line in ("registry", "requests"):
            row = next(r for r in out.stdout.decode().splitlines() if r.startswith(line + "\t"))
            assert row.endswith("identical") and int(row.split("\t")[1]) > 0, row
        assert not [t for t in sqlite3.connect(restored.data_dir / "comity.sqlite3").execute(
            "SELECT name FROM sqlite_master WHERE name LIKE 'comity_backup%'")], "no backup table is left"
        for sha, data in evidence.items():
            got = tmp_path / f"got-{sha}"
            restored.cli("request", "attachment", rid, sha, "--out", got, "--officer", OFFICER[0],
                         "--data-dir", restored.data_dir)
            assert got.read_bytes() == data

        # A backup whose attachment file was altered, or which names a file outside the
        # attachments, restores nothing.
        sha = sorted(evidence)[0]
        for name, change in [
            ("bitflip", f"UPDATE comity_backup_file SET value = "
                        f"substr(value, 1, 100) || x'00' || substr(value, 102) WHERE name LIKE '%{sha}'"),
            ("escape", "UPDATE comity_backup_file SET name = '../../outside' "
                       f"WHERE name LIKE '%{sha}'"),
            ("dropped", f"DELETE FROM comity_backup_file WHERE name LIKE '%{sha}'"),
        ]:
            bad = tmp_path / f"{name}.backup"
            bad.write_bytes(backup.read_bytes())
            db = sqlite3.connect(bad)
            assert db.execute(change).rowcount == 1
            db.commit()
            db.close()
            target_dir = tmp_path / f"r-{name}"
            cp = ComityNode(target_dir).cli("restore", "--from", bad, "--data-dir", target_dir,
                                            check=False)
            assert cp.returncode != 0, (name, cp.stderr)
            assert not target_dir.exists() or not any(target_dir.iterdir()), (name, list(target_dir.iterdir()))
            assert not (tmp_path / "outside").exists()
