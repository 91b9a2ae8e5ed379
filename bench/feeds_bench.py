#!/usr/bin/env python3
"""Feed benchmark: objects a second of one TAXII feed pull between two local nodes.

Node A holds N indicators (imported with `comity import`); node B subscribes to A's
collection (HTTP Basic, pages of 1,000, the TLP:AMBER marking given to unmarked objects)
and runs the feed once with `comity feed run`, which reads every page over real HTTP,
examines each object through the node's intake, and stores it with its log entry. The
time is that run's wall clock, process start included. Both nodes use SQLite. The comity
binary is $COMITY_BIN or <repo>/target/release/comity.

    .venv/bin/python bench/feeds_bench.py [--objects 20000]

Writes bench/out/feeds.json.
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
from conftest import ADMIN_PASSWORD, ComityNode, make_indicator  # noqa: E402

OUT = REPO / "bench" / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=20_000)
    args = parser.parse_args()
    binary = Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))
    if not binary.exists():
        raise SystemExit(f"no comity binary at {binary} (cargo build --release -p comity)")
    os.environ["COMITY_FEED_SCHEDULER_SECONDS"] = "0"
    with tempfile.TemporaryDirectory() as tmp:
        a = ComityNode(Path(tmp) / "a", binary)
        b = ComityNode(Path(tmp) / "b", binary)
        a.init()
        b.init()
        bundle = Path(tmp) / "bundle.json"
        bundle.write_text(json.dumps({
            "type": "bundle", "id": "bundle--6f1b5c0e-2a4d-4b8c-9e7f-0a1b2c3d4e5f",
            "objects": [make_indicator(i) for i in range(args.objects)]}))
        a.import_files(bundle)
        a.start()
        try:
            source = a.collection_url(a.collections["default"])
            b.cli("feed", "add", "peer-a", "--kind", "taxii", "--url", source, "--marking", "amber",
                  "--user", "admin", "--password-env", "PEER_PASSWORD", "--data-dir", b.data_dir,
                  env={"PEER_PASSWORD": ADMIN_PASSWORD})
            start = time.perf_counter()
            out = b.cli("feed", "run", "peer-a", "--json", "--data-dir", b.data_dir, timeout=3600)
            seconds = time.perf_counter() - start
        finally:
            a.stop()
    report = json.loads(out.stdout)
    assert report["stored"] == args.objects, report
    result = {
        "objects": args.objects,
        "pages": report["pages"],
        "seconds": round(seconds, 3),
        "objects_per_second": round(args.objects / seconds),
        "binary": str(binary),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "feeds.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
