"""Durability: ``kill -9`` of the server in the middle of large POSTs.

After a restart on the same data directory every object whose status said ``success`` is
served back JSON-equal, nothing half-written is visible (every stored object equals an object
that was sent), and the status resources written before the crash are still there.
"""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
import requests

from conftest import (TAXII, add_and_wait, comity_bin, fetch_all, make_indicator, running_comity, target,
                      taxii_headers)

ENVELOPES = 50
PER_ENVELOPE = 1000


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if target() != "comity":
        pytest.skip("kill -9 and restart on the same data is a comity test")
    if not comity_bin().exists():
        pytest.fail(f"comity binary missing: {comity_bin()}")

    def setup(n):
        n.add_collection("crash", read=["admin"], write=["admin"])
        n.add_collection("crash-single", read=["admin"], write=["admin"])

    with running_comity(tmp_path_factory.mktemp("crash"), setup) as n:
        yield n


class Poster:
    """POST envelopes from a few threads; remember what each status said succeeded."""

    def __init__(self, node, cid, envelopes, threads=2):
        self.node, self.cid, self.envelopes = node, cid, envelopes
        self.lock = threading.Lock()
        self.succeeded = {}  # id -> object
        self.statuses = []  # complete status resources received before the crash
        self.completed_envelopes = 0
        self.errors = []
        self.next_idx = 0
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()

    def join(self, timeout=120):
        for t in self.threads:
            t.join(timeout)

    def run(self):
        s = requests.Session()
        s.auth = self.node.admin
        url = self.node.objects_url(self.cid)
        while True:
            with self.lock:
                if self.next_idx >= len(self.envelopes):
                    return
                env = self.envelopes[self.next_idx]
                self.next_idx += 1
            try:
                r = s.post(url, data=json.dumps({"objects": env}), headers=taxii_headers(content=True), timeout=60)
                if r.status_code != 202:
                    self.errors.append((r.status_code, r.text[:200]))
                    return
                st = r.json()
                while st.get("status") != "complete":
                    time.sleep(0.02)
                    rr = s.get(self.node.status_url(st["id"]), headers={"Accept": TAXII}, timeout=30)
                    if rr.status_code != 200:
                        return
                    st = rr.json()
            except (requests.RequestException, ValueError) as e:
                self.errors.append(repr(e))
                return
            by_id = {o["id"]: o for o in env}
            with self.lock:
                self.statuses.append(st)
                self.completed_envelopes += 1
                if st.get("successes"):
                    for d in st["successes"]:
                        self.succeeded[d["id"]] = by_id[d["id"]]
                elif st["success_count"] == len(env):
                    # successes are optional in a status; a complete all-success status covers all
                    self.succeeded.update(by_id)


def check_after_restart(node, cid, sent_by_id, succeeded):
    stored = fetch_all(node, cid, params={"match[version]": "all"})
    ids = [o["id"] for o in stored]
    assert len(ids) == len(set(ids)), "an object is stored twice"
    idset = set(ids)
    missing = [i for i in succeeded if i not in idset]
    assert not missing, f"{len(missing)} of {len(succeeded)} objects reported as success are gone, e.g. {missing[:3]}"
    strangers = [o for o in stored if o["id"] not in sent_by_id]
    assert not strangers, f"objects that were never sent: {strangers[:2]}"
    torn = [o["id"] for o in stored if o != sent_by_id[o["id"]]]
    assert not torn, f"{len(torn)} stored objects differ from what was sent, e.g. {torn[:3]}"
    return stored


def test_kill9_during_concurrent_posts(node):
    cid = node.collections["crash"]
    envs = [[make_indicator(e * PER_ENVELOPE + i) for i in range(PER_ENVELOPE)] for e in range(ENVELOPES)]
    sent = {o["id"]: o for env in envs for o in env}
    poster = Poster(node, cid, envs, threads=2)
    poster.start()
    # kill once some envelopes are through and others are in flight
    deadline = time.time() + 120
    while poster.completed_envelopes < 8 and time.time() < deadline and any(t.is_alive() for t in poster.threads):
        time.sleep(0.005)
    node.kill9()
    poster.join()
    assert poster.completed_envelopes >= 1, f"nothing completed before the crash: {poster.errors[:3]}"
    assert poster.completed_envelopes < ENVELOPES, "all envelopes finished before the kill; the test proved nothing"
    succeeded = dict(poster.succeeded)
    statuses = list(poster.statuses)
    node.start()
    stored = check_after_restart(node, cid, sent, succeeded)
    assert len(stored) >= len(succeeded)
    # the status resources from before the crash are still served, unchanged in their counts
    s = node.session()
    for st in statuses[:5]:
        r = s.get(node.status_url(st["id"]), timeout=10)
        assert r.status_code == 200, (st["id"], r.status_code, r.text[:200])
        again = r.json()
        assert (again["status"], again["success_count"], again["failure_count"]) == \
            (st["status"], st["success_count"], st["failure_count"])
    # posting everything again completes the collection: re-posts are successes, nothing doubled
    for env in envs:
        st = add_and_wait(node, cid, env, session=s)
        assert st["success_count"] == len(env) and st["failure_count"] == 0, {k: v for k, v in st.items()
                                                                              if k != "successes"}
    final = check_after_restart(node, cid, sent, sent)
    assert len(final) == len(sent)


def test_kill9_during_one_huge_post(node):
    """A single large envelope killed mid-way: whatever is visible afterwards is whole."""
    cid = node.collections["crash-single"]
    limit = int(node.session().get(node.api_root, timeout=10).json()["max_content_length"])
    objs = []
    size = 20
    i = 0
    while len(objs) < 50_000:
        o = make_indicator(i, name=f"single {uuid.uuid4()}")
        b = len(json.dumps(o)) + 2
        if size + b > limit:
            break
        objs.append(o)
        size += b
        i += 1
    sent = {o["id"]: o for o in objs}
    body = json.dumps({"objects": objs})
    result = {}

    def post():
        try:
            r = requests.post(node.objects_url(cid), data=body, auth=node.admin,
                              headers=taxii_headers(content=True), timeout=120)
            result["status"] = r.status_code
            result["body"] = r.json() if r.status_code == 202 else r.text
        except requests.RequestException as e:
            result["error"] = repr(e)

    t = threading.Thread(target=post, daemon=True)
    t.start()
    time.sleep(0.15)
    node.kill9()
    t.join(30)
    succeeded = {}
    if result.get("status") == 202 and result["body"].get("status") == "complete":
        for d in result["body"].get("successes", []):
            succeeded[d["id"]] = sent[d["id"]]
        if not result["body"].get("successes") and result["body"]["success_count"] == len(objs):
            succeeded = sent
    node.start()
    check_after_restart(node, cid, sent, succeeded)


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGINT"])
def test_graceful_shutdown_keeps_everything(node, sig):
    """SIGTERM / SIGINT: the server exits 0 promptly; after a restart all accepted objects are there."""
    import signal as _signal
    cid = node.collections["crash"]
    objs = [make_indicator(i, name=f"graceful {sig} {i}") for i in range(500)]
    st = add_and_wait(node, cid, objs)
    assert st["success_count"] == len(objs)
    t0 = time.time()
    rc = node.stop(sig=getattr(_signal, sig), timeout=15)
    assert rc == 0, f"exit code {rc} after {sig}:\n{node.log()}"
    assert time.time() - t0 < 10
    node.start()
    got = fetch_all(node, cid, params={"match[id]": ",".join(o["id"] for o in objs)}, limit=1000)
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in objs)
