#!/usr/bin/env python3
"""TAXII 2.1 benchmark: comity against medallion 3.0.0 (memory backend), same run, same machine.

  (a) POST of 1,000-indicator envelopes until each status is complete (objects/s)
  (b) paging with limit=1000: 100,000 objects on comity, a 2,000-object collection on medallion
  (c) match[id] look-ups over HTTP keep-alive (wrk + Lua, random ids) on 1,000,000 objects
  (d) server RSS (VmRSS / VmHWM) while holding the 1,000,000 objects

Usage: bench/taxii_bench.py [--quick] [--only comity|medallion]
The comity binary is $COMITY_BIN or <repo>/target/release/comity. Needs `wrk` for (c).
Prints a table and writes it as markdown to bench/out/taxii.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from conftest import (TAXII, ComityNode, MedallionNode, proc_status, taxii_headers)  # noqa: E402

OUT = REPO / "bench" / "out"


# --------------------------------------------------------------------------------------------
# data


def indicator_json(n: int, run: str) -> str:
    """One indicator as JSON text, generated without json.dumps (fast enough for millions)."""
    return ('{"type":"indicator","spec_version":"2.1","id":"indicator--%s",'
            '"created":"2024-01-01T00:00:00.000Z","modified":"2024-01-01T00:00:00.000Z",'
            '"name":"bench %s %d","pattern":"[ipv4-addr:value = \'10.%d.%d.%d\']",'
            '"pattern_type":"stix","valid_from":"2024-01-01T00:00:00Z"}'
            % (uuid.UUID(int=(hash(run) & ((1 << 64) - 1)) << 64 | n, version=4), run, n,
               (n >> 16) & 255, (n >> 8) & 255, n & 255))


def envelopes(count: int, per: int, run: str, start: int = 0):
    """`count` envelope bodies (bytes) of `per` indicators each, and the ids in them."""
    bodies, ids = [], []
    for e in range(count):
        objs = [indicator_json(start + e * per + i, run) for i in range(per)]
        bodies.append(('{"objects":[' + ",".join(objs) + "]}").encode())
        ids.extend(o[o.index("indicator--"):o.index("indicator--") + 47] for o in objs)
    return bodies, ids


# --------------------------------------------------------------------------------------------
# measurements


def post_all(node, cid, bodies, threads: int) -> tuple[float, int]:
    """POST every body, poll each status to complete; return (seconds, objects succeeded)."""
    idx = [0]
    lock = threading.Lock()
    done = [0]
    errors = []

    def worker():
        s = requests.Session()
        s.auth = node.admin
        h = taxii_headers(content=True)
        while True:
            with lock:
                if idx[0] >= len(bodies):
                    return
                b = bodies[idx[0]]
                idx[0] += 1
            r = s.post(node.objects_url(cid), data=b, headers=h, timeout=600)
            if r.status_code != 202:
                errors.append(f"{r.status_code} {r.text[:200]}")
                return
            st = r.json()
            while st["status"] != "complete":
                time.sleep(0.01)
                st = s.get(node.status_url(st["id"]), headers={"Accept": TAXII}, timeout=60).json()
            with lock:
                done[0] += st["success_count"]

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    t0 = time.perf_counter()
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    dt = time.perf_counter() - t0
    if errors:
        raise SystemExit(f"{node.kind}: POST failed: {errors[0]}")
    return dt, done[0]


NEXT_RE = re.compile(rb'"next"\s*:\s*"([^"]*)"')
MORE_RE = re.compile(rb'"more"\s*:\s*(true|false)')


def page_all(node, cid, limit=1000) -> tuple[float, int, int]:
    """Page through all objects with limit/next. Timed loop does HTTP only (next via regex);
    bodies are parsed afterwards to count and check. Returns (seconds, objects, pages)."""
    s = requests.Session()
    s.auth = node.admin
    s.headers["Accept"] = TAXII
    url = node.objects_url(cid)
    params = {"limit": limit}
    bodies = []
    t0 = time.perf_counter()
    while True:
        r = s.get(url, params=params, timeout=600)
        if r.status_code != 200:
            raise SystemExit(f"{node.kind}: paging failed {r.status_code} {r.text[:200]}")
        c = r.content
        bodies.append(c)
        m = MORE_RE.search(c)
        if not m or m.group(1) != b"true":
            break
        params = {"limit": limit, "next": NEXT_RE.search(c).group(1).decode()}
    dt = time.perf_counter() - t0
    ids = []
    for b in bodies:
        ids.extend(o["id"] for o in json.loads(b).get("objects", []))
    if len(ids) != len(set(ids)):
        raise SystemExit(f"{node.kind}: paging repeated objects")
    return dt, len(ids), len(bodies)


# The ids are kept as one string of fixed-width records, not a table of a million strings:
# walking such a table, wrk's Lua garbage collector paused the client for hundreds of
# milliseconds, which showed up as a server latency tail the server's own histogram never had.
LUA = r"""
local ids = ""
local width = %(width)d
local count = 0
local path = "%(path)s"
local auth = "%(auth)s"
init = function(args)
  local f = assert(io.open("%(idfile)s", "rb"))
  ids = f:read("*a")
  f:close()
  count = math.floor(#ids / (width + 1))
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
end
request = function()
  local at = (math.random(count) - 1) * (width + 1)
  local id = ids:sub(at + 1, at + width)
  return wrk.format("GET", path .. "?match%%5Bid%%5D=" .. id,
    {["Accept"] = "application/taxii+json;version=2.1", ["Authorization"] = auth})
end
%(pacing)s
done = function(summary, latency, requests)
  io.write(string.format("BENCH p50=%%.3f p99=%%.3f max=%%.3f reqs=%%d errors=%%d non2xx=%%d\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, summary.errors.status))
end
"""


def wrk_lookups(node, cid, ids, seconds: int, threads=2, connections=16, workdir=None,
                pause_ms: int | None = None) -> dict:
    """Random `match[id]` look-ups for `seconds`: as fast as the connections go, or, with
    `pause_ms`, each connection waiting that long before its next request (a paced load, to
    read the latency at a given rate rather than at saturation)."""
    import base64
    if not shutil.which("wrk"):
        return {"error": "wrk not installed (apt-get install -y wrk)"}
    workdir = Path(workdir or tempfile.mkdtemp())
    idfile = workdir / f"ids-{node.kind}.txt"
    width = len(ids[0])
    assert all(len(i) == width for i in ids), "the look-up script needs ids of one width"
    idfile.write_text("\n".join(ids) + "\n")
    auth = "Basic " + base64.b64encode(f"{node.admin[0]}:{node.admin[1]}".encode()).decode()
    path = node.objects_url(cid)[len(node.base):]
    script = workdir / f"lookup-{node.kind}.lua"
    pacing = f"delay = function() return {pause_ms} end" if pause_ms else ""
    script.write_text(LUA % {"path": path, "auth": auth, "idfile": idfile, "width": width, "pacing": pacing})
    # sanity: one lookup returns exactly the object
    r = requests.get(node.objects_url(cid), params={"match[id]": ids[len(ids) // 2]}, auth=node.admin,
                     headers={"Accept": TAXII}, timeout=30)
    assert r.status_code == 200 and [o["id"] for o in r.json()["objects"]] == [ids[len(ids) // 2]], r.text[:300]
    cp = subprocess.run(["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "30s",
                         "-s", str(script), node.base + path], capture_output=True, text=True, timeout=seconds + 60)
    out = cp.stdout
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    b = re.search(r"BENCH p50=([\d.]+) p99=([\d.]+) max=([\d.]+) reqs=(\d+) errors=(\d+) non2xx=(\d+)", out)
    if not m or not b:
        return {"error": "wrk output not understood: " + out[-500:] + cp.stderr[-500:]}
    return {"rps": float(m.group(1)), "p50_ms": float(b.group(1)), "p99_ms": float(b.group(2)),
            "max_ms": float(b.group(3)), "requests": int(b.group(4)), "errors": int(b.group(5)),
            "non2xx": int(b.group(6))}


# --------------------------------------------------------------------------------------------
# the two servers


def comity_binary() -> Path:
    return Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))


def run_comity(args, work: Path, res: dict):
    node = ComityNode(work / "comity-data", binary=comity_binary())
    node.init()
    thread_counts = [4] if args.quick else [1, 4]
    cids = {t: node.add_collection(f"bench-post-{t}", read=["admin"], write=["admin"]) for t in thread_counts}
    cid_big = node.add_collection("bench-1m", read=["admin"], write=["admin"])
    node.start()
    try:
        # (a) POST throughput: each client concurrency into its own empty collection
        n_env = 20 if args.quick else 100
        for threads in thread_counts:
            bodies, _ = envelopes(n_env, 1000, f"post-t{threads}")
            dt, ok = post_all(node, cids[threads], bodies, threads)
            if ok != n_env * 1000:
                raise SystemExit(f"comity: only {ok} of {n_env * 1000} objects succeeded")
            res[f"post_c{threads}"] = ok / dt
        res["post"] = max(v for k, v in res.items() if k.startswith("post_c"))
        # (b) paging through the 100,000 (quick: 20,000) objects of one of those collections
        dt, n, pages = page_all(node, cids[4])
        if n != n_env * 1000:
            raise SystemExit(f"comity: paged {n} objects of {n_env * 1000}")
        res["page"] = n / dt
        res["page_n"] = n
        # (c)+(d) 1,000,000 objects
        total = 50_000 if args.quick else 1_000_000
        per_batch = 100_000
        t_load = 0.0
        ids = []
        for start in range(0, total, per_batch):
            bodies, bids = envelopes(per_batch // 1000, 1000, "big", start)
            ids.extend(bids)
            dt, ok = post_all(node, cid_big, bodies, 4)
            if ok != len(bids):
                raise SystemExit(f"comity: load: {ok} of {len(bids)} succeeded")
            t_load += dt
        res["load_n"] = total
        res["load_rate"] = total / t_load
        mem = proc_status(node.pid)
        res["rss_loaded_kb"], res["hwm_loaded_kb"] = mem.get("VmRSS"), mem.get("VmHWM")
        # The first seconds after a load include one-off work (the log checkpoint over every
        # new entry, cold caches); they are measured apart, then the steady state.
        res["lookup_first"] = wrk_lookups(node, cid_big, ids, 3 if args.quick else 5, workdir=work)
        res["lookup"] = wrk_lookups(node, cid_big, ids, 3 if args.quick else 10, workdir=work)
        # The target's rate: 16 connections pausing 2 ms offer somewhat over 5,000 requests/s.
        res["lookup_paced"] = wrk_lookups(node, cid_big, ids, 3 if args.quick else 10, workdir=work, pause_ms=2)
        mem = proc_status(node.pid)
        res["rss_kb"], res["hwm_kb"] = mem.get("VmRSS"), mem.get("VmHWM")
        res["rss_anon_kb"], res["rss_file_kb"] = mem.get("RssAnon"), mem.get("RssFile")
        res["lookup_n"] = total
    finally:
        node.stop()


def run_medallion(args, work: Path, res: dict):
    node = MedallionNode(work / "medallion", ["bench-post", "bench-page"], max_content_length=100 * 1024 * 1024)
    (work / "medallion").mkdir(parents=True, exist_ok=True)
    node.start()
    try:
        n_env = 3 if args.quick else 10
        bodies, _ = envelopes(n_env, 1000, "mpost")
        dt, ok = post_all(node, node.collections["bench-post"], bodies, 1)
        res["post"] = ok / dt
        res["post_n"] = ok
        bodies, ids = envelopes(2, 1000, "mpage")
        post_all(node, node.collections["bench-page"], bodies, 1)
        times = []
        for _ in range(1):  # one pass takes medallion minutes already
            dt, n, pages = page_all(node, node.collections["bench-page"])
            if n != 2000:
                raise SystemExit(f"medallion: paged {n} objects of 2000")
            times.append(dt)
        res["page"] = 2000 / statistics.median(times)
        res["page_n"] = 2000
        res["lookup"] = wrk_lookups(node, node.collections["bench-page"], ids, 3 if args.quick else 10,
                                    threads=1, connections=2, workdir=work)
        res["lookup_n"] = 2000
        mem = proc_status(node.pid)
        res["rss_kb"], res["hwm_kb"] = mem.get("VmRSS"), mem.get("VmHWM")
    finally:
        node.stop()


# --------------------------------------------------------------------------------------------
# report


def fmt(v, unit=""):
    if v is None:
        return "–"
    if isinstance(v, float):
        v = f"{v:,.0f}" if v >= 100 else f"{v:,.2f}"
    elif isinstance(v, int):
        v = f"{v:,}"
    return f"{v}{unit}"


def ratio(a, b):
    return f"{a / b:,.1f}×" if a and b else "–"


def report(args, c: dict, m: dict) -> str:
    cl, ml, cp = c.get("lookup", {}), m.get("lookup", {}), c.get("lookup_paced", {})
    rows = [
        ("(a) POST 1,000-indicator envelopes to complete, objects/s", fmt(c.get("post")), fmt(m.get("post")),
         ratio(c.get("post"), m.get("post")), "≥ 100,000/s and ≥ 8×"),
        ("(b) paging limit=1000, objects/s (comity: %s objects; medallion: %s)" % (
            fmt(c.get("page_n")), fmt(m.get("page_n"))), fmt(c.get("page")), fmt(m.get("page")),
         ratio(c.get("page"), m.get("page")), "≥ 200,000/s, ≥ 1,000×"),
        ("(c) match[id] look-ups, requests/s (comity: %s objects; medallion: %s)" % (
            fmt(c.get("lookup_n")), fmt(m.get("lookup_n"))), fmt(cl.get("rps")), fmt(ml.get("rps")),
         ratio(cl.get("rps"), ml.get("rps")), "≥ 5,000/s"),
        ("(c) match[id] look-ups, p99 latency ms (saturated)", fmt(cl.get("p99_ms")), fmt(ml.get("p99_ms")), "",
         ""),
        ("(c) match[id] look-ups paced at %s requests/s, p99 latency ms" % fmt(cp.get("rps")),
         fmt(cp.get("p99_ms")), "", "", "≥ 5,000/s with p99 < 5 ms"),
        ("(d) server VmRSS / VmHWM, MB (comity: %s objects)" % fmt(c.get("lookup_n")),
         "%s / %s" % (fmt((c.get("rss_kb") or 0) / 1024), fmt((c.get("hwm_kb") or 0) / 1024)) if c.get("rss_kb") else "–",
         "%s / %s" % (fmt((m.get("rss_kb") or 0) / 1024), fmt((m.get("hwm_kb") or 0) / 1024)) if m.get("rss_kb") else "–",
         "", "≤ 300 MB"),
    ]
    lines = ["| measure | comity | medallion 3.0.0 | ratio | target |", "| --- | ---: | ---: | ---: | --- |"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    notes = []
    if c.get("post_c1"):
        notes.append(f"comity POST with 1 client thread: {fmt(c['post_c1'])} objects/s; with 4: {fmt(c.get('post_c4'))}.")
    if c.get("load_rate"):
        notes.append(f"comity loaded {fmt(c['load_n'])} objects by concurrent POST at {fmt(c['load_rate'])} objects/s.")
    for name, l in (("comity", cl), ("medallion", ml)):
        if l.get("error"):
            notes.append(f"{name} look-ups: {l['error']}")
        elif l:
            notes.append(f"{name} look-ups: {l['requests']:,} requests, p50 {l['p50_ms']:.2f} ms, max {l['max_ms']:.1f} ms, "
                         f"socket errors {l['errors']}, non-2xx {l['non2xx']}.")
    first = c.get("lookup_first") or {}
    if first and not first.get("error"):
        notes.append(f"comity look-ups in the first seconds after the load (measured apart, before the table's): "
                     f"{fmt(first['rps'])} requests/s, p50 {first['p50_ms']:.2f} ms, p99 {first['p99_ms']:.1f} ms, "
                     f"max {first['max_ms']:.1f} ms.")
    if c.get("rss_anon_kb") is not None:
        notes.append(f"comity RSS after loading: {fmt((c.get('rss_loaded_kb') or 0) / 1024)} MB; after the look-ups: "
                     f"anonymous {fmt(c['rss_anon_kb'] / 1024)} MB, file-backed {fmt((c.get('rss_file_kb') or 0) / 1024)} MB.")
    if m.get("post_n"):
        notes.append(f"medallion POST measured over {m['post_n']:,} objects with one client thread "
                     "(its memory backend is not safe for concurrent writes).")
    head = (f"TAXII bench, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs"
            + (", --quick sizes" if args.quick else ""))
    return head + "\n\n" + "\n".join(lines) + "\n\n" + "\n".join("- " + n for n in notes) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a CI smoke run")
    ap.add_argument("--only", choices=["comity", "medallion"])
    args = ap.parse_args()
    os.environ.setdefault("RUST_LOG", "warn")
    work = Path(tempfile.mkdtemp(prefix="taxii-bench-"))
    c, m = {}, {}
    try:
        if args.only != "medallion":
            if not comity_binary().exists():
                raise SystemExit(f"no comity binary at {comity_binary()} (cargo build --release -p comity)")
            print("comity ...", file=sys.stderr, flush=True)
            run_comity(args, work, c)
        if args.only != "comity":
            print("medallion ...", file=sys.stderr, flush=True)
            run_medallion(args, work, m)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = report(args, c, m)
    print(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "taxii.md").write_text(text)
    (OUT / "taxii.json").write_text(json.dumps({"comity": c, "medallion": m}, indent=2))


if __name__ == "__main__":
    main()
