"""OpenCTI's TAXII 2.1 feed ingestion against a Comity collection: the same requests, in
the same order, with the same state between runs, as OpenCTI's ingestion manager makes
(`opencti-graphql/src/manager/ingestion/ingestionTaxii.ts`): GET
`{uri}collections/{id}/objects/` with `Accept: application/taxii+json;version=2.1`, Basic
or Bearer authentication, `added_after` (kept for the whole paging) and `next` while the
answer says `more`, an optional `limit` (its `limit_per_request` setting), and, once a
page comes without `more`, `added_after` set to the `X-TAXII-Date-Added-Last` header
written back as JavaScript's `toISOString()` does (milliseconds). OpenCTI itself is not run
here (it needs Elasticsearch, Redis, RabbitMQ and MinIO); what it would see is checked.
"""

from __future__ import annotations

import base64
import datetime as dt

import pytest
import requests

from conftest import add_and_wait, make_indicator, target

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: ingestion set-up")

READER = ("opencti", "opencti-reader-password")


class OpenCtiTaxiiIngestion:
    """One OpenCTI "TAXII feed" ingestion: its settings and the state it keeps between runs
    (`current_state_cursor`, `added_after_start`)."""

    def __init__(self, uri: str, collection: str, auth: tuple[str, str], limit: int | None = None):
        self.uri, self.collection, self.auth, self.limit = uri, collection, auth, limit
        self.cursor: str | None = None
        self.added_after_start: str | None = None
        self.requests: list[dict] = []

    def run(self) -> list[dict]:
        """One run of the ingestion manager: one GET, the objects it would push to its
        workers, and the state update it would write."""
        kind, value = self.auth
        headers = {"Accept": "application/taxii+json;version=2.1"}
        if kind == "basic":
            headers["Authorization"] = "Basic " + base64.b64encode(value.encode()).decode()
        elif kind == "bearer":
            headers["Authorization"] = f"Bearer {value}"
        uri = self.uri if self.uri.endswith("/") else self.uri + "/"
        params = {k: v for k, v in (("next", self.cursor), ("added_after", self.added_after_start),
                                    ("limit", self.limit)) if v is not None}
        self.requests.append(params)
        r = requests.get(f"{uri}collections/{self.collection}/objects/", params=params, headers=headers, timeout=60)
        assert r.status_code == 200, (r.status_code, r.text)
        data = r.json()
        objects = data.get("objects") or []
        if not objects:
            return []
        if data.get("more") and data.get("next"):
            self.cursor = data["next"]
        else:
            self.cursor = None
            last = r.headers.get("X-TAXII-Date-Added-Last")
            at = dt.datetime.fromisoformat(last.replace("Z", "+00:00")) if last else dt.datetime.now(dt.timezone.utc)
            self.added_after_start = at.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + \
                f"{at.microsecond // 1000:03d}Z"
        return objects


@pytest.fixture
def node(comity_factory):
    def users(n):
        n.add_user(*READER, role="viewer")
    n = comity_factory(setup=users)
    cid = n.collections["default"]
    n.cli("collection", "grant", cid, READER[0], "--read", "--data-dir", n.data_dir)
    return n


def ingest_pass(ingestion: OpenCtiTaxiiIngestion, runs: int = 50) -> list[str]:
    """Runs the ingestion until it has paged through to the end (no cursor left); the ids it
    brought, in order."""
    got: list[str] = []
    for _ in range(runs):
        got += [o["id"] for o in ingestion.run()]
        if ingestion.cursor is None:
            return got
    raise AssertionError(f"still paging after {runs} runs: {ingestion.requests[-3:]}")


def last_millisecond(node, cid: str) -> set[str]:
    """The ids whose date_added falls in the collection's last millisecond."""
    r = node.session().get(node.manifest_url(cid), headers={"Accept": "application/taxii+json;version=2.1"},
                           timeout=60)
    assert r.status_code == 200, r.text
    entries = r.json()["objects"]
    while r.json().get("more"):
        r = node.session().get(node.manifest_url(cid), params={"next": r.json()["next"]},
                               headers={"Accept": "application/taxii+json;version=2.1"}, timeout=60)
        entries += r.json()["objects"]
    last = max(e["date_added"] for e in entries)[:23]
    return {e["id"] for e in entries if e["date_added"][:23] == last}


@pytest.mark.parametrize("auth_kind", ["basic", "bearer"])
def test_opencti_pages_through_a_collection_then_takes_only_what_is_new(node, auth_kind):
    cid = node.collections["default"]
    first = [make_indicator(i) for i in range(250)]
    add_and_wait(node, cid, first)
    if auth_kind == "basic":
        auth = ("basic", f"{READER[0]}:{READER[1]}")
    else:
        token = node.cli("token", "create", "--user", READER[0], "--label", "opencti",
                         "--data-dir", node.data_dir).stdout.decode().strip()
        auth = ("bearer", token)
    ingestion = OpenCtiTaxiiIngestion(node.api_root, cid, auth, limit=100)
    got = ingest_pass(ingestion)
    # three pages of at most 100, following `next` with the same (absent) added_after
    assert len(ingestion.requests) == 3 and [len(got[:100]), len(got[100:200]), len(got[200:])] == [100, 100, 50]
    assert ingestion.requests == [{"limit": 100}, {"next": ingestion.requests[1]["next"], "limit": 100},
                                  {"next": ingestion.requests[2]["next"], "limit": 100}]
    assert sorted(got) == sorted(o["id"] for o in first)
    assert ingestion.added_after_start
    # a later run brings what was added since; and, because OpenCTI keeps added_after to the
    # millisecond, the objects added in what was then the last millisecond (it upserts them
    # by id: nothing is duplicated in OpenCTI, the work is repeated)
    again = last_millisecond(node, cid)
    later = [make_indicator(1000 + i) for i in range(30)]
    add_and_wait(node, cid, later)
    got_later = ingest_pass(ingestion)
    assert len(got_later) == len(set(got_later))
    assert {o["id"] for o in later} <= set(got_later)
    assert set(got_later) - {o["id"] for o in later} <= again, "nothing older than the last millisecond"
    assert ingestion.requests[-1].get("added_after")


def test_opencti_with_wrong_credentials_or_a_collection_it_may_not_read_gets_nothing(node):
    cid = node.collections["default"]
    add_and_wait(node, cid, [make_indicator(1)])
    for auth in (("basic", f"{READER[0]}:wrong-password"), ("bearer", "comity_not-a-token")):
        with pytest.raises(AssertionError, match="^\\(401"):
            OpenCtiTaxiiIngestion(node.api_root, cid, auth).run()
    hidden = node.cli("collection", "add", "--title", "not for opencti", "--data-dir",
                      node.data_dir).stdout.decode().strip()
    with pytest.raises(AssertionError, match="^\\(404"):
        OpenCtiTaxiiIngestion(node.api_root, hidden, ("basic", f"{READER[0]}:{READER[1]}")).run()
