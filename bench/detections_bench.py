#!/usr/bin/env python3
"""Detections benchmark: how long `comity export --format suricata` (and zeek-intel, list)
takes over N indicators on one node (SQLite store), wall clock, process start included.

The indicators are a mix a CERT holds: a quarter IPv4 addresses, a quarter domains, a
quarter URLs, a quarter SHA-256 hashes, all TLP:GREEN, imported once with `comity import`
(its time is reported too). The issue's target is 1,000,000 indicators as Suricata rules
in under 5 s; no peer system exports rules from a STIX store, so the figure stands alone.

    .venv/bin/python bench/detections_bench.py [--count 1000000] [--keep DIR]

The comity binary is $COMITY_BIN or target/release/comity. Writes bench/out/detections.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import ComityNode  # noqa: E402

OUT = REPO / "bench" / "out"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
PER_FILE = 50_000


def pattern(i: int) -> str:
    kind = i % 4
    if kind == 0:
        return f"[ipv4-addr:value = '{11 + (i >> 24)}.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']"
    if kind == 1:
        return f"[domain-name:value = 'host{i}.example']"
    if kind == 2:
        return f"[url:value = 'http://host{i}.example/gate.php?id={i}']"
    return f"[file:hashes.'SHA-256' = '{i:064x}']"


def indicator(i: int) -> str:
    uid = "%08x-0000-4000-8000-%012x" % (i >> 32, i & 0xFFFFFFFFFFFF)
    return json.dumps({
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uid}",
        "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
        "name": f"bench indicator {i}", "pattern": pattern(i), "pattern_type": "stix",
        "valid_from": "2026-12-01T00:00:00Z", "object_marking_refs": [GREEN],
    }, separators=(",", ":"))


def timed(node: ComityNode, *args) -> tuple[float, bytes]:
    t = time.perf_counter()
    run = node.cli(*args, "--data-dir", node.data_dir, timeout=3600)
    return time.perf_counter() - t, run.stdout


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, help="keep the node in this directory")
    args = ap.parse_args()
    os.environ.setdefault("COMITY_BIN", str(REPO / "target" / "release" / "comity"))
    base = args.keep or Path(tempfile.mkdtemp(prefix="comity-detections-"))
    node = ComityNode(base / "data")
    node.init()
    files = base / "bundles"
    files.mkdir(exist_ok=True)
    for start in range(0, args.count, PER_FILE):
        end = min(start + PER_FILE, args.count)
        body = ",".join(indicator(i) for i in range(start, end))
        (files / f"{start:09d}.json").write_text('{"type":"bundle","id":"bundle--%08x-0000-4000-8000-000000000000",'
                                                 '"objects":[%s]}' % (start, body))
    imported, _ = timed(node, "import", files)
    print(f"imported {args.count} indicators in {imported:.1f} s ({args.count / imported:,.0f}/s)")
    result = {"count": args.count, "binary": os.environ["COMITY_BIN"], "import_s": imported}
    for fmt in ("suricata", "zeek-intel", "list"):
        seconds, out = timed(node, "export", "--format", fmt)
        lines = out.count(b"\n")
        result[fmt] = {"seconds": seconds, "lines": lines, "bytes": len(out)}
        print(f"{fmt:>10}: {seconds:.2f} s, {lines:,} lines, {len(out) / 1e6:.1f} MB "
              f"({args.count / seconds:,.0f} indicators/s)")
    OUT.mkdir(exist_ok=True)
    (OUT / "detections.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
