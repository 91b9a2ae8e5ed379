"""Shared harness for the black-box Python integration tests.

Everything here is opt-in: importing this module starts nothing. Fixtures only run when a
test asks for them, and the helpers (``ComityNode``, ``MedallionNode``, ``taxii``, ...) can
be imported by any ``tests/python/test_*.py`` file.

The binary under test is ``$COMITY_BIN`` (default ``<repo>/target/debug/comity``).

Setting ``COMITY_TEST_TARGET=medallion`` runs the TAXII tests that can run against the
reference server (medallion 3.0.0, memory backend) instead; tests that need comity-only
features (users, CLI, restart durability) skip themselves there. It exists to check that
the harness itself is right.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Iterable

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TEST_DATA = REPO / "tests" / "data"

TAXII = "application/taxii+json;version=2.1"
STIX = "application/stix+json;version=2.1"
ADMIN_PASSWORD = "secret"


# --------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------


def comity_bin() -> Path:
    return Path(os.environ.get("COMITY_BIN", REPO / "target" / "debug" / "comity"))


# Listening ports come from below Linux's ephemeral range (32768 and up), which the OS hands
# to outgoing connections: a node restarted on its own port then never finds it taken by one.
_LISTEN_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    for _ in range(1000):
        port = random.choice(_LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise AssertionError("no free port below the ephemeral range")


def taxii_headers(content: bool = False) -> dict:
    h = {"Accept": TAXII}
    if content:
        h["Content-Type"] = TAXII
    return h


def now_stix(offset_s: float = 0.0) -> str:
    """An RFC 3339 UTC timestamp with millisecond precision."""
    t = time.time() + offset_s
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)


def make_indicator(i: int = 0, *, id_: str | None = None, created: str = "2024-01-01T00:00:00.000Z",
                   modified: str | None = None, name: str | None = None) -> dict:
    """A valid STIX 2.1 indicator. Distinct ``i`` gives distinct patterns."""
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": id_ or f"indicator--{uuid.uuid4()}",
        "created": created,
        "modified": modified or created,
        "name": name or f"bench indicator {i}",
        "pattern": f"[ipv4-addr:value = '10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}']",
        "pattern_type": "stix",
        "valid_from": created,
    }
    return obj


def envelope(objects: Iterable[dict]) -> dict:
    return {"objects": list(objects)}


def log_tail(path: Path, n: int = 60) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-n:])
    except OSError:
        return "(no log)"


def proc_status(pid: int) -> dict:
    """VmRSS / VmHWM (and RssAnon / RssFile) of a process in kB."""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:", "RssAnon:", "RssFile:")):
                k, v = line.split(":", 1)
                out[k] = int(v.split()[0])
    return out


# --------------------------------------------------------------------------------------
# a running TAXII server: common interface for comity and medallion
# --------------------------------------------------------------------------------------


class TaxiiNode:
    kind = "?"
    base: str  # http://127.0.0.1:PORT
    api_root: str  # ends with /
    admin = ("admin", ADMIN_PASSWORD)
    proc: subprocess.Popen | None = None
    log_path: Path

    # collection title -> id, filled by subclasses
    collections: dict

    def supports(self, feature: str) -> bool:
        return False

    def require(self, feature: str):
        if not self.supports(feature):
            pytest.skip(f"{self.kind} does not support {feature}")

    @property
    def discovery_url(self) -> str:
        return self.base + "/taxii2/"

    def collection_url(self, cid: str) -> str:
        return f"{self.api_root}collections/{cid}/"

    def objects_url(self, cid: str) -> str:
        return f"{self.api_root}collections/{cid}/objects/"

    def manifest_url(self, cid: str) -> str:
        return f"{self.api_root}collections/{cid}/manifest/"

    def status_url(self, sid: str) -> str:
        return f"{self.api_root}status/{sid}/"

    def session(self, user: tuple | None = None) -> requests.Session:
        s = requests.Session()
        s.auth = user or self.admin
        s.headers.update({"Accept": TAXII})
        return s

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return log_tail(self.log_path)


class ComityNode(TaxiiNode):
    kind = "comity"

    def __init__(self, data_dir: Path, binary: Path | None = None, api_root_name: str = "default"):
        self.bin = Path(binary or comity_bin())
        self.data_dir = Path(data_dir)
        self.log_path = self.data_dir.parent / (self.data_dir.name + ".log")
        self.port = None
        self.api_root_name = api_root_name
        self.collections = {}
        self.users = {"admin": ADMIN_PASSWORD}

    def supports(self, feature: str) -> bool:
        return True

    # ---- CLI ----------------------------------------------------------------------------
    def cli(self, *args, env: dict | None = None, check: bool = True, timeout: float = 300,
            input: bytes | None = None) -> subprocess.CompletedProcess:
        full_env = dict(os.environ)
        full_env.setdefault("RUST_LOG", "warn")
        if env:
            full_env.update(env)
        cmd = [str(self.bin), *map(str, args)]
        cp = subprocess.run(cmd, env=full_env, capture_output=True, timeout=timeout, input=input)
        if check and cp.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {cp.returncode}\nstdout:\n{cp.stdout.decode(errors='replace')}"
                f"\nstderr:\n{cp.stderr.decode(errors='replace')}")
        return cp

    def init(self, password: str = ADMIN_PASSWORD):
        self.cli("init", "--data-dir", self.data_dir, env={"COMITY_ADMIN_PASSWORD": password})
        self.admin = ("admin", password)
        self.users["admin"] = password

    def add_user(self, name: str, password: str, role: str = "analyst"):
        self.cli("user", "add", name, "--data-dir", self.data_dir, "--role", role,
                 env={"COMITY_USER_PASSWORD": password})
        self.users[name] = password
        return (name, password)

    def add_collection(self, title: str, *, read: Iterable[str] = (), write: Iterable[str] = (),
                       cid: str | None = None, description: str | None = None) -> str:
        args = ["collection", "add", "--data-dir", self.data_dir, "--title", title,
                "--api-root", self.api_root_name]
        if cid:
            args += ["--id", cid]
        if description:
            args += ["--description", description]
        for u in read:
            args += ["--read", u]
        for u in write:
            args += ["--write", u]
        out = self.cli(*args).stdout.decode().strip()
        # the id is printed on stdout; accept it alone or somewhere on the last line
        found = [tok for tok in out.replace(",", " ").split() if _is_uuid(tok)]
        assert found, f"collection add printed no id: {out!r}"
        self.collections[title] = found[-1]
        return found[-1]

    def import_files(self, *paths, collection: str | None = None, check: bool = True):
        args = ["import", "--data-dir", self.data_dir, *paths]
        if collection:
            args += ["--collection", collection]
        return self.cli(*args, check=check)

    def export(self, collection: str | None = None, types: Iterable[str] = ()) -> dict:
        args = ["export", "--data-dir", self.data_dir]
        if collection:
            args += ["--collection", collection]
        for t in types:
            args += ["--type", t]
        return json.loads(self.cli(*args).stdout)

    # ---- process ------------------------------------------------------------------------
    def start(self, port: int | None = None, timeout: float = 30, tls: bool = False):
        """Starts `comity serve`; with `tls` (its comity.toml has a `[tls]` table) the node is
        reached at https://localhost:PORT, its certificate verified with the CA bundle the
        environment names (REQUESTS_CA_BUNDLE)."""
        assert not self.alive()
        self.port = port or self.port or free_port()
        self.base = f"https://localhost:{self.port}" if tls else f"http://127.0.0.1:{self.port}"
        self.api_root = f"{self.base}/taxii2/{self.api_root_name}/"
        env = dict(os.environ)
        env.setdefault("RUST_LOG", "info")
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(self.bin), "serve", "--data-dir", str(self.data_dir), "--listen",
             f"127.0.0.1:{self.port}"],
            stdout=logf, stderr=subprocess.STDOUT, env=env)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"comity serve exited {self.proc.returncode}:\n{self.log()}")
            try:
                if requests.get(self.base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.05)
        else:
            self.stop()
            raise AssertionError(f"comity serve not healthy after {timeout}s:\n{self.log()}")
        if "default" not in self.collections:
            self.collections["default"] = self._find_collection("default")
        return self

    def _find_collection(self, title: str) -> str:
        r = requests.get(self.api_root + "collections/", auth=self.admin, headers=taxii_headers(),
                         timeout=10)
        assert r.status_code == 200, (r.status_code, r.text)
        for c in r.json().get("collections", []):
            if c.get("title") == title:
                return c["id"]
        raise AssertionError(f"no collection titled {title!r}: {r.text}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def kill9(self):
        assert self.proc is not None
        self.proc.kill()  # SIGKILL
        self.proc.wait(10)
        self.proc = None

    def healthy(self) -> bool:
        try:
            return requests.get(self.base + "/healthz", timeout=5).status_code == 200
        except requests.RequestException:
            return False


class MedallionNode(TaxiiNode):
    """medallion 3.0.0 with its memory backend, configured like a fresh comity node."""

    kind = "medallion"

    def __init__(self, workdir: Path, extra_collections: Iterable[str] = (), max_content_length: int = 10 * 1024 * 1024,
                 max_page_size: int = 1000):
        self.workdir = Path(workdir)
        self.log_path = self.workdir / "medallion.log"
        self.collections = {"default": str(uuid.uuid4())}
        for t in extra_collections:
            self.collections[t] = str(uuid.uuid4())
        self.max_content_length = max_content_length
        self.max_page_size = max_page_size
        self.users = {"admin": ADMIN_PASSWORD}

    def add_collection(self, title: str, **_ignored) -> str:
        assert not self.alive(), "medallion collections are fixed at start"
        self.collections[title] = str(uuid.uuid4())
        return self.collections[title]

    def _config(self) -> dict:
        media = [STIX]
        cols = []
        for title, cid in self.collections.items():
            cols.append({"id": cid, "title": title, "description": title, "can_read": True,
                         "can_write": True, "media_types": media, "objects": [], "manifest": [],
                         "responses": []})
        data = {
            "/discovery": {"title": "medallion", "description": "reference", "contact": "nobody",
                           "default": f"{self.base}/api1/", "api_roots": [f"{self.base}/api1/"]},
            "api1": {
                "information": {"title": "default", "description": "api1", "versions": [TAXII],
                                "max_content_length": self.max_content_length},
                "status": [],
                "collections": cols,
            },
        }
        data_path = self.workdir / "medallion-data.json"
        data_path.write_text(json.dumps(data))
        return {
            "backend": {"module": "medallion.backends.memory_backend", "module_class": "MemoryBackend",
                        "filename": str(data_path), "session_timeout": 600, "check_interval": 60},
            "users": {"admin": ADMIN_PASSWORD},
            "taxii": {"max_page_size": self.max_page_size},
        }

    def start(self, port: int | None = None, timeout: float = 30):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.api_root = f"{self.base}/api1/"
        cfg = self.workdir / "medallion.json"
        cfg.write_text(json.dumps(self._config()))
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medallion.scripts.run", "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "ERROR", str(cfg)],
            stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"medallion exited {self.proc.returncode}:\n{self.log()}")
            try:
                r = requests.get(self.discovery_url, auth=self.admin, headers=taxii_headers(), timeout=1)
                if r.status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        else:
            raise AssertionError(f"medallion not up after {timeout}s:\n{self.log()}")
        return self

    def stop(self, sig=signal.SIGTERM, timeout: float = 10):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        rc = self.proc.returncode
        self.proc = None
        return rc

    def healthy(self) -> bool:
        try:
            return requests.get(self.discovery_url, auth=self.admin, headers=taxii_headers(),
                                timeout=5).status_code == 200
        except requests.RequestException:
            return False


def _is_uuid(s: str) -> bool:
    try:
        uuid.UUID(s)
        return len(s) == 36
    except ValueError:
        return False


# --------------------------------------------------------------------------------------
# TAXII operations over plain requests (independent of taxii2-client)
# --------------------------------------------------------------------------------------


def post_objects(node: TaxiiNode, cid: str, objects: list, *, user=None, session=None,
                 timeout: float = 120) -> requests.Response:
    s = session or node.session(user)
    body = json.dumps({"objects": objects}).encode()
    return s.post(node.objects_url(cid), data=body, headers=taxii_headers(content=True), timeout=timeout)


def wait_status(node: TaxiiNode, status: dict, *, user=None, session=None, timeout: float = 120) -> dict:
    """Poll a status resource until it is complete; return the final status."""
    s = session or node.session(user)
    deadline = time.time() + timeout
    while status.get("status") != "complete":
        if time.time() > deadline:
            raise AssertionError(f"status not complete after {timeout}s: {status}")
        time.sleep(0.05)
        r = s.get(node.status_url(status["id"]), timeout=30)
        assert r.status_code == 200, (r.status_code, r.text)
        status = r.json()
    return status


def add_and_wait(node: TaxiiNode, cid: str, objects: list, *, user=None, session=None) -> dict:
    r = post_objects(node, cid, objects, user=user, session=session)
    assert r.status_code == 202, (r.status_code, r.text[:2000])
    st = wait_status(node, r.json(), user=user, session=session)
    return st


def fetch_all(node: TaxiiNode, cid: str, *, endpoint: str = "objects", params: dict | None = None,
              limit: int | None = 1000, user=None, session=None, key: str = "objects") -> list:
    """Page through an endpoint with limit/next; return every item, in order."""
    s = session or node.session(user)
    url = node.objects_url(cid) if endpoint == "objects" else node.manifest_url(cid)
    p = dict(params or {})
    if limit:
        p["limit"] = limit
    out = []
    for _ in range(100000):
        r = s.get(url, params=p, timeout=120)
        assert r.status_code == 200, (r.status_code, r.text[:2000])
        body = r.json()
        out.extend(body.get(key, []))
        if not body.get("more"):
            break
        assert body.get("next"), f"more=true without next: {body}"
        p["next"] = body["next"]
    return out


def count_objects(node: TaxiiNode, cid: str, *, user=None) -> int:
    """How many object versions a collection holds (all versions, via the manifest)."""
    return len(fetch_all(node, cid, endpoint="manifest", params={"match[version]": "all"}, user=user))


def assert_taxii_error(r: requests.Response, status: int):
    """The response has the expected status and a TAXII error-message body."""
    assert r.status_code == status, f"expected {status}, got {r.status_code}: {r.text[:1000]}"
    ct = r.headers.get("Content-Type", "")
    assert ct.replace(" ", "").startswith("application/taxii+json"), f"error content-type {ct!r}"
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("title"), str) and body["title"], body
    if "http_status" in body:
        assert str(body["http_status"]) == str(status), body
    return body


# --------------------------------------------------------------------------------------
# PostgreSQL backend: COMITY_TEST_BACKEND=postgres gives every node started by
# ``running_comity`` a database of its own on $COMITY_TEST_PG (trust auth), created before
# ``comity init`` and dropped afterwards; the node finds it through ``[database] url`` in
# its comity.toml, so every CLI command and ``serve`` use it.
# --------------------------------------------------------------------------------------

PG_SERVER = os.environ.get("COMITY_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def backend() -> str:
    return os.environ.get("COMITY_TEST_BACKEND", "sqlite")


def psql(sql: str, db: str = "postgres") -> str:
    cp = subprocess.run(["psql", f"{PG_SERVER}/{db}", "-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                        capture_output=True, text=True, timeout=60)
    assert cp.returncode == 0, f"psql failed: {cp.stderr}"
    return cp.stdout


@contextlib.contextmanager
def postgres_database():
    """A fresh, empty database; yields its URL and drops it (and its connections) at exit."""
    name = f"comity_py_{uuid.uuid4().hex}"
    psql(f"CREATE DATABASE {name}")
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def use_database(data_dir: Path, url: str):
    """Points the node in data_dir at a PostgreSQL database."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "comity.toml").write_text(f'[database]\nurl = "{url}"\n')


@contextlib.contextmanager
def postgres_backend(data_dir: Path):
    if backend() != "postgres":
        yield None
        return
    with postgres_database() as url:
        use_database(data_dir, url)
        yield url


# --------------------------------------------------------------------------------------
# fixtures (only run when requested)
# --------------------------------------------------------------------------------------


def target() -> str:
    return os.environ.get("COMITY_TEST_TARGET", "comity")


@pytest.fixture(scope="session")
def comity_binary() -> Path:
    b = comity_bin()
    if not b.exists():
        pytest.fail(f"comity binary not found at {b} (set COMITY_BIN or build it)")
    return b


@contextlib.contextmanager
def running_comity(tmpdir: Path, setup=None, start: bool = True):
    """init a fresh node in tmpdir/data, run ``setup(node)`` (users, collections) and serve."""
    node = ComityNode(Path(tmpdir) / "data")
    with postgres_backend(node.data_dir):  # no-op unless COMITY_TEST_BACKEND=postgres
        node.init()
        if setup:
            setup(node)
        try:
            if start:
                node.start()
            yield node
        finally:
            node.stop()


@contextlib.contextmanager
def running_medallion(tmpdir: Path, extra_collections: Iterable[str] = (), **kw):
    node = MedallionNode(Path(tmpdir), extra_collections, **kw)
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="module")
def comity_node(comity_binary, tmp_path_factory):
    """A fresh comity node (init + serve) for one test module: admin/secret, one `default` collection."""
    with running_comity(tmp_path_factory.mktemp("comity")) as node:
        yield node


@pytest.fixture
def comity_factory(comity_binary, tmp_path_factory):
    """Make extra comity nodes inside a test: ``comity_factory(setup=fn, start=True)``."""
    made = []

    def make(setup=None, start=True):
        cm = running_comity(tmp_path_factory.mktemp("comity"), setup=setup, start=start)
        node = cm.__enter__()
        made.append(cm)
        return node

    yield make
    for cm in reversed(made):
        cm.__exit__(None, None, None)
