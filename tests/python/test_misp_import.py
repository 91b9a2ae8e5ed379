"""`comity import --misp` against the real PyMISP and misp-stix packages.

Events are built with PyMISP (what a MISP instance exports), imported with
`comity import --misp`, and what the node stores is compared with what misp-stix's
``MISPtoSTIX21Parser`` makes of the same events: the same attributes become indicators
(with the same patterns) or observations (of the same value types), and the event the same
container type. Where Comity differs from misp-stix on purpose, the test says so:

- TLP tags become TLP 2.0 markings (misp-stix writes TLP 1.0 ids) and the event's TLP is
  carried by every object made from it, not only by the report or grouping, because the
  node enforces markings per object at every exit.
- An attribute with ``to_ids`` becomes an indicator only; misp-stix (since 2026.3) also
  makes an observed-data and a relationship for it. The published mapping's indicator is
  what the node matches and shares; the observation would repeat it.
- An observed IP address is an ``ipv4-addr``/``ipv6-addr`` alone; misp-stix adds the
  ``network-traffic`` that refers to it. SCO ids are the deterministic ones STIX 2.1 defines
  (misp-stix draws them at random), so the same value observed twice is one SCO.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

pymisp = pytest.importorskip("pymisp")
misp_stix = pytest.importorskip("misp_stix_converter")

SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
TLP2_AMBER = "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"


def pymisp_event(published: bool) -> dict:
    e = pymisp.MISPEvent()
    e.uuid = str(uuid.uuid4())
    e.info = "Phishing wave against the ministry"
    e.timestamp = datetime(2026, 11, 30, 12, 0, tzinfo=timezone.utc)
    e.date = "2026-11-30"
    e.published = published
    e.add_tag("tlp:amber")
    e.add_tag("type:OSINT")
    e.add_attribute("ip-dst", "203.0.113.9", to_ids=True, category="Network activity")
    e.add_attribute("ip-src", "2001:db8::7", to_ids=True, category="Network activity")
    e.add_attribute("domain", "evil.example", to_ids=False, category="Network activity")
    e.add_attribute("url", "https://bad.example/it's", to_ids=True, category="Network activity")
    e.add_attribute("sha256", SHA256, to_ids=True, category="Payload delivery")
    e.add_attribute("md5", "d41d8cd98f00b204e9800998ecf8427e", to_ids=False,
                    category="Payload delivery")
    e.add_attribute("filename", "invoice.pdf.exe", to_ids=False, category="Payload delivery")
    if published:
        e.publish_timestamp = e.timestamp
    org = pymisp.MISPOrganisation()
    org.name, org.uuid = "CERT-ZZ", "55f6ea5e-2c60-40e5-964f-47a8950d210f"
    e.Orgc = org
    # What a MISP feed serves for the event (`{uuid}.json`).
    return e.to_feed()


def misp_stix_objects(event: dict) -> list[dict]:
    parser = misp_stix.MISPtoSTIX21Parser()
    parser.parse_misp_event(event)
    return [json.loads(o.serialize()) for o in parser.stix_objects]


def comity_objects(node, tmp_path, event: dict) -> list[dict]:
    path = tmp_path / f"{event['Event']['uuid']}.json"
    path.write_text(json.dumps(event))
    node.cli("import", "--misp", "--data-dir", node.data_dir, path)
    return node.export()["objects"]


def by_attribute(objects: list[dict], attributes: list[dict]) -> dict:
    """What each attribute became: its uuid -> (type, pattern or SCO types)."""
    index = {o["id"]: o for o in objects}
    out = {}
    for a in attributes:
        for ty in ("indicator", "observed-data"):
            o = index.get(f"{ty}--{a['uuid']}")
            if o is None:
                continue
            if ty == "indicator":
                out[a["uuid"]] = (ty, o["pattern"])
            else:
                out[a["uuid"]] = (ty, {index[r]["type"] for r in o["object_refs"] if r in index})
            break
    return out


@pytest.mark.parametrize("published", [True, False])
def test_pymisp_events_convert_as_misp_stix_converts_them(comity_factory, tmp_path, published):
    node = comity_factory(start=False)
    event = pymisp_event(published)
    attributes = event["Event"]["Attribute"]
    ours = comity_objects(node, tmp_path, event)
    theirs = misp_stix_objects(event)
    container = "report" if published else "grouping"
    assert {o["type"] for o in theirs} >= {container}
    mine = [o for o in ours if o["type"] == container]
    assert [o["id"] for o in mine] == [f"{container}--{event['Event']['uuid']}"]
    ours_map, theirs_map = by_attribute(ours, attributes), by_attribute(theirs, attributes)
    assert set(ours_map) == {a["uuid"] for a in attributes}, "every attribute is converted"
    for a in attributes:
        our_type, our_detail = ours_map[a["uuid"]]
        # misp-stix makes both for to_ids attributes; by_attribute takes its indicator.
        their_type, their_detail = theirs_map[a["uuid"]]
        assert our_type == their_type, a
        if our_type == "indicator":
            assert our_detail == their_detail, a
        else:
            # Ours is the value's SCO alone; theirs may add network-traffic.
            assert our_detail <= their_detail, (a, our_detail, their_detail)
    # The event's TLP is TLP 2.0 AMBER on every object made from it.
    for o in ours:
        if o["type"] in ("indicator", "observed-data", container):
            assert o["object_marking_refs"] == [TLP2_AMBER], o["id"]
    assert next(o for o in mine)["labels"] == ["type:OSINT"]


def test_importing_an_event_twice_stores_nothing_new(comity_factory, tmp_path):
    node = comity_factory(start=False)
    event = pymisp_event(True)
    first = comity_objects(node, tmp_path, event)
    second = comity_objects(node, tmp_path, event)
    assert sorted(o["id"] for o in first) == sorted(o["id"] for o in second)


def test_what_is_no_misp_event_is_refused_and_stores_nothing(comity_factory, tmp_path):
    node = comity_factory(start=False)
    for name, text in [("stix.json", json.dumps({"type": "bundle", "objects": []})),
                       ("broken.json", "{\"Event\": "),
                       ("nouuid.json", json.dumps({"Event": {"info": "x", "date": "2026-01-01"}}))]:
        path = tmp_path / name
        path.write_text(text)
        cp = node.cli("import", "--misp", "--data-dir", node.data_dir, path, check=False)
        assert cp.returncode != 0 and b"no MISP event" in cp.stderr, cp.stderr
    assert node.export()["objects"] == []


def test_a_misp_feed_brings_changed_events_only(comity_factory, tmp_path):
    import functools
    import http.server
    import threading

    node = comity_factory(start=False)
    www = tmp_path / "misp-feed"
    www.mkdir()
    events = [pymisp_event(True), pymisp_event(True)]

    def publish():
        manifest = {e["Event"]["uuid"]: {"timestamp": e["Event"]["timestamp"],
                                          "info": e["Event"]["info"]} for e in events}
        manifest["../../etc/passwd"] = {"timestamp": "1"}
        (www / "manifest.json").write_text(json.dumps(manifest))
        for e in events:
            (www / f"{e['Event']['uuid']}.json").write_text(json.dumps(e))

    publish()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        node.cli("feed", "add", "misp-zz", "--kind", "misp", "--url", url, "--marking", "green",
                 "--data-dir", node.data_dir)

        def run() -> dict:
            out = node.cli("feed", "run", "misp-zz", "--json", "--data-dir", node.data_dir)
            return json.loads(out.stdout)

        first = run()
        per_event = 1 + 1 + 4 + 3 * 2  # identity, report, 4 indicators, 3 observations
        # The two events share their organisation and their three observed values, whose
        # SCOs have deterministic ids: stored once.
        assert (first["stored"], first["skipped"], first["refused"]) == (2 * per_event - 4, 1, 0)
        second = run()
        assert (second["stored"], second["already"], second["pages"]) == (0, 0, 1)
        # One event changes: only it is read again, and only its new objects are stored.
        changed = pymisp.MISPEvent()
        changed.from_dict(**events[0])
        changed.add_attribute("domain", "new.evil.example", to_ids=True)
        changed.timestamp = changed.timestamp.timestamp() + 60
        events[0] = changed.to_feed()
        publish()
        third = run()
        assert third["pages"] == 2, third
        assert third["stored"] >= 2, third  # the new indicator and the report's new version
    finally:
        server.shutdown()
        server.server_close()
