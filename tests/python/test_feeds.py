"""Feed subscriptions between real `comity` processes over real HTTP.

Node B subscribes to a TAXII collection of node A (real TAXII paging with a small page
size, HTTP Basic to A), runs it, gets A's objects with the marking B assigns to unmarked
ones, then only what is new; a plain list served by a local ``http.server`` becomes
indicators and a value gone from it is revoked; a failing source shows its error and backs
off; and only admins reach ``/api/v1/feeds``. The scheduler is off (runs are by hand), so
every figure is exact.
"""

from __future__ import annotations

import datetime as dt
import functools
import http.server
import json
import threading
import time

import pytest
import requests

from conftest import ADMIN_PASSWORD, add_and_wait, fetch_all, free_port, make_indicator

TLP_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"
TLP_GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
USER_PASSWORD = "a-long-user-password"


@pytest.fixture
def node(comity_factory, monkeypatch):
    """A node with a viewer and an analyst, serving with the feed scheduler off."""
    monkeypatch.setenv("COMITY_FEED_SCHEDULER_SECONDS", "0")

    def users(n):
        n.add_user("viewer", USER_PASSWORD, role="viewer")
        n.add_user("analyst", USER_PASSWORD, role="analyst")

    return lambda: comity_factory(setup=users)


def feeds_url(n) -> str:
    return n.base + "/api/v1/feeds"


def add_feed(n, **body) -> requests.Response:
    body.setdefault("api_root", "default")
    body.setdefault("collection", n.collections["default"])
    return requests.post(feeds_url(n), json=body, auth=n.admin, timeout=30)


def run_feed(n, name: str) -> requests.Response:
    return requests.post(f"{feeds_url(n)}/{name}/run", auth=n.admin, timeout=120)


def listed(n) -> dict:
    r = requests.get(feeds_url(n), auth=n.admin, timeout=30)
    assert r.status_code == 200, r.text
    return {f["name"]: f for f in r.json()["feeds"]}


@pytest.fixture
def web(tmp_path):
    """A local ``http.server`` serving ``tmp_path/www``."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.root = root
    server.url = f"http://127.0.0.1:{server.server_address[1]}/"
    yield server
    server.shutdown()
    server.server_close()


def test_a_taxii_feed_pages_marks_the_unmarked_and_then_brings_only_what_is_new(node):
    a, b = node(), node()
    source = a.collections["default"]
    objects = [make_indicator(i) for i in range(130)]
    for o in objects[:10]:
        o["object_marking_refs"] = [TLP_GREEN]
    add_and_wait(a, source, objects)
    r = add_feed(b, name="peer-a", kind="taxii", url=a.collection_url(source),
                 markings=["amber"], page_size=25, interval_secs=600,
                 credential={"scheme": "basic", "user": "admin", "password": ADMIN_PASSWORD})
    assert r.status_code == 201, r.text
    assert ADMIN_PASSWORD not in r.text
    report = run_feed(b, "peer-a")
    assert report.status_code == 200, report.text
    first = report.json()
    assert (first["stored"], first["already"], first["refused"]) == (130, 0, 0)
    assert first["pages"] == 6  # 130 objects, 25 a page
    got = {o["id"]: o for o in fetch_all(b, b.collections["default"])}
    assert set(got) == {o["id"] for o in objects}
    for o in objects:
        expected = o.get("object_marking_refs", [TLP_AMBER])
        assert got[o["id"]]["object_marking_refs"] == expected, o["id"]
        assert got[o["id"]]["pattern"] == o["pattern"]
    # Only what A adds next comes on the next run.
    newer = [make_indicator(1000 + i) for i in range(7)]
    add_and_wait(a, source, newer)
    second = run_feed(b, "peer-a").json()
    assert (second["stored"], second["already"], second["pages"]) == (7, 0, 1)
    assert len(fetch_all(b, b.collections["default"])) == 137
    # Nothing new: nothing stored.
    third = run_feed(b, "peer-a").json()
    assert (third["stored"], third["already"]) == (0, 0)
    feed = listed(b)["peer-a"]
    assert (feed["runs"], feed["failures"], feed["objects"]) == (3, 0, 137)
    assert feed["authenticated"] is True and feed["last_error"] is None
    assert ADMIN_PASSWORD not in json.dumps(feed)
    metrics = requests.get(b.base + "/metrics", auth=b.admin, timeout=30).text
    assert 'comity_feed_objects{feed="peer-a"} 137' in metrics
    assert 'comity_feed_runs{feed="peer-a"} 3' in metrics
    # A wrong password is the source's refusal, recorded on the feed.
    r = add_feed(b, name="peer-a-bad", kind="taxii", url=a.collection_url(source),
                 credential={"scheme": "basic", "user": "admin", "password": "not-the-password-42"})
    assert r.status_code == 201, r.text
    failed = run_feed(b, "peer-a-bad")
    assert failed.status_code == 502 and "answered 401" in failed.text, failed.text
    assert "not-the-password-42" not in json.dumps(listed(b)["peer-a-bad"])


def test_a_list_feed_makes_indicators_once_and_revokes_what_disappears(node, web):
    b = node()
    (web.root / "block.txt").write_text(
        "# a blocklist\n203.0.113.9\nevil.example\nhttps://bad.example/x\n"
        "<script>alert(1)</script>\n' OR 1=1 --\n")
    r = add_feed(b, name="block", kind="list", url=web.url + "block.txt",
                 markings=["TLP:GREEN"], confidence=60, valid_days=30)
    assert r.status_code == 201, r.text
    first = run_feed(b, "block").json()
    assert (first["stored"], first["skipped"], first["revoked"]) == (3, 2, 0)
    indicators = fetch_all(b, b.collections["default"])
    assert len(indicators) == 3
    for i in indicators:
        assert i["object_marking_refs"] == [TLP_GREEN]
        assert i["confidence"] == 60 and "valid_until" in i
    again = run_feed(b, "block").json()
    assert again["unchanged"] is True and again["stored"] == 0
    # One value gone, one new.
    (web.root / "block.txt").write_text("evil.example\nhttps://bad.example/x\n198.51.100.7\n")
    changed = run_feed(b, "block").json()
    assert (changed["stored"], changed["revoked"]) == (2, 1)
    latest = {i["name"].split(" ")[0]: i for i in fetch_all(b, b.collections["default"])}
    assert latest["203.0.113.9"]["revoked"] is True
    assert "revoked" not in latest["198.51.100.7"]
    all_versions = fetch_all(b, b.collections["default"], params={"match[version]": "all"})
    assert len(all_versions) == 5


def test_a_failing_source_shows_its_error_and_backs_off(node, web):
    b = node()
    closed = free_port()
    assert add_feed(b, name="down", kind="list",
                    url=f"http://127.0.0.1:{closed}/list.txt").status_code == 201
    assert add_feed(b, name="missing", kind="list", url=web.url + "nothing.txt").status_code == 201
    before = dt.datetime.now(dt.timezone.utc)
    r = run_feed(b, "down")
    assert r.status_code == 502, r.text
    r = run_feed(b, "missing")
    assert r.status_code == 502 and "answered 404" in r.text, r.text
    feeds = listed(b)
    for name in ("down", "missing"):
        f = feeds[name]
        assert f["failures"] == 1 and f["failed_runs"] == 1 and f["last_error"], f
        retry = dt.datetime.fromisoformat(f["next_run"].replace("Z", "+00:00"))
        assert dt.timedelta(seconds=29) < retry - before < dt.timedelta(seconds=60), f
    assert "answered 404" in feeds["missing"]["last_error"]
    run_feed(b, "missing")
    f = listed(b)["missing"]
    assert f["failures"] == 2
    retry = dt.datetime.fromisoformat(f["next_run"].replace("Z", "+00:00"))
    assert retry - before > dt.timedelta(seconds=59), "the second retry waits twice as long"
    # The source comes back: the failures are cleared.
    (web.root / "nothing.txt").write_text("203.0.113.1\n")
    assert run_feed(b, "missing").json()["stored"] == 1
    f = listed(b)["missing"]
    assert (f["failures"], f["failed_runs"], f["last_error"]) == (0, 2, None)


def test_only_admins_reach_feeds_and_bad_subscriptions_are_refused_precisely(node):
    b = node()
    good = dict(name="ok", kind="list", url="https://feeds.example/list.txt",
                api_root="default", collection=b.collections["default"])
    for who in ("viewer", "analyst"):
        auth = (who, USER_PASSWORD)
        calls = [
            requests.get(feeds_url(b), auth=auth, timeout=30),
            requests.post(feeds_url(b), json=good, auth=auth, timeout=30),
            requests.delete(feeds_url(b) + "/ok", auth=auth, timeout=30),
            requests.delete(feeds_url(b) + "/nope", auth=auth, timeout=30),
            requests.post(feeds_url(b) + "/ok/run", auth=auth, timeout=30),
        ]
        assert [c.status_code for c in calls] == [403] * 5, (who, [c.text for c in calls])
    for call in (requests.get, requests.post, requests.delete):
        assert call(feeds_url(b) + ("/ok" if call is requests.delete else ""),
                    timeout=30).status_code == 401
    assert listed(b) == {}
    refusals = [
        (dict(good, kind="rss"), "unknown variant"),
        (dict(good, url="http://feeds.example/x"), "plain http off loopback"),
        (dict(good, url="gopher://feeds.example/"), "scheme"),
        (dict(good, collection="no-such-collection"), "no collection"),
        (dict(good, interval_secs=10), "interval"),
        (dict(good, interval_secs="often"), "invalid body"),
        (dict(good, markings=["ultraviolet"]), "markings"),
        (dict(good, name="../../etc/passwd"), "name"),
        (dict(good, surprise=1), "unknown field"),
        (dict(good, kind="taxii"), "collections"),
    ]
    for body, expected in refusals:
        r = requests.post(feeds_url(b), json=body, auth=b.admin, timeout=30)
        assert r.status_code == 400 and expected in r.text, (body, r.status_code, r.text)
    r = requests.post(feeds_url(b), data=b"{not json", auth=b.admin, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    r = requests.post(feeds_url(b), data=b"[" * 20000 + b"]" * 20000, auth=b.admin, timeout=30,
                      headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    assert listed(b) == {}, "nothing refused was stored"
    assert requests.post(feeds_url(b), json=good, auth=b.admin, timeout=30).status_code == 201
    assert requests.post(feeds_url(b), json=good, auth=b.admin, timeout=30).status_code == 409
    assert requests.post(feeds_url(b) + "/nope/run", auth=b.admin, timeout=30).status_code == 404
    assert requests.delete(feeds_url(b) + "/nope", auth=b.admin, timeout=30).status_code == 404
    assert requests.delete(feeds_url(b) + "/ok", auth=b.admin, timeout=30).status_code == 204
    assert listed(b) == {}


def test_the_scheduler_of_comity_serve_runs_due_feeds_on_its_own(comity_factory, monkeypatch, web):
    monkeypatch.setenv("COMITY_FEED_SCHEDULER_SECONDS", "1")
    b = comity_factory()
    (web.root / "ips.txt").write_text("203.0.113.50\n")
    assert add_feed(b, name="auto", kind="list", url=web.url + "ips.txt").status_code == 201
    deadline = time.time() + 20
    while time.time() < deadline:
        feed = listed(b)["auto"]
        if feed["runs"] >= 1:
            break
        time.sleep(0.2)
    assert (feed["runs"], feed["objects"], feed["failures"]) == (1, 1, 0), feed
    # Not due again before its interval (an hour): no second run.
    time.sleep(2.5)
    assert listed(b)["auto"]["runs"] == 1
