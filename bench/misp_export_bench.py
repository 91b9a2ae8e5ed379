#!/usr/bin/env python3
"""MISP export benchmark: how long `comity export --format misp-feed --out DIR` takes over N
indicators on one node (SQLite store), wall clock, process start included.

The indicators are those of the detections benchmark (a quarter each IPv4 addresses,
domains, URLs and SHA-256 hashes, TLP:GREEN); half of them are held by reports of 1,000
indicators each (an event each), the other half by no report (one event for the day they
were added). The export is run twice: the second run rewrites a directory that holds the
first feed. Every event file is then read back with PyMISP (not timed) to check the count.
Last, the node serves and the feed is fetched as MISP's fetcher reads it (the manifest,
then each event, over keep-alive HTTP): each file served builds the feed again.

    .venv/bin/python bench/misp_export_bench.py [--count 100000] [--keep DIR] [--no-http]

The comity binary is $COMITY_BIN or target/release/comity. Writes bench/out/misp_export.json.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from detections_bench import GREEN, OUT, PER_FILE, REPO, ComityNode, indicator, timed

PER_REPORT = 1_000


def report(first: int, count: int) -> str:
    refs = [json.loads(indicator(i))["id"] for i in range(first, first + count)]
    return json.dumps({
        "type": "report", "spec_version": "2.1", "id": "report--%08x-0000-4000-8000-000000000001" % first,
        "created": "2026-12-01T00:00:00.000Z", "modified": "2026-12-01T00:00:00.000Z",
        "published": "2026-12-01T00:00:00.000Z", "name": f"bench report {first}", "object_refs": refs,
        "object_marking_refs": [GREEN],
    }, separators=(",", ":"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--keep", type=Path, help="keep the node in this directory")
    ap.add_argument("--no-http", action="store_true", help="time the CLI only")
    args = ap.parse_args()
    os.environ.setdefault("COMITY_BIN", str(REPO / "target" / "release" / "comity"))
    base = args.keep or Path(tempfile.mkdtemp(prefix="comity-misp-export-"))
    node = ComityNode(base / "data")
    node.init()
    files = base / "bundles"
    files.mkdir(exist_ok=True)
    reported = args.count // 2
    for start in range(0, args.count, PER_FILE):
        end = min(start + PER_FILE, args.count)
        objects = [indicator(i) for i in range(start, end)]
        objects += [report(i, min(PER_REPORT, reported - i)) for i in range(start, min(end, reported), PER_REPORT)]
        (files / f"{start:09d}.json").write_text('{"type":"bundle","id":"bundle--%08x-0000-4000-8000-000000000000",'
                                                 '"objects":[%s]}' % (start, ",".join(objects)))
    imported, _ = timed(node, "import", files)
    print(f"imported {args.count} indicators in {imported:.1f} s ({args.count / imported:,.0f}/s)")
    out = base / "feed"
    result = {"count": args.count, "binary": os.environ["COMITY_BIN"], "import_s": imported, "runs": []}
    for _ in range(2):
        seconds, _ = timed(node, "export", "--format", "misp-feed", "--out", out)
        size = sum(p.stat().st_size for p in out.iterdir())
        result["runs"].append({"seconds": seconds, "bytes": size})
        print(f"misp-feed: {seconds:.2f} s, {len(list(out.iterdir())) - 2} events, {size / 1e6:.1f} MB "
              f"({args.count / seconds:,.0f} indicators/s)")
    import pymisp

    attributes = 0
    for p in out.glob("*-*.json"):
        e = pymisp.MISPEvent()
        e.load(p.read_text())
        attributes += len(e.attributes)
    assert attributes == args.count, (attributes, args.count)
    result["events"] = len(list(out.glob("*-*.json")))
    if not args.no_http:
        result["http_fetch_s"] = fetch(node)
    OUT.mkdir(exist_ok=True)
    (OUT / "misp_export.json").write_text(json.dumps(result, indent=2) + "\n")


def fetch(node: ComityNode) -> float:
    """Seconds to fetch the manifest and every event over one keep-alive connection."""
    import requests

    node.start()
    try:
        base_url = f"{node.base}/api/v1/collections/{node.collections['default']}/misp-feed"
        session = requests.Session()
        session.auth = node.admin
        t = time.perf_counter()
        manifest = session.get(f"{base_url}/manifest.json", timeout=3600).json()
        for uid in manifest:
            r = session.get(f"{base_url}/{uid}.json", timeout=3600)
            assert r.status_code == 200, (r.status_code, r.text[:200])
        fetched = time.perf_counter() - t
    finally:
        node.stop()
    print(f"HTTP fetch of the manifest and {len(manifest)} events: {fetched:.2f} s "
          f"({fetched / (len(manifest) + 1):.2f} s a file)")
    return fetched


if __name__ == "__main__":
    main()
