"""Real data round-trips through TAXII: every object POSTed comes back JSON-equal.

Files: the MITRE ATT&CK for ICS bundle and every OASIS STIX 2.1 example bundle. Each file goes
into its own collection (examples reuse ids across files). Comparison is on parsed JSON, so
key order and whitespace may differ but every value, including every timestamp's precision,
must be identical.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from conftest import (TEST_DATA, add_and_wait, comity_bin, fetch_all, running_comity, running_medallion,
                      target)

FILES = [TEST_DATA / "attack" / "ics-attack-18.1.json"] + sorted((TEST_DATA / "stix-examples").glob("*.json"))


def load_objects(path: Path) -> list:
    d = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(d, list):
        return d
    if d.get("type") == "bundle" or "objects" in d:
        return d.get("objects", [])
    return [d]


def vkey(o: dict):
    return (o["id"], o.get("modified", o.get("created")))


def titles():
    return [f.stem for f in FILES]


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    if target() == "medallion":
        with running_medallion(tmp, titles() + ["import-cli"]) as n:
            yield n
        return
    if not comity_bin().exists():
        pytest.fail(f"comity binary missing: {comity_bin()}")

    def setup(n):
        for t in titles() + ["import-cli"]:
            n.add_collection(t, read=["admin"], write=["admin"])

    with running_comity(tmp, setup) as n:
        yield n


def chunks(objs: list, max_objects: int, max_bytes: int):
    cur, size = [], 20
    for o in objs:
        b = len(json.dumps(o)) + 2
        if cur and (len(cur) >= max_objects or size + b > max_bytes):
            yield cur
            cur, size = [], 20
        cur.append(o)
        size += b
    if cur:
        yield cur


def assert_same_objects(sent: list, got: list, what: str):
    got_by = {}
    for o in got:
        k = vkey(o)
        assert k not in got_by, f"{what}: {k} returned twice"
        got_by[k] = o
    missing = [vkey(o) for o in sent if vkey(o) not in got_by]
    assert not missing, f"{what}: {len(missing)} objects not returned, e.g. {missing[:5]}"
    extra = set(got_by) - {vkey(o) for o in sent}
    assert not extra, f"{what}: unexpected objects {list(extra)[:5]}"
    diffs = []
    for o in sent:
        g = got_by[vkey(o)]
        if g != o:
            keys = sorted(k for k in set(o) | set(g) if o.get(k, "<absent>") != g.get(k, "<absent>"))
            diffs.append((o["id"], {k: (o.get(k, "<absent>"), g.get(k, "<absent>")) for k in keys[:3]}))
    assert not diffs, f"{what}: {len(diffs)} objects differ, e.g. {json.dumps(diffs[:3])[:3000]}"


@pytest.mark.parametrize("path", FILES, ids=[f.name for f in FILES])
def test_post_and_fetch_back_json_equal(node, path):
    objs = load_objects(path)
    assert objs, f"{path} has no objects"
    cid = node.collections[path.stem]
    root = node.session().get(node.api_root, timeout=10).json()
    max_bytes = min(int(root.get("max_content_length", 10_000_000)), 4_000_000) - 1024
    s = node.session()
    failures = []
    succeeded = 0
    for part in chunks(objs, 500, max_bytes):
        st = add_and_wait(node, cid, part, session=s)
        assert st["total_count"] == len(part), st
        succeeded += st["success_count"]
        failures += st.get("failures", [])
    assert not failures, f"{len(failures)} objects of {path.name} rejected: {json.dumps(failures[:10])[:4000]}"
    assert succeeded == len(objs)
    got = fetch_all(node, cid, params={"match[version]": "all"}, session=s)
    assert_same_objects(objs, got, path.name)
    # the single-object endpoint returns the same bytes-equal JSON
    for o in objs[:: max(1, len(objs) // 25)]:
        r = s.get(node.objects_url(cid) + o["id"] + "/", params={"match[version]": "all"}, timeout=10)
        assert r.status_code == 200, r.text[:500]
        assert o in r.json()["objects"]


def test_import_cli_while_serving_then_fetch_back(node):
    """`comity import` of the ATT&CK bundle while the server runs; TAXII serves it back JSON-equal."""
    node.require("cli")
    path = FILES[0]
    cid = node.collections["import-cli"]
    cp = node.import_files(path, collection=cid)
    out = (cp.stdout + cp.stderr).decode(errors="replace")
    assert str(len(load_objects(path))) in out, f"import summary does not report the object count:\n{out}"
    got = fetch_all(node, cid, params={"match[version]": "all"})
    assert_same_objects(load_objects(path), got, "import " + path.name)


def test_export_cli_json_equal(node):
    """`comity export` of a collection filled over TAXII yields the same objects."""
    node.require("cli")
    path = TEST_DATA / "stix-examples" / "poisonivy.json"
    cid = node.collections[path.stem]
    objs = load_objects(path)
    if not fetch_all(node, cid, limit=10):
        add_and_wait(node, cid, objs)
    bundle = node.export(collection=cid)
    assert bundle.get("type") == "bundle" and bundle.get("id", "").startswith("bundle--"), str(bundle)[:300]
    assert_same_objects(objs, bundle["objects"], "export " + path.name)
    only = node.export(collection=cid, types=["malware"])
    assert {o["id"] for o in only["objects"]} == {o["id"] for o in objs if o["type"] == "malware"}


def test_timestamp_precision_and_odd_values_kept(node):
    """Timestamps keep their exact precision (seconds to nanoseconds), and unusual but valid JSON
    values come back as sent."""
    cid = node.collections["import-cli"] if "import-cli" in node.collections else node.collections["default"]
    objs = []
    for i, (created, modified) in enumerate([
        ("2024-05-06T07:08:09.123Z", "2024-05-06T07:08:09.123Z"),
        ("2024-05-06T07:08:09.123456Z", "2024-05-06T07:08:09.1234567Z"),
        ("2024-05-06T07:08:09.100Z", "2024-05-06T07:08:09.123456789Z"),
    ]):
        objs.append({
            "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
            "created": created, "modified": modified, "name": f"precision {i} \u00fc\U0001F4A5\u2028",
            "pattern": "[file:name = 'a\\\\b\\'c']", "pattern_type": "stix",
            "valid_from": "2024-05-06T07:08:09Z", "valid_until": "2030-01-01T00:00:00.5Z",
            "confidence": 0, "labels": ["", "x" * 1000], "x_float": 1.5e300, "x_neg": -0.25,
            "x_big": 9007199254740993, "x_nested": {"a": [None, True, False, {"b": []}]},
        })
    st = add_and_wait(node, cid, objs)
    assert st["success_count"] == len(objs), st
    r = node.session().get(node.objects_url(cid), params={"match[id]": ",".join(o["id"] for o in objs),
                                                          "match[version]": "all"}, timeout=10)
    assert r.status_code == 200
    got = r.json()["objects"]
    assert_same_objects(objs, got, "precision")
    # the exact timestamp text, not merely an equal instant
    raw = r.text
    for o in objs:
        assert json.dumps(o["modified"]) in raw
    # the manifest's version is the modified timestamp as sent
    man = node.session().get(node.manifest_url(cid), params={"match[id]": ",".join(o["id"] for o in objs)},
                             timeout=10).json()["objects"]
    assert sorted(m["version"] for m in man) == sorted(o["modified"] for o in objs)
