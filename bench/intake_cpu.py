#!/usr/bin/env python3
"""One node's TAXII intake: the POST rate and the server's CPU per stored object.

Starts `comity serve` on a fresh data directory, POSTs ENVELOPES envelopes of 1,000
generated indicators from 4 client threads (each polled until its status is complete, as
`taxii_bench.py` does) and reads the server's CPU time from /proc before and after. The
CPU per object is the steadier figure on a shared machine; compare two builds by running
this script for each in alternation.

Usage: COMITY_BIN=target/release/comity bench/intake_cpu.py [--envelopes 100] [--runs 3]
With --perf, records the server with `perf record -g --call-graph fp` into
bench/out/intake.perf.data (build with RUSTFLAGS="-C force-frame-pointers=yes").
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import ComityNode  # noqa: E402
from taxii_bench import comity_binary, envelopes, post_all  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_once(n_env: int, perf: bool) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="intake-") as work:
        node = ComityNode(Path(work) / "data", binary=comity_binary())
        node.init()
        cid = node.add_collection("intake", read=["admin"], write=["admin"])
        node.start()
        try:
            bodies, _ = envelopes(n_env, 1000, f"intake-{time.time_ns()}")
            recorder = None
            if perf:
                (REPO / "bench" / "out").mkdir(exist_ok=True)
                recorder = subprocess.Popen(["perf", "record", "-g", "--call-graph", "fp", "-F", "499",
                                             "-p", str(node.pid), "-o", str(REPO / "bench/out/intake.perf.data")],
                                            stderr=subprocess.DEVNULL)
                time.sleep(1)
            before = cpu_seconds(node.pid)
            seconds, stored = post_all(node, cid, bodies, 4)
            cpu = cpu_seconds(node.pid) - before
            if recorder:
                recorder.send_signal(signal.SIGINT)
                recorder.wait()
            if stored != n_env * 1000:
                raise SystemExit(f"only {stored} of {n_env * 1000} objects were stored")
            return stored / seconds, cpu / stored * 1e6
        finally:
            node.stop()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--envelopes", type=int, default=100, help="envelopes of 1,000 indicators (default 100)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--perf", action="store_true", help="record the last run with perf")
    args = ap.parse_args()
    print(f"binary {comity_binary()}, load average {os.getloadavg()[0]:.2f}")
    for i in range(args.runs):
        rate, us = run_once(args.envelopes, args.perf and i == args.runs - 1)
        print(f"run {i + 1}: {rate:,.0f} objects/s, server CPU {us:.1f} µs per object")


if __name__ == "__main__":
    main()
