"""TAXII 2.0 feeds, read from a real TAXII 2.0 server: medallion 1.1.0, the OASIS reference
server of TAXII 2.0 (its own virtual environment, ``.venv-medallion1``, made on first use
from ``requirements-medallion1.txt``: medallion 3, pinned for the other tests, serves 2.1
only), filled with STIX 2.0 bundles by taxii2-client's ``v20`` module.

A comity node subscribes a collection to a medallion collection (``kind: taxii20``) and
reads it range by range (``Range: items=…``, medallion answering 206 with
``Content-Range``), converting every STIX 2.0 object to STIX 2.1 (checked here with the OASIS
validator); then reads only what is new. Between the two, a small front
(``http.server``) relays to medallion and can cut a run short, drop the ``Range`` header
(a server that ignores it) or answer a bad page of its own: every bad answer fails the run
with a precise error and stores nothing.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v20 import Collection

from conftest import ADMIN_PASSWORD, REPO, comity_bin, fetch_all, free_port

TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP1_GREEN = "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"
TLP1_WHITE = "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"
STIX20 = "application/vnd.oasis.stix+json; version=2.0"
TAXII20 = "application/vnd.oasis.taxii+json; version=2.0"
T = "2017-06-01T00:00:00.000Z"

MEDALLION1_VENV = REPO / ".venv-medallion1"
MEDALLION1_REQUIREMENTS = Path(__file__).with_name("requirements-medallion1.txt")


def medallion1_python() -> Path:
    """The Python of ``.venv-medallion1``, made (or remade, when the pins changed) from PyPI."""
    python = MEDALLION1_VENV / "bin" / "python"
    stamp = MEDALLION1_VENV / "installed-requirements.txt"
    wanted = MEDALLION1_REQUIREMENTS.read_text()
    if not python.exists() or not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(MEDALLION1_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "-r", str(MEDALLION1_REQUIREMENTS)], check=True, timeout=600)
        stamp.write_text(wanted)
    return python


class Medallion20:
    """medallion 1.1.0 with its memory backend: one API root, one collection, HTTP Basic."""

    def __init__(self, workdir: Path, python: Path):
        self.workdir, self.python = workdir, python
        self.collection_id = str(uuid.uuid4())
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc = None

    @property
    def collection_path(self) -> str:
        return f"/api1/collections/{self.collection_id}/"

    def start(self):
        digest = subprocess.run(
            [str(self.python), "-c", "import sys; from werkzeug.security import generate_password_hash;"
             " print(generate_password_hash(sys.argv[1]))", ADMIN_PASSWORD],
            check=True, capture_output=True, text=True).stdout.strip()
        data = {
            "/discovery": {"title": "medallion 1", "description": "TAXII 2.0", "contact": "nobody",
                           "default": f"{self.base}/api1/", "api_roots": [f"{self.base}/api1/"]},
            "api1": {
                "information": {"title": "api1", "description": "TAXII 2.0", "versions": ["taxii-2.0"],
                                "max_content_length": 10_000_000},
                "status": [],
                "collections": [{"id": self.collection_id, "title": "intel", "description": "intel",
                                 "can_read": True, "can_write": True, "media_types": [STIX20],
                                 "objects": [], "manifest": []}],
            },
        }
        (self.workdir / "data.json").write_text(json.dumps(data))
        config = {
            "backend": {"module": "medallion.backends.taxii.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(self.workdir / "data.json")},
            "auth": {"module": "medallion.backends.auth.memory_auth", "module_class": "AuthMemoryBackend",
                     "users": {"admin": digest}, "api_keys": {}},
            "taxii": {"max_page_size": 1000},
        }
        (self.workdir / "config.json").write_text(json.dumps(config))
        log = open(self.workdir / "medallion.log", "ab")
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "ERROR", str(self.workdir / "config.json")], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 30
        while time.time() < deadline:
            assert self.proc.poll() is None, (self.workdir / "medallion.log").read_text()
            try:
                r = requests.get(self.base + "/taxii/", auth=("admin", ADMIN_PASSWORD),
                                 headers={"Accept": TAXII20}, timeout=1)
                if r.status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise AssertionError("medallion 1 did not start:\n" + (self.workdir / "medallion.log").read_text())

    def add(self, objects: list) -> None:
        """POSTs one STIX 2.0 bundle with taxii2-client's v20 client (one date added for all)."""
        collection = Collection(self.base + self.collection_path, user="admin", password=ADMIN_PASSWORD)
        bundle = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "spec_version": "2.0", "objects": objects}
        status = collection.add_objects(json.dumps(bundle))
        assert (status.status, status.success_count) == ("complete", len(objects)), status.failures
        time.sleep(0.002)  # the next POST gets a later date added

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture(scope="session")
def medallion1():
    return medallion1_python()


@pytest.fixture
def medallion20(medallion1, tmp_path):
    server = Medallion20(tmp_path, medallion1).start()
    yield server
    server.stop()


class Front(http.server.ThreadingHTTPServer):
    """Relays GETs to medallion, or cuts a run short (503 after ``fail_after`` answers),
    drops the ``Range`` header (``ignore_range``), or answers ``canned`` itself."""

    def __init__(self, upstream: str):
        super().__init__(("127.0.0.1", 0), FrontHandler)
        self.upstream = upstream
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.fail_after = None
        self.ignore_range = False
        self.canned = None
        self.seen = []  # (path, Range) of every request

    def reset(self):
        self.fail_after, self.ignore_range, self.canned, self.seen = None, False, None, []


class FrontHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        front = self.server
        front.seen.append((self.path, self.headers.get("Range")))
        if front.canned is not None:
            status, headers, body = front.canned
        elif front.fail_after is not None and len(front.seen) > front.fail_after:
            status, headers, body = 503, {}, b"down for maintenance"
        else:
            sent = {k: self.headers[k] for k in ("Accept", "Authorization", "Range") if self.headers.get(k)}
            if front.ignore_range:
                sent.pop("Range", None)
            r = requests.get(front.upstream + self.path, headers=sent, timeout=30)
            kept = ("Content-Type", "Content-Range", "X-TAXII-Date-Added-First", "X-TAXII-Date-Added-Last")
            status, headers, body = r.status_code, {k: r.headers[k] for k in kept if k in r.headers}, r.content
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def front(medallion20):
    server = Front(medallion20.base)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def node(comity_factory, monkeypatch):
    monkeypatch.setenv("COMITY_FEED_SCHEDULER_SECONDS", "0")
    return lambda **kw: comity_factory(**kw)


def feeds_url(n) -> str:
    return n.base + "/api/v1/feeds"


def add_feed(n, url: str, name: str = "partner20", **body) -> requests.Response:
    body = dict(name=name, kind="taxii20", url=url, api_root="default",
                collection=n.collections["default"], markings=["amber"], page_size=25,
                credential={"scheme": "basic", "user": "admin", "password": ADMIN_PASSWORD}, **body)
    return requests.post(feeds_url(n), json=body, auth=n.admin, timeout=30)


def run_feed(n, name: str = "partner20") -> requests.Response:
    return requests.post(f"{feeds_url(n)}/{name}/run", auth=n.admin, timeout=120)


def feed_state(n, name: str = "partner20") -> dict:
    r = requests.get(feeds_url(n), auth=n.admin, timeout=30)
    assert r.status_code == 200, r.text
    return {f["name"]: f for f in r.json()["feeds"]}[name]


def indicator20(i: int, **extra) -> dict:
    return {"type": "indicator", "id": f"indicator--{uuid.uuid4()}", "created": T, "modified": T,
            "labels": ["malicious-activity"], "name": f"C2 {i}",
            "pattern": f"[ipv4-addr:value = '198.51.{i // 256}.{i % 256}']",
            "valid_from": "2017-06-01T00:00:00Z", **extra}


def test_a_taxii20_feed_reads_medallion_by_ranges_as_stix21_then_only_what_is_new(node, medallion20, front):
    indicators = [indicator20(i) for i in range(100)]
    for o in indicators[::10]:
        o["object_marking_refs"] = [TLP1_GREEN]
    green = {"type": "marking-definition", "id": TLP1_GREEN, "created": "2017-01-20T00:00:00.000Z",
             "definition_type": "tlp", "definition": {"tlp": "green"}}
    medallion20.add(indicators + [green])
    actor = {"type": "threat-actor", "id": f"threat-actor--{uuid.uuid4()}", "created": T, "modified": T,
             "name": "Evil Org", "labels": ["crime-syndicate"]}
    malware = {"type": "malware", "id": f"malware--{uuid.uuid4()}", "created": T, "modified": T,
               "name": "Cryptolocker", "labels": ["ransomware"]}
    identity = {"type": "identity", "id": f"identity--{uuid.uuid4()}", "created": T, "modified": T,
                "name": "CERT-X", "identity_class": "organization"}
    others = [
        actor, malware, identity,
        {"type": "relationship", "id": f"relationship--{uuid.uuid4()}", "created": T, "modified": T,
         "relationship_type": "indicates", "source_ref": indicators[1]["id"], "target_ref": malware["id"]},
        {"type": "report", "id": f"report--{uuid.uuid4()}", "created": T, "modified": T, "name": "Q2",
         "published": "2017-06-02T00:00:00Z", "labels": ["threat-actor"], "object_refs": [actor["id"]],
         "created_by_ref": identity["id"]},
        {"type": "tool", "id": f"tool--{uuid.uuid4()}", "created": T, "modified": T, "name": "VNC",
         "labels": ["remote-access"]},
    ]
    medallion20.add(others)
    medallion20.add([indicator20(200 + i) for i in range(23)])
    sent = indicators + [green] + others
    b = node()
    r = add_feed(b, front.url + medallion20.collection_path)
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "taxii20" and ADMIN_PASSWORD not in r.text
    report = run_feed(b)
    assert report.status_code == 200, report.text
    first = report.json()
    assert (first["stored"], first["skipped"], first["refused"]) == (130, 0, 0), first
    # medallion 1.1.0 answers 24 items to a range of 25 (its Content-Range says so): the
    # feed follows the Content-Range, six ranges for 130 objects.
    assert first["pages"] == 6
    ranges = [r for _, r in front.seen]
    assert ranges[:3] == ["items=0-24", "items=24-48", "items=48-72"], ranges
    got = {o["id"]: o for o in fetch_all(b, b.collections["default"])}
    assert len(got) == 130
    for o in got.values():
        assert o["spec_version"] == "2.1"
        result = validate_instance(o, ValidationOptions(strict=False))
        assert result.is_valid, (o, [str(e) for e in result.errors])
    for o in indicators:
        stored = got[o["id"]]
        assert (stored["pattern"], stored["pattern_type"]) == (o["pattern"], "stix")
        assert stored["indicator_types"] == stored["labels"] == ["malicious-activity"]
        assert stored["object_marking_refs"] == o.get("object_marking_refs", [TLP_AMBER])
    assert got[malware["id"]]["is_family"] is True
    assert got[malware["id"]]["malware_types"] == ["ransomware"]
    assert got[actor["id"]]["threat_actor_types"] == ["crime-syndicate"]
    assert got[TLP1_GREEN] == dict(green, spec_version="2.1", name="TLP:GREEN")
    for o in sent:
        for key, value in o.items():
            assert got[o["id"]][key] == value, (o["id"], key)
    state = feed_state(b)
    assert state["cursor"].endswith("Z") and "@" not in state["cursor"], state
    # Nothing new: one range, nothing stored.
    front.reset()
    again = run_feed(b).json()
    assert (again["stored"], again["pages"]) == (0, 1)
    assert f"added_after={state['cursor'].replace(':', '%3A')}" in front.seen[0][0], front.seen
    # What medallion adds next comes on the next run, and only that.
    newer = [indicator20(500 + i) for i in range(7)]
    medallion20.add(newer)
    third = run_feed(b).json()
    assert (third["stored"], third["already"], third["pages"]) == (7, 0, 1), third
    assert len(fetch_all(b, b.collections["default"])) == 137
    state = feed_state(b)
    assert (state["runs"], state["failures"], state["objects"], state["kind"]) == (3, 0, 137, "taxii20")
    assert ADMIN_PASSWORD not in json.dumps(state)


def test_a_cut_taxii20_run_resumes_at_the_range_it_did_not_finish(node, medallion20, front):
    medallion20.add([indicator20(i) for i in range(100)])  # one date added for all hundred
    b = node()
    assert add_feed(b, front.url + medallion20.collection_path).status_code == 201
    front.fail_after = 2
    cut = run_feed(b)
    assert cut.status_code == 502 and "answered 503: down for maintenance" in cut.text, cut.text
    state = feed_state(b)
    assert (state["cursor"], state["objects"], state["failures"]) == ("@48", 48, 1), state
    assert len(fetch_all(b, b.collections["default"])) == 48
    front.reset()
    resumed = run_feed(b).json()
    assert (resumed["stored"], resumed["already"]) == (52, 0), resumed
    assert front.seen[0][1] == "items=48-72" and "added_after" not in front.seen[0][0], front.seen
    assert len(fetch_all(b, b.collections["default"])) == 100
    state = feed_state(b)
    assert state["cursor"].endswith("Z") and (state["objects"], state["failures"]) == (100, 0), state


def test_bad_taxii20_answers_fail_precisely_and_store_nothing(node, medallion20, front):
    medallion20.add([indicator20(i) for i in range(30)])
    b = node()
    assert add_feed(b, front.url + medallion20.collection_path).status_code == 201
    two = json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "spec_version": "2.0",
                      "objects": [indicator20(1), indicator20(2)]}).encode()
    stix = {"Content-Type": STIX20}
    cases = [
        ((206, dict(stix, **{"Content-Range": "items 0-1/2"}),
          json.dumps({"more": False, "objects": [indicator20(1)]}).encode()),
         "answered no STIX 2.0 bundle: missing field `type`"),
        ((206, dict(stix, **{"Content-Range": "items 0-1/2"}),
          b'{"type": "bundle", "spec_version": "2.0", "objects": {"0": 1}}'),
         "answered no STIX 2.0 bundle: invalid type: map"),
        ((206, dict(stix, **{"Content-Range": "items 0-1/2"}),
          json.dumps({"type": "bundle", "objects": [indicator20(1)]}).encode()),
         "answered no STIX 2.0 bundle (type \\\"bundle\\\", spec_version None)"),
        ((206, dict(stix, **{"Content-Range": "items 0-9/30"}), two),
         "answered items 0-9 with 2 objects to a request from item 0"),
        ((206, dict(stix, **{"Content-Range": "items 0-1/30",
                             "X-TAXII-Date-Added-Last": "<script>alert(1)</script>"}), two),
         "X-TAXII-Date-Added-Last \\\"<script>alert(1)</script>\\\" is not a timestamp"),
        ((200, {"Content-Type": "text/html"}, b"<html><body>maintenance</body></html>"),
         "answered no STIX 2.0 bundle: expected value"),
    ]
    for canned, expected in cases:
        front.canned = canned
        r = run_feed(b)
        assert r.status_code == 502 and expected in r.text, (expected, r.text)
        assert expected.replace('\\"', '"') in feed_state(b)["last_error"]
    # A server that ignores Range answers the 30 objects to a request for 25.
    front.reset()
    front.ignore_range = True
    r = run_feed(b)
    assert r.status_code == 502 and "answered 30 objects for a range of 25: more than asked for" in r.text, r.text
    assert front.seen[0][1] == "items=0-24", "the feed asked for a range"
    state = feed_state(b)
    assert (state["cursor"], state["objects"], state["failures"]) == (None, 0, 7), state
    assert fetch_all(b, b.collections["default"]) == [], "nothing of a bad page is stored"
    # The server mends its ways: everything comes.
    front.reset()
    assert run_feed(b).json()["stored"] == 30
    assert feed_state(b)["failures"] == 0


def test_unconvertible_and_hostile_taxii20_objects_are_skipped_with_reasons(node, medallion20):
    hostile_name = "<script>alert(1)</script>\u202e' OR 1=1 --"
    good = indicator20(1, name=hostile_name, description="line\r\nbreak \x1b[2J")
    as21 = dict(indicator20(2), spec_version="2.1", pattern_type="stix")
    grouping = {"type": "grouping", "id": f"grouping--{uuid.uuid4()}", "created": T, "modified": T,
                "context": "suspicious-activity", "object_refs": [good["id"]]}
    # (medallion 1 reads every object's modified, so the observable carries one too)
    sco = {"type": "ipv4-addr", "id": f"ipv4-addr--{uuid.uuid4()}", "created": T, "modified": T,
           "value": "198.51.100.1"}
    bad_id = dict(indicator20(3), id="indicator--\x1b[31m<img src=x onerror=alert(1)>")
    bad_pattern = indicator20(4, pattern="[ipv4-addr:value = ")
    no_pattern = indicator20(5)
    del no_pattern["pattern"]
    forged_tlp = {"type": "marking-definition", "id": TLP1_WHITE, "created": "2017-01-20T00:00:00.000Z",
                  "definition_type": "tlp", "definition": {"tlp": "red"}}
    medallion20.add([good, as21, grouping, sco, bad_id, bad_pattern, no_pattern, forged_tlp])
    b = node()
    assert add_feed(b, medallion20.base + medallion20.collection_path).status_code == 201
    report = run_feed(b)
    assert report.status_code == 200, report.text
    report = report.json()
    assert (report["stored"], report["skipped"], report["refused"]) == (1, 6, 1), report
    reasons = "\n".join(report["reasons"])
    for expected in [
        f"skipped: {as21['id']}: carries spec_version \"2.1\", which no STIX 2.0 object has",
        f"skipped: {grouping['id']}: \"grouping\" is not a STIX 2.0 object type",
        f"skipped: {sco['id']}: \"ipv4-addr\" is not a STIX 2.0 object type",
        "skipped: indicator--[31m<img src=x onerror=alert(1)>: not valid STIX 2.1 once converted",
        f"skipped: {no_pattern['id']}: not valid STIX 2.1 once converted",
        f"skipped: {TLP1_WHITE}: not valid STIX 2.1 once converted",
        f"{bad_pattern['id']}: refused: ",
    ]:
        assert expected in reasons, (expected, reasons)
    assert not any(ch in reasons for ch in "\x00\x1b\r"), reasons
    stored = fetch_all(b, b.collections["default"])
    assert [o["id"] for o in stored] == [good["id"]]
    assert stored[0]["name"] == hostile_name and stored[0]["description"] == good["description"]
    # The forged TLP definition was not stored under the standard WHITE id.
    r = requests.get(b.objects_url(b.collections["default"]) + TLP1_WHITE + "/", auth=b.admin,
                     headers={"Accept": "application/taxii+json;version=2.1"}, timeout=30)
    assert r.status_code == 404


def test_the_cli_adds_a_taxii20_feed_and_its_help_teaches_it(node, medallion20, tmp_path):
    help_text = subprocess.run([str(comity_bin()), "feed", "add", "--help"], capture_output=True,
                               text=True, check=True).stdout
    for taught in ("taxii20", "TAXII 2.0 collection", "Range: items", "STIX 2.1", "skipped"):
        assert taught in help_text, help_text
    medallion20.add([indicator20(i) for i in range(3)])
    url = medallion20.base + medallion20.collection_path

    def subscribe(n):
        n.cli("feed", "add", "cli20", "--kind", "taxii20", "--url", url, "--marking", "green",
              "--user", "admin", "--password-env", "PARTNER_PASSWORD", "--data-dir", n.data_dir,
              env={"PARTNER_PASSWORD": ADMIN_PASSWORD})
        done = n.cli("feed", "run", "cli20", "--json", "--data-dir", n.data_dir)
        assert json.loads(done.stdout)["stored"] == 3

    b = node(setup=subscribe)
    state = feed_state(b, "cli20")
    assert (state["kind"], state["objects"], state["authenticated"]) == ("taxii20", 3, True)
    # The API refuses a TAXII 2.0 feed whose URL names no collection, or with list settings.
    refusals = [
        (dict(url=medallion20.base + "/api1/"), "collections"),
        (dict(url=url, confidence=50), "list feeds only"),
        (dict(url=url, page_size=0), "page_size"),
        (dict(url=url, kind="taxii2.0"), "unknown variant"),
    ]
    for extra, expected in refusals:
        body = dict(name="bad20", kind="taxii20", api_root="default", collection=b.collections["default"])
        body.update(extra)
        r = requests.post(feeds_url(b), json=body, auth=b.admin, timeout=30)
        assert r.status_code == 400 and expected in r.text, (extra, r.text)
