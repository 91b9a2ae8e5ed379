#!/usr/bin/env python3
"""Cluster benchmark: what a cluster and a whole-report "who else" cost to ask, on one
`comity serve` (SQLite store).

The world: `--reports` reports, each listing `--per-report` indicators; each indicator's
address is drawn at random from a pool sized so that every value is held by about
`--holders` indicators, so a report shares values with about per-report × (holders - 1)
others and a cluster reaches its `max_nodes` bound within two steps (the worst case the
bounds allow, not the typical one).

  cluster   GET /api/v1/correlate/cluster?id=<random report> at depth 1 and at depth 2
            (max_nodes 100), JSON and GraphML, one keep-alive client: p50 / p99, nodes, edges
  report    GET /api/v1/correlate?id=<random report>: the whole report's values at once

    .venv/bin/python bench/cluster_bench.py [--reports 1000] [--per-report 20] [--holders 2] [--queries 100]

The comity binary is $COMITY_BIN or target/release/comity. Writes bench/out/cluster.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "bench"))
from conftest import ComityNode, proc_status  # noqa: E402
from taxii_bench import post_all  # noqa: E402

OUT = REPO / "bench" / "out"
PER_ENVELOPE = 1000
T0 = "2024-01-01T00:00:00.000Z"


def address(i: int) -> str:
    """The i-th distinct address, outside the warning-listed ranges."""
    return f"{11 + (i >> 24)}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def world(reports: int, per_report: int, holders: int) -> tuple[list[dict], list[str]]:
    rng = random.Random(11)
    pool = max(1, reports * per_report // holders)
    objects, report_ids = [], []
    for r in range(reports):
        refs = []
        for _ in range(per_report):
            ind = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                   "created": T0, "modified": T0, "pattern_type": "stix", "valid_from": T0,
                   "pattern": f"[ipv4-addr:value = '{address(rng.randrange(pool))}']"}
            objects.append(ind)
            refs.append(ind["id"])
        rid = f"report--{uuid.UUID(int=rng.getrandbits(128), version=4)}"
        objects.append({"type": "report", "spec_version": "2.1", "id": rid, "created": T0, "modified": T0,
                        "name": f"report {r}", "published": T0, "object_refs": refs})
        report_ids.append(rid)
    return objects, report_ids


def timed(session, url: str, params_of, seeds: list[str], check) -> dict:
    times, seen = [], []
    for seed in seeds:
        t0 = time.perf_counter()
        r = session.get(url, params=params_of(seed), timeout=300)
        times.append(time.perf_counter() - t0)
        if r.status_code != 200:
            raise SystemExit(f"{url} {seed}: {r.status_code} {r.text[:300]}")
        seen.append(check(r))
    times.sort()
    out = {"p50_ms": round(1000 * statistics.median(times), 1),
           "p99_ms": round(1000 * times[int(0.99 * (len(times) - 1))], 1), "queries": len(seeds)}
    if seen and isinstance(seen[0], dict):
        for k in seen[0]:
            out[f"mean_{k}"] = round(statistics.mean(s[k] for s in seen), 1)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--per-report", type=int, default=20)
    ap.add_argument("--holders", type=int, default=2, help="indicators holding each value, on average")
    ap.add_argument("--queries", type=int, default=100)
    args = ap.parse_args()
    binary = Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))
    objects, report_ids = world(args.reports, args.per_report, args.holders)
    res = {"reports": args.reports, "per_report": args.per_report, "holders": args.holders,
           "objects": len(objects), "binary": str(binary)}
    with tempfile.TemporaryDirectory() as work:
        node = ComityNode(Path(work) / "data", binary=binary)
        node.init()
        node.add_collection("intel", read=["admin"], write=["admin"])
        node.start()
        try:
            cid = node.collections["intel"]
            bodies = [json.dumps({"objects": objects[k:k + PER_ENVELOPE]}).encode()
                      for k in range(0, len(objects), PER_ENVELOPE)]
            dt, ok = post_all(node, cid, bodies, 2)
            if ok != len(objects):
                raise SystemExit(f"{ok} of {len(objects)} objects stored")
            res["intake_per_s"] = round(ok / dt)
            s = requests.Session()
            s.auth = node.admin
            seeds = random.Random(5).sample(report_ids, min(args.queries, len(report_ids)))
            cluster_url = node.base + "/api/v1/correlate/cluster"

            def shape(r):
                body = r.json()
                return {"nodes": len(body["nodes"]), "edges": len(body["edges"]),
                        "evidence": sum(len(e["evidence"]) for e in body["edges"])}

            s.get(cluster_url, params={"id": seeds[0]}, timeout=300).raise_for_status()
            res["cluster_depth1"] = timed(s, cluster_url, lambda i: {"id": i, "depth": 1}, seeds, shape)
            res["cluster_depth2"] = timed(s, cluster_url, lambda i: {"id": i, "depth": 2}, seeds, shape)
            res["cluster_depth2_graphml"] = timed(
                s, cluster_url, lambda i: {"id": i, "depth": 2, "format": "graphml"}, seeds, lambda r: None)
            res["report_who_else"] = timed(
                s, node.base + "/api/v1/correlate", lambda i: {"id": i}, seeds,
                lambda r: {"values": len(r.json()["values"])})
            res["server_rss_kb"] = proc_status(node.pid).get("VmRSS")
        finally:
            node.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "cluster.json").write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
