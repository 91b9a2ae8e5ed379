"""Short versions of bench/abuse_bench.py against a real `comity serve` process: during a
flood of password guesses with fresh user names from 64 connections, a real user's first
sign-in stays fast and the server's memory (VmRSS from /proc) stays flat and is given back."""

from __future__ import annotations

import time

import pytest

from abuse import Sampler, first_sign_ins, guess_flood, median_ms, normal_client, rss_mb
from conftest import running_comity

USERS = [(f"analyst{i}", f"a long passphrase number {i}") for i in range(6)]


@pytest.fixture(scope="module")
def node(comity_binary, tmp_path_factory):
    def setup(n):
        for name, password in USERS:
            n.add_user(name, password)

    with running_comity(tmp_path_factory.mktemp("abuse"), setup=setup) as n:
        yield n


def test_fresh_name_guessing_keeps_sign_in_fast_and_memory_flat(node):
    pid = node.proc.pid
    normal_client(node, 1.0)  # warm: admin signed in, pages touched
    before = rss_mb(pid)
    sampler = Sampler(pid)
    sampler.start()
    flood = guess_flood(node, connections=64, addresses=1, seconds=10)
    time.sleep(2)
    during = first_sign_ins(node, USERS[:5])
    reads = normal_client(node, 2.0)
    for t in flood["threads"]:
        t.join()
    time.sleep(3)
    sampler.stop.set()
    sampler.join()
    after = rss_mb(pid)
    counts = flood["counts"]
    report = (f"first sign-ins {[round(x * 1000) for x in during]} ms, reads median "
              f"{median_ms(reads)} ms, RSS before {before:.0f} MB, max during "
              f"{max(sampler.rss):.0f} MB, after {after:.0f} MB, answers {counts}")
    print(report)
    assert set(counts) <= {401, 429}, report
    assert counts.get(401, 0) <= 20, report  # the address's budget, then 429 without Argon2
    assert median_ms(during) < 500, report
    assert median_ms(reads) < 200, report
    assert max(sampler.rss) - before < 100, report
    assert after - before < 60, report
