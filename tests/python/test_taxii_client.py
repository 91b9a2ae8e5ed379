"""TAXII 2.1 conformance through the real taxii2-client (2.3) and stix2 (3.x) libraries.

Runs against a fresh comity node (``$COMITY_BIN``); with ``COMITY_TEST_TARGET=medallion`` the
parts that make sense run against medallion 3.0.0 to check the harness itself.
"""

from __future__ import annotations

import json
import socket
import uuid
from urllib.parse import urlparse

import pytest
import requests
import stix2
from taxii2client import v21 as tc
from taxii2client.exceptions import AccessError

from conftest import (STIX, TAXII, add_and_wait, assert_taxii_error, comity_bin, count_objects,
                      fetch_all, make_indicator, post_objects, wait_status, running_comity, running_medallion,
                      target, taxii_headers)

EXTRA = ["filters", "paging", "scratch", "shared-ro", "private", "dropbox", "limits"]
ALICE = ("alice", "alice-password-1")
VIEWER = ("viewer", "viewer-password-1")
BOB = ("bob", "bob-password-1")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("taxii-client")
    if target() == "medallion":
        with running_medallion(tmp, EXTRA) as n:
            yield n
        return
    if not comity_bin().exists():
        pytest.fail(f"comity binary missing: {comity_bin()}")

    def setup(n):
        n.add_user(*ALICE, role="analyst")
        n.add_user(*VIEWER, role="viewer")
        n.add_user(*BOB, role="analyst")
        rw = ["admin", "alice"]
        for title in ["filters", "paging", "scratch", "limits"]:
            n.add_collection(title, read=rw, write=rw)
        n.add_collection("shared-ro", read=["admin", "alice", "viewer"], write=["admin"])
        n.add_collection("private", read=["admin"], write=["admin"])
        n.add_collection("dropbox", read=["admin"], write=["admin", "alice"])

    with running_comity(tmp, setup) as n:
        yield n


def col(node, title, user=None):
    user = user or node.admin
    return tc.Collection(node.collection_url(node.collections[title]), user=user[0], password=user[1])


# --------------------------------------------------------------------------------------
# dataset for the filter tests, built with the stix2 library
# --------------------------------------------------------------------------------------

T1, T2, T3 = "2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z", "2024-03-01T00:00:00.000Z"


def _d(o):
    return json.loads(o.serialize())


@pytest.fixture(scope="module")
def dataset(node):
    """Objects posted to `filters` in four batches; a model of what the server must hold."""
    ident = [stix2.Identity(name=f"org {i}", identity_class="organization", created=T1, modified=T1)
             for i in range(3)]
    inds = [stix2.Indicator(name=f"ind {i}", pattern=f"[domain-name:value = 'd{i}.example.com']",
                            pattern_type="stix", valid_from=T1, created=T1, modified=T1,
                            created_by_ref=ident[0].id)
            for i in range(10)]
    mals = [stix2.Malware(name=f"mal {i}", is_family=False, created=T1, modified=T1) for i in range(5)]
    rels = [stix2.Relationship(inds[i], "indicates", mals[i], created=T1, modified=T1) for i in range(2)]
    mark = stix2.MarkingDefinition(definition_type="statement", definition={"statement": "Copyright Comity tests"},
                                   created=T1)
    # five indicators with three versions each; posted v1, then v3, then v2
    v1 = [stix2.Indicator(name=f"versioned {i}", pattern=f"[url:value = 'http://v{i}.example/']",
                          pattern_type="stix", valid_from=T1, created=T1, modified=T1) for i in range(5)]
    v2 = [o.new_version(modified=T2, name=o.name + " v2") for o in v1]
    v3 = [o.new_version(modified=T3, name=o.name + " v3") for o in v1]

    batches = [
        [_d(o) for o in ident + inds + [mark]] + [_d(o) for o in v1],
        [_d(o) for o in mals + rels] + [_d(o) for o in v3],
        [_d(o) for o in v2],
    ]
    cid = node.collections["filters"]
    statuses = []
    for b in batches:
        st = add_and_wait(node, cid, b)
        assert st["success_count"] == len(b), st
        statuses.append(st)

    versions = {}  # id -> list of dicts
    for b in batches:
        for o in b:
            versions.setdefault(o["id"], []).append(o)

    def ver(o):
        return o.get("modified", o.get("created"))

    for k in versions:
        versions[k].sort(key=ver)
    manifest = fetch_all(node, cid, endpoint="manifest", params={"match[version]": "all"})
    return {
        "cid": cid, "batches": batches, "versions": versions, "ver": ver, "manifest": manifest,
        "versioned_ids": [o.id for o in v1], "malware_ids": [o.id for o in mals],
        "identity_ids": [o.id for o in ident], "indicator_ids": [o.id for o in inds + v1],
        "marking_id": mark.id,
    }


def key(o):
    return (o["id"], o.get("modified", o.get("created")))


def keyset(objs):
    ks = [key(o) for o in objs]
    assert len(ks) == len(set(ks)), "duplicate object versions in response"
    return set(ks)


# --------------------------------------------------------------------------------------
# discovery, API root, collections
# --------------------------------------------------------------------------------------


def test_discovery(node):
    server = tc.Server(node.discovery_url, user=node.admin[0], password=node.admin[1])
    assert server.title
    roots = [r.url for r in server.api_roots]
    assert node.api_root in roots, roots
    if server.default is not None:
        assert server.default.url in roots


def test_discovery_plain_http_headers(node):
    r = requests.get(node.discovery_url, auth=node.admin, headers=taxii_headers(), timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].replace(" ", "").lower() == TAXII.lower()
    body = r.json()
    assert isinstance(body["title"], str)


def test_api_root(node):
    root = tc.ApiRoot(node.api_root, user=node.admin[0], password=node.admin[1])
    assert root.title
    assert TAXII in root.versions
    assert isinstance(root.max_content_length, int) and root.max_content_length > 0
    titles = {c.title for c in root.collections}
    assert {"default", "filters", "paging"} <= titles, titles


def test_get_one_collection(node):
    c = col(node, "filters")
    assert c.id == node.collections["filters"]
    assert c.title == "filters"
    assert c.can_read is True and c.can_write is True
    if c.media_types:  # optional in a collection resource
        assert STIX in c.media_types


def test_collections_can_read_can_write_per_user(node):
    node.require("users")

    def listing(user):
        r = requests.get(node.api_root + "collections/", auth=user, headers=taxii_headers(), timeout=10)
        assert r.status_code == 200, r.text
        return {c["title"]: c for c in r.json().get("collections", [])}

    admin = listing(node.admin)
    for t in EXTRA + ["default"]:
        assert admin[t]["can_read"] is True and admin[t]["can_write"] is True, admin[t]

    alice = listing(ALICE)
    assert alice["filters"]["can_read"] is True and alice["filters"]["can_write"] is True
    assert alice["shared-ro"]["can_read"] is True and alice["shared-ro"]["can_write"] is False
    # comity's grants make write imply read (the CLI stores read = read || write)
    assert alice["dropbox"]["can_read"] is True and alice["dropbox"]["can_write"] is True
    if "private" in alice:
        assert alice["private"]["can_read"] is False and alice["private"]["can_write"] is False

    viewer = listing(VIEWER)
    assert viewer["shared-ro"]["can_read"] is True and viewer["shared-ro"]["can_write"] is False
    for t, c in viewer.items():
        assert c["can_write"] is False, f"viewer may write {t}"

    # taxii2-client sees the same and refuses locally what it may not do
    ro = col(node, "shared-ro", VIEWER)
    assert ro.can_read and not ro.can_write
    with pytest.raises(AccessError):
        ro.add_objects(json.dumps({"objects": [make_indicator(1)]}))


# --------------------------------------------------------------------------------------
# add objects with status polling
# --------------------------------------------------------------------------------------


def test_add_objects_with_status_polling(node):
    c = col(node, "scratch")
    objs = [_d(stix2.Indicator(pattern=f"[ipv4-addr:value = '192.0.2.{i}']", pattern_type="stix",
                               valid_from=T1)) for i in range(25)]
    st = c.add_objects(json.dumps({"objects": objs}), wait_for_completion=False)
    st.wait_until_final(poll_interval=0.2, timeout=60)
    assert st.status == "complete"
    assert st.total_count == 25 and st.success_count == 25 and st.failure_count == 0 and st.pending_count == 0
    assert {s["id"] for s in st.successes} == {o["id"] for o in objs}
    # the status resource is retrievable by id from the API root
    root = tc.ApiRoot(node.api_root, user=node.admin[0], password=node.admin[1])
    again = root.get_status(st.id)
    assert again.status == "complete" and again.success_count == 25
    # and the objects are there
    got = c.get_objects(id=",".join(o["id"] for o in objs[:5]))
    assert keyset(got["objects"]) == keyset(objs[:5])


def test_add_mixed_envelope_stores_valid_reports_invalid(node):
    c = col(node, "scratch")
    good = [make_indicator(i) for i in range(3)]
    bad_missing_pattern = make_indicator(99)
    del bad_missing_pattern["pattern"]
    bad_id = make_indicator(98)
    bad_id["id"] = "malware--" + str(uuid.uuid4())  # type/id mismatch
    st = c.add_objects(json.dumps({"objects": [good[0], bad_missing_pattern, good[1], bad_id, good[2]]}),
                       wait_for_completion=True, poll_interval=0.2, timeout=60)
    assert st.status == "complete"
    assert st.total_count == 5 and st.success_count == 3 and st.failure_count == 2, st._raw
    assert {s["id"] for s in st.successes} == {o["id"] for o in good}
    failed = {f["id"]: f for f in st.failures}
    assert set(failed) == {bad_missing_pattern["id"], bad_id["id"]}
    msg = failed[bad_missing_pattern["id"]].get("message", "")
    assert "pattern" in msg, f"failure message does not name the property: {msg!r}"
    assert failed[bad_id["id"]].get("message"), failed
    got = c.get_objects(id=",".join([o["id"] for o in good] + [bad_missing_pattern["id"], bad_id["id"]]))
    assert keyset(got["objects"]) == keyset(good)


def test_repost_existing_object_is_success(node):
    c = col(node, "scratch")
    o = make_indicator(5)
    st1 = c.add_objects(json.dumps({"objects": [o]}), poll_interval=0.2)
    st2 = c.add_objects(json.dumps({"objects": [o]}), poll_interval=0.2)
    assert st1.success_count == 1 and st2.success_count == 1 and st2.failure_count == 0, st2._raw
    got = c.get_objects(id=o["id"], version="all")
    assert len(got["objects"]) == 1


def test_status_unknown_id_404(node):
    r = requests.get(node.status_url(str(uuid.uuid4())), auth=node.admin, headers=taxii_headers(), timeout=10)
    assert_taxii_error(r, 404)


# --------------------------------------------------------------------------------------
# get objects with every filter
# --------------------------------------------------------------------------------------


def test_get_objects_default_is_last_version(node, dataset):
    c = col(node, "filters")
    got = fetch_all(node, dataset["cid"])
    want = [v[-1] for v in dataset["versions"].values()]
    assert keyset(got) == keyset(want)
    by_id = {o["id"]: o for o in got}
    for w in want:
        assert by_id[w["id"]] == w  # JSON-equal
    env = c.get_objects()
    assert isinstance(env.get("objects"), list)


def test_match_type(node, dataset):
    c = col(node, "filters")
    got = c.get_objects(type="malware")["objects"]
    assert {o["id"] for o in got} == set(dataset["malware_ids"])
    got = c.get_objects(type=["malware", "identity"])["objects"]
    assert {o["id"] for o in got} == set(dataset["malware_ids"]) | set(dataset["identity_ids"])
    assert c.get_objects(type="campaign").get("objects", []) == []


def test_match_id(node, dataset):
    c = col(node, "filters")
    vid = dataset["versioned_ids"][0]
    got = c.get_objects(id=vid)["objects"]
    assert got == [dataset["versions"][vid][-1]]
    two = [dataset["malware_ids"][0], dataset["identity_ids"][1]]
    got = c.get_objects(id=two)["objects"]
    assert {o["id"] for o in got} == set(two)
    assert c.get_objects(id="indicator--" + str(uuid.uuid4())).get("objects", []) == []


def test_match_version_first_last_all(node, dataset):
    c = col(node, "filters")
    vs = dataset["versions"]
    for spec, pick in [("first", lambda v: [v[0]]), ("last", lambda v: [v[-1]]), ("all", lambda v: v),
                       ("first,last", lambda v: [v[0], v[-1]])]:
        got = fetch_all(node, dataset["cid"], params={"match[version]": spec})
        want = {key(o) for v in vs.values() for o in pick(v)}  # first == last for one version
        assert keyset(got) == want, spec
    # through the client: all versions of the versioned ones
    got = c.get_objects(id=dataset["versioned_ids"], version="all")["objects"]
    assert len(got) == 15


def test_match_version_timestamp(node, dataset):
    c = col(node, "filters")
    ids = dataset["versioned_ids"]
    got = c.get_objects(id=ids, version=T2)["objects"]
    assert {(o["id"], o["modified"]) for o in got} == {(i, T2) for i in ids}
    assert all(o["name"].endswith(" v2") for o in got)
    got = c.get_objects(id=ids[0], version=[T1, T3])["objects"]
    assert {o["modified"] for o in got} == {T1, T3}
    assert c.get_objects(id=ids[0], version="2023-01-01T00:00:00.000Z").get("objects", []) == []


def test_match_spec_version(node, dataset):
    c = col(node, "filters")
    got = fetch_all(node, dataset["cid"], params={"match[spec_version]": "2.1"})
    assert {o["id"] for o in got} == set(dataset["versions"])
    assert c.get_objects(spec_version="2.0").get("objects", []) == []
    got = c.get_objects(spec_version=["2.0", "2.1"], type="malware")["objects"]
    assert {o["id"] for o in got} == set(dataset["malware_ids"])


def test_combined_filters(node, dataset):
    c = col(node, "filters")
    got = c.get_objects(type="indicator", id=[dataset["versioned_ids"][0], dataset["malware_ids"][0]],
                        version="all")["objects"]
    assert keyset(got) == keyset(dataset["versions"][dataset["versioned_ids"][0]])


def test_added_after(node, dataset):
    man = dataset["manifest"]
    assert len(man) == sum(len(v) for v in dataset["versions"].values())
    dates = sorted({m["date_added"] for m in man})
    # date_added follows the order of the POSTs: every batch strictly after the previous one
    batch_of = {}
    for i, b in enumerate(dataset["batches"]):
        for o in b:
            batch_of[key(o)] = i
    added = {(m["id"], m["version"]): m["date_added"] for m in man}
    for i in range(1, len(dataset["batches"])):
        prev = max(_ts(added[key(o)]) for o in dataset["batches"][i - 1])
        cur = min(_ts(added[key(o)]) for o in dataset["batches"][i])
        assert cur > prev, f"batch {i} added before batch {i - 1}"
    for cut in [dates[0], dates[len(dates) // 2], dates[-1]]:
        got = fetch_all(node, dataset["cid"], params={"added_after": cut, "match[version]": "all"}, limit=7)
        want = {k for k, d in added.items() if _ts(d) > _ts(cut)}
        assert {key(o) for o in got} == want, cut
    c = col(node, "filters")
    assert c.get_objects(added_after=dates[-1], version="all").get("objects", []) == []


def _ts(s: str):
    """Comparable key for an RFC 3339 UTC timestamp with any sub-second precision."""
    assert s.endswith("Z"), s
    main, _, frac = s[:-1].partition(".")
    return (main, frac.ljust(9, "0"))


def test_limit_and_next(node, dataset):
    s = node.session()
    url = node.objects_url(dataset["cid"])
    r = s.get(url, params={"limit": 4, "match[version]": "all"}, timeout=10)
    assert r.status_code == 200
    body = r.json()
    assert 1 <= len(body["objects"]) <= 4
    assert body["more"] is True and body["next"]
    seen = [key(o) for o in body["objects"]]
    while body.get("more"):
        r = s.get(url, params={"limit": 4, "match[version]": "all", "next": body["next"]}, timeout=10)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [key(o) for o in body.get("objects", [])]
    assert len(seen) == len(set(seen))
    want = {key(o) for v in dataset["versions"].values() for o in v}
    assert set(seen) == want


def test_date_added_headers(node, dataset):
    added = {(m["id"], m["version"]): m["date_added"] for m in dataset["manifest"]}
    s = node.session()
    for url in [node.objects_url(dataset["cid"]), node.manifest_url(dataset["cid"])]:
        r = s.get(url, params={"limit": 5, "match[version]": "all"}, timeout=10)
        assert r.status_code == 200
        items = r.json()["objects"]
        ds = [added[(o["id"], o.get("version") or o.get("modified") or o.get("created"))] for o in items]
        assert r.headers["X-TAXII-Date-Added-First"] == min(ds, key=_ts)
        assert r.headers["X-TAXII-Date-Added-Last"] == max(ds, key=_ts)


def test_bad_filter_values_400(node, dataset):
    s = node.session()
    url = node.objects_url(dataset["cid"])
    for params in [{"added_after": "yesterday"}, {"limit": "ten"}, {"limit": "-1"},
                   {"match[version]": "newest"}, {"match[spec_version]": "9.9"},
                   {"match[foo]": "x"}, {"colour": "blue"}]:
        r = s.get(url, params=params, timeout=10)
        body = assert_taxii_error(r, 400)
        assert body.get("description") or body.get("title")


# --------------------------------------------------------------------------------------
# paging with as_pages over a few thousand objects
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paging_set(node):
    cid = node.collections["paging"]
    objs = [make_indicator(i) for i in range(3000)]
    s = node.session()
    for i in range(0, len(objs), 1000):
        st = add_and_wait(node, cid, objs[i:i + 1000], session=s)
        assert st["success_count"] == 1000, {k: st[k] for k in st if k.endswith("count")}
    return objs


@pytest.mark.parametrize("per_request", [100, 1000, 777])
def test_as_pages_objects(node, paging_set, per_request):
    c = col(node, "paging")
    seen = []
    pages = 0
    for env in tc.as_pages(c.get_objects, per_request=per_request):
        pages += 1
        seen += [o["id"] for o in env.get("objects", [])]
    assert len(seen) == len(set(seen)), "an object was repeated"
    assert set(seen) == {o["id"] for o in paging_set}, "an object was skipped"
    assert pages >= len(paging_set) // max(per_request, 1)


def test_as_pages_manifest(node, paging_set):
    c = col(node, "paging")
    seen = []
    for env in tc.as_pages(c.get_manifest, per_request=500):
        for m in env.get("objects", []):
            assert set(m) >= {"id", "date_added", "version"}, m
            seen.append(m["id"])
    assert len(seen) == len(set(seen)) == len(paging_set)
    assert set(seen) == {o["id"] for o in paging_set}


def test_paging_with_type_filter(node, paging_set):
    c = col(node, "paging")
    n = sum(len(e.get("objects", [])) for e in tc.as_pages(c.get_objects, per_request=250, type="indicator"))
    assert n == len(paging_set)
    n = sum(len(e.get("objects", [])) for e in tc.as_pages(c.get_objects, per_request=250, type="malware"))
    assert n == 0


def test_next_survives_new_writes(node, paging_set):
    """A page token stays valid and yields no duplicates while objects are added meanwhile."""
    s = node.session()
    cid = node.collections["paging"]
    url = node.objects_url(cid)
    r = s.get(url, params={"limit": 1000}, timeout=30)
    first = r.json()
    extra = [make_indicator(10_000 + i) for i in range(10)]
    add_and_wait(node, cid, extra, session=s)
    seen = [o["id"] for o in first["objects"]]
    body = first
    while body.get("more"):
        r = s.get(url, params={"limit": 1000, "next": body["next"]}, timeout=30)
        assert r.status_code == 200, r.text
        body = r.json()
        seen += [o["id"] for o in body["objects"]]
    assert len(seen) == len(set(seen))
    assert {o["id"] for o in paging_set} <= set(seen)
    # objects added after the first page may or may not be included, but nothing else may appear
    assert set(seen) <= {o["id"] for o in paging_set} | {o["id"] for o in extra}
    paging_set.extend(extra)  # later tests see the collection as it now is


# --------------------------------------------------------------------------------------
# manifests, versions, get one object, delete
# --------------------------------------------------------------------------------------


def test_manifest(node, dataset):
    man = dataset["manifest"]
    for m in man:
        assert m["media_type"].replace(" ", "") == STIX, m
    assert {(m["id"], m["version"]) for m in man} == {key(o) for v in dataset["versions"].values() for o in v}
    c = col(node, "filters")
    last = c.get_manifest(type="malware")["objects"]
    assert {m["id"] for m in last} == set(dataset["malware_ids"])
    vid = dataset["versioned_ids"][1]
    assert [m["version"] for m in c.get_manifest(id=vid)["objects"]] == [T3]
    assert sorted(m["version"] for m in c.get_manifest(id=vid, version="all")["objects"]) == [T1, T2, T3]
    assert [m["version"] for m in c.get_manifest(id=vid, version="first")["objects"]] == [T1]


def test_versions_endpoint(node, dataset):
    c = col(node, "filters")
    vid = dataset["versioned_ids"][2]
    env = c.object_versions(vid)
    assert sorted(env["versions"]) == [T1, T2, T3]
    env = c.object_versions(dataset["malware_ids"][0])
    assert env["versions"] == [T1]
    # paging on versions
    s = node.session()
    url = node.objects_url(dataset["cid"]) + vid + "/versions/"
    r = s.get(url, params={"limit": 2}, timeout=10)
    assert r.status_code == 200
    b = r.json()
    assert len(b["versions"]) == 2 and b["more"] is True
    assert "X-TAXII-Date-Added-First" in r.headers and "X-TAXII-Date-Added-Last" in r.headers
    r2 = s.get(url, params={"limit": 2, "next": b["next"]}, timeout=10)
    assert r2.status_code == 200
    b2 = r2.json()
    assert sorted(b["versions"] + b2["versions"]) == [T1, T2, T3] and not b2.get("more")
    # unknown object
    r = s.get(node.objects_url(dataset["cid"]) + f"indicator--{uuid.uuid4()}/versions/", timeout=10)
    assert_taxii_error(r, 404)


def test_get_object(node, dataset):
    c = col(node, "filters")
    vid = dataset["versioned_ids"][3]
    vs = dataset["versions"][vid]
    assert c.get_object(vid)["objects"] == [vs[-1]]
    assert c.get_object(vid, version="first")["objects"] == [vs[0]]
    assert keyset(c.get_object(vid, version="all")["objects"]) == keyset(vs)
    assert c.get_object(vid, version=T2)["objects"] == [vs[1]]
    mid = dataset["marking_id"]
    assert c.get_object(mid)["objects"] == dataset["versions"][mid]
    r = node.session().get(node.objects_url(dataset["cid"]) + f"indicator--{uuid.uuid4()}/", timeout=10)
    assert_taxii_error(r, 404)


def test_get_object_sco_version_is_date_added(node):
    """An object with neither created nor modified is versioned by its date_added."""
    sco = {"type": "ipv4-addr", "spec_version": "2.1",
           "id": "ipv4-addr--" + str(uuid.uuid5(uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7"),
                                                 '{"value":"198.51.100.7"}')),
           "value": "198.51.100.7"}
    cid = node.collections["scratch"]
    add_and_wait(node, cid, [sco])
    c = col(node, "scratch")
    assert c.get_object(sco["id"])["objects"] == [sco]
    man = c.get_manifest(id=sco["id"])["objects"]
    assert len(man) == 1 and man[0]["version"] == man[0]["date_added"], man


def test_delete_object(node):
    c = col(node, "scratch")
    cid = node.collections["scratch"]
    o1 = make_indicator(1, created=T1)
    o2 = dict(o1, modified=T2, name="second")
    keep = make_indicator(2)
    add_and_wait(node, cid, [o1, o2, keep])
    before = count_objects(node, cid)
    c.delete_object(o1["id"])
    r = node.session().get(node.objects_url(cid) + o1["id"] + "/", timeout=10)
    assert_taxii_error(r, 404)
    assert count_objects(node, cid) == before - 2
    assert c.get_object(keep["id"])["objects"] == [keep]
    # deleting again: not found
    r = node.session().delete(node.objects_url(cid) + o1["id"] + "/", timeout=10)
    assert_taxii_error(r, 404)


def test_delete_one_version(node):
    c = col(node, "scratch")
    cid = node.collections["scratch"]
    o1 = make_indicator(3, created=T1)
    o2 = dict(o1, modified=T2, name="second")
    add_and_wait(node, cid, [o1, o2])
    c.delete_object(o1["id"], version=T1)
    assert c.get_object(o1["id"], version="all")["objects"] == [o2]


# --------------------------------------------------------------------------------------
# error cases
# --------------------------------------------------------------------------------------


def test_406_unacceptable_accept(node):
    cid = node.collections["filters"]
    for accept in ["application/xml", "application/taxii+json;version=2.0", "text/html"]:
        for url in [node.discovery_url, node.api_root, node.objects_url(cid)]:
            r = requests.get(url, auth=node.admin, headers={"Accept": accept}, timeout=10)
            assert r.status_code == 406, (url, accept, r.status_code, r.text[:300])


def test_415_wrong_content_type(node):
    cid = node.collections["scratch"]
    before = count_objects(node, cid)
    body = json.dumps({"objects": [make_indicator(7)]})
    for ct in ["application/json", "text/plain", "application/taxii+json;version=2.0", None]:
        h = {"Accept": TAXII}
        if ct:
            h["Content-Type"] = ct
        r = requests.post(node.objects_url(cid), data=body, auth=node.admin, headers=h, timeout=10)
        assert_taxii_error(r, 415)
    assert count_objects(node, cid) == before


def test_400_malformed_json(node):
    cid = node.collections["scratch"]
    r = requests.post(node.objects_url(cid), data=b'{"objects": [', auth=node.admin,
                      headers=taxii_headers(content=True), timeout=10)
    assert_taxii_error(r, 400)


def test_401(node):
    for url in [node.discovery_url, node.api_root, node.objects_url(node.collections["filters"])]:
        r = requests.get(url, headers=taxii_headers(), timeout=10)
        assert r.status_code == 401, (url, r.status_code)
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic"), r.headers
        r = requests.get(url, auth=("admin", "not-the-password"), headers=taxii_headers(), timeout=10)
        assert_taxii_error(r, 401)
        assert r.headers.get("WWW-Authenticate", "").lower().startswith("basic")
    r = requests.get(node.api_root, auth=("nosuchuser", "x"), headers=taxii_headers(), timeout=10)
    assert_taxii_error(r, 401)


def test_403(node):
    node.require("users")
    ro = node.collections["shared-ro"]
    before = count_objects(node, ro)
    r = post_objects(node, ro, [make_indicator(1)], user=VIEWER)
    assert_taxii_error(r, 403)
    assert count_objects(node, ro) == before
    # a viewer never writes, even where it was granted read: DELETE is a write too
    r = requests.delete(node.objects_url(ro) + f"indicator--{uuid.uuid4()}/", auth=VIEWER, headers=taxii_headers(),
                        timeout=10)
    assert_taxii_error(r, 403)
    # a collection the user has no grant on at all: 403 when listed, 404 when hidden
    listed = {c["id"] for c in requests.get(node.api_root + "collections/", auth=BOB, headers=taxii_headers(),
                                            timeout=10).json().get("collections", [])}
    # comity's choice: a collection the user can neither read nor write is not listed, and is 404
    pid = node.collections["private"]
    assert pid not in listed
    r = requests.get(node.objects_url(pid), auth=BOB, headers=taxii_headers(), timeout=10)
    assert_taxii_error(r, 404)
    r = requests.get(node.collection_url(pid), auth=BOB, headers=taxii_headers(), timeout=10)
    assert_taxii_error(r, 404)
    r = post_objects(node, pid, [make_indicator(3)], user=BOB)
    assert_taxii_error(r, 404)
    assert count_objects(node, pid) == 0


def test_404(node):
    s = node.session()
    assert_taxii_error(s.get(node.objects_url(str(uuid.uuid4())), timeout=10), 404)
    assert_taxii_error(s.get(node.collection_url(str(uuid.uuid4())), timeout=10), 404)
    assert_taxii_error(s.get(node.base + "/taxii2/no-such-root/", timeout=10)
                       if node.kind == "comity" else s.get(node.base + "/no-such-root/", timeout=10), 404)
    assert_taxii_error(s.get(node.manifest_url(str(uuid.uuid4())), timeout=10), 404)


def _raw_post(node, path: str, headers: dict, body_len: int, chunk: bytes = b" ") -> tuple[int, bytes]:
    """POST with a given Content-Length, streaming the body until the server answers or closes."""
    u = urlparse(node.base)
    import base64
    auth = base64.b64encode(f"{node.admin[0]}:{node.admin[1]}".encode()).decode()
    sock = socket.create_connection((u.hostname, u.port), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {u.hostname}:{u.port}", f"Authorization: Basic {auth}",
            f"Content-Length: {body_len}", "Connection: close"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    block = (chunk * (65536 // len(chunk) + 1))[:65536]
    sent = 0
    try:
        sock.sendall(b'{"objects":[')
        sent = 12
        while sent < body_len:
            n = min(len(block), body_len - sent)
            sock.sendall(block[:n])
            sent += n
    except (BrokenPipeError, ConnectionResetError):
        pass
    data = b""
    try:
        while True:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    except (ConnectionResetError, socket.timeout):
        pass
    sock.close()
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else -1
    return status, data


def test_413_body_over_max_content_length(node):
    root = requests.get(node.api_root, auth=node.admin, headers=taxii_headers(), timeout=10).json()
    limit = root["max_content_length"]
    cid = node.collections["limits"]
    before = count_objects(node, cid)
    status, raw = _raw_post(node, urlparse(node.objects_url(cid)).path, taxii_headers(content=True), limit + 1)
    assert status == 413, raw[:500]
    # a body just at the limit is not refused for its size
    objs = []
    body = b""
    i = 0
    while True:
        cand = json.dumps({"objects": objs + [make_indicator(i)]}).encode()
        if len(cand) > min(limit, 200_000):
            break
        objs.append(make_indicator(i))
        body = cand
        i += 1
    r = requests.post(node.objects_url(cid), data=body, auth=node.admin, headers=taxii_headers(True), timeout=30)
    assert r.status_code == 202, r.text[:300]
    assert node.healthy()
    st = wait_status(node, r.json())
    assert st["success_count"] == len(objs), st
    assert count_objects(node, cid) == before + len(objs)


def test_400_not_an_envelope(node):
    """Well-formed JSON that is not a TAXII envelope is a bad request."""
    cid = node.collections["limits"]
    for body in [{"objects": "not a list"}, [make_indicator(1)], "a string", 42, None]:
        before = count_objects(node, cid)
        r = requests.post(node.objects_url(cid), data=json.dumps(body), auth=node.admin,
                          headers=taxii_headers(True), timeout=10)
        assert_taxii_error(r, 400)
        assert count_objects(node, cid) == before


def test_422_empty_envelope(node):
    """An envelope with nothing to add cannot be processed."""
    cid = node.collections["limits"]
    before = count_objects(node, cid)
    for body in [{"objects": []}, {"more": False}]:  # `objects` is optional in an envelope
        r = requests.post(node.objects_url(cid), data=json.dumps(body), auth=node.admin,
                          headers=taxii_headers(True), timeout=10)
        assert_taxii_error(r, 422)
    assert count_objects(node, cid) == before


def test_envelope_of_non_objects_reports_each(node):
    """Items that are not STIX objects at all are failures, each reported; nothing stored."""
    cid = node.collections["limits"]
    before = count_objects(node, cid)
    r = requests.post(node.objects_url(cid), data=json.dumps({"objects": [1, "x", {"type": "indicator"}]}),
                      auth=node.admin, headers=taxii_headers(True), timeout=10)
    if r.status_code == 202:
        st = wait_status(node, r.json())
        assert st["success_count"] == 0 and st["failure_count"] == 3 and st["total_count"] == 3, st
    else:
        assert_taxii_error(r, 422)
    assert count_objects(node, cid) == before


def test_error_shape(node):
    r = requests.get(node.objects_url(str(uuid.uuid4())), auth=node.admin, headers=taxii_headers(), timeout=10)
    body = assert_taxii_error(r, 404)
    allowed = {"title", "description", "error_id", "error_code", "http_status", "external_details", "details"}
    assert set(body) <= allowed | {k for k in body if k.startswith("x_")}, body
