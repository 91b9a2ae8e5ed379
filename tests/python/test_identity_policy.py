"""Identity, tokens, policy views and the sharing policy, end to end.

Real `comity` processes and real HTTP only: the node's member record (`comity init`,
`comity member`), agreements, API tokens (CLI and `/api/v1/`), policy views read by a peer
member's token through taxii2-client, `comity export --for-member`, `/metrics`, and the
promise that no secret (password, token, node key) ever reaches a log or an error body.

The policy fixture: this node shares an agreement with peer A (indicator, max AMBER,
intelligence) and none with peer B. The source collection holds objects of every TLP level,
handling codes, RED recipients and granular markings, some of them B's own (its
`created_by_ref`). ``EXPECTED_A`` / ``EXPECTED_B`` say object by object what each peer may read.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import stix2
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from stix2validator import ValidationOptions, validate_instance
from taxii2client import v21 as tc

from conftest import (ADMIN_PASSWORD, TAXII, ComityNode, add_and_wait, assert_taxii_error, comity_bin,
                      postgres_backend, running_comity, target, taxii_headers)
from federation_nodes import cli_json

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: members, tokens, policy")

# --------------------------------------------------------------------------------------
# constants
# --------------------------------------------------------------------------------------

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
AMBER_STRICT = "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"
RED = "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"

ANALYST = ("alice", "alice-Pw-7d1c9e")
T0 = "2024-05-01T10:00:00.000Z"
TOKEN_RE = re.compile(r"^comity_([0-9a-f]{24})\.([A-Za-z0-9_-]{43})$")
MEMBER_ID_RE = re.compile(r"identity--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

# what each peer may read of the source collection (names of objects in `policy_objects`)
# (README sharing rules 1 and 2: CLEAR too needs an agreement in force whose types cover it,
# so A, whose agreement covers indicators, does not get CLEAR malware, and B, without an
# agreement, gets only its own objects)
EXPECTED_A = {"clear", "green", "amber", "unmarked", "granular", "amber_by_local",
              "green_by_stranger", "b_green"}
EXPECTED_B = {"b_green", "b_amber", "b_clear_h2"}
WITHOUT_AGREEMENT: set[str] = set()
# the ones A may read only under an agreement that reaches RED
RED_EXTRA_A = {"amber_strict", "red_to_a"}


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


class BearerAuth(requests.auth.AuthBase):
    """`Authorization: Bearer <token>` for requests and taxii2-client."""

    def __init__(self, token: str):
        self.token = token

    def __call__(self, r):
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def cli_text(node: ComityNode, *args, **kw) -> str:
    return node.cli(*args, **kw).stdout.decode().strip()


def refused(node: ComityNode, *args) -> str:
    """Runs a command that must be refused with exit code 2; returns its stderr."""
    cp = node.cli(*args, check=False)
    err = cp.stderr.decode(errors="replace")
    assert cp.returncode == 2, f"{args} exited {cp.returncode}, stdout {cp.stdout!r}, stderr {err!r}"
    assert cp.stdout == b"", f"a refused command printed {cp.stdout!r}"
    return err


def new_public_key() -> str:
    """A valid Ed25519 public key in the member-record form."""
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "ed25519:" + base64.b64encode(raw).decode()


def member_body(**over) -> dict:
    body = {"name": "CERT-C", "country": "IT", "roles": ["cert"], "public_key": new_public_key()}
    body.update(over)
    return body


def indicator(i: int, marking: str | None = None, **extra) -> dict:
    obj = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid4()}",
        "created": T0,
        "modified": T0,
        "name": f"policy indicator {i}",
        "pattern": f"[ipv4-addr:value = '198.51.100.{i}']",
        "pattern_type": "stix",
        "valid_from": T0,
    }
    if marking:
        obj["object_marking_refs"] = [marking]
    obj.update(extra)
    return obj


def malware(i: int, marking: str) -> dict:
    return {
        "type": "malware", "spec_version": "2.1", "id": f"malware--{uuid.uuid4()}", "created": T0,
        "modified": T0, "name": f"policy malware {i}", "is_family": False, "object_marking_refs": [marking],
    }


def policy_objects(local: str, a: str, b: str) -> dict[str, dict]:
    """The source collection: name -> object as posted."""
    return {
        "clear": indicator(1, CLEAR),
        "green": indicator(2, GREEN),
        "amber": indicator(3, AMBER),
        "amber_strict": indicator(4, AMBER_STRICT),
        "red_to_a": indicator(5, RED, x_comity_red_recipients=[a]),
        "red_to_b": indicator(6, RED, x_comity_red_recipients=[b]),
        "green_h2": indicator(7, GREEN, x_comity_handling={"codes": ["H2"]}),
        "unmarked": indicator(8),
        "granular": indicator(9, GREEN, description="the source is an informant in the group",
                              granular_markings=[{"selectors": ["description"], "marking_ref": RED}]),
        "clear_malware": malware(10, CLEAR),
        "green_malware": malware(11, GREEN),
        "amber_by_local": indicator(12, AMBER, created_by_ref=local),
        "green_by_stranger": indicator(13, GREEN, created_by_ref=f"identity--{uuid.uuid4()}"),
        "b_green": indicator(14, GREEN, created_by_ref=b),
        "b_amber": indicator(15, AMBER, created_by_ref=b),
        "b_clear_h2": indicator(16, CLEAR, created_by_ref=b,
                                x_comity_handling={"codes": ["H2"], "restrictions": "ask B first"}),
    }


def expected_objects(objects: dict[str, dict], names: set[str]) -> dict[str, dict]:
    """id -> object as a peer must receive it: as posted, minus what granular markings withhold
    and the granular marking that selected only that."""
    out = {}
    for name in names:
        obj = dict(objects[name])
        if name == "granular":
            del obj["description"]
            del obj["granular_markings"]
        out[obj["id"]] = obj
    return out


def names_of(objects: dict[str, dict], ids) -> set[str]:
    by_id = {o["id"]: n for n, o in objects.items()}
    return {by_id.get(i, i) for i in ids}


def read_collection(url: str, auth=None, user: tuple | None = None, limit: int = 1000,
                    writable: bool = False) -> list[dict]:
    """Every object of a collection through taxii2-client, page by page (limit/next)."""
    if user:
        col = tc.Collection(url, user=user[0], password=user[1])
    else:
        col = tc.Collection(url, auth=auth)
    assert (col.can_read, col.can_write) == (True, writable), (col.can_read, col.can_write)
    out, nxt = [], None
    for _ in range(1000):
        kw = {"limit": limit}
        if nxt:
            kw["next"] = nxt
        env = col.get_objects(**kw)
        out.extend(env.get("objects", []))
        if not env.get("more"):
            return out
        nxt = env["next"]
    raise AssertionError("paging never ended")


def assert_released(got: list[dict], objects: dict[str, dict], names: set[str], who: str):
    """`got` holds exactly the objects named, each JSON-equal to what the peer must receive."""
    ids = [o["id"] for o in got]
    assert len(ids) == len(set(ids)), f"{who}: duplicates in {names_of(objects, ids)}"
    want = expected_objects(objects, names)
    extra = names_of(objects, set(ids) - set(want))
    missing = names_of(objects, set(want) - set(ids))
    assert not extra and not missing, f"{who}: got extra {sorted(extra)}, missing {sorted(missing)}"
    for o in got:
        exp = want[o["id"]]
        assert o == exp, f"{who}: {names_of(objects, [o['id']])} differs:\n{o}\n!=\n{exp}"


def metrics(node: ComityNode) -> list[tuple[str, dict, float]]:
    r = requests.get(node.base + "/metrics", auth=node.admin, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text)
    assert r.headers["Content-Type"].startswith("application/openmetrics-text"), r.headers
    out = []
    for line in r.text.splitlines():
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$", line)
        if m:
            labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def metric(node: ComityNode, name: str, **labels) -> float:
    """The sum of a metric's samples whose labels include `labels` (0 when absent)."""
    return sum(v for n, lab, v in metrics(node) if n == name and all(lab.get(k) == w for k, w in labels.items()))


def denied(node: ComityNode, rule: str) -> float:
    return metric(node, "comity_policy_denied_objects_total", channel="TAXII read", rule=rule)


def api(node: ComityNode, method: str, path: str, *, auth=None, body=None, data=None,
        content_type: str | None = "application/json") -> requests.Response:
    headers = {"Accept": "application/json"}
    if content_type:
        headers["Content-Type"] = content_type
    if body is not None:
        data = json.dumps(body)
    return requests.request(method, node.base + path, auth=auth or node.admin, headers=headers,
                            data=data, timeout=60)


def members_listing(node: ComityNode) -> list[dict]:
    r = api(node, "GET", "/api/v1/members")
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()["members"]


def taxii_get(node: ComityNode, url: str, auth) -> requests.Response:
    return requests.get(url, auth=auth, headers=taxii_headers(), timeout=30)


def token_parts(token: str) -> tuple[str, str]:
    m = TOKEN_RE.match(token)
    assert m, f"not a comity token: {token!r}"
    return m.group(1), m.group(2)


def cli_token(node: ComityNode, *, user: str = "admin", member: str | None = None, label: str = "t") -> str:
    args = ["token", "create", "--data-dir", node.data_dir, "--user", user, "--label", label]
    if member:
        args += ["--member", member]
    cp = node.cli(*args)
    token = cp.stdout.decode().strip()
    token_parts(token)
    assert token.split(".")[1] not in cp.stderr.decode(), "token create repeats the secret on stderr"
    return token


def init_peer(tmp: Path, name: str, country: str) -> dict:
    """A real node's member record, to register it as a peer elsewhere."""
    peer = ComityNode(tmp / name)
    peer.cli("init", "--data-dir", peer.data_dir, "--organisation", name, "--country", country,
             env={"COMITY_ADMIN_PASSWORD": "peer-" + secrets.token_hex(8)})
    rec = cli_json(peer, "member", "show-local", "--data-dir", peer.data_dir)
    return {"id": rec["identity"]["id"], "public_key": rec["public_key"], "name": name, "country": country,
            "node": peer}


def countersign(n: ComityNode, peer: dict, agreement: str, tmp: Path):
    """The peer's own node signs the agreement `n` proposed, the document going each way
    out of band (`comity agreement show` there, `comity agreement import` here): then `n`
    holds both signatures and the agreement is in force on it."""
    p = peer["node"]
    local = cli_json(n, "member", "show-local", "--data-dir", n.data_dir)
    local_id = local["identity"]["id"]
    if p.cli("member", "show", local_id, "--data-dir", p.data_dir, check=False).returncode != 0:
        out = cli_text(p, "member", "add", "--data-dir", p.data_dir, "--name", local["identity"]["name"],
                       "--country", local["country"], "--role", local["roles"][0],
                       "--public-key", local["public_key"], "--id", local_id)
        assert out == local_id, out
    proposal = tmp / f"{agreement}.proposed.json"
    proposal.write_bytes(n.cli("agreement", "show", agreement, "--data-dir", n.data_dir).stdout)
    assert cli_text(p, "agreement", "import", str(proposal), "--data-dir", p.data_dir) == agreement
    p.cli("agreement", "sign", agreement, "--offline", "--data-dir", p.data_dir)
    signed = tmp / f"{agreement}.signed.json"
    signed.write_bytes(p.cli("agreement", "show", agreement, "--data-dir", p.data_dir).stdout)
    assert cli_text(n, "agreement", "import", str(signed), "--data-dir", n.data_dir) == agreement


@dataclass
class World:
    node: ComityNode
    local: str
    a: str
    b: str
    agreement: str
    source: str
    view_a: str
    view_b: str
    token_a: str
    token_b: str
    objects: dict = field(default_factory=dict)

    def view_url(self, which: str = "a") -> str:
        return self.node.collection_url(self.view_a if which == "a" else self.view_b)


@contextlib.contextmanager
def policy_world(tmp: Path, peers: dict):
    """A serving node with peers A and B, an agreement with A, a populated source collection,
    a view and a member token for each peer."""
    ids = {}

    def setup(n: ComityNode):
        n.add_user(*ANALYST, role="analyst")
        for key in ("A", "B"):
            p = peers[key]
            out = cli_text(n, "member", "add", "--data-dir", n.data_dir, "--name", p["name"], "--country",
                           p["country"], "--role", "cert", "--public-key", p["public_key"], "--id", p["id"])
            assert out == p["id"], out
        ids["local"] = cli_json(n, "member", "show-local", "--data-dir", n.data_dir)["identity"]["id"]
        ids["agreement"] = cli_text(n, "agreement", "create", "--data-dir", n.data_dir, "--title",
                                    "CTI with A", "--with", peers["A"]["id"], "--type", "indicator",
                                    "--max-tlp", "amber", "--purpose", "intelligence")
        assert re.fullmatch(r"agreement--[0-9a-f-]{36}", ids["agreement"]), ids["agreement"]
        countersign(n, peers["A"], ids["agreement"], tmp)
        ids["source"] = n.add_collection("source", read=["admin", "alice"], write=["admin"])
        for key in ("A", "B"):
            ids["view_" + key] = cli_text(n, "collection", "add-view", "--data-dir", n.data_dir, "--title",
                                          f"for {key}", "--source", ids["source"], "--member", peers[key]["id"])
            ids["token_" + key] = cli_token(n, member=peers[key]["id"], label=f"{key} reads its view")

    with running_comity(tmp, setup) as node:
        w = World(node=node, local=ids["local"], a=peers["A"]["id"], b=peers["B"]["id"],
                  agreement=ids["agreement"], source=ids["source"], view_a=ids["view_A"], view_b=ids["view_B"],
                  token_a=ids["token_A"], token_b=ids["token_B"])
        w.objects = policy_objects(w.local, w.a, w.b)
        st = add_and_wait(node, w.source, list(w.objects.values()))
        assert st["success_count"] == len(w.objects), st
        yield w


def read_view_as(w: World, token: str, which: str = "a", limit: int = 1000) -> list[dict]:
    return read_collection(w.view_url(which), auth=BearerAuth(token), limit=limit)


# --------------------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def peers(tmp_path_factory):
    if not comity_bin().exists():
        pytest.fail(f"comity binary missing: {comity_bin()}")
    tmp = tmp_path_factory.mktemp("peers")
    return {"A": init_peer(tmp, "CERT-A", "FR"), "B": init_peer(tmp, "CERT-B", "DE")}


@pytest.fixture(scope="module")
def world(peers, tmp_path_factory):
    """Shared by the tests that do not change members or agreements."""
    with policy_world(tmp_path_factory.mktemp("policy"), peers) as w:
        yield w


# --------------------------------------------------------------------------------------
# 1. the node's member record and `comity member add`
# --------------------------------------------------------------------------------------


def test_init_creates_member_record_and_member_add_refuses_bad_input(tmp_path, peers):
    node = ComityNode(tmp_path / "fresh")
    cp = node.cli("init", "--data-dir", node.data_dir, "--organisation", "CERT-Test", "--country", "LU",
                  "--member-role", "cert", "--member-role", "police", "--endpoint", "https://cti.example.lu",
                  env={"COMITY_ADMIN_PASSWORD": ADMIN_PASSWORD})
    said = cp.stdout.decode() + cp.stderr.decode()
    printed = MEMBER_ID_RE.findall(said)
    assert len(set(printed)) == 1, f"init should print the member id once: {said}"

    rec = cli_json(node, "member", "show-local", "--data-dir", node.data_dir)
    assert rec["local"] is True
    assert rec["identity"]["id"] == printed[0]
    assert rec["identity"]["type"] == "identity" and rec["identity"]["spec_version"] == "2.1"
    assert rec["identity"]["name"] == "CERT-Test"
    assert rec["identity"]["identity_class"] == "organization"
    assert rec["country"] == "LU"
    assert sorted(rec["roles"]) == ["cert", "police"]
    assert rec["endpoint"] == "https://cti.example.lu"
    assert rec["public_key"].startswith("ed25519:")
    raw = base64.b64decode(rec["public_key"].removeprefix("ed25519:"), validate=True)
    assert len(raw) == 32
    Ed25519PublicKey.from_public_bytes(raw)  # a real curve point

    d = node.data_dir
    listing = cli_text(node, "member", "list", "--data-dir", d)
    assert listing.splitlines() == [f"{printed[0]}\tactive\tLU\tcert,police\tCERT-Test (this node)"], listing

    good = ["--name", "CERT-X", "--country", "FR", "--role", "cert", "--public-key", peers["A"]["public_key"]]

    def with_(flag, value):
        args = list(good)
        args[args.index(flag) + 1] = value
        return args

    thirty_one = "ed25519:" + base64.b64encode(b"\x01" * 31).decode()
    cases = [
        (with_("--public-key", "ed25519:AAAA"),
         'public key "ed25519:AAAA": a public key is written ed25519:<base64 of 32 bytes>'),
        (with_("--public-key", thirty_one), f'public key "{thirty_one}": a public key is written ed25519:'),
        (with_("--public-key", "rsa:" + peers["A"]["public_key"][8:]), "a public key is written ed25519:"),
        (with_("--public-key", peers["A"]["public_key"] + "!"), "a public key is written ed25519:"),
        (with_("--country", "France"),
         'country "France" is not an ISO 3166-1 alpha-2 code (two capital letters, e.g. FR)'),
        (with_("--country", "fr"), 'country "fr" is not an ISO 3166-1 alpha-2 code'),
        (with_("--role", "spy"), 'unknown member role "spy": expected cert, police, judicial or central-authority'),
        (good + ["--id", "identity--not-a-uuid"],
         '"identity--not-a-uuid" is not a STIX identity id (identity--<lowercase UUID>)'),
        (good + ["--id", f"indicator--{uuid.uuid4()}"], "is not a STIX identity id"),
        (good + ["--id", f"identity--{str(uuid.uuid4()).upper()}"], "is not a STIX identity id"),
        (with_("--name", " "), "a member's name must have 1 to 256 characters"),
        (good + ["--endpoint", "ftp://cti.example.fr"], 'endpoint "ftp://cti.example.fr" is not an http(s) URL'),
    ]
    for args, message in cases:
        err = refused(node, "member", "add", "--data-dir", d, *args)
        assert message in err, f"{args}: expected {message!r} in {err!r}"
    assert cli_text(node, "member", "list", "--data-dir", d) == listing

    # the same facts, well formed, are accepted; the same id twice is not
    out = cli_text(node, "member", "add", "--data-dir", d, *good, "--id", peers["A"]["id"])
    assert out == peers["A"]["id"]
    shown = cli_json(node, "member", "show", peers["A"]["id"], "--data-dir", d)
    assert shown["local"] is False and shown["public_key"] == peers["A"]["public_key"]
    assert shown["identity"]["name"] == "CERT-X" and shown["country"] == "FR" and shown["roles"] == ["cert"]
    err = refused(node, "member", "add", "--data-dir", d, *good, "--id", peers["A"]["id"])
    assert f"member {peers['A']['id']} is registered already" in err, err
    assert len(cli_text(node, "member", "list", "--data-dir", d).splitlines()) == 2


def test_member_identities_are_valid_stix(tmp_path):
    with running_comity(tmp_path) as n:
        for i in range(100):  # each record has ~10% odds of a millisecond count ending in 0
            r = api(n, "POST", "/api/v1/members", body=member_body(name=f"CERT-{i}"))
            assert r.status_code == 201, r.text
        members = members_listing(n)
    assert len(members) == 101
    bad = {}
    for m in members:
        result = validate_instance(m["identity"], ValidationOptions(strict=False))
        if not result.is_valid:
            bad[m["identity"]["created"]] = [str(e) for e in result.errors]
        stix2.parse(m["identity"])
    assert not bad, f"{len(bad)} of {len(members)} identities are invalid STIX: {list(bad.items())[:2]}"


# --------------------------------------------------------------------------------------
# 2. what each peer reads: views over taxii2-client, the admin's view, export --for-member
# --------------------------------------------------------------------------------------


def test_view_gives_member_a_exactly_what_the_policy_allows(world):
    w = world
    for limit in (1000, 3):  # one page, and pages the policy thins out
        got = read_view_as(w, w.token_a, limit=limit)
        assert_released(got, w.objects, EXPECTED_A, f"A's token, limit {limit}")
    granular = next(o for o in got if o["id"] == w.objects["granular"]["id"])
    assert "description" not in granular
    assert "informant" not in json.dumps(got)

    # the manifest and single-object reads agree with the listing
    auth = BearerAuth(w.token_a)
    r = taxii_get(w.node, w.node.manifest_url(w.view_a), auth)
    assert r.status_code == 200, r.text
    assert names_of(w.objects, [m["id"] for m in r.json()["objects"]]) == EXPECTED_A
    for name in ("amber", "red_to_b", "b_amber"):
        r = taxii_get(w.node, w.node.objects_url(w.view_a) + w.objects[name]["id"] + "/", auth)
        if name in EXPECTED_A:
            assert r.status_code == 200 and r.json()["objects"] == [w.objects[name]], r.text
        else:
            assert_taxii_error(r, 404)


def test_redacted_objects_stay_valid_stix(world):
    w = world
    via_view = read_view_as(w, w.token_a)
    cp = w.node.cli("export", "--data-dir", w.node.data_dir, "--collection", w.source, "--for-member", w.a)
    via_export = json.loads(cp.stdout)["objects"]
    want = {k: v for k, v in w.objects["granular"].items() if k not in ("description", "granular_markings")}
    for where, got in (("view", via_view), ("export", via_export)):
        granular = next(o for o in got if o["id"] == want["id"])
        assert granular == want, (where, granular)
        for o in got:
            result = validate_instance(o, ValidationOptions(strict=False))
            assert result.is_valid, (where, names_of(w.objects, [o["id"]]), [str(e) for e in result.errors])
            stix2.parse(o, allow_custom=True)


def test_admin_reading_a_view_gets_the_members_set(world):
    w = world
    got = read_collection(w.view_url("a"), user=w.node.admin)
    assert_released(got, w.objects, EXPECTED_A, "admin over Basic on A's view")
    # while the source collection itself shows the admin everything, unredacted
    everything = read_collection(w.node.collection_url(w.source), user=w.node.admin, writable=True)
    by_id = {o["id"]: o for o in everything}
    assert len(by_id) == len(everything)
    assert by_id == {o["id"]: o for o in w.objects.values()}


def test_export_for_member_gives_the_same_set(world):
    w = world
    cp = w.node.cli("export", "--data-dir", w.node.data_dir, "--collection", w.source, "--for-member", w.a)
    bundle = json.loads(cp.stdout)
    assert bundle["type"] == "bundle"
    assert_released(bundle["objects"], w.objects, EXPECTED_A, "export --for-member A")
    err = cp.stderr.decode()
    withheld = {m.group(1): int(m.group(2))
                for m in re.finditer(r"Withheld by the sharing policy \(([a-z-]+)\): (\d+) objects", err)}
    assert withheld == {"agreement": 5, "red-recipients": 1, "tlp": 1, "handling": 1}, err
    assert f"Exported {len(EXPECTED_A)} objects" in err, err


def test_view_for_member_b_without_agreement_gives_only_its_own(world):
    w = world
    got = read_view_as(w, w.token_b, "b")
    assert_released(got, w.objects, EXPECTED_B, "B's token")
    # a member token reads its own view only
    r = taxii_get(w.node, w.node.objects_url(w.view_a), BearerAuth(w.token_b))
    assert_taxii_error(r, 404)
    cp = w.node.cli("export", "--data-dir", w.node.data_dir, "--collection", w.source, "--for-member", w.b)
    assert_released(json.loads(cp.stdout)["objects"], w.objects, EXPECTED_B, "export --for-member B")


# --------------------------------------------------------------------------------------
# 3. suspending members and agreements
# --------------------------------------------------------------------------------------


def test_suspension_and_agreement_changes_take_effect_at_once(peers, tmp_path):
    with policy_world(tmp_path, peers) as w:
        n, d = w.node, w.node.data_dir
        assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "before")

        before = denied(n, "suspended-member")
        n.cli("member", "suspend", w.a, "--data-dir", d)
        assert read_view_as(w, w.token_a) == []
        assert denied(n, "suspended-member") - before == len(w.objects)
        assert [m["status"] for m in members_listing(n) if m["id"] == w.a] == ["suspended"]
        cp = n.cli("export", "--data-dir", d, "--collection", w.source, "--for-member", w.a)
        assert json.loads(cp.stdout)["objects"] == []
        assert f"Withheld by the sharing policy (suspended-member): {len(w.objects)} objects." in cp.stderr.decode()
        n.cli("member", "reinstate", w.a, "--data-dir", d)
        assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "reinstated")

        ag = w.agreement
        r = api(n, "POST", f"/api/v1/agreements/{ag}/suspend")
        assert r.status_code == 200 and r.json()["status"] == "suspended", r.text
        assert_released(read_view_as(w, w.token_a), w.objects, WITHOUT_AGREEMENT, "agreement suspended")
        r = api(n, "POST", f"/api/v1/agreements/{ag}/reinstate")
        assert r.status_code == 200 and r.json()["status"] == "active", r.text
        assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "agreement reinstated")

        # a second agreement that reaches RED lets RED through to its named recipients only
        r = api(n, "POST", "/api/v1/agreements", body={
            "title": "RED with A", "partners": [w.a],
            "scope": {"object_types": ["indicator"], "max_tlp": "red", "handling": [], "purposes": ["intelligence"]}})
        assert r.status_code == 201, r.text
        red_ag = r.json()["agreement"]["id"]
        assert r.json()["agreement"]["parties"] == sorted([w.local, w.a])
        assert (r.json()["status"], r.json()["signed"], r.json()["missing"]) == ("proposed", [w.local], [w.a]), r.text
        # proposed: nothing more flows until A has signed too
        assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "RED agreement proposed")
        r = api(n, "POST", f"/api/v1/agreements/{red_ag}/reinstate")
        body = assert_taxii_error(r, 400)
        assert body["description"] == f"agreement {red_ag} is not in force yet: it awaits the signatures of {w.a}"
        r = api(n, "POST", f"/api/v1/agreements/{red_ag}/sign")
        body = assert_taxii_error(r, 400)
        assert body["description"] == f"this node has signed agreement {red_ag} already", body
        countersign(n, peers["A"], red_ag, tmp_path)
        listed = {a["agreement"]["id"]: a for a in api(n, "GET", "/api/v1/agreements").json()["agreements"]}
        assert (listed[red_ag]["status"], listed[red_ag]["missing"]) == ("active", []), listed[red_ag]
        assert set(listed[red_ag]["signed"]) == {w.local, w.a}, listed[red_ag]
        assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A | RED_EXTRA_A, "RED agreement")

        for a in (ag, red_ag):
            r = api(n, "POST", f"/api/v1/agreements/{a}/terminate")
            assert r.status_code == 200 and r.json()["status"] == "terminated", r.text
        assert_released(read_view_as(w, w.token_a), w.objects, WITHOUT_AGREEMENT, "agreements terminated")
        r = api(n, "POST", f"/api/v1/agreements/{ag}/reinstate")
        body = assert_taxii_error(r, 400)
        assert body["description"] == f"agreement {ag} is terminated for good", body
        assert_released(read_view_as(w, w.token_a), w.objects, WITHOUT_AGREEMENT, "still terminated")
        # B never had an agreement: its view did not change
        assert_released(read_view_as(w, w.token_b, "b"), w.objects, EXPECTED_B, "B")


# --------------------------------------------------------------------------------------
# 4. tokens
# --------------------------------------------------------------------------------------


def test_user_token_reads_taxii_and_revocation_takes_effect(world):
    w = world
    n = w.node
    token = cli_token(n, user="alice", label="alice's script")
    tid, _ = token_parts(token)
    auth = BearerAuth(token)
    r = taxii_get(n, n.discovery_url, auth)
    assert r.status_code == 200 and n.api_root in r.json()["api_roots"], r.text
    r = taxii_get(n, n.collection_url(w.source), auth)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == w.source and r.json()["can_read"] is True and r.json()["can_write"] is False
    r = taxii_get(n, n.objects_url(w.source), auth)
    assert r.status_code == 200, r.text
    assert {o["id"] for o in r.json()["objects"]} == {o["id"] for o in w.objects.values()}
    # a user token acts as its user: alice may not read A's view nor write the source
    assert_taxii_error(taxii_get(n, n.objects_url(w.view_a), auth), 404)
    r = requests.post(n.objects_url(w.source), auth=auth, headers=taxii_headers(content=True),
                      data=json.dumps({"objects": [indicator(99, CLEAR)]}), timeout=30)
    assert_taxii_error(r, 403)

    listed = [line.split("\t") for line in cli_text(n, "token", "list", "--data-dir", n.data_dir).splitlines()]
    mine = [row for row in listed if row[0] == tid]
    assert mine and mine[0][1] == "user:alice" and mine[0][2].startswith("expires "), listed

    n.cli("token", "revoke", tid, "--data-dir", n.data_dir)
    body = assert_taxii_error(taxii_get(n, n.discovery_url, auth), 401)
    assert body["description"] == "the bearer token was revoked", body
    assert token.split(".")[1] not in json.dumps(body)
    mine = [line for line in cli_text(n, "token", "list", "--data-dir", n.data_dir).splitlines()
            if line.startswith(tid)]
    assert "\trevoked " in mine[0], mine


def test_forged_malformed_and_unknown_tokens_get_401_without_echo(world):
    w = world
    n = w.node
    real = cli_token(n, user="alice", label="to forge")
    tid, _ = token_parts(real)
    forged_secret = secrets.token_urlsafe(32)[:43].ljust(43, "A")
    unknown_id = secrets.token_hex(12)
    cases = {
        "forged": (f"comity_{tid}.{forged_secret}", "the bearer token is not valid", forged_secret),
        "unknown id": (f"comity_{unknown_id}.{forged_secret}", "the bearer token is not valid", forged_secret),
        "malformed": ("comity_nothex.tooshort-secret-value", "the bearer token is not a Comity API token",
                      "tooshort-secret-value"),
        "not comity": ("ghp_" + "x1y2z3" * 6, "the bearer token is not a Comity API token", "x1y2z3" * 6),
    }
    for what, (presented, message, secret_part) in cases.items():
        r = taxii_get(n, n.objects_url(w.source), BearerAuth(presented))
        body = assert_taxii_error(r, 401)
        assert body["description"] == message, (what, body)
        assert secret_part not in r.text and secret_part not in str(r.headers), (what, r.text, r.headers)
        assert presented not in r.text
    # the real token still works, so the forgery above did not lock it
    r = taxii_get(n, n.objects_url(w.source), BearerAuth(real))
    assert r.status_code == 200, r.text


def test_repeated_failures_on_one_token_id_are_throttled(world):
    w = world
    n = w.node
    victim = cli_token(n, user="alice", label="guessed at")
    tid, _ = token_parts(victim)
    before_401 = metric(n, "comity_auth_failures_total", status="401")
    for i in range(5):
        guess = f"comity_{tid}.{secrets.token_urlsafe(32)[:43].ljust(43, 'B')}"
        assert_taxii_error(taxii_get(n, n.discovery_url, BearerAuth(guess)), 401)
    guess = f"comity_{tid}.{secrets.token_urlsafe(32)[:43].ljust(43, 'C')}"
    r = taxii_get(n, n.discovery_url, BearerAuth(guess))
    assert_taxii_error(r, 429)
    assert r.headers.get("Retry-After", "").isdigit(), r.headers
    assert 1 <= int(r.headers["Retry-After"]) <= 60, r.headers
    # throttled by id: even the right secret waits, while other tokens are unaffected
    assert_taxii_error(taxii_get(n, n.discovery_url, BearerAuth(victim)), 429)
    r = taxii_get(n, n.objects_url(w.view_a), BearerAuth(w.token_a))
    assert r.status_code == 200, r.text
    assert metric(n, "comity_auth_failures_total", status="401") - before_401 == 5
    assert metric(n, "comity_auth_failures_total", status="429") >= 2


def test_member_token_reaches_only_its_view_read_only(world):
    w = world
    n = w.node
    auth = BearerAuth(w.token_a)
    for path in ("/api/v1/tokens", "/api/v1/members", "/api/v1/agreements"):
        body = assert_taxii_error(requests.get(n.base + path, auth=auth, timeout=30), 403)
        assert w.a in body["description"] and "policy views only" in body["description"], body
    r = api(n, "POST", "/api/v1/tokens", auth=auth, body={"label": "more"})
    assert_taxii_error(r, 403)
    assert_taxii_error(requests.get(n.base + "/metrics", auth=auth, timeout=30), 403)
    for cid in (w.source, n.collections["default"], w.view_b):
        assert_taxii_error(taxii_get(n, n.collection_url(cid), auth), 404)
        assert_taxii_error(taxii_get(n, n.objects_url(cid), auth), 404)
    r = taxii_get(n, n.api_root + "collections/", auth)
    assert r.status_code == 200, r.text
    assert [(c["id"], c["can_read"], c["can_write"]) for c in r.json()["collections"]] == [(w.view_a, True, False)]
    r = requests.post(n.objects_url(w.view_a), auth=auth, headers=taxii_headers(content=True),
                      data=json.dumps({"objects": [indicator(98, CLEAR)]}), timeout=30)
    body = assert_taxii_error(r, 403)
    assert "read-only" in body["description"], body
    # not even an admin writes to a view
    r = requests.post(n.objects_url(w.view_a), auth=n.admin, headers=taxii_headers(content=True),
                      data=json.dumps({"objects": [indicator(97, CLEAR)]}), timeout=30)
    assert_taxii_error(r, 403)
    assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "after refused writes")


# --------------------------------------------------------------------------------------
# 5. the node API refuses bad input precisely
# --------------------------------------------------------------------------------------


def test_api_members_refuses_malformed_bodies(world):
    n = world.node
    before = members_listing(n)
    ok = member_body()
    cases = [
        # (data, content type, status, text in the description)
        (b'{"name": "CERT-C", ', "application/json", 400, "invalid body: EOF while parsing"),
        (b"", "application/json", 400, "invalid body: EOF while parsing"),
        (b"\xff\xfe{}", "application/json", 400, "invalid body"),
        (b"[]", "application/json", 400, "invalid body: invalid length 0"),
        (b"\"CERT-C\"", "application/json", 400, "invalid body: invalid type: string \"CERT-C\", expected"),
        (json.dumps(member_body(name=5)).encode(), "application/json", 400, "invalid type: integer `5`"),
        (json.dumps(member_body(roles="cert")).encode(), "application/json", 400, 'invalid type: string "cert"'),
        (json.dumps(member_body(roles=["spy"])).encode(), "application/json", 400, "unknown variant `spy`"),
        (json.dumps(member_body(country=None)).encode(), "application/json", 400, "invalid type: null"),
        (json.dumps({k: v for k, v in ok.items() if k != "public_key"}).encode(), "application/json", 400,
         "missing field `public_key`"),
        (json.dumps(member_body(evil=1)).encode(), "application/json", 400, "unknown field `evil`"),
        (json.dumps(ok).encode(), "text/plain", 415, "Content-Type: application/json"),
        (json.dumps(ok).encode(), TAXII, 415, "Content-Type: application/json"),
        (json.dumps(ok).encode(), None, 415, "Content-Type: application/json"),
    ]
    for data, ctype, status, text in cases:
        r = api(n, "POST", "/api/v1/members", data=data, content_type=ctype)
        body = assert_taxii_error(r, status)
        assert text in body["description"], (data[:80], ctype, body)
    assert members_listing(n) == before


def test_api_refuses_a_body_over_two_megabytes_with_a_taxii_error(world):
    n = world.node
    before = members_listing(n)
    big = json.dumps(member_body(name="x" * (2 * 1024 * 1024 + 10))).encode()
    r = api(n, "POST", "/api/v1/members", data=big)
    assert_taxii_error(r, 413)
    assert len(r.content) < 4096
    assert members_listing(n) == before
    assert n.healthy()


def test_api_members_refuses_hostile_strings(world):
    n = world.node
    before = members_listing(n)
    cases = [
        (member_body(identity_id="../../etc/passwd"), '"../../etc/passwd" is not a STIX identity id'),
        (member_body(endpoint="../../etc/passwd"), 'endpoint "../../etc/passwd" is not an http(s) URL'),
        (member_body(public_key="../../etc/passwd"), 'public key "../../etc/passwd"'),
        (member_body(country="../"), 'country "../" is not an ISO 3166-1 alpha-2 code'),
        (member_body(country="F\u0000"), "is not an ISO 3166-1 alpha-2 code"),
        (member_body(name="x" * 10_000), "a member's name must have 1 to 256 characters"),
        (member_body(name="CERT\u0000FR"), "name"),
        (member_body(name="\u202eRF-TREC"), "name"),
        (member_body(name="CERT-FR\nforged log line"), "name"),
        (member_body(contact="soc@cert.example\u0000\u202e"), "contact"),
    ]
    for body_in, text in cases:
        r = api(n, "POST", "/api/v1/members", body=body_in)
        body = assert_taxii_error(r, 400)
        assert text in body["description"], (body_in, body)
        assert len(r.content) < 2048, "the error echoes the whole input"
    assert members_listing(n) == before


def test_api_changes_need_an_admin(world):
    w = world
    n = w.node
    before = members_listing(n)
    assert {w.a, w.b, w.local} <= {m["id"] for m in before}
    refusals = [
        ("POST", "/api/v1/members", member_body()),
        ("POST", "/api/v1/agreements", {"title": "t", "partners": [w.b], "scope": {
            "object_types": ["indicator"], "max_tlp": "green", "handling": [], "purposes": ["intelligence"]}}),
        ("POST", f"/api/v1/members/{w.a}/suspend", None),
        ("POST", f"/api/v1/agreements/{w.agreement}/terminate", None),
        ("POST", f"/api/v1/agreements/{w.agreement}/sign", None),
        ("POST", "/api/v1/tokens", {"label": "for A", "member": w.a}),
        ("GET", "/metrics", None),
    ]
    for method, path, body_in in refusals:
        r = api(n, method, path, auth=ANALYST, body=body_in)
        body = assert_taxii_error(r, 403)
        assert body["description"] == 'user "alice" is analyst; this needs an admin', (path, body)
    assert members_listing(n) == before
    # a peer member's token cannot sign for this node, nor propose, nor end an agreement
    for token in (w.token_a, w.token_b):
        for path, body_in in ((f"/api/v1/agreements/{w.agreement}/sign", None),
                              ("/api/v1/agreements", refusals[1][2]),
                              (f"/api/v1/agreements/{w.agreement}/terminate", None)):
            assert_taxii_error(api(n, "POST", path, auth=BearerAuth(token), body=body_in), 403)
    r = api(n, "GET", "/api/v1/agreements", auth=ANALYST)
    assert r.status_code == 200, r.text
    assert [(a["agreement"]["id"], a["status"]) for a in r.json()["agreements"]] == [(w.agreement, "active")]
    assert_released(read_view_as(w, w.token_a), w.objects, EXPECTED_A, "after refused changes")


# --------------------------------------------------------------------------------------
# 6. secrets stay out of logs and error bodies
# --------------------------------------------------------------------------------------


def key_material(data_dir: Path) -> list[str]:
    """Encodings of the node key's secret seed as it could leak."""
    text = (data_dir / "node.key").read_text().strip()
    parts = text.split("+", 4)  # PRIVATE+KEY+<name>+<hex id>+<base64, which may hold '+'>
    assert parts[:2] == ["PRIVATE", "KEY"] and len(parts) == 5, "unexpected key file format"
    b64 = parts[4]
    raw = base64.b64decode(b64)
    seed = raw[1:]
    assert len(seed) == 32, len(raw)
    return [b64, b64.rstrip("="), base64.b64encode(seed).decode().rstrip("="),
            base64.urlsafe_b64encode(seed).decode().rstrip("="), seed.hex(), text]


def test_secrets_never_reach_logs_or_error_bodies(tmp_path, monkeypatch, request):
    admin_pw = "adm-" + secrets.token_hex(12)
    alice_pw = "ali-" + secrets.token_hex(12)
    wrong_pws = ["wrong-" + secrets.token_hex(8), admin_pw + "x"]
    monkeypatch.setenv("COMITY_LOG", "debug")
    monkeypatch.setenv("RUST_LOG", "debug")
    node = ComityNode(tmp_path / "data")
    cleanup = contextlib.ExitStack()
    request.addfinalizer(cleanup.close)
    cleanup.enter_context(postgres_backend(node.data_dir))  # a no-op unless COMITY_TEST_BACKEND=postgres
    cleanup.callback(node.stop)
    node.init(password=admin_pw)
    node.add_user("alice", alice_pw, role="analyst")
    cli_secret = cli_token(node, user="alice", label="cli")
    node.start()
    bodies: list[str] = []

    def call(method, path, auth, expect, **kw):
        r = requests.request(method, node.base + path, auth=auth, timeout=30,
                             headers=kw.pop("headers", {"Accept": TAXII}), **kw)
        assert r.status_code == expect, (method, path, r.status_code, r.text)
        bodies.append(r.text + "\n" + "\n".join(f"{k}: {v}" for k, v in r.headers.items()))
        return r

    try:
        call("GET", "/taxii2/", ("admin", admin_pw), 200)
        call("GET", "/taxii2/", ("alice", alice_pw), 200)
        for pw in wrong_pws:
            call("GET", "/taxii2/", ("admin", pw), 401)
            call("GET", "/taxii2/", ("alice", pw), 401)
        call("GET", "/taxii2/", ("nobody", alice_pw), 401)
        # token creation through the API: the one response allowed to carry the secret
        r = requests.post(node.base + "/api/v1/tokens", auth=("alice", alice_pw), timeout=30,
                          headers={"Content-Type": "application/json"},
                          data=json.dumps({"label": "api", "expires_in_days": 7}))
        assert r.status_code == 201, r.text
        api_secret = r.json()["token"]
        tid, _ = token_parts(api_secret)
        call("GET", "/taxii2/", BearerAuth(api_secret), 200)
        call("GET", "/taxii2/", BearerAuth(cli_secret), 200)
        call("GET", "/api/v1/tokens", BearerAuth(api_secret), 200)
        call("GET", "/api/v1/tokens", ("admin", admin_pw), 200)
        forged = f"comity_{tid}.{secrets.token_urlsafe(32)[:43].ljust(43, 'Z')}"
        call("GET", "/taxii2/", BearerAuth(forged), 401)
        call("GET", "/taxii2/", BearerAuth(admin_pw), 401)  # a password pasted as a token
        call("GET", "/taxii2/", ("alice", api_secret), 401)  # a token pasted as a password
        call("GET", "/taxii2/", None, 401, headers={"Accept": TAXII, "Authorization": f"Token {alice_pw}"})
        call("GET", "/taxii2/", None, 401,
             headers={"Accept": TAXII, "Authorization": "Basic " + base64.b64encode(alice_pw.encode()).decode()})
        call("DELETE", f"/api/v1/tokens/{tid}", ("alice", alice_pw), 200)
        call("GET", "/taxii2/", BearerAuth(api_secret), 401)
        call("DELETE", f"/api/v1/tokens/{api_secret}", ("alice", alice_pw), 200)  # the whole token as id
        call("GET", "/metrics", ("admin", admin_pw), 200)
        listing = cli_text(node, "token", "list", "--data-dir", node.data_dir)
        bodies.append(listing)
    finally:
        node.stop()
    log = node.log_path.read_text(errors="replace")
    assert "failed login" in log and "API token created" in log, "the debug log is not the server's"

    forbidden = {"admin password": admin_pw, "alice's password": alice_pw}
    for i, pw in enumerate(wrong_pws):
        forbidden[f"wrong password {i}"] = pw
    for name, tok in (("API token", api_secret), ("CLI token", cli_secret), ("forged token", forged)):
        forbidden[name + " secret"] = token_parts(tok)[1]
    for i, k in enumerate(key_material(node.data_dir)):
        forbidden[f"node key material {i}"] = k
    leaks = [(name, where) for name, s in forbidden.items()
             for where, text in [("server log", log)] + [(f"response {j}", b) for j, b in enumerate(bodies)]
             if s in text]
    assert not leaks, f"secrets found: {leaks}"


def _cli(data_dir: Path, *args, env_extra: dict | None = None):
    import os
    import subprocess
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMITY_")}
    env["COMITY_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    env.update(env_extra or {})
    return subprocess.run([str(comity_bin()), *args, "--data-dir", str(data_dir)],
                          capture_output=True, env=env, timeout=120)


def test_the_node_key_can_come_from_the_environment_or_a_configured_file(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    for d in (a, b):
        assert _cli(d, "init").returncode == 0
    key_a = _cli(a, "log", "key").stdout
    key_b = _cli(b, "log", "key").stdout
    assert key_a and key_b and key_a != key_b
    secret_b = (b / "node.key").read_text()
    # The key itself in COMITY_NODE_KEY wins over the file.
    assert _cli(a, "log", "key", env_extra={"COMITY_NODE_KEY": secret_b}).stdout == key_b
    # A malformed key is refused without echoing it.
    bogus = "PRIVATE+KEY+not+a+key+c2VjcmV0LW1hdGVyaWFs"
    cp = _cli(a, "log", "key", env_extra={"COMITY_NODE_KEY": bogus})
    assert cp.returncode == 2 and b"COMITY_NODE_KEY does not hold a node key" in cp.stderr
    assert b"c2VjcmV0LW1hdGVyaWFs" not in cp.stderr + cp.stdout
    # node_key_file in comity.toml names another file, relative to the data directory.
    (a / "keys").mkdir()
    (a / "node.key").rename(a / "keys" / "identity.key")
    cp = _cli(a, "log", "key")
    assert cp.returncode == 2 and b"node.key" in cp.stderr, cp.stderr
    with open(a / "comity.toml", "a") as f:
        f.write('\nnode_key_file = "keys/identity.key"\n')
    assert _cli(a, "log", "key").stdout == key_a
