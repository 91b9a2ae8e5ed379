#!/usr/bin/env python3
"""Cooperation requests benchmark: three real `comity serve` processes (A, B, C) on loopback
pinning each other, each with a liaison officer, 10,000 open requests seeded between them
over `/api/v1/requests`, then

- listing: `GET /api/v1/requests?limit=100` on each node, unfiltered and filtered by
  partner, kind, state, `overdue=true` and all of partner, kind and state together, over
  one keep-alive connection, many repetitions (median, p95, p99);
- one transition end to end: A acknowledges a request B sent it (signed, appended with its
  log entry and queued on A), until B holds the event (B's list shows the new state: B
  has checked, logged and stored it) and until A has B's receipt (A's outbox for B empty);
- one submission end to end: A submits a draft to B, until B holds it delivered (B signed
  its `deliver` event) and until A holds that event (made by B's inbox, not its API).

The issue's targets: listing and filtering in under 50 ms with 10,000 open requests across
three nodes; one transition end to end under 100 ms on loopback. No peer system models
cooperation requests, so the figures are absolute.

Overdue: deadlines count from the signed time of the requested side's acknowledgement (the
shortest is 4 hours, emergency assistance) and the nodes sign with the real clock, so no
request can be overdue within a run: `overdue=true` is measured as it scans the index and
checked to return none.

The comity binary is $COMITY_BIN or target/release/comity.

    .venv/bin/python bench/requests_bench.py [--requests 10000] [--clients 8] [--reps 300] [--transitions 60]
        [--keep DIR]    # keep the nodes' data directories and logs there

Prints a table and writes bench/out/requests.md and bench/out/requests.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
os.environ.setdefault("COMITY_BIN", str(REPO / "target" / "release" / "comity"))
from federation_nodes import federation  # noqa: E402
from test_requests import doc  # noqa: E402

OUT = REPO / "bench" / "out"
OFFICER = ("liaison", "liaison-password-1")
KINDS = ("assistance", "preservation", "disclosure", "production", "mla")
# The open states the seeded requests are left in, with their share, and the requested
# side's acts that lead there from `delivered`.
PLAN = [
    ("delivered", 20, []),
    ("acknowledged", 25, ["acknowledge"]),
    ("under_review", 25, ["acknowledge", "review"]),
    ("info_requested", 15, ["acknowledge", "review", "request_info"]),
    ("accepted", 10, ["acknowledge", "review", "accept"]),
    ("postponed", 5, ["acknowledge", "review", "postpone"]),
]
EMERGENCY_SHARE = 0.1
PENDING_RE = re.compile(r'comity_federation_outbox_pending\{peer="([^"]+)"\} ([0-9]+)')
_local = threading.local()


def session() -> requests.Session:
    """One keep-alive session per client thread."""
    s = getattr(_local, "s", None)
    if s is None:
        s = _local.s = requests.Session()
        s.auth = OFFICER
    return s


def call(url: str, method: str = "GET", body: dict | None = None, expect: int = 200) -> dict:
    r = session().request(method, url, json=body, timeout=120)
    if r.status_code != expect:
        raise SystemExit(f"{method} {url}: {r.status_code} {r.text[:500]}")
    return r.json()


def progress(what: str, done: int, total: int, t0: float) -> None:
    rate = done / max(time.perf_counter() - t0, 1e-9)
    print(f"\r  {what}: {done:,}/{total:,} ({rate:,.0f}/s)", end="", file=sys.stderr, flush=True)
    if done == total:
        print(file=sys.stderr)


def pending(m) -> int | None:
    """Envelopes `m` has queued for its peers and not yet delivered (None before the gauge
    is known)."""
    text = requests.get(m.url + "/metrics", auth=m.node.admin, timeout=60).text
    found = PENDING_RE.findall(text)
    return sum(int(v) for _, v in found) if found else None


def drained(members, timeout: float = 1800) -> float:
    """Waits until every node's outbox is empty twice in a row; returns when it first was."""
    end = time.monotonic() + timeout
    first = None
    while time.monotonic() < end:
        if all(pending(m) == 0 for m in members):
            if first is not None:
                return first
            first = time.perf_counter()
        else:
            first = None
        time.sleep(0.1)
    raise SystemExit("the outboxes did not drain")


def pct(xs: list[float], q: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def summary(xs: list[float]) -> dict:
    return {"n": len(xs), "median_ms": round(statistics.median(xs), 2), "p95_ms": round(pct(xs, 0.95), 2),
            "p99_ms": round(pct(xs, 0.99), 2), "max_ms": round(max(xs), 2)}


def add_officer(m) -> None:
    m.node.cli("user", "add", OFFICER[0], "--role", "liaison", "--data-dir", m.node.data_dir,
               env={"COMITY_USER_PASSWORD": OFFICER[1]})


def make_plan(n: int, letters: str, seed: int = 20261206) -> list[dict]:
    """`n` requests: requester and requested (every ordered pair in turn), kind, emergency,
    and the state each is left in (by the shares of PLAN)."""
    rng = random.Random(seed)
    pairs = [(x, y) for x in letters for y in letters if x != y]
    states = [s for s, share, _ in PLAN for _ in range(share)]
    out = []
    for i in range(n):
        x, y = pairs[i % len(pairs)]
        out.append({"from": x, "to": y, "kind": rng.choice(KINDS), "emergency": rng.random() < EMERGENCY_SHARE,
                    "state": states[rng.randrange(len(states))]})
    return out


def seed(w, plan: list[dict], clients: int) -> dict:
    """Creates and submits every request of `plan` on its requester, waits until every
    outbox is empty, then makes the requested sides' acts; returns the timings."""
    members = [w[x] for x in "ABC"]

    def submit(p: dict) -> None:
        a, b = w[p["from"]], w[p["to"]]
        d = doc(p["kind"])
        if p["emergency"]:
            d["emergency_justification"] = "imminent threat to life"
        made = call(a.url + "/api/v1/requests", "POST",
                    {"kind": p["kind"], "to": b.id, "emergency": p["emergency"], "document": d}, expect=201)
        p["id"] = made["id"]
        call(f"{a.url}/api/v1/requests/{p['id']}/submit", "POST", {})

    def acts(p: dict) -> None:
        b = w[p["to"]]
        for act in next(a for s, _, a in PLAN if s == p["state"]):
            details = {"note": "bench"} if act in ("request_info", "postpone") else {}
            call(f"{b.url}/api/v1/requests/{p['id']}/{act}", "POST", details)

    def run(what: str, fn, items: list[dict]) -> float:
        t0 = time.perf_counter()
        done = 0
        with ThreadPoolExecutor(clients) as pool:
            for _ in pool.map(fn, items):
                done += 1
                if done % 250 == 0 or done == len(items):
                    progress(what, done, len(items), t0)
        return time.perf_counter() - t0

    out = {}
    t0 = time.perf_counter()
    out["submit_seconds"] = run("created and submitted", submit, plan)
    print("  waiting for deliveries and receipts ...", file=sys.stderr)
    out["submit_delivered_seconds"] = drained(members) - t0
    acting = [p for p in plan if p["state"] != "delivered"]
    n_acts = sum(len(a) for s, _, a in PLAN for p in acting if p["state"] == s)
    t1 = time.perf_counter()
    out["acts_seconds"] = run("requested sides' acts (requests)", acts, acting)
    print("  waiting for the acts to reach the requesters ...", file=sys.stderr)
    out["acts_delivered_seconds"] = drained(members) - t1
    out["acts"] = n_acts
    return out


def expected_counts(w, plan: list[dict]) -> dict:
    """(node, partner, kind, state) -> requests that node holds, from the plan."""
    c: Counter = Counter()
    for p in plan:
        for here, other in ((p["from"], p["to"]), (p["to"], p["from"])):
            c[(here, other, p["kind"], p["state"])] += 1
    return c


def queries(w, letter: str) -> list[tuple[str, str, callable]]:
    """(name, query string, the predicate on (partner, kind, state)) measured on `letter`."""
    partner = "B" if letter != "B" else "C"
    pid = w[partner].id
    return [
        ("first page", "", lambda o, k, s: True),
        (f"partner={partner}", f"&partner={pid}", lambda o, k, s: o == partner),
        ("kind=preservation", "&kind=preservation", lambda o, k, s: k == "preservation"),
        ("state=under_review", "&state=under_review", lambda o, k, s: s == "under_review"),
        ("overdue=true", "&overdue=true", lambda o, k, s: False),
        (f"partner={partner}&kind=mla&state=acknowledged", f"&partner={pid}&kind=mla&state=acknowledged",
         lambda o, k, s: o == partner and k == "mla" and s == "acknowledged"),
    ]


def measure_lists(w, expected: Counter, reps: int) -> list[dict]:
    rows = []
    s = requests.Session()
    s.auth = OFFICER
    for letter in "ABC":
        m = w[letter]
        for name, qs, pred in queries(w, letter):
            url = f"{m.url}/api/v1/requests?limit=100{qs}"
            want = sum(n for (h, o, k, st), n in expected.items() if h == letter and pred(o, k, st))
            for _ in range(20):  # warm-up
                s.get(url, timeout=60).raise_for_status()
            times = []
            for _ in range(reps):
                t = time.perf_counter()
                r = s.get(url, timeout=60)
                body = r.content
                times.append((time.perf_counter() - t) * 1000)
                if r.status_code != 200:
                    raise SystemExit(f"GET {url}: {r.status_code} {r.text[:300]}")
            got = json.loads(body)["requests"]
            if len(got) != min(100, want):
                raise SystemExit(f"{letter} {name}: {len(got)} requests listed, expected {min(100, want)}")
            rows.append({"node": letter, "query": name, "matching": want, "returned": len(got),
                         "bytes": len(body), **summary(times)})
            print(f"  {letter} {name}: median {rows[-1]['median_ms']} ms", file=sys.stderr)
    return rows


def measure_transitions(w, plan: list[dict], n: int) -> dict:
    """A acknowledges `n` requests B sent it (left delivered), one at a time: the time of A's
    act over HTTP, until B's list shows the request acknowledged, and until A's outbox for B
    is empty again (B's receipt verified and recorded on A)."""
    a, b = w["A"], w["B"]
    todo = [p for p in plan if p["from"] == "B" and p["to"] == "A" and p["state"] == "delivered"][:n]
    if len(todo) < n:
        raise SystemExit(f"only {len(todo)} delivered requests from B to A")
    sa, sb = requests.Session(), requests.Session()
    sa.auth = sb.auth = OFFICER
    sm = requests.Session()
    sm.auth = a.node.admin
    watch = f"{b.url}/api/v1/requests?partner={a.id}&state=acknowledged&limit=1"
    act_ms, held_ms, receipt_ms = [], [], []
    started = time.perf_counter()
    for i, p in enumerate(todo):
        time.sleep(0.05)  # the previous transition's traffic has settled
        t0 = time.perf_counter()
        r = sa.post(f"{a.url}/api/v1/requests/{p['id']}/acknowledge", json={}, timeout=60)
        t1 = time.perf_counter()
        if r.status_code != 200:
            raise SystemExit(f"acknowledge: {r.status_code} {r.text[:300]}")
        while True:
            top = sb.get(watch, timeout=60).json()["requests"]
            if top and top[0]["id"] == p["id"]:
                break
            time.sleep(0.001)
        t2 = time.perf_counter()
        while True:
            text = sm.get(a.url + "/metrics", timeout=60).text
            if sum(int(v) for peer, v in PENDING_RE.findall(text) if peer == b.id) == 0:
                break
            time.sleep(0.001)
        t3 = time.perf_counter()
        p["state"] = "acknowledged"
        act_ms.append((t1 - t0) * 1000)
        held_ms.append((t2 - t0) * 1000)
        receipt_ms.append((t3 - t0) * 1000)
        progress("transitions", i + 1, n, started)
    return {"act_http": summary(act_ms), "held_by_other": summary(held_ms), "receipt_on_actor": summary(receipt_ms)}


def measure_submissions(w, n: int) -> dict:
    """A submits `n` drafts to B, one at a time: the time of A's act over HTTP, until B holds
    the request (delivered: B took in the submission and recorded its delivery), and until A
    holds B's `deliver` event (the request shows as delivered on A too)."""
    a, b = w["A"], w["B"]
    sa, sb = requests.Session(), requests.Session()
    sa.auth = sb.auth = OFFICER
    drafts = [call(a.url + "/api/v1/requests", "POST", {"kind": "assistance", "to": b.id, "emergency": False,
                                                      "document": doc("assistance")}, expect=201)["id"]
              for _ in range(n)]
    on_b = f"{b.url}/api/v1/requests?partner={a.id}&state=delivered&limit=1"
    on_a = f"{a.url}/api/v1/requests?partner={b.id}&state=delivered&limit=1"
    act_ms, held_ms, back_ms = [], [], []
    started = time.perf_counter()
    for i, rid in enumerate(drafts):
        time.sleep(0.05)
        t0 = time.perf_counter()
        r = sa.post(f"{a.url}/api/v1/requests/{rid}/submit", json={}, timeout=60)
        t1 = time.perf_counter()
        if r.status_code != 200:
            raise SystemExit(f"submit: {r.status_code} {r.text[:300]}")
        for s, url in ((sb, on_b), (sa, on_a)):
            while True:
                top = s.get(url, timeout=60).json()["requests"]
                if top and top[0]["id"] == rid:
                    break
                time.sleep(0.001)
            (held_ms if s is sb else back_ms).append((time.perf_counter() - t0) * 1000)
        act_ms.append((t1 - t0) * 1000)
        progress("submissions", i + 1, n, started)
    return {"act_http": summary(act_ms), "held_by_other": summary(held_ms), "delivered_on_actor": summary(back_ms)}


def table(result: dict) -> str:
    lines = ["| node | query (`GET /api/v1/requests?limit=100&…`) | matching | median ms | p95 ms | p99 ms |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for r in result["lists"]:
        lines.append(f"| {r['node']} | {r['query']} | {r['matching']:,} | {r['median_ms']} | {r['p95_ms']} | "
                     f"{r['p99_ms']} |")
    t = result["transition"]
    lines += ["", "| transition (A acknowledges a request from B), n = "
              f"{t['act_http']['n']} | median ms | p95 ms | p99 ms | max ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for key, what in (("act_http", "A's act over HTTP (signed, logged, queued)"),
                      ("held_by_other", "until B's list shows it (B checked, logged, stored)"),
                      ("receipt_on_actor", "until A holds B's receipt (A's outbox for B empty)")):
        s = t[key]
        lines.append(f"| {what} | {s['median_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    t = result["submission"]
    lines += ["", f"| submission (A submits a draft to B), n = {t['act_http']['n']} | median ms | p95 ms | p99 ms "
              "| max ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for key, what in (("act_http", "A's act over HTTP (signed, logged, queued)"),
                      ("held_by_other", "until B holds it delivered (B took it in, signed its delivery)"),
                      ("delivered_on_actor", "until A holds B's delivery event")):
        s = t[key]
        lines.append(f"| {what} | {s['median_ms']} | {s['p95_ms']} | {s['p99_ms']} | {s['max_ms']} |")
    s = result["seeding"]
    lines += ["", f"Seeding: {result['requests']:,} requests created and submitted in {s['submit_seconds']:.1f} s "
              f"({s['submitted_per_second']:,} requests/s, {result['clients']} client threads); all delivered "
              f"and receipted after {s['submit_delivered_seconds']:.1f} s ({s['delivered_per_second']:,}/s); "
              f"{s['acts']:,} acts by the requested sides in {s['acts_seconds']:.1f} s ({s['acts_per_second']:,}/s), "
              f"all at the requesters after {s['acts_delivered_seconds']:.1f} s.",
              f"Held per node: {result['held_per_node']}; states: {result['states']}; emergency: "
              f"{result['emergency']:,}; overdue: 0 (see the notes).",
              f"Load average before / after: {result['load_average_before_after']}."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=10_000)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--transitions", type=int, default=60)
    ap.add_argument("--keep", type=Path, help="put the nodes' data directories and logs here and keep them")
    args = ap.parse_args()
    binary = Path(os.environ["COMITY_BIN"])
    if not binary.exists():
        raise SystemExit(f"no comity binary at {binary} (cargo build --release -p comity, or set COMITY_BIN)")
    plan = make_plan(args.requests, "ABC")
    load_before = os.getloadavg()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with (tempfile.TemporaryDirectory() if not args.keep else contextlib.nullcontext(str(args.keep))) as tmp, \
            federation(Path(tmp), "ABC", []) as w:
        for x in "ABC":
            add_officer(w[x])
        print(f"seeding {args.requests:,} requests ...", file=sys.stderr)
        seeded = seed(w, plan, args.clients)
        print("listing ...", file=sys.stderr)
        lists = measure_lists(w, expected_counts(w, plan), args.reps)
        states = dict(Counter(p["state"] for p in plan).most_common())
        print("transitions ...", file=sys.stderr)
        transition = measure_transitions(w, plan, args.transitions)
        print("submissions ...", file=sys.stderr)
        submission = measure_submissions(w, args.transitions)
        load_after = os.getloadavg()
    n = args.requests
    seeded.update({
        "submitted_per_second": round(n / seeded["submit_seconds"]),
        "delivered_per_second": round(n / seeded["submit_delivered_seconds"]),
        "acts_per_second": round(seeded["acts"] / seeded["acts_seconds"]),
    })
    held = Counter()
    for p in plan:
        held[p["from"]] += 1
        held[p["to"]] += 1
    result = {
        "requests": n, "clients": args.clients, "reps": args.reps, "binary": str(binary.name),
        "held_per_node": dict(sorted(held.items())),
        "states": states,  # as listed (the transitions then acknowledge some delivered ones)
        "kinds": dict(Counter(p["kind"] for p in plan).most_common()),
        "emergency": sum(p["emergency"] for p in plan),
        "seeding": {k: round(v, 2) if isinstance(v, float) else v for k, v in seeded.items()},
        "lists": lists,
        "transition": transition,
        "submission": submission,
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
        "targets": {"list_ms": 50, "transition_ms": 100},
    }
    OUT.mkdir(exist_ok=True)
    (OUT / "requests.json").write_text(json.dumps(result, indent=2))
    text = table(result)
    (OUT / "requests.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
