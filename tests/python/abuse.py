"""Floods an attacker would send to a `comity serve` process, and what a normal client
sees meanwhile: shared by tests/python/test_abuse.py (short runs) and
bench/abuse_bench.py (the figures in README's reliability section)."""

from __future__ import annotations

import os
import socket
import statistics
import threading
import time

import requests

from conftest import proc_status, taxii_headers


def rss_mb(pid: int) -> float:
    return proc_status(pid)["VmRSS"] / 1024


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Sampler(threading.Thread):
    """Samples the server's RSS (MB) and open descriptors every 0.2 s until stopped."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.rss, self.fds = pid, [], []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                self.rss.append(rss_mb(self.pid))
                self.fds.append(open_fds(self.pid))
            except (OSError, KeyError):  # the process has ended
                return
            time.sleep(0.2)


def source(i: int) -> str:
    """The i-th attacker address, 127.0.1.x and up (never a normal client's 127.0.0.x)."""
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def guess_flood(node, *, connections: int, addresses: int, seconds: float) -> dict:
    """`connections` threads each guessing passwords for fresh user names over keep-alive
    HTTP for `seconds`, spread over `addresses` source addresses; answers counted."""
    url = node.base + "/taxii2/"
    counts: dict[int, int] = {}
    lock = threading.Lock()
    deadline = time.time() + seconds

    def attack(k: int):
        s = requests.Session()
        s.mount("http://", SourceAdapter(source(k % addresses)))
        i = 0
        while time.time() < deadline:
            try:
                code = s.get(url, auth=(f"fresh-{k}-{i}", "guess"), timeout=30).status_code
            except requests.RequestException:
                code = 0
            with lock:
                counts[code] = counts.get(code, 0) + 1
            i += 1

    threads = [threading.Thread(target=attack, args=(k,), daemon=True) for k in range(connections)]
    for t in threads:
        t.start()
    return {"threads": threads, "counts": counts}


def first_sign_ins(node, users: list[tuple[str, str]], pause: float = 0.3) -> list[float]:
    """Seconds each user's first request (an Argon2id verification) takes, one by one."""
    took = []
    for user in users:
        t0 = time.time()
        r = requests.get(node.base + "/taxii2/", auth=user, headers=taxii_headers(), timeout=60)
        took.append(time.time() - t0)
        assert r.status_code == 200, (user[0], r.status_code, r.text[:200])
        time.sleep(pause)
    return took


def normal_client(node, seconds: float, refused: list | None = None) -> list[float]:
    """Latencies of a signed-in client reading discovery over keep-alive for `seconds`.
    With `refused`, connections the server closed are noted there and retried."""
    s = requests.Session()
    took = []
    deadline = time.time() + seconds
    while time.time() < deadline:
        t0 = time.time()
        try:
            r = s.get(node.base + "/taxii2/", auth=node.admin, headers=taxii_headers(),
                      timeout=60)
        except requests.ConnectionError:
            if refused is None:
                raise
            refused.append(time.time())
            s = requests.Session()
            continue
        took.append(time.time() - t0)
        assert r.status_code == 200, r.status_code
        time.sleep(0.05)
    return took


def median_ms(values: list[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def hold_sockets(node, count: int, addresses: int, slowloris: bool) -> list[socket.socket]:
    """Opens `count` connections from `addresses` source addresses; each sends the start of
    a request when `slowloris`, else nothing. Connections the server refuses are dropped."""
    held = []
    for i in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", node.port), timeout=5,
                                         source_address=(source(i % addresses), 0))
            if slowloris:
                s.sendall(b"GET /taxii2/ HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            pass
    return held


def trickle(held: list[socket.socket]) -> int:
    """One more header line on each held connection; returns how many are still open."""
    alive = []
    for s in held:
        try:
            s.sendall(b"X-Trickle: 1\r\n")
            alive.append(s)
        except OSError:
            s.close()
    held[:] = alive
    return len(alive)


class SourceAdapter(requests.adapters.HTTPAdapter):
    """Makes a requests session connect from a given local address."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)
