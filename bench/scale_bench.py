#!/usr/bin/env python3
"""What a node costs as it grows: `comity import` of N generated indicators into a fresh node,
in slices of 100,000 (one file and one `comity import` each), then:

  - JSON bytes imported, database bytes on disk (SQLite: the files, WAL included, after a
    checkpoint; PostgreSQL: pg_database_size) and their ratio
  - import rate of each slice (objects/s), first against last
  - `match[id]` look-ups over HTTP keep-alive (wrk + Lua, random ids, 16 connections): p50/p99
  - paging the whole collection with limit=1000 (objects/s)
  - server VmRSS / VmHWM after the look-ups and the paging
  - SQLite only: bytes per table and index (dbstat), to see what each row costs

Usage: bench/scale_bench.py [--count N] [--backend sqlite|postgres] [--seconds S]
The binary is $COMITY_BIN or <repo>/target/release/comity (give --bin to compare builds in one
run: `--bin main=/tmp/comity-main --bin new=target/release/comity`). PostgreSQL at
$COMITY_TEST_PG (default postgres://postgres@127.0.0.1:5432). Needs `wrk`. Prints a markdown
table and writes it with the raw figures to bench/out/scale-<backend>-<count>.{md,json}.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "bench"))
from conftest import ComityNode, postgres_database, proc_status, psql, use_database  # noqa: E402
from taxii_bench import comity_binary, indicator_json, page_all, wrk_lookups  # noqa: E402

OUT = REPO / "bench" / "out"
SLICE = 100_000
RUN = "scale"


def write_slices(count: int, work: Path) -> tuple[list[Path], list[str], int]:
    """Files of SLICE indicators each (JSON lists); the ids; the JSON bytes of the objects."""
    files, ids, json_bytes = [], [], 0
    for start in range(0, count, SLICE):
        objs = [indicator_json(n, RUN) for n in range(start, min(count, start + SLICE))]
        json_bytes += sum(len(o.encode()) for o in objs)
        ids.extend(o[o.index("indicator--"):o.index("indicator--") + 47] for o in objs)
        path = work / f"slice-{start // SLICE:04d}.json"
        path.write_text("[" + ",".join(objs) + "]")
        files.append(path)
    return files, ids, json_bytes


@contextlib.contextmanager
def fresh_node(backend: str, binary: Path, work: Path):
    node = ComityNode(work / "data", binary=binary)
    if backend == "postgres":
        with postgres_database() as url:
            use_database(node.data_dir, url)
            node.init()
            yield node, url.rsplit("/", 1)[1]
    else:
        node.init()
        yield node, None


def sqlite_disk(data_dir: Path) -> tuple[int, dict]:
    """Bytes of the database files after a checkpoint, and bytes per table or index."""
    db = data_dir / "comity.sqlite3"
    con = sqlite3.connect(db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    try:
        parts = dict(con.execute(
            "SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC").fetchall())
    except sqlite3.OperationalError:  # a Python whose SQLite lacks dbstat
        parts = {}
    con.close()
    size = sum(p.stat().st_size for p in data_dir.glob("comity.sqlite3*"))
    return size, parts


def postgres_row_bytes(dbname: str) -> dict:
    """Average bytes of an object's JSON as PostgreSQL stores it (after TOAST's own
    compression, if it applied) and as text, and of the zstd frame where rows have one."""
    packed = psql("SELECT count(*) FROM information_schema.columns "
                  "WHERE table_name = 'objects' AND column_name = 'packed'", db=dbname).strip()
    frame = ("avg(coalesce(pg_column_size(packed), 0))" if packed == "1" else "0")
    row = psql("SELECT avg(pg_column_size(json)), "
               "avg(octet_length(json)), " + frame + " FROM objects", db=dbname)
    stored, text, frame_bytes = (float(v or 0) for v in row.strip().split("|"))
    return {"json_column": stored, "json_text": text, "frame": frame_bytes}


def postgres_disk(dbname: str) -> tuple[int, dict]:
    psql("CHECKPOINT", db=dbname)
    size = int(psql("SELECT pg_database_size(current_database())", db=dbname))
    rows = psql("SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                "AND c.relkind IN ('r', 'i') ORDER BY 2 DESC LIMIT 12", db=dbname)
    parts = {}
    for line in rows.splitlines():
        name, _, value = line.partition("|")
        parts[name] = int(value)
    return size, parts


def measure(label: str, binary: Path, args, files, ids, json_bytes: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix=f"scale-{label}-"))
    res: dict = {"label": label, "binary": str(binary), "count": args.count,
                 "backend": args.backend, "json_bytes": json_bytes}
    try:
        with fresh_node(args.backend, binary, work) as (node, dbname):
            cid = node.add_collection("scale", read=["admin"], write=["admin"])
            rates = []
            for path in files:
                n = min(SLICE, args.count - SLICE * len(rates))
                t0 = time.perf_counter()
                node.import_files(path, collection=cid)
                rates.append(n / (time.perf_counter() - t0))
                print(f"  {label}: slice {len(rates)} of {len(files)}: {rates[-1]:,.0f} objects/s",
                      flush=True)
            res["import_rates"] = rates
            if args.backend == "postgres":
                res["disk_bytes"], res["parts"] = postgres_disk(dbname)
                res["row_bytes"] = postgres_row_bytes(dbname)
            else:
                res["disk_bytes"], res["parts"] = sqlite_disk(node.data_dir)
            node.start()
            try:
                res["lookup"] = wrk_lookups(node, cid, ids, args.seconds, threads=2,
                                            connections=16, workdir=work)
                dt, n, _ = page_all(node, cid)
                assert n == args.count, f"{label}: paged {n} of {args.count}"
                res["page_rate"] = n / dt
                res["rss"] = proc_status(node.pid)
            finally:
                node.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return res


def mb(v: float) -> str:
    return f"{v / 1e6:,.1f}"


def report(args, runs: list[dict]) -> str:
    head = "| measure | " + " | ".join(r["label"] for r in runs) + " |"
    if len(runs) == 2:
        head += " ratio |"
    lines = [f"Scale bench, {args.backend}, {args.count:,} indicators "
             f"({runs[0]['json_bytes'] / args.count:.0f} bytes of JSON each)", "",
             head, "| --- |" + " ---: |" * (len(runs) + (len(runs) == 2))]

    def row(name, values, fmt, ratio=True):
        cells = [fmt(v) if v is not None else "n/a" for v in values]
        line = f"| {name} | " + " | ".join(cells) + " |"
        if len(runs) == 2:
            a, b = values
            line += f" {b / a:.2f}× |" if ratio and a and b else " |"
        lines.append(line)

    row("JSON imported, MB", [r["json_bytes"] for r in runs], mb, False)
    row("database on disk, MB", [r["disk_bytes"] for r in runs], mb)
    row("disk / JSON", [r["disk_bytes"] / r["json_bytes"] for r in runs], lambda v: f"{v:.2f}×")
    row("disk per indicator, bytes", [r["disk_bytes"] / args.count for r in runs],
        lambda v: f"{v:,.0f}")
    row("import, first slice, objects/s", [r["import_rates"][0] for r in runs], lambda v: f"{v:,.0f}")
    row("import, last slice, objects/s", [r["import_rates"][-1] for r in runs], lambda v: f"{v:,.0f}")
    row("import, all slices, objects/s",
        [len(r["import_rates"]) / sum(1 / x for x in r["import_rates"]) for r in runs],
        lambda v: f"{v:,.0f}")
    for key, name in (("p50_ms", "match[id] p50, ms"), ("p99_ms", "match[id] p99, ms"),
                      ("rps", "match[id] requests/s (16 connections)")):
        row(name, [r["lookup"].get(key) for r in runs], lambda v: f"{v:,.2f}")
    row("paging limit=1000, objects/s", [r["page_rate"] for r in runs], lambda v: f"{v:,.0f}")
    row("server VmRSS, MB", [r["rss"].get("VmRSS", 0) * 1000 for r in runs], mb)
    row("server VmHWM, MB", [r["rss"].get("VmHWM", 0) * 1000 for r in runs], mb)
    if all("row_bytes" in r for r in runs):
        row("`objects.json` column as stored, bytes per row (TOAST included)",
            [r["row_bytes"]["json_column"] for r in runs], lambda v: f"{v:,.0f}", False)
        row("`objects.packed` zstd frame, bytes per row",
            [r["row_bytes"]["frame"] for r in runs], lambda v: f"{v:,.0f}", False)
    names = []
    for r in runs:
        names += [n for n in r["parts"] if n not in names]
    for n in names[:12]:
        row(f"`{n}`, MB", [r["parts"].get(n) for r in runs], mb)
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=200_000)
    ap.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--seconds", type=int, default=10, help="of look-ups")
    ap.add_argument("--bin", action="append", default=[], metavar="LABEL=PATH",
                    help="a build to measure (repeatable); default: $COMITY_BIN as 'comity'")
    args = ap.parse_args()
    builds = [b.split("=", 1) for b in args.bin] or [["comity", str(comity_binary())]]
    gen = Path(tempfile.mkdtemp(prefix="scale-json-"))
    try:
        files, ids, json_bytes = write_slices(args.count, gen)
        runs = [measure(label, Path(path), args, files, ids, json_bytes)
                for label, path in builds]
    finally:
        shutil.rmtree(gen, ignore_errors=True)
    text = report(args, runs)
    print(text)
    OUT.mkdir(exist_ok=True)
    stem = OUT / f"scale-{args.backend}-{args.count}"
    stem.with_suffix(".md").write_text(text)
    stem.with_suffix(".json").write_text(json.dumps(runs, indent=1))


if __name__ == "__main__":
    main()
