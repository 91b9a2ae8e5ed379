#!/usr/bin/env python3
"""Replication benchmark: 100,000 indicators stored on node A, shared with two peers B and C
under agreements, measured end to end (from the first POST to A until both peers' inbox
collections hold every object), with the outbox lag A reports while it replicates.

Three real `comity serve` processes on loopback, each with its own SQLite data directory,
set up through the CLI exactly as an admin would (member records, pinned keys, agreements
proposed by A and signed by each peer).
The comity binary is $COMITY_BIN or target/release/comity.

    .venv/bin/python bench/federation_bench.py [--objects 100000] [--clients 4] [--tls]

With --tls the same replication runs twice in one run, on fresh nodes each time: over plain
HTTP, then over TLS with mutual TLS on the federation routes (a private CA made here signs
each node's certificate, which it serves and also presents as a client; every node trusts
the CA for peers and for client certificates), and the ratio of the two rates is reported.

Prints the figures (with each node's CPU seconds per object and the load average, since
the machine is shared) and writes bench/out/federation.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "python"))
sys.path.insert(0, str(REPO / "bench"))
from conftest import ComityNode, free_port  # noqa: E402
from private_ca import Ca  # noqa: E402
from taxii_bench import envelopes, post_all  # noqa: E402

OUT = REPO / "bench" / "out"
LAG_RE = re.compile(r'comity_federation_outbox_lag_seconds\{peer="([^"]+)"\} ([0-9.e+-]+)')
PENDING_RE = re.compile(r'comity_federation_outbox_pending\{peer="([^"]+)"\} ([0-9]+)')


def show_local(node: ComityNode) -> dict:
    return json.loads(node.cli("member", "show-local", "--data-dir", node.data_dir).stdout)


TLS_TABLE = """
[tls]
cert_file = "tls/cert.pem"
key_file = "tls/key.pem"
peer_ca_files = ["tls/ca.pem"]
client_ca_files = ["tls/ca.pem"]
client_cert_file = "tls/cert.pem"
client_key_file = "tls/key.pem"
"""


def serve_tls(n: ComityNode, ca: Ca) -> None:
    """The node serves TLS with a certificate of `ca`, presents it to peers as a client, and
    requires peers' client certificates of `ca` on its federation routes."""
    tls = n.data_dir / "tls"
    tls.mkdir()
    cert, key = ca.node_pair(n.data_dir.name)
    (tls / "cert.pem").write_bytes(cert)
    (tls / "key.pem").write_bytes(key)
    (tls / "ca.pem").write_bytes(ca.pem())
    config = n.data_dir / "comity.toml"
    config.write_text(config.read_text() + TLS_TABLE)


def setup(work: Path, binary: Path | None, ca: Ca | None) -> list[ComityNode]:
    """Nodes A, B and C, registered with each other, A sharing its default collection with
    each under an agreement; on TLS with mutual TLS when `ca` is given."""
    nodes = []
    for name, country in (("A", "XA"), ("B", "XB"), ("C", "XC")):
        n = ComityNode(work / name, binary)
        n.port = free_port()
        endpoint = f"https://localhost:{n.port}" if ca else f"http://127.0.0.1:{n.port}"
        n.cli("init", "--data-dir", n.data_dir, "--organisation", f"Node {name}",
              "--country", country, "--member-role", "cert", "--endpoint", endpoint,
              env={"COMITY_ADMIN_PASSWORD": "bench password"})
        n.admin = ("admin", "bench password")
        if ca:
            serve_tls(n, ca)
        nodes.append(n)
    records = [show_local(n) for n in nodes]
    for n in nodes:
        for other, rec in zip(nodes, records):
            if other is n:
                continue
            # A build that seals envelopes publishes an encryption key (older ones do not).
            sealing = ["--encryption-key", rec["encryption_key"]] if "encryption_key" in rec else []
            n.cli("member", "add", "--data-dir", n.data_dir, "--name", rec["identity"]["name"],
                  "--country", rec["country"], "--role", "cert", "--public-key", rec["public_key"],
                  *sealing, "--id", rec["identity"]["id"], "--endpoint", rec["endpoint"])
    # Sharing a collection is an admin's explicit choice: A shares its default collection.
    a = nodes[0]
    default = next(line.split("\t")[0] for line in a.cli("collection", "list", "--data-dir", a.data_dir)
                   .stdout.decode().splitlines() if line.split("\t")[1] == "default")
    a.cli("collection", "federate", default, "on", "--data-dir", a.data_dir)
    for n in nodes:
        n.start(port=n.port, tls=ca is not None)
    # A proposes an agreement to each peer, which signs what it receives; in force once A
    # holds the peer's signature.
    for peer, rec in zip(nodes[1:], records[1:]):
        ag = a.cli("agreement", "create", "--data-dir", a.data_dir, "--title", "bench",
                   "--with", rec["identity"]["id"], "--type", "indicator", "--max-tlp", "green",
                   "--purpose", "intelligence").stdout.decode().strip()
        wait_for(lambda: agreement_status(peer, ag) == "proposed", f"the proposal at {rec['identity']['name']}")
        peer.cli("agreement", "sign", ag, "--data-dir", peer.data_dir)
        wait_for(lambda: agreement_status(a, ag) == "active", "the agreement in force at A")
    return nodes


def agreement_status(node: ComityNode, agreement: str) -> str | None:
    """The status of `agreement` on `node` (`comity agreement list`), None when it has none."""
    out = node.cli("agreement", "list", "--data-dir", node.data_dir).stdout.decode()
    return next((line.split("\t")[1] for line in out.splitlines() if line.startswith(agreement)), None)


def wait_for(ready, what: str, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > end:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def cpu_seconds(node: ComityNode) -> float:
    """User + system CPU seconds the node's process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{node.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_shared(node: ComityNode) -> int:
    """Objects in the node's "Shared by …" collections (from `comity collection list`)."""
    out = node.cli("collection", "list", "--data-dir", node.data_dir).stdout.decode()
    return sum(int(line.split("\t")[2].split()[0]) for line in out.splitlines()
               if "\tShared by" in line)


def replicate(bodies: list[bytes], binary: Path, clients: int, ca: Ca | None) -> dict:
    """One replication run on fresh nodes (on TLS when `ca` is given): the figures."""
    with tempfile.TemporaryDirectory() as tmp:
        nodes = setup(Path(tmp), binary, ca)
        a, b, c = nodes
        cid = next(col["id"] for col in requests.get(
            a.base + "/taxii2/default/collections/", auth=a.admin,
            headers={"Accept": "application/taxii+json;version=2.1"}, timeout=60).json()["collections"]
            if col["title"] == "default")
        lags: list[float] = []
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                text = requests.get(a.base + "/metrics", auth=a.admin, timeout=60).text
                lag = max((float(v) for _, v in LAG_RE.findall(text)), default=0.0)
                lags.append(lag)
                time.sleep(0.25)

        watcher = threading.Thread(target=watch)
        load_before = os.getloadavg()
        cpu0 = {n.data_dir.name: cpu_seconds(n) for n in nodes}
        t0 = time.perf_counter()
        watcher.start()
        post_s, stored = post_all(a, cid, bodies, clients)
        while True:
            text = requests.get(a.base + "/metrics", auth=a.admin, timeout=60).text
            pending = sum(int(v) for _, v in PENDING_RE.findall(text))
            if pending == 0 and PENDING_RE.findall(text):
                break
            time.sleep(0.05)
        total_s = time.perf_counter() - t0
        cpu = {n.data_dir.name: cpu_seconds(n) - cpu0[n.data_dir.name] for n in nodes}
        load_after = os.getloadavg()
        stop.set()
        watcher.join()
        for n in nodes:
            n.stop()
        got = {n.data_dir.name: count_shared(n) for n in (b, c)}
    replicated = sum(got.values())
    result = {
        "transport": "TLS, mutual on the federation routes" if ca else "plain HTTP",
        "objects": stored,
        "peers": 2,
        "store_on_A_seconds": round(post_s, 2),
        "end_to_end_seconds": round(total_s, 2),
        "replicated_objects": replicated,
        "replicated_per_peer": got,
        "objects_per_second_end_to_end": round(stored / total_s),
        "deliveries_per_second": round(replicated / total_s),
        "max_lag_seconds": round(max(lags, default=0.0), 2),
        "median_lag_seconds": round(sorted(lags)[len(lags) // 2], 2) if lags else 0.0,
        # CPU of each node's process while it replicated, per object stored on A
        "cpu_seconds": {k: round(v, 2) for k, v in cpu.items()},
        "cpu_us_per_object": {k: round(v * 1e6 / stored, 1) for k, v in cpu.items()},
        "load_average_before_after": [round(load_before[0], 2), round(load_after[0], 2)],
    }
    if any(v != stored for v in got.values()):
        raise SystemExit(f"replication incomplete ({result['transport']}): {got} of {stored}")
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--tls", action="store_true", help="also run over TLS (mutual) and report the ratio")
    args = ap.parse_args()
    binary = Path(os.environ.get("COMITY_BIN", REPO / "target" / "release" / "comity"))
    per = 1000
    bodies, _ = envelopes(args.objects // per, per, "fed-bench")
    # GREEN marking on every object, so that the agreements carry them.
    green = b',"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}'
    bodies = [b.replace(b'"valid_from":"2024-01-01T00:00:00Z"}',
                        b'"valid_from":"2024-01-01T00:00:00Z"' + green) for b in bodies]
    result = replicate(bodies, binary, args.clients, None)
    if args.tls:
        ca = Ca("Comity bench CA")
        with tempfile.NamedTemporaryFile(suffix=".pem") as bundle:
            bundle.write(ca.pem())
            bundle.flush()
            # this process's HTTPS requests (TAXII, /metrics) verify the nodes with the CA
            os.environ["REQUESTS_CA_BUNDLE"] = bundle.name
            try:
                tls = replicate(bodies, binary, args.clients, ca)
            finally:
                del os.environ["REQUESTS_CA_BUNDLE"]
        result = {"plain": result, "tls": tls,
                  "tls_over_plain": round(tls["objects_per_second_end_to_end"]
                                          / result["objects_per_second_end_to_end"], 3)}
    OUT.mkdir(exist_ok=True)
    (OUT / "federation.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
