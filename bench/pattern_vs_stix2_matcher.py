#!/usr/bin/env python3
"""Side by side: `comity match` against the OASIS reference matcher (stix2-matcher).

Builds N indicators (about 80% equality on IPv4 / domain / URL / file hash, 10% CIDR,
10% LIKE / MATCHES / compound) and M observed-data (one SCO each, about one in ten
hitting some indicator), then
  * runs stix2-matcher on every (pattern, observed-data) pair, each pattern compiled once;
  * runs `comity match --indicators ... observations.json` once, end to end (process
    start, JSON parsing, compiling the indicators, matching);
checks that both find exactly the same (indicator, observation) hits, and prints both
rates and their ratio.

Usage: .venv/bin/python bench/pattern_vs_stix2_matcher.py [--patterns 1000]
       [--observations 1000] [--comity target/release/comity]
"""
import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stix2matcher.matcher import Pattern

ROOT = Path(__file__).resolve().parents[1]


def h(i, salt=""):
    return hashlib.sha256(f"{salt}{i}".encode()).hexdigest()


def ip(i):
    d = hashlib.sha256(f"ip{i}".encode()).digest()
    return f"10.{d[0]}.{d[1]}.{d[2]}"


def pattern(i):
    kind = i % 10
    if kind < 8:
        return [
            f"[ipv4-addr:value = '{ip(i)}']",
            f"[domain-name:value = 'd{i}.example']",
            f"[url:value = 'http://u{i}.example/x']",
            f"[file:hashes.'SHA-256' = '{h(i)}']",
        ][(i // 10) % 4]
    if kind == 8:
        return f"[ipv4-addr:value ISSUBSET '172.{i % 200}.{(i // 200) % 250}.0/24']"
    return [
        f"[domain-name:value LIKE '%.bad{i}.example']",
        f"[url:value MATCHES '^https?://m{i}\\\\.example/']",
        f"[file:name = 'x{i}.exe' AND file:size > 100]",
    ][(i // 10) % 3]


def sco(k, n):
    """Observation k: one SCO; one in ten hits an indicator below n."""
    d = hashlib.sha256(f"obs{k}".encode()).digest()
    i = int.from_bytes(d[:4], "big") % n if d[4] % 10 == 0 else n + int.from_bytes(d[:4], "big")
    kind = d[5] % 6
    if kind == 0:
        return {"type": "ipv4-addr", "value": ip(i)}
    if kind == 1:
        return {"type": "domain-name", "value": f"d{i}.example"}
    if kind == 2:
        return {"type": "url", "value": f"http://u{i}.example/x"}
    if kind == 3:
        return {"type": "file", "hashes": {"SHA-256": h(i)}, "name": f"x{i}.exe", "size": 200}
    if kind == 4:
        return {"type": "domain-name", "value": f"www.bad{i}.example"}
    return {"type": "url", "value": f"https://m{i}.example/path"}


def observed_data(k, n):
    obj = dict(sco(k, n), id=f"{sco(k, n)['type']}--{k:08d}-0000-4000-8000-000000000000")
    od = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": f"observed-data--{k:08d}-0000-4000-8000-000000000000",
        "created": "2024-01-01T00:00:00Z",
        "modified": "2024-01-01T00:00:00Z",
        "first_observed": "2024-06-01T00:00:00Z",
        "last_observed": "2024-06-01T00:00:00Z",
        "number_observed": 1,
        "object_refs": [obj["id"]],
    }
    return {"type": "bundle", "id": f"bundle--{k:08d}-0000-4000-8000-000000000000", "objects": [od, obj]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patterns", type=int, default=1000)
    ap.add_argument("--observations", type=int, default=1000)
    ap.add_argument("--comity", default=os.environ.get("COMITY_BIN", str(ROOT / "target" / "release" / "comity")))
    args = ap.parse_args()
    n, m = args.patterns, args.observations
    patterns = [pattern(i) for i in range(n)]
    bundles = [observed_data(k, n) for k in range(m)]

    start, cpu = time.perf_counter(), time.process_time()
    compiled = [Pattern(p, "2.1") for p in patterns]
    ref_hits = set()
    for k, b in enumerate(bundles):
        for i, p in enumerate(compiled):
            if p.match([b]):
                ref_hits.add((i, k))
    ref_secs, ref_cpu = time.perf_counter() - start, time.process_time() - cpu

    with tempfile.TemporaryDirectory() as tmp:
        ind = Path(tmp) / "indicators.json"
        obs = Path(tmp) / "observations.json"
        ind.write_text(json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": [
            {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{i:08d}-0000-4000-8000-000000000000",
             "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
             "pattern": p, "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z"}
            for i, p in enumerate(patterns)]}))
        obs.write_text(json.dumps(bundles, indent=1))
        start, children = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        r = subprocess.run([args.comity, "match", "--indicators", str(ind), str(obs), "--quiet"],
                           capture_output=True, text=True, check=True)
        comity_secs = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        comity_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    comity_hits = set()
    for line in r.stdout.splitlines():
        hit = json.loads(line)
        comity_hits.add((int(hit["indicator"].split("--")[1][:8]), hit["observation"] - 1))

    pairs = n * m
    print(f"{n} patterns x {m} observations = {pairs} pairs, {len(ref_hits)} hits")
    # CPU time is reported too: on a shared machine wall time mostly measures the others.
    print(f"stix2-matcher: wall {ref_secs:.2f} s ({pairs / ref_secs:,.0f} pairs/s), cpu {ref_cpu:.2f} s "
          f"({pairs / ref_cpu:,.0f} pairs/s)")
    print(f"comity match : wall {comity_secs:.3f} s ({pairs / comity_secs:,.0f} pairs/s), cpu {comity_cpu:.3f} s "
          f"({pairs / max(comity_cpu, 1e-6):,.0f} pairs/s), end to end: process start, JSON, compile, match")
    print(f"ratio (cpu): comity is {ref_cpu / max(comity_cpu, 1e-6):,.0f}x faster; "
          f"(wall): {ref_secs / comity_secs:,.0f}x")
    if comity_hits != ref_hits:
        print(f"DISAGREEMENT: only reference {sorted(ref_hits - comity_hits)[:10]}, "
              f"only comity {sorted(comity_hits - ref_hits)[:10]}")
        sys.exit(1)
    print("same hits: yes")


if __name__ == "__main__":
    main()
