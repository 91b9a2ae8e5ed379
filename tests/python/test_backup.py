"""`comity backup` while the node takes writes, and `comity restore` checked against the
backup's digests: the restored node answers TAXII and proves its log exactly as the
original did at the backup point. Bad input (existing files, non-empty directories, files
that are not backups, tampered backups, missing keys) is refused with a precise error and
leaves nothing behind."""

from __future__ import annotations

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

        # Tampered: one stored object changed inside the backup file.
        tampered = tmp_path / "tampered.backup"
        tampered.write_bytes(backup.read_bytes())
        db = sqlite3.connect(tampered)
        changed = db.execute("UPDATE objects SET json = replace(json, 'bench', 'forged') "
                             "WHERE seq = (SELECT min(seq) FROM objects WHERE json LIKE '%bench%')"
                             ).rowcount
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
