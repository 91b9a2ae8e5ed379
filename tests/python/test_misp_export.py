"""MISP export: a real node's collection as a MISP feed, through `comity export --format
misp-feed --out DIR` and `GET /api/v1/collections/{id}/misp-feed/{file}`, read back with the
real PyMISP (written by others) as the oracle: every event file loads in
``pymisp.MISPEvent().load``, every attribute has a type MISP knows and a category that type
takes (PyMISP's copy of MISP's ``describeTypes.json``), the manifest is what PyMISP makes of
each event, and ``hashes.csv`` holds PyMISP's MD5s of the attribute values.

Round trip: events built with PyMISP -> ``comity import --misp`` -> the feed -> PyMISP gives
the same attributes (uuid, type, value, category, to_ids, comment), tags and sightings, and
the same galaxy clusters. Exceptions, on purpose (README, "MISP export"):

- the feed also tags each event with its galaxy clusters (``misp-galaxy:<type>="<value>"``,
  the tag MISP attaches a cluster by); the comparison leaves these tags out;
- an attribute's TLP tag appears only when its level differs from its event's, since the
  import gives every object its event's TLP;
- a sighting keeps its uuid and date; MISP's sighting ``type`` (always 0 here), source and
  organisation are not carried by STIX sightings.

The sharing policy decides first: another member's TLP:RED object never reaches the feed of a
reader who may not read it; every route refuses who may not export.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from conftest import add_and_wait, target
from federation_nodes import GREEN, RED, T0, federation

pymisp = pytest.importorskip("pymisp")

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: MISP export")

ANALYST = ("misp", "misp-password-1")
HOSTILE = 'x", "to_ids": true}]}}\n\u202e<script>,md5'

VIEWER = ("vic", "vic-password-1")
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
# The namespace of the UUIDv5s the export derives (crates/node/src/misp_feed/convert.rs).
NAMESPACE = uuid.UUID("8f0e3c52-5b7a-4d1e-9c61-2a4f0b7de913")
DESCRIBE = pymisp.MISPAttribute().describe_types


def misp_event(published: bool, tlp: str) -> dict:
    """A MISP event in the core format, as a MISP instance exports it (with sightings and
    galaxies, which a feed built by PyMISP's ``to_feed`` leaves out)."""
    e = pymisp.MISPEvent()
    e.uuid = str(uuid.uuid4())
    e.info = f"Campaign {e.uuid[:8]}"
    e.timestamp = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    e.date = "2026-11-30"
    e.published = published
    e.add_tag(tlp)
    e.add_tag("type:OSINT")
    ip = e.add_attribute("ip-dst", "203.0.113.9", to_ids=True, category="Network activity")
    ip.add_sighting({"uuid": str(uuid.uuid4()), "date_sighting": 1764504000, "type": "0"})
    e.add_attribute("ip-src", "2001:db8::7", to_ids=True, category="Payload delivery")
    e.add_attribute("hostname", "mail.evil.example", to_ids=True, category="Network activity")
    e.add_attribute("domain", "evil.example", to_ids=False, category="External analysis")
    e.add_attribute("url", "https://bad.example/it's", to_ids=True, category="Network activity",
                    comment="the landing page")
    e.add_attribute("link", "https://blog.example/report", to_ids=False, category="External analysis")
    e.add_attribute("sha256", SHA256, to_ids=True, category="Artifacts dropped")
    e.add_attribute("md5", "d41d8cd98f00b204e9800998ecf8427e", to_ids=False, category="Payload delivery")
    e.add_attribute("filename", "invoice.pdf.exe", to_ids=False, category="Payload delivery")
    e.add_attribute("email-src", "boss@evil.example", to_ids=True, category="Payload delivery")
    e.add_attribute("mutex", "Global\\evil", to_ids=True, category="Artifacts dropped")
    green = e.add_attribute("domain", "green.example", to_ids=True, category="Network activity")
    green.add_tag("tlp:green")
    green.add_tag("kill-chain:delivery")
    org = pymisp.MISPOrganisation()
    org.name, org.uuid = "CERT-ZZ", "55f6ea5e-2c60-40e5-964f-47a8950d210f"
    e.Orgc = org
    event = {"Event": json.loads(e.to_json())}
    event["Event"]["Galaxy"] = [{"type": "threat-actor", "name": "Threat Actor", "GalaxyCluster": [
        {"uuid": str(uuid.uuid4()), "type": "threat-actor", "value": f"APT {e.uuid[:4]}",
         "description": "A group."}]}]
    return event


def ind(pattern: str, marking: str = GREEN, **extra) -> dict:
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0,
           "modified": T0, "name": "c2", "pattern": pattern, "pattern_type": "stix", "valid_from": T0,
           "object_marking_refs": [marking]}
    obj.update(extra)
    return obj


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("misp-export")
    with federation(tmp, "AB", [], serve="A") as w:
        a, b = w["A"], w["B"]
        for (name, password), role in ((ANALYST, "analyst"), (VIEWER, "viewer")):
            a.node.cli("user", "add", name, "--role", role, "--data-dir", a.node.data_dir,
                       env={"COMITY_USER_PASSWORD": password})
        cid = a.node.collections["default"]
        events = [misp_event(True, "tlp:amber"), misp_event(False, "tlp:green")]
        for e in events:
            path = tmp / f"{e['Event']['uuid']}.json"
            path.write_text(json.dumps(e))
            a.node.cli("import", "--misp", "--data-dir", a.node.data_dir, path)
        objs = {
            "own_red": ind("[domain-name:value = 'own-red.example']", RED),
            "their_red": ind("[domain-name:value = 'their-red.example']", RED, created_by_ref=b.id),
            "pair": ind("[ipv4-addr:value = '192.0.2.1'] OR [ipv4-addr:value = '192.0.2.2']"),
            "loose": ind("[domain-name:value = 'loose.example']", labels=[HOSTILE]),
        }
        report = {"type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "created": T0,
                  "modified": T0, "published": T0, "name": HOSTILE,
                  "object_refs": [objs["own_red"]["id"], objs["their_red"]["id"]],
                  "object_marking_refs": [GREEN]}
        add_and_wait(a.node, cid, [*objs.values(), report], user=a.node.admin)
        for user in (ANALYST[0], VIEWER[0]):
            a.node.cli("collection", "grant", cid, user, "--read", "--data-dir", a.node.data_dir)
        restricted = a.node.cli("collection", "add", "--title", "restricted", "--data-dir",
                                a.node.data_dir).stdout.decode().strip()
        add_and_wait(a.node, restricted, [ind("[domain-name:value = 'hidden.example']")], user=a.node.admin)
        yield {"a": a, "b": b, "cid": cid, "events": events, "objs": objs, "report": report,
               "restricted": restricted, "tmp": tmp}


def cli_export(a, out: Path, *args, check=True):
    return a.node.cli("export", "--format", "misp-feed", "--out", out, *args, "--data-dir", a.node.data_dir,
                      check=check)


def get(a, cid: str, name: str, auth=ANALYST, headers=None) -> requests.Response:
    return requests.get(f"{a.url}/api/v1/collections/{cid}/misp-feed/{name}", auth=auth,
                        headers=headers or {}, timeout=60)


def read_dir(out: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(out.iterdir())}


def load(text: str) -> pymisp.MISPEvent:
    e = pymisp.MISPEvent()
    e.load(text)
    return e


def test_every_file_is_what_pymisp_reads_and_makes(world):
    a, tmp = world["a"], world["tmp"]
    out = tmp / "feed"
    run = cli_export(a, out)
    assert b"Exported" in run.stderr, run.stderr
    files = read_dir(out)
    manifest = json.loads(files.pop("manifest.json"))
    hashes = files.pop("hashes.csv").splitlines()
    assert sorted(files) == sorted(f"{u}.json" for u in manifest), (sorted(files), list(manifest))
    expected_hashes = []
    for name, text in files.items():
        e = load(text)
        assert f"{e.uuid}.json" == name
        # The manifest's entry is PyMISP's manifest of the event (its numbers as text, its
        # tags by name: PyMISP adds the colour and flags it gives tags by default).
        theirs = {k: (str(v) if isinstance(v, int) else v) for k, v in e.manifest[e.uuid].items()}
        theirs["Tag"] = [{"name": t["name"]} for t in theirs["Tag"]]
        assert theirs == manifest[e.uuid], (theirs, manifest[e.uuid])
        assert e.attributes, name
        for attr in e.attributes:
            assert attr.type in DESCRIBE["types"], attr.type
            assert attr.type in DESCRIBE["category_type_mappings"][attr.category], (attr.type, attr.category)
            assert isinstance(attr.to_ids, bool)
        expected_hashes += [f"{h},{e.uuid}" for h in e.attributes_hashes("md5")]
    assert sorted(hashes) == sorted(expected_hashes)
    # A second export, into the same directory or another, writes the same bytes: UUIDs
    # and order do not move.
    first = read_dir(out)
    cli_export(a, out)
    assert read_dir(out) == first
    again = tmp / "feed-again"
    cli_export(a, again)
    assert read_dir(again) == first


def attribute_summary(e: pymisp.MISPEvent) -> dict:
    out = {}
    for attr in e.attributes:
        tags = sorted(t.name for t in attr.tags if not t.name.startswith("tlp:"))
        sightings = sorted((s.uuid, int(s.date_sighting.timestamp() if isinstance(s.date_sighting, datetime)
                                        else s.date_sighting)) for s in attr.sightings)
        out[attr.uuid] = (attr.type, attr.value, attr.category, attr.to_ids, getattr(attr, "comment", ""), tags,
                          sightings)
    return out


def test_misp_events_come_back_through_comity_as_they_were(world):
    a, tmp = world["a"], world["tmp"]
    out = tmp / "round-trip"
    cli_export(a, out)
    for original in world["events"]:
        ours = load((out / f"{original['Event']['uuid']}.json").read_text())
        theirs = load(json.dumps(original))
        assert ours.info == theirs.info and ours.date == theirs.date
        assert bool(ours.published) == bool(theirs.published)
        assert (ours.Orgc.uuid, ours.Orgc.name) == (theirs.Orgc.uuid, theirs.Orgc.name)
        assert attribute_summary(ours) == attribute_summary(theirs)
        event_tags = lambda ev: sorted(t.name for t in ev.tags if not t.name.startswith("misp-galaxy:"))  # noqa: E731
        assert event_tags(ours) == event_tags(theirs)
        tlp = next(t.name for t in theirs.tags if t.name.startswith("tlp:"))
        # Attribute TLP tags: only the attribute whose level differs from its event's.
        for attr in ours.attributes:
            own = [t.name for t in attr.tags if t.name.startswith("tlp:")]
            assert own == (["tlp:green"] if attr.value == "green.example" and tlp != "tlp:green" else []), \
                (attr.value, own)
        clusters = lambda ev: sorted((g.type, c.uuid, c.value) for g in ev.galaxies for c in g.clusters)  # noqa: E731
        assert clusters(ours) == clusters(theirs)
        assert [t.name for t in ours.tags if t.name.startswith("misp-galaxy:")] == \
            [f'misp-galaxy:threat-actor="{c[2]}"' for c in clusters(theirs)]


def feed_texts(a, cid, auth=ANALYST) -> str:
    manifest = get(a, cid, "manifest.json", auth=auth)
    assert manifest.status_code == 200, (manifest.status_code, manifest.text)
    texts = [manifest.text, get(a, cid, "hashes.csv", auth=auth).text]
    for u in manifest.json():
        r = get(a, cid, f"{u}.json", auth=auth)
        assert r.status_code == 200 and r.headers["Content-Type"] == "application/json", (r.status_code, r.text)
        texts.append(r.text)
    return "\n".join(texts)


def test_the_policy_decides_what_reaches_the_feed(world):
    a, cid, objs, report = world["a"], world["cid"], world["objs"], world["report"]
    text = feed_texts(a, cid)
    assert "own-red.example" in text and "loose.example" in text
    assert "their-red.example" not in text
    assert hashlib.md5(b"their-red.example").hexdigest() not in text
    # The report is an event holding what the reader may see of it.
    event = load(get(a, cid, f"{report['id'].split('--')[1]}.json").text)
    assert [(x.type, x.value) for x in event.attributes] == [("domain", "own-red.example")]
    assert [t.name for t in event.tags] == ["tlp:green"]
    assert event.info == HOSTILE
    assert [t.name for t in event.attributes[0].tags] == ["tlp:red"]
    # What no report holds is in the event of the day it was added; a pattern of two values
    # is kept whole.
    days = [u for u in get(a, cid, "manifest.json").json()
            if any(u == str(uuid.uuid5(NAMESPACE, f"day:{cid}:{d}")) for d in
                   {datetime.now(timezone.utc).strftime("%Y-%m-%d")})]
    assert len(days) == 1, days
    day = load(get(a, cid, f"{days[0]}.json").text)
    kinds = {(x.type, x.value, x.to_ids) for x in day.attributes}
    assert ("domain", "loose.example", True) in kinds
    loose = next(x for x in day.attributes if x.value == "loose.example")
    assert [t.name for t in loose.tags] == ["tlp:green", HOSTILE]
    assert ("stix2-pattern", objs["pair"]["pattern"], True) in kinds
    # The CLI (this organisation's own export) is the same feed.
    out = world["tmp"] / "policy"
    cli_export(a, out)
    assert "their-red.example" not in "".join(read_dir(out).values())


def test_a_feed_is_pulled_with_etags_and_revoked_objects_leave(world):
    a, cid, objs = world["a"], world["cid"], world["objs"]
    secret = a.node.cli("token", "create", "--user", ANALYST[0], "--label", "misp",
                        "--data-dir", a.node.data_dir).stdout.decode().strip()
    bearer = {"Authorization": f"Bearer {secret}"}
    r = get(a, cid, "manifest.json", auth=None, headers=bearer)
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/json", (r.status_code, r.text)
    etag = r.headers["ETag"]
    again = get(a, cid, "manifest.json", auth=None, headers={**bearer, "If-None-Match": etag})
    assert again.status_code == 304 and again.text == "" and again.headers["ETag"] == etag
    csv = get(a, cid, "hashes.csv", auth=None, headers=bearer)
    assert csv.status_code == 200 and csv.headers["Content-Type"].startswith("text/csv")
    before = r.json()
    revoked = {**objs["loose"], "modified": "2026-12-01T10:00:00.000Z", "revoked": True}
    add_and_wait(a.node, cid, [revoked], user=a.node.admin)
    after = get(a, cid, "manifest.json", auth=None, headers={**bearer, "If-None-Match": etag})
    assert after.status_code == 200 and after.headers["ETag"] != etag
    changed = [u for u in before if before[u]["timestamp"] != after.json()[u]["timestamp"]]
    assert len(changed) == 1, changed
    day = get(a, cid, f"{changed[0]}.json", auth=None, headers=bearer).text
    assert "loose.example" not in day
    assert hashlib.md5(b"loose.example").hexdigest() not in get(a, cid, "hashes.csv").text


def test_a_misp_feed_consumer_reads_the_feed_with_the_members_token(world):
    """Another node subscribes to the feed as it subscribes to any MISP feed (manifest, then
    each event), with a Bearer token: it gets what the reader may read, and a second run
    reads nothing again."""
    a, b, cid = world["a"], world["b"], world["cid"]
    secret = a.node.cli("token", "create", "--user", ANALYST[0], "--label", "peer-misp",
                        "--data-dir", a.node.data_dir).stdout.decode().strip()
    env = {"A_MISP_TOKEN": secret}
    b.node.cli("feed", "add", "from-a", "--kind", "misp", "--url", f"{a.url}/api/v1/collections/{cid}/misp-feed",
               "--marking", "amber", "--token-env", "A_MISP_TOKEN", "--data-dir", b.node.data_dir, env=env)

    def run() -> dict:
        out = b.node.cli("feed", "run", "from-a", "--json", "--data-dir", b.node.data_dir, env=env)
        return json.loads(out.stdout)

    first = run()
    assert first["stored"] > 0 and first["refused"] == 0, first
    stored = json.dumps(b.node.export()["objects"])
    assert "own-red.example" in stored and "203.0.113.9" in stored
    assert "their-red.example" not in stored
    second = run()
    assert (second["stored"], second["pages"]) == (0, 1), second


@pytest.mark.parametrize("auth,name,status,says", [
    (None, "manifest.json", 401, ""),
    (("misp", "wrong-password"), "manifest.json", 401, ""),
    (VIEWER, "manifest.json", 403, "viewer role may not export"),
    (ANALYST, "feed.xml", 400, "no file of a MISP feed"),
    (ANALYST, "not-a-uuid.json", 400, "not an event UUID"),
    (ANALYST, "5F1C6B5E-1D2A-4C3B-9E8F-0A1B2C3D4E5F.json", 400, "not an event UUID"),
    (ANALYST, "%2e%2e%2fmanifest.json", 400, "not an event UUID"),
    (ANALYST, "5f1c6b5e-1d2a-4c3b-9e8f-0a1b2c3d4e5f.json", 404, "no event"),
])
def test_who_may_pull_and_what_is_refused(world, auth, name, status, says):
    r = get(world["a"], world["cid"], name, auth=auth)
    assert r.status_code == status and says in r.text, (r.status_code, r.text)
    assert "evil.example" not in r.text


def test_a_collection_the_user_may_not_read_answers_as_one_that_does_not_exist(world):
    a, restricted = world["a"], world["restricted"]
    admin = get(a, restricted, "hashes.csv", auth=a.node.admin)
    assert admin.status_code == 200 and hashlib.md5(b"hidden.example").hexdigest() in admin.text
    for cid in (restricted, str(uuid.uuid4()), "../../etc"):
        r = get(a, cid, "manifest.json")
        assert r.status_code == 404, (r.status_code, r.text)
        assert "hidden.example" not in r.text


@pytest.mark.parametrize("args,says", [
    (["--format", "misp-feed"], "--format misp-feed needs --out DIR"),
    (["--format", "suricata", "--out", "x"], "--out goes with --format misp-feed"),
    (["--format", "misp-feed", "--out", "x", "--all-versions"], "do not go with --format misp-feed"),
    (["--format", "misp-feed", "--out", "/proc/version/feed"], "cannot write the feed into"),
])
def test_the_cli_refuses_what_it_cannot_do(world, args, says):
    a = world["a"]
    run = a.node.cli("export", *args, "--data-dir", a.node.data_dir, check=False)
    assert run.returncode != 0 and says in run.stderr.decode(), run.stderr.decode()
