#!/usr/bin/env python3
"""Abuse benchmark: what a normal client sees, and what the server holds, while one
attacker floods a `comity serve` process (the figures in README's reliability section).

  guess          64 connections guessing passwords for fresh user names, one address
  guess-spread   the same from 64 addresses (one per connection)
  sockets        5,000 idle connections and 500 slowloris connections (a header line a
                 second) from 100 addresses

For each: a normal client's median latency (a signed-in client reading discovery, and
real users' first sign-ins, each an Argon2id verification), the server's VmRSS before,
at most during and 10 s after the attack, and the descriptors it held. The attacker runs
in another process so that it does not slow the measuring client. The comity binary is
$COMITY_BIN or target/release/comity.

    .venv/bin/python bench/abuse_bench.py [--seconds 20] [--scenario guess ...]

Writes bench/out/abuse.json.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from abuse import (Sampler, first_sign_ins, guess_flood, hold_sockets, median_ms,  # noqa: E402
                   normal_client, rss_mb, trickle)
from conftest import ComityNode  # noqa: E402

OUT = REPO / "bench" / "out"
USERS = [(f"user{i}", f"a long passphrase number {i}") for i in range(10)]


def attacker(scenario: str, base: str, port: int, seconds: float):
    class Target:
        pass

    node = Target()
    node.base, node.port = base, port
    if scenario.startswith("guess"):
        addresses = 1 if scenario == "guess" else 64
        flood = guess_flood(node, connections=64, addresses=addresses, seconds=seconds)
        for t in flood["threads"]:
            t.join()
        print(f"attacker answers: {flood['counts']}", flush=True)
        return
    idle = hold_sockets(node, 5000, 100, slowloris=False)
    slow = hold_sockets(node, 500, 100, slowloris=True)
    print(f"attacker connected {len(idle)} idle, {len(slow)} slowloris", flush=True)
    deadline = time.time() + seconds
    while time.time() < deadline:
        time.sleep(1)
        trickle(slow)
    open_idle = sum(1 for s in idle if s.fileno() >= 0)
    print(f"attacker still holds {trickle(slow)} slowloris of 500 ({open_idle} idle sockets "
          "not closed by the client)", flush=True)


def run(scenario: str, node: ComityNode, seconds: float) -> dict:
    pid = node.proc.pid
    normal_client(node, 1.0)
    before = rss_mb(pid)
    quiet = median_ms(normal_client(node, 2.0))
    sampler = Sampler(pid)
    sampler.start()
    attack = multiprocessing.Process(target=attacker, args=(scenario, node.base, node.port, seconds))
    attack.start()
    time.sleep(2)
    refused = []
    reads = normal_client(node, max(1.0, seconds / 2 - 4), refused)
    sign_ins = first_sign_ins(node, USERS, pause=0.2)
    attack.join()
    time.sleep(10)
    after = rss_mb(pid)
    sampler.stop.set()
    sampler.join()
    result = {
        "scenario": scenario,
        "reads_median_ms_quiet": quiet,
        "reads_median_ms_during": median_ms(reads),
        "reads_during": len(reads),
        "normal_connections_refused_during": len(refused),
        "first_sign_in_median_ms_during": median_ms(sign_ins),
        "first_sign_in_max_ms_during": round(max(sign_ins) * 1000, 1),
        "rss_mb_before": round(before),
        "rss_mb_max_during": round(max(sampler.rss)),
        "rss_mb_after": round(after),
        "fds_max_during": max(sampler.fds),
        "load_average": os.getloadavg(),
    }
    print(json.dumps(result), flush=True)
    return result


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--scenario", action="append",
                   choices=["guess", "guess-spread", "sockets"])
    args = p.parse_args()
    binary = Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))
    results = []
    for scenario in args.scenario or ["guess", "guess-spread", "sockets"]:
        with tempfile.TemporaryDirectory() as work:
            node = ComityNode(Path(work) / "data", binary)
            node.init()
            for name, password in USERS:
                node.add_user(name, password)
            node.start()
            try:
                results.append(run(scenario, node, args.seconds))
            finally:
                node.stop()
    OUT.mkdir(exist_ok=True)
    (OUT / "abuse.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
