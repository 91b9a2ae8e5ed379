"""Several ``comity serve`` processes on one PostgreSQL database behave as one node, and
``comity copy`` moves a SQLite node to PostgreSQL without changing any TAXII answer, even
when it is killed midway and started again.

Needs PostgreSQL at $COMITY_TEST_PG (default postgres://postgres@127.0.0.1:5432, trust auth).
"""

from __future__ import annotations

import itertools
import shutil
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import (ADMIN_PASSWORD, TEST_DATA, ComityNode, add_and_wait, make_indicator,
                      post_objects, postgres_database, psql, taxii_headers, target, use_database,
                      wait_status)

pytestmark = pytest.mark.skipif(target() != "comity", reason="comity with PostgreSQL only")

ICS_ATTACK = TEST_DATA / "attack" / "ics-attack-18.1.json"


def pg_node(root: Path, name: str, url: str) -> ComityNode:
    node = ComityNode(root / name)
    use_database(node.data_dir, url)
    return node


def share_node_key(a: ComityNode, b: ComityNode):
    """Processes of one node sign its log with one key: copy it where the other runs."""
    key = a.data_dir / "node.key"
    if key.exists():
        b.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(key, b.data_dir / "node.key")


def test_two_servers_on_one_database_page_without_skips_or_repeats(comity_binary, tmp_path):
    with postgres_database() as url:
        a = pg_node(tmp_path, "a", url)
        a.init()
        b = pg_node(tmp_path, "b", url)
        b.admin = a.admin
        share_node_key(a, b)
        a.start()
        b.start()
        try:
            cid = a.collections["default"]
            assert b.collections["default"] == cid
            servers = itertools.cycle([a, b])
            written: list[str] = []
            errors: list[BaseException] = []

            def writer():
                try:
                    for batch in range(40):
                        objs = [make_indicator(batch * 50 + i) for i in range(50)]
                        posted_to = a if batch % 2 == 0 else b
                        r = post_objects(posted_to, cid, objs)
                        assert r.status_code == 202, r.text
                        # The status is read from the other process.
                        other = b if posted_to is a else a
                        st = wait_status(other, r.json())
                        assert st["success_count"] == 50, st
                        written.extend(o["id"] for o in objs)
                except BaseException as e:  # reported by the main thread
                    errors.append(e)

            t = threading.Thread(target=writer)
            t.start()
            seen: list[str] = []
            base = {"limit": 37}  # a next token is bound to the query it came from
            params = dict(base)
            last_added = None
            done = False
            while True:
                node = next(servers)
                r = requests.get(node.objects_url(cid), params=params, auth=node.admin,
                                 headers=taxii_headers(), timeout=60)
                assert r.status_code == 200, (r.status_code, r.text)
                body = r.json()
                objs = body.get("objects", [])
                seen.extend(o["id"] for o in objs)
                if objs:
                    last_added = r.headers["X-TAXII-Date-Added-Last"]
                if body.get("more"):
                    params = dict(base, next=body["next"])
                    continue
                if done:
                    break
                done = not t.is_alive()
                # Poll for what was committed since: dates are unique and follow commit order.
                base = {"limit": 37}
                if last_added:
                    base["added_after"] = last_added
                params = dict(base)
                time.sleep(0.02)
            t.join()
            assert not errors, errors
            assert len(seen) == len(set(seen)), "an object was returned twice"
            assert set(seen) == set(written), f"{len(set(written) - set(seen))} objects skipped"
            assert len(written) == 2000
        finally:
            a.stop()
            b.stop()


def generated_objects(n: int) -> list[dict]:
    """Indicators, a third of them with a second and third version, and some SCOs."""
    objs = []
    for i in range(n):
        ind = make_indicator(i, created="2024-01-01T00:00:00.000Z")
        objs.append(ind)
        if i % 3 == 0:
            for m in ("2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.123Z"):
                objs.append(dict(ind, modified=m, name=f"{ind['name']} {m}"))
        if i % 5 == 0:
            objs.append({"type": "ipv4-addr", "spec_version": "2.1",
                         "id": f"ipv4-addr--{uuid.uuid5(uuid.NAMESPACE_URL, str(i))}",
                         "value": f"10.1.{(i >> 8) & 255}.{i & 255}"})
    return objs


def taxii_answers(node: ComityNode) -> dict:
    """Everything a TAXII client can read, with opaque `next` tokens left out."""
    s = node.session()
    out = {}
    r = s.get(node.api_root + "collections/", timeout=60)
    assert r.status_code == 200
    out["collections"] = r.json()
    for col in r.json()["collections"]:
        cid = col["id"]
        for endpoint, params in [
            ("objects", {"match[version]": "all"}),
            ("objects", {}),
            ("objects", {"match[version]": "first"}),
            ("objects", {"match[type]": "indicator,ipv4-addr"}),
            ("manifest", {"match[version]": "all"}),
        ]:
            url = node.objects_url(cid) if endpoint == "objects" else node.manifest_url(cid)
            pages = []
            p = dict(params, limit=500)
            while True:
                r = s.get(url, params=p, timeout=120)
                assert r.status_code == 200, r.text
                body = r.json()
                nxt = body.pop("next", None)
                pages.append((body, r.headers.get("X-TAXII-Date-Added-First"),
                              r.headers.get("X-TAXII-Date-Added-Last")))
                if not body.get("more"):
                    break
                p = dict(params, limit=500, next=nxt)
            out[f"{cid} {endpoint} {sorted(params.items())}"] = pages
        some = [o["id"] for o in pages[0][0].get("objects", [])[:3]]
        if some:
            r = s.get(node.objects_url(cid), params={"match[id]": ",".join(some)}, timeout=60)
            out[f"{cid} ids"] = r.json()
    return out


def copied_versions(url: str) -> int:
    db = url.rsplit("/", 1)[1]
    if psql("SELECT to_regclass('objects') IS NOT NULL", db=db).strip() != "t":
        return 0
    return int(psql("SELECT count(*) FROM objects", db=db).strip())


def copy_cmd(src: Path, url: str, batch: int) -> list[str]:
    return [str(ComityNode(src).bin), "copy", "--from", str(src), "--to", url,
            "--batch", str(batch)]


def log_openings(node, cid: str, objects: list[dict]) -> list[tuple]:
    """Index, entry and opening of each object's log commitment, as an admin reads them."""
    out = []
    for obj in objects:
        r = requests.get(node.base + f"/log/objects/{node.api_root_name}/{cid}/{obj['id']}/",
                         auth=node.admin, timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        out.extend((c["index"], c["entry"], c["opening"]) for c in r.json()["commitments"])
    assert len(out) >= len(objects)
    return out


def test_copy_from_sqlite_keeps_every_taxii_answer_even_when_interrupted(comity_binary, tmp_path):
    src = ComityNode(tmp_path / "sqlite")
    src.init()
    second = src.add_collection("generated", read=["admin"], write=["admin"])
    src.import_files(ICS_ATTACK)
    src.start()
    try:
        objs = generated_objects(3000)
        for i in range(0, len(objs), 500):
            st = add_and_wait(src, second, objs[i:i + 500])
            assert st["failure_count"] == 0, st
        before = taxii_answers(src)
        openings_before = log_openings(src, second, [objs[0], objs[-1]])
    finally:
        src.stop()

    with postgres_database() as url:
        copier = subprocess.Popen(copy_cmd(src.data_dir, url, 100), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        # Kill it once part of the objects has landed.
        deadline = time.time() + 120
        copied = 0
        while time.time() < deadline and copier.poll() is None:
            copied = copied_versions(url)
            if copied >= 1000:
                copier.send_signal(signal.SIGKILL)
                break
            time.sleep(0.05)
        copier.wait(30)
        assert copier.returncode == -signal.SIGKILL, \
            f"copy ended before it could be interrupted ({copied} copied): {copier.stderr.read()}"

        resumed = subprocess.run(copy_cmd(src.data_dir, url, 500), capture_output=True,
                                 text=True, timeout=600)
        assert resumed.returncode == 0, resumed.stderr
        report = [line.split("\t") for line in resumed.stdout.strip().splitlines()[1:]]
        assert len(report) >= 2 and all(r[-1] == "identical" for r in report), resumed.stdout
        assert ADMIN_PASSWORD not in resumed.stderr

        dst = pg_node(tmp_path, "pg", url)
        dst.admin = src.admin
        share_node_key(src, dst)
        dst.start()
        try:
            after = taxii_answers(dst)
            # The log entries' openings came along: readers still get them.
            assert log_openings(dst, second, [objs[0], objs[-1]]) == openings_before
        finally:
            dst.stop()
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] == before[key], f"TAXII answer differs: {key}"


def test_a_database_that_goes_away_gives_503_and_the_server_recovers(comity_binary, tmp_path):
    with postgres_database() as url:
        db = url.rsplit("/", 1)[1]
        node = pg_node(tmp_path, "n", url)
        node.init()
        node.start()
        try:
            cid = node.collections["default"]
            assert node.session().get(node.objects_url(cid), timeout=30).status_code == 200
            psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS false")
            psql(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'")
            r = node.session().get(node.objects_url(cid), timeout=60)
            assert r.status_code == 503, (r.status_code, r.text)
            assert node.alive()
            psql(f"ALTER DATABASE {db} ALLOW_CONNECTIONS true")
            r = node.session().get(node.objects_url(cid), timeout=60)
            assert r.status_code == 200, (r.status_code, r.text)
        finally:
            node.stop()


def test_an_unreachable_database_or_refused_login_stops_serve_with_a_clear_message(
        comity_binary, tmp_path):
    for url, why in [
        ("postgres://comity:hunter2-pw@127.0.0.1:1/comity", "Connection refused"),
        ("postgres://no_such_role:hunter2-pw@127.0.0.1:5432/postgres", "no_such_role"),
    ]:
        node = ComityNode(tmp_path / "n")
        cp = node.cli("serve", "--data-dir", node.data_dir, "--listen", "127.0.0.1:0",
                      env={"COMITY_DATABASE_URL": url}, check=False, timeout=60)
        err = cp.stderr.decode()
        assert cp.returncode != 0 and "panicked" not in err, err
        assert why in err and "postgres://" in err, err
        assert "hunter2" not in err + cp.stdout.decode(), "the password was echoed"


def test_a_newer_schema_is_refused_with_the_reason(comity_binary, tmp_path):
    with postgres_database() as url:
        node = pg_node(tmp_path, "n", url)
        node.init()
        psql("INSERT INTO comity_schema (version) VALUES (999)", db=url.rsplit("/", 1)[1])
        cp = node.cli("serve", "--data-dir", node.data_dir, "--listen", "127.0.0.1:0",
                      check=False, timeout=60)
        err = cp.stderr.decode()
        assert cp.returncode != 0 and "schema is version 999" in err, err
