#!/usr/bin/env python3
"""Value index benchmark: what indexing costs at intake, what "who else" costs to ask, and
what the index costs on disk, on one `comity serve` (SQLite store).

  ingest   TAXII POST of envelopes of 1,000 SCOs until each status is complete, 4 clients:
           ipv4-addr objects (one posting each) against `software` objects of the same
           size whose properties the index does not hold (no posting): the ratio is the
           intake rate with indexing over the rate without it
  who-else GET /api/v1/correlate?value=… for random stored values, one keep-alive client
           (the caller's credential is cached after its first check): p50 / p99
  size     the value_postings table and its indexes on disk (SQLite dbstat, PostgreSQL
           pg_total_relation_size), per posting

The values come from 5 members (one collection each): each distinct address is reported by
every member, so `--values N` postings hold N / 5 distinct values.

    .venv/bin/python bench/correlate_bench.py [--values 200000] [--queries 2000] [--postgres]

With --postgres the node keeps its store in a fresh database on the PostgreSQL server of
the Python tests (COMITY_TEST_PG, default postgres://postgres@127.0.0.1:5432), dropped after.

The comity binary is $COMITY_BIN or target/release/comity. Writes bench/out/correlate-<backend>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "bench"))
from conftest import ComityNode, postgres_database, proc_status, psql, use_database  # noqa: E402
from taxii_bench import post_all  # noqa: E402

OUT = REPO / "bench" / "out"
MEMBERS = 5
PER_ENVELOPE = 1000


def address(i: int) -> str:
    """The i-th distinct address: 10.0.0.0/8 is warning-listed, so 11.x.y.z onwards."""
    return f"{11 + (i >> 24)}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def sco(kind: str, n: int, member: int, value: str) -> str:
    prop = "value" if kind == "ipv4-addr" else "name"
    uid = "%08x-0000-4000-8000-%012x" % (member, n)
    return '{"type":"%s","spec_version":"2.1","id":"%s--%s","%s":"%s"}' % (kind, kind, uid, prop, value)


def bodies(kind: str, member: int, distinct: int) -> list[bytes]:
    objs = [sco(kind, i, member, address(i)) for i in range(distinct)]
    return [('{"objects":[' + ",".join(objs[k:k + PER_ENVELOPE]) + "]}").encode()
            for k in range(0, len(objs), PER_ENVELOPE)]


def ingest(node, kind: str, distinct: int) -> float:
    """Objects per second for MEMBERS × distinct objects of `kind`."""
    total_s, total_n = 0.0, 0
    for m in range(MEMBERS):
        cid = node.collections[f"{kind}-{m}"]
        dt, ok = post_all(node, cid, bodies(kind, m, distinct), 4)
        if ok != distinct:
            raise SystemExit(f"{kind}: {ok} of {distinct} objects stored")
        total_s, total_n = total_s + dt, total_n + ok
    return total_n / total_s


def who_else(node, distinct: int, queries: int) -> dict:
    s = requests.Session()
    s.auth = node.admin
    url = node.base + "/api/v1/correlate"
    s.get(url, params={"value": address(0)}, timeout=60).raise_for_status()
    times = []
    rng = random.Random(7)
    for _ in range(queries):
        value = address(rng.randrange(distinct))
        t0 = time.perf_counter()
        r = s.get(url, params={"value": value}, timeout=60)
        times.append(time.perf_counter() - t0)
        body = r.json()
        if r.status_code != 200 or body["values"][0]["count"] != MEMBERS:
            raise SystemExit(f"who else {value}: {r.status_code} {r.text[:300]}")
    times.sort()
    return {"p50_ms": 1000 * statistics.median(times), "p99_ms": 1000 * times[int(0.99 * (len(times) - 1))],
            "queries": queries}


def pg_index_bytes(url: str) -> int:
    return int(psql("SELECT pg_total_relation_size('value_postings')", db=url.rsplit("/", 1)[1]).strip())


def sqlite_index_bytes(data_dir: Path) -> int | None:
    db = next(data_dir.glob("*.sqlite3"), None) or next(data_dir.glob("*.db"), None)
    if db is None:
        return None
    c = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return c.execute("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'value_postings%'").fetchone()[0]
    except sqlite3.OperationalError:
        return None
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--values", type=int, default=200_000, help="postings (objects holding a value)")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--postgres", action="store_true", help="store in PostgreSQL instead of SQLite")
    args = ap.parse_args()
    distinct = args.values // MEMBERS
    binary = Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))
    res = {"backend": "postgres" if args.postgres else "sqlite", "values": distinct * MEMBERS,
           "distinct": distinct, "members": MEMBERS, "binary": str(binary)}
    with tempfile.TemporaryDirectory() as work, contextlib.ExitStack() as stack:
        node = ComityNode(Path(work) / "data", binary=binary)
        url = stack.enter_context(postgres_database()) if args.postgres else None
        if url:
            use_database(node.data_dir, url)
        node.init()
        for kind in ("software", "ipv4-addr"):
            for m in range(MEMBERS):
                node.add_collection(f"{kind}-{m}", read=["admin"], write=["admin"])
        node.start()
        try:
            res["ingest_without_index_per_s"] = ingest(node, "software", distinct)
            res["ingest_with_index_per_s"] = ingest(node, "ipv4-addr", distinct)
            res["ingest_ratio"] = res["ingest_with_index_per_s"] / res["ingest_without_index_per_s"]
            res["who_else"] = who_else(node, distinct, args.queries)
            res["server_rss_kb"] = proc_status(node.pid).get("VmRSS")
        finally:
            node.stop()
        size = pg_index_bytes(url) if url else sqlite_index_bytes(node.data_dir)
        res["index_bytes"] = size
        res["index_bytes_per_posting"] = size / res["values"] if size else None
    OUT.mkdir(exist_ok=True)
    (OUT / f"correlate-{res['backend']}.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
