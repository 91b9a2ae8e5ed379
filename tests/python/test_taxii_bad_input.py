"""Hostile and broken input over HTTP (requests and curl).

Each case must get a precise TAXII error (status and error-message body), must not take the
server down (it still answers /healthz and a valid request afterwards), and must store nothing
of what was rejected (object counts before and after).
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import threading
import time
import uuid
from urllib.parse import quote, urlparse

import pytest
import requests

from conftest import (TAXII, add_and_wait, assert_taxii_error, comity_bin, count_objects, fetch_all,
                      make_indicator, running_comity, running_medallion, target, taxii_headers, wait_status)

ALICE = ("alice", "alice-password-1")
VICTIM = ("victim", "victim-password-1")
VICTIM2 = ("victim2", "victim2-password-1")


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bad-input")
    if target() == "medallion":
        with running_medallion(tmp, ["target", "big"]) as n:
            yield n
        return
    if not comity_bin().exists():
        pytest.fail(f"comity binary missing: {comity_bin()}")

    def setup(n):
        for u in (ALICE, VICTIM, VICTIM2):
            n.add_user(*u, role="analyst")
        n.add_collection("target", read=["admin", "alice", "victim", "victim2"], write=["admin", "alice"])
        n.add_collection("big", read=["admin"], write=["admin"])

    with running_comity(tmp, setup) as n:
        yield n


@pytest.fixture(scope="module")
def seeded(node):
    """A few known objects in `target` so that 'nothing changed' is meaningful."""
    cid = node.collections["target"]
    objs = [make_indicator(i) for i in range(20)]
    st = add_and_wait(node, cid, objs)
    assert st["success_count"] == 20
    return cid, objs


def still_serving(node, cid, expected_count):
    assert node.alive(), f"server died:\n{node.log()}"
    assert node.healthy(), "no /healthz after bad input"
    r = requests.get(node.objects_url(cid), params={"limit": 1}, auth=node.admin, headers=taxii_headers(), timeout=30)
    assert r.status_code == 200, r.text[:300]
    assert count_objects(node, cid) == expected_count


def post_raw(node, cid, data: bytes, headers=None, auth=None, timeout=60):
    h = taxii_headers(content=True)
    h.update(headers or {})
    return requests.post(node.objects_url(cid), data=data, headers=h, auth=auth or node.admin, timeout=timeout)


def curl(*args, timeout=120) -> tuple[int, dict, bytes]:
    """Run curl; return (status, headers, body)."""
    cp = subprocess.run(["curl", "-sS", "-D", "-", "--max-time", str(timeout), *args], capture_output=True,
                        timeout=timeout + 10)
    raw = cp.stdout
    # skip 100-continue preambles
    while raw.startswith(b"HTTP/1.1 100"):
        raw = raw.split(b"\r\n\r\n", 1)[1]
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0].startswith("HTTP/") else -1
    hdrs = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    return status, hdrs, body


def assert_curl_taxii_error(status, hdrs, body, expected):
    assert status == expected, (status, body[:500])
    assert hdrs.get("content-type", "").replace(" ", "").startswith("application/taxii+json"), hdrs
    j = json.loads(body)
    assert isinstance(j.get("title"), str) and j["title"], j


# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b'{"objects": [', b'{"objects": []} trailing', b"{objects: []}", b"", b"   ", b'{"objects": [NaN]}',
    b"\x00\x01\x02", b'{"objects": [{"type": "indicator",}]}', b"[[[[",
], ids=["truncated", "trailing", "unquoted-key", "empty", "blank", "nan", "binary", "trailing-comma",
        "open-brackets"])
def test_malformed_json_400(node, seeded, body):
    cid, objs = seeded
    before = count_objects(node, cid)
    r = post_raw(node, cid, body)
    assert_taxii_error(r, 400)
    still_serving(node, cid, before)


def test_malformed_json_with_curl(node, seeded):
    cid, objs = seeded
    before = count_objects(node, cid)
    st, h, b = curl("-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII, "-H", "Content-Type: " + TAXII,
                    "--data-binary", '{"objects": [{"type": "indicator"', node.objects_url(cid))
    assert_curl_taxii_error(st, h, b, 400)
    still_serving(node, cid, before)


@pytest.mark.parametrize("ct", [None, "application/json", "text/plain", "application/stix+json;version=2.1",
                                "application/taxii+json;version=2.0", "application/x-www-form-urlencoded",
                                "multipart/form-data; boundary=x"])
def test_wrong_or_missing_content_type_415(node, seeded, ct):
    cid, objs = seeded
    before = count_objects(node, cid)
    args = ["-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII, "--data-binary",
            json.dumps({"objects": [make_indicator(1)]})]
    # curl adds a form content type by default; "Content-Type:" with no value removes it
    args += ["-H", f"Content-Type: {ct}" if ct else "Content-Type:"]
    st, h, b = curl(*args, node.objects_url(cid))
    assert_curl_taxii_error(st, h, b, 415)
    still_serving(node, cid, before)


def max_len(node) -> int:
    return int(node.session().get(node.api_root, timeout=10).json()["max_content_length"])


def test_body_over_limit_content_length_413(node, seeded, tmp_path):
    cid, objs = seeded
    before = count_objects(node, cid)
    limit = max_len(node)
    # a real envelope of valid objects just over the limit
    n = 0
    parts = []
    size = 14
    while size <= limit:
        o = json.dumps(make_indicator(n))
        parts.append(o)
        size += len(o) + 1
        n += 1
    f = tmp_path / "over.json"
    f.write_text('{"objects":[' + ",".join(parts) + "]}")
    assert f.stat().st_size > limit
    st, h, b = curl("-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII, "-H", "Content-Type: " + TAXII,
                    "--data-binary", "@" + str(f), node.objects_url(cid))
    assert_curl_taxii_error(st, h, b, 413)
    still_serving(node, cid, before)


def test_body_over_limit_chunked_413(node, seeded, tmp_path):
    """No Content-Length: the limit must hold for a chunked body too."""
    cid, objs = seeded
    before = count_objects(node, cid)
    limit = max_len(node)
    f = tmp_path / "over-chunked.json"
    with open(f, "w") as out:
        out.write('{"objects":[')
        written = 12
        i = 0
        while written <= limit:
            s = json.dumps(make_indicator(i)) + ","
            out.write(s)
            written += len(s)
            i += 1
        out.write(json.dumps(make_indicator(i)) + "]}")
    st, h, b = curl("-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII, "-H", "Content-Type: " + TAXII,
                    "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + str(f), node.objects_url(cid))
    assert_curl_taxii_error(st, h, b, 413)
    still_serving(node, cid, before)


def test_lying_content_length_413(node, seeded):
    """Content-Length announces more than the limit; the server must answer without reading it all."""
    cid, objs = seeded
    before = count_objects(node, cid)
    limit = max_len(node)
    u = urlparse(node.base)
    auth = base64.b64encode(("%s:%s" % node.admin).encode()).decode()
    sock = socket.create_connection((u.hostname, u.port), timeout=20)
    sock.sendall((f"POST {urlparse(node.objects_url(cid)).path} HTTP/1.1\r\nHost: x\r\n"
                  f"Authorization: Basic {auth}\r\nAccept: {TAXII}\r\nContent-Type: {TAXII}\r\n"
                  f"Content-Length: {limit * 10}\r\n\r\n").encode() + b'{"objects":[')
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            d = sock.recv(65536)
            if not d:
                break
            data += d
    finally:
        sock.close()
    assert data.startswith(b"HTTP/1.1 413"), data[:300]
    still_serving(node, cid, before)


def test_envelope_of_100000_objects(node):
    """100,000 objects in one envelope: all stored if the body fits the advertised limit, else 413."""
    cid = node.collections["big"]
    before = count_objects(node, cid)
    objs = [{"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
             "created": "2024-01-01T00:00:00.000Z", "modified": "2024-01-01T00:00:00.000Z",
             "pattern": f"[ipv4-addr:value = '10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}']",
             "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"} for i in range(100_000)]
    body = json.dumps({"objects": objs}, separators=(",", ":")).encode()
    limit = max_len(node)
    r = post_raw(node, cid, body, timeout=300)
    if len(body) > limit:
        assert_taxii_error(r, 413)
        still_serving(node, cid, before)
    else:
        assert r.status_code == 202, r.text[:500]
        st = wait_status(node, r.json(), timeout=300)
        assert st["total_count"] == 100_000 and st["success_count"] == 100_000, {k: v for k, v in st.items()
                                                                                if k.endswith("count")}
        still_serving(node, cid, before + 100_000)


def one_bad_object_among_good(node, cid, r, bad_words, good):
    """A 202 whose status reports the single bad object with a message naming the problem, while
    the good objects beside it are stored; returns how many objects were added."""
    assert r.status_code == 202, (r.status_code, r.text[:500])
    st = wait_status(node, r.json())
    assert st["failure_count"] == 1 and st["success_count"] == len(good), st
    msg = st["failures"][0].get("message", "").lower()
    assert any(w in msg for w in bad_words), msg
    got = node.session().get(node.objects_url(cid), params={"match[id]": ",".join(o["id"] for o in good)},
                             timeout=10).json().get("objects", [])
    assert sorted(o["id"] for o in got) == sorted(o["id"] for o in good)
    return len(good)


def test_json_huge_number(node, seeded):
    """1e99999 is JSON syntax but no number a parser can hold: a 400, or that object alone refused."""
    cid, objs = seeded
    before = count_objects(node, cid)
    good = [make_indicator(1000)]
    r = post_raw(node, cid, b'{"objects": [1e99999, ' + json.dumps(good[0]).encode() + b"]}")
    added = 0
    if r.status_code == 202:
        added = one_bad_object_among_good(node, cid, r, ["number"], good)
    else:
        assert_taxii_error(r, 400)
    still_serving(node, cid, before + added)


@pytest.mark.parametrize("shape", ["arrays", "objects"])
def test_json_nested_100000_deep_body(node, seeded, shape):
    """A body nested 100,000 deep is not an envelope: no stack overflow, a TAXII error."""
    cid, objs = seeded
    before = count_objects(node, cid)
    d = 100_000
    body = b"[" * d + b"]" * d if shape == "arrays" else b'{"a":' * d + b"1" + b"}" * d
    r = post_raw(node, cid, body)
    if shape == "arrays":
        assert_taxii_error(r, 400)
    else:  # an envelope with an unknown member and no objects: 400, or 422 (nothing to add)
        assert r.status_code in (400, 422), r.text[:300]
        assert_taxii_error(r, r.status_code)
    still_serving(node, cid, before)


def test_json_nested_100000_deep_inside_an_object(node, seeded):
    """One object of an envelope nested 100,000 deep: the whole body refused (400), or that object
    alone refused with a message about the nesting while its neighbour is stored."""
    cid, objs = seeded
    before = count_objects(node, cid)
    d = 100_000
    good = [make_indicator(1001)]
    ind = json.dumps(make_indicator(1))[:-1]
    body = ('{"objects":[' + json.dumps(good[0]) + "," + ind + ',"x_deep":').encode() + b"[" * d + b"]" * d + b"}]}"
    r = post_raw(node, cid, body)
    added = 0
    if r.status_code == 202:
        added = one_bad_object_among_good(node, cid, r, ["recursion", "deep", "nest", "depth"], good)
    else:
        assert_taxii_error(r, 400)
    still_serving(node, cid, before + added)


def test_top_level_array_is_not_an_envelope(node, seeded):
    """A JSON array at the top is not a TAXII envelope, whatever it holds; nothing is stored."""
    cid, objs = seeded
    before = count_objects(node, cid)
    for body in [[[make_indicator(2000)]], [[]], [make_indicator(2001)], []]:
        r = post_raw(node, cid, json.dumps(body).encode())
        assert_taxii_error(r, 400)
    still_serving(node, cid, before)


@pytest.mark.parametrize("body", [
    b'{"objects":[{"type":"indicator","name":"\xff\xfe"}]}',
    b'{"objects":[{"type":"indicator","name":"\xc3\x28"}]}',
    b'{"objects":[{"type":"indicator","name":"\xed\xa0\x80"}]}',  # UTF-8-encoded surrogate
    b'\xef\xbb\xbf{"objects":[]}\xff',
], ids=["ff-fe", "bad-continuation", "surrogate", "bom-and-garbage"])
def test_invalid_utf8_400(node, seeded, body):
    cid, objs = seeded
    before = count_objects(node, cid)
    r = post_raw(node, cid, body)
    assert_taxii_error(r, 400)
    still_serving(node, cid, before)


def test_lone_surrogate_escape_rejected(node, seeded):
    """A JSON \\ud800 escape is valid JSON syntax but not a Unicode scalar: not stored as garbage."""
    cid, objs = seeded
    before = count_objects(node, cid)
    o = make_indicator(5)
    body = json.dumps({"objects": [o]}).replace('"bench indicator 5"', '"bad \\ud800 name"').encode()
    r = post_raw(node, cid, body)
    if r.status_code == 202:
        st = wait_status(node, r.json())
        assert st["failure_count"] == 1 and st["success_count"] == 0, st
    else:
        assert_taxii_error(r, 400)
    still_serving(node, cid, before)


HOSTILE = ["../../../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "indicator--%00", "indicator--' OR '1'='1",
           "indicator--\"; DROP TABLE objects; --", "x" * 8000, "indicator--" + "9" * 5000,
           "indicator--ü💥\u202e", "%ff%fe", "indicator--12345678-1234-1234-1234-1234567890ab%0d%0aX-Evil:%201",
           "*", "%", "_"]


@pytest.mark.parametrize("hostile", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_object_id_in_path(node, seeded, hostile):
    cid, objs = seeded
    before = count_objects(node, cid)
    path = urlparse(node.objects_url(cid)).path + (hostile if "%" in hostile else quote(hostile, safe="")) + "/"
    for method in ["GET", "DELETE"]:
        st, h, b = curl("--path-as-is", "-X", method, "-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII,
                        node.base + path)
        assert st in (400, 404), (method, hostile[:80], st, b[:300])
        assert_curl_taxii_error(st, h, b, st)
        assert b"root:" not in b
    st, h, b = curl("--path-as-is", "-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII,
                    node.base + path + "versions/")
    assert st in (400, 404), (hostile[:80], st, b[:300])
    still_serving(node, cid, before)


@pytest.mark.parametrize("hostile", ["../default", "%2e%2e", "' OR 1=1 --", "x" * 5000, "ü💥"], ids=range(5))
def test_hostile_collection_and_root_in_path(node, seeded, hostile):
    cid, objs = seeded
    before = count_objects(node, cid)
    q = quote(hostile, safe="%")
    for url in [node.api_root + "collections/" + q + "/objects/", node.api_root + "collections/" + q + "/",
                node.base + "/taxii2/" + q + "/", node.api_root + "status/" + q + "/"]:
        st, h, b = curl("--path-as-is", "-u", "%s:%s" % node.admin, "-H", "Accept: " + TAXII, url)
        assert st in (400, 404), (url[:200], st, b[:300])
        assert_curl_taxii_error(st, h, b, st)
    still_serving(node, cid, before)


@pytest.mark.parametrize("param,value", [
    ("match[id]", "' OR '1'='1"), ("match[id]", "indicator--%' OR 1=1 --"), ("match[id]", "*"),
    ("match[id]", "%"), ("match[type]", "indicator' --"), ("match[type]", "%"), ("match[type]", "_"),
    ("match[type]", "x" * 10000), ("match[id]", "\u0000"), ("match[type]", "indicator\u0000"),
    ("match[id]", ",".join(f"indicator--{uuid.uuid4()}" for _ in range(300))),
    ("match[version]", "2024-01-01T00:00:00.000Z' OR 1=1"), ("match[spec_version]", "2.1' OR '1'='1"),
    ("added_after", "2024-01-01T00:00:00Z; DROP TABLE objects"), ("match[type]", "ïndicator"),
])
def test_hostile_filters(node, seeded, param, value):
    """Filter values never inject: either a 400 TAXII error or an honest (empty) result."""
    cid, objs = seeded
    before = count_objects(node, cid)
    r = node.session().get(node.objects_url(cid), params={param: value}, timeout=30)
    if r.status_code == 200:
        assert r.json().get("objects", []) == [], (param, value[:80], r.text[:300])
    else:
        assert_taxii_error(r, 400)
    still_serving(node, cid, before)


@pytest.mark.parametrize("params", [
    {"foo": "bar"}, {"match[foo]": "bar"}, {"match[]": "x"}, {"match": "x"}, {"MATCH[id]": "x"},
    {"match[id": "x"}, {"limit": "1", "offset": "10"}, {"added_before": "2024-01-01T00:00:00Z"},
])
def test_unknown_filters_400(node, seeded, params):
    cid, objs = seeded
    before = count_objects(node, cid)
    for url in [node.objects_url(cid), node.manifest_url(cid)]:
        r = node.session().get(url, params=params, timeout=10)
        assert_taxii_error(r, 400)
    still_serving(node, cid, before)


def test_filters_not_allowed_on_endpoint_400(node, seeded):
    """The spec lists which filters each endpoint takes; the versions endpoint takes no match[id]."""
    cid, objs = seeded
    before = count_objects(node, cid)
    s = node.session()
    oid = objs[0]["id"]
    r = s.get(node.objects_url(cid) + oid + "/versions/", params={"match[type]": "indicator"}, timeout=10)
    assert_taxii_error(r, 400)
    r = s.get(node.objects_url(cid) + oid + "/", params={"match[id]": oid}, timeout=10)
    assert_taxii_error(r, 400)
    r = s.get(node.collection_url(cid), params={"limit": "5"}, timeout=10)
    assert_taxii_error(r, 400)


def test_forged_next_tokens_400(node, seeded):
    cid, objs = seeded
    before = count_objects(node, cid)
    s = node.session()
    url = node.objects_url(cid)
    r = s.get(url, params={"limit": 5}, timeout=10)
    assert r.status_code == 200 and r.json()["more"] is True
    real = r.json()["next"]
    assert isinstance(real, str) and real
    forged = [
        "0", "garbage", "' OR 1=1 --", "x" * 10000, real[:-1], real + "A", real[::-1],
        base64.urlsafe_b64encode(b'{"date_added":"1970-01-01T00:00:00Z","rowid":0}').decode(),
        base64.b64encode(b"\x00" * 64).decode(), "../../../", "\u00fc\u00fc",
    ]
    # flip one character in the middle of the real token
    mid = len(real) // 2
    forged.append(real[:mid] + ("A" if real[mid] != "A" else "B") + real[mid + 1:])
    for tok in forged:
        if tok == real:
            continue
        r = s.get(url, params={"limit": 5, "next": tok}, timeout=10)
        assert_taxii_error(r, 400)
    # a real token on another collection or with other filters is not a way in either
    other = node.collections["big"]
    for what, u, p in [("token of another collection", node.objects_url(other), {}),
                       ("token with other filters", url, {"match[type]": "malware"}),
                       ("objects token on the manifest", node.manifest_url(cid), {})]:
        r = s.get(u, params={"limit": 5, "next": real, **p}, timeout=10)
        assert r.status_code == 400, (what, r.status_code, r.text[:300])
        assert_taxii_error(r, 400)
    # and the real one still works
    r = s.get(url, params={"limit": 5, "next": real}, timeout=10)
    assert r.status_code == 200 and len(r.json()["objects"]) == 5
    still_serving(node, cid, before)


def test_wrong_passwords_rate_limited_per_user(node, seeded):
    node.require("users")
    cid, objs = seeded
    before = count_objects(node, cid)
    url = node.objects_url(cid)
    h = taxii_headers()
    codes = [requests.get(url, auth=(VICTIM[0], f"wrong-{i}"), headers=h, timeout=10).status_code for i in range(5)]
    assert codes == [401] * 5, codes
    # the right password no longer helps, for a while
    r = requests.get(url, auth=VICTIM, headers=h, timeout=10)
    assert_taxii_error(r, 429)
    ra = r.headers.get("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) > 0, r.headers
    r = requests.get(url, auth=(VICTIM[0], "wrong-again"), headers=h, timeout=10)
    assert r.status_code == 429
    # everyone else is still served
    for user in (node.admin, ALICE):
        r = requests.get(url, auth=user, headers=h, timeout=10)
        assert r.status_code == 200, (user[0], r.status_code, r.text[:200])
    still_serving(node, cid, before)


def test_password_flood_keeps_serving_others(node, seeded):
    """Hundreds of wrong passwords from threads: no 5xx, the victim is locked, others are served fast."""
    node.require("users")
    cid, objs = seeded
    before = count_objects(node, cid)
    url = node.objects_url(cid)
    h = taxii_headers()
    codes = []
    lock = threading.Lock()

    def flood(k):
        s = requests.Session()
        for i in range(50):
            c = s.get(url, auth=(VICTIM2[0], f"bad-{k}-{i}"), headers=h, timeout=30).status_code
            with lock:
                codes.append(c)

    ts = [threading.Thread(target=flood, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    other_ok, slow = 0, 0
    while any(t.is_alive() for t in ts):
        t0 = time.time()
        r = requests.get(url, params={"limit": 1}, auth=ALICE, headers=h, timeout=30)
        assert r.status_code == 200, r.status_code
        other_ok += 1
        slow = max(slow, time.time() - t0)
    for t in ts:
        t.join()
    assert len(codes) == 400
    assert set(codes) <= {401, 429}, sorted(set(codes))
    assert codes.count(429) >= 400 - 8 * 5, f"only {codes.count(429)} of 400 answered 429"
    assert other_ok >= 1 and slow < 5, (other_ok, slow)
    r = requests.get(url, auth=VICTIM2, headers=h, timeout=10)
    assert r.status_code == 429
    # unknown user names are not a way to exhaust anything either
    for i in range(20):
        assert requests.get(url, auth=(f"nobody{i}", "x"), headers=h, timeout=10).status_code in (401, 429)
    assert requests.get(url, auth=node.admin, headers=h, timeout=10).status_code == 200
    still_serving(node, cid, before)


def test_rejected_objects_store_nothing(node, seeded):
    """An envelope of only invalid objects: each reported, none stored."""
    cid, objs = seeded
    before = count_objects(node, cid)
    bad = []
    o = make_indicator(1); o["created"] = "2024-13-01T00:00:00.000Z"; bad.append(o)  # noqa: E702
    o = make_indicator(2); o["modified"] = "2023-01-01T00:00:00.000Z"; bad.append(o)  # noqa: E702  modified < created
    o = make_indicator(3); o["id"] = "indicator--not-a-uuid"; bad.append(o)  # noqa: E702
    o = make_indicator(4); o["spec_version"] = "2.0"; bad.append(o)  # noqa: E702
    o = make_indicator(5); o["type"] = "Indicator"; bad.append(o)  # noqa: E702
    o = make_indicator(6); o["created"] = "2024-01-01T00:00:00+01:00"; bad.append(o)  # noqa: E702
    r = post_raw(node, cid, json.dumps({"objects": bad}).encode())
    if r.status_code == 202:
        st = wait_status(node, r.json())
        assert st["success_count"] == 0 and st["failure_count"] == len(bad), st
        assert all(f.get("message") for f in st["failures"]), st["failures"]
    else:
        assert_taxii_error(r, 422)
    still_serving(node, cid, before)
    for o in bad:
        rr = node.session().get(node.objects_url(cid), params={"match[id]": o["id"]}, timeout=10)
        assert rr.status_code in (200, 400)
        if rr.status_code == 200:
            assert rr.json().get("objects", []) == []
