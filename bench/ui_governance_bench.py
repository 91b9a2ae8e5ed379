#!/usr/bin/env python3
"""Governance pages benchmark: what the web UI's governance and members pages cost to serve,
on one `comity serve` (SQLite store) whose member tabled `--proposals` proposals, each with
its member's ballot (so every tally in the list is computed from a ballot).

  page      GET of /governance (every proposal with its tally so far), one proposal page,
            /governance/norms, /members and /dashboard, signed in, one keep-alive client:
            p50 / p99 over `--queries` requests each (the time seen by the client, on
            loopback)

    .venv/bin/python bench/ui_governance_bench.py [--proposals 100] [--queries 50]

The comity binary is $COMITY_BIN or target/release/comity. Writes bench/out/ui_governance.json.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
from federation_nodes import federation  # noqa: E402

OUT = REPO / "bench" / "out"
KINDS = ["admit_member", "suspend_member", "reinstate_member", "expel_member", "adopt_norm", "amend_norm",
         "repeal_norm", "change_rules", "joint_statement"]
RULES = {"voting_delay_seconds": 0, "voting_period_seconds": 3600, "execution_window_seconds": 3600,
         "quorum": "1/2", "abstentions_count_toward_quorum": True,
         "kinds": {k: {"majority": "1/2", "sponsors": 0} for k in KINDS}}


def signed_in(base: str, user: str, password: str) -> requests.Session:
    s = requests.Session()
    page = s.get(base + "/signin", timeout=30)
    token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
    r = s.post(base + "/signin", data={"name": user, "password": password, "token": token},
               allow_redirects=False, timeout=30)
    assert r.status_code == 303, r.text
    return s


def timed(s: requests.Session, url: str, queries: int) -> dict:
    times = []
    for _ in range(queries):
        t = time.perf_counter()
        r = s.get(url, timeout=60)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--proposals", type=int, default=100)
    ap.add_argument("--queries", type=int, default=50)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, federation(Path(tmp), "AB", [], serve="A") as w:
        a = w["A"]
        n = a.node
        rules = Path(tmp) / "rules.json"
        rules.write_text(json.dumps(RULES))
        n.cli("governance", "rules", "--set", str(rules), "--data-dir", n.data_dir)
        ids = []
        for i in range(args.proposals):
            action = {"kind": "adopt_norm", "norm": f"norm-{i}", "texts": {"en": f"Norm {i}.", "ar": f"المعيار {i}."}}
            r = requests.post(f"{a.url}/api/v1/governance/proposals", auth=n.admin, json={"action": action},
                              timeout=60)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
            r = requests.post(f"{a.url}/api/v1/governance/proposals/{ids[-1]}/vote", auth=n.admin,
                              json={"choice": "yes"}, timeout=60)
            assert r.status_code == 200, r.text
        s = signed_in(a.url, *n.admin)
        pages = {"governance": "/governance", "norms": "/governance/norms", "members": "/members",
                 "dashboard": "/dashboard"}
        if ids:
            pages["proposal"] = f"/governance/proposals/{ids[0]}"
        results = {name: timed(s, a.url + path, args.queries) for name, path in pages.items()}
    out = {"proposals": args.proposals, "queries": args.queries, "pages": results}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ui_governance.json").write_text(json.dumps(out, indent=2))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
