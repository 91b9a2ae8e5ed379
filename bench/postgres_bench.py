#!/usr/bin/env python3
"""TAXII 2.1 on PostgreSQL beside SQLite, same run, same machine, same release binary:

  (a) POST of 1,000-indicator envelopes from 4 clients until each status is complete (objects/s)
  (b) paging with limit=1000 through what (a) stored (objects/s)
  (c) match[id] look-ups over HTTP keep-alive (wrk + Lua, random ids) on a loaded collection
  (d) PostgreSQL only: the same look-ups against two `comity serve` processes on one database
      (one wrk per server, each with half the connections) against one process (all of them)

Usage: bench/postgres_bench.py [--quick] [--objects N]
Needs PostgreSQL at $COMITY_TEST_PG (default postgres://postgres@127.0.0.1:5432, trust auth)
and `wrk`. The comity binary is $COMITY_BIN or <repo>/target/release/comity. Prints a
markdown table and writes it to bench/out/postgres.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "bench"))
from conftest import ComityNode, postgres_database, use_database  # noqa: E402
from taxii_bench import comity_binary, envelopes, page_all, post_all, wrk_lookups  # noqa: E402

OUT = REPO / "bench" / "out"


@contextlib.contextmanager
def node_on(backend: str, work: Path):
    """An initialised (not started) node on `backend`; yields (node, url or None)."""
    node = ComityNode(work / f"{backend}-data", binary=comity_binary())
    if backend == "postgres":
        with postgres_database() as url:
            use_database(node.data_dir, url)
            node.init()
            yield node, url
    else:
        node.init()
        yield node, None


def measure(backend: str, args, work: Path) -> dict:
    res: dict = {}
    with node_on(backend, work) as (node, url):
        cid_post = node.add_collection("bench-post", read=["admin"], write=["admin"])
        cid_big = node.add_collection("bench-lookup", read=["admin"], write=["admin"])
        node.start()
        try:
            n_env = args.post_envelopes
            bodies, _ = envelopes(n_env, 1000, f"post-{backend}")
            dt, ok = post_all(node, cid_post, bodies, 4)
            assert ok == n_env * 1000, f"{backend}: {ok} of {n_env * 1000} stored"
            res["post"] = ok / dt
            dt, n, _pages = page_all(node, cid_post)
            assert n == ok, f"{backend}: paged {n} of {ok}"
            res["page"] = n / dt
            ids = []
            for start in range(0, args.objects, 50_000):
                count = min(50_000, args.objects - start)
                bodies, bids = envelopes(count // 1000, 1000, f"big-{backend}", start)
                ids.extend(bids)
                _, ok = post_all(node, cid_big, bodies, 4)
                assert ok == len(bids)
            res["lookup_one"] = wrk_lookups(node, cid_big, ids, args.seconds, threads=2,
                                            connections=16, workdir=work)
            if url:
                second = ComityNode(work / "postgres-data-2", binary=comity_binary())
                use_database(second.data_dir, url)
                second.admin = node.admin
                second.start()
                try:
                    both: list = [None, None]

                    def run(i, n):
                        both[i] = wrk_lookups(n, cid_big, ids, args.seconds, threads=1,
                                              connections=8, workdir=work / f"w{i}")

                    for i in (0, 1):
                        (work / f"w{i}").mkdir(exist_ok=True)
                    ts = [threading.Thread(target=run, args=(i, n))
                          for i, n in enumerate([node, second])]
                    for t in ts:
                        t.start()
                    for t in ts:
                        t.join()
                    res["lookup_two"] = both
                finally:
                    second.stop()
        finally:
            node.stop()
    return res


def report(args, r: dict) -> str:
    s, p = r["sqlite"], r["postgres"]
    one = p["lookup_one"].get("rps", 0)
    two = sum(x.get("rps", 0) for x in p["lookup_two"])
    lines = [
        "| measure | SQLite | PostgreSQL |",
        "| --- | ---: | ---: |",
        f"| POST ingest, 4 clients, 1,000-object envelopes (objects/s) | {s['post']:,.0f} | {p['post']:,.0f} |",
        f"| paging, limit=1000 (objects/s) | {s['page']:,.0f} | {p['page']:,.0f} |",
        f"| match[id] on {args.objects:,} objects, one server (requests/s) | "
        f"{s['lookup_one'].get('rps', 0):,.0f} | {one:,.0f} |",
        f"| match[id] p50 / p99 latency (ms), one server | "
        f"{s['lookup_one'].get('p50_ms', 0)} / {s['lookup_one'].get('p99_ms', 0)} | "
        f"{p['lookup_one'].get('p50_ms', 0)} / {p['lookup_one'].get('p99_ms', 0)} |",
        f"| match[id], two servers on one database (requests/s, sum) | | {two:,.0f} |",
        f"| two servers / one server | | {two / one if one else 0:.2f}x |",
    ]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--objects", type=int, help="objects loaded for the look-ups")
    args = ap.parse_args()
    args.post_envelopes = 10 if args.quick else 50
    args.objects = args.objects or (20_000 if args.quick else 200_000)
    args.seconds = 3 if args.quick else 10
    os.environ.setdefault("RUST_LOG", "warn")
    work = Path(tempfile.mkdtemp(prefix="pg-bench-"))
    results = {}
    try:
        for backend in ("sqlite", "postgres"):
            print(f"{backend} ...", file=sys.stderr, flush=True)
            results[backend] = measure(backend, args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, results)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "postgres.md").write_text(text)
    (OUT / "postgres.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
