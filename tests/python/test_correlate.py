"""Who else has seen this, over HTTP against a real `comity serve`: `GET /api/v1/correlate`.

Analyst ana writes to a shared collection (also read by viewer vic) and to a secret one only
she reads; eve is a viewer with no grant. Each gets exactly the holders they may read, counts
included: what vic may not read answers as if it had never been stored. No credentials is
401; every malformed query is a precise 400 and the server stays up. Warning-listed values
(the default lists and a list in the node's data directory, in MISP's format) are flagged and
their holders left out. The CLI gives the admin's answer and re-indexes idempotently.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from conftest import add_and_wait, running_comity, target

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: the node API")

T0 = "2024-01-01T00:00:00.000Z"
ADDRESS = "203.0.113.5"


def indicator(pattern: str) -> dict:
    return {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0,
            "modified": T0, "pattern": pattern, "pattern_type": "stix", "valid_from": T0}


def sco(kind: str, value: str) -> dict:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "value": value}


OUR_LIST = {"description": "values of our own that correlate with everything", "list": ["noisy.test"],
            "matching_attributes": ["domain", "hostname"], "name": "Our noisy domains", "type": "hostname",
            "version": 3}


def setup(node):
    node.add_user("ana", "ana-password-1", role="analyst")
    node.add_user("vic", "vic-password-1", role="viewer")
    node.add_user("eve", "eve-password-1", role="viewer")
    node.add_collection("shared", read=["ana", "vic"], write=["ana"])
    node.add_collection("secret", read=["ana"], write=["ana"])
    lists = node.data_dir / "warninglists"
    lists.mkdir()
    (lists / "ours.json").write_text(json.dumps(OUR_LIST, indent=2))


@pytest.fixture(scope="module")
def world(comity_binary, tmp_path_factory):
    with running_comity(tmp_path_factory.mktemp("correlate"), setup=setup) as node:
        ana = ("ana", "ana-password-1")
        shared = [sco("ipv4-addr", ADDRESS), indicator(f"[ipv4-addr:value = '{ADDRESS}']"),
                  sco("ipv4-addr", "8.8.8.8"), sco("domain-name", "www.noisy.test")]
        secret = [indicator(f"[ipv4-addr:value ISSUBSET '203.0.113.0/24' OR domain-name:value = 'secret.example']")]
        for title, objects in (("shared", shared), ("secret", secret)):
            st = add_and_wait(node, node.collections[title], objects, user=ana)
            assert st["success_count"] == len(objects), st
        yield {"node": node, "shared": shared, "secret": secret, "ana": ana, "vic": ("vic", "vic-password-1"),
               "eve": ("eve", "eve-password-1")}


def ask(w, user, **params) -> requests.Response:
    node = w["node"]
    return requests.get(node.base + "/api/v1/correlate", params=params, auth=user, timeout=60)


def answer(w, user, **params) -> dict:
    r = ask(w, user, **params)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def report(body: dict, value: str) -> dict:
    found = [v for v in body["values"] if v["value"] == value]
    assert len(found) == 1, body
    return found[0]


def test_each_reader_counts_exactly_what_it_may_read(world):
    w = world
    ids = lambda rep: sorted(o["id"] for o in rep["objects"])  # noqa: E731
    ana = report(answer(w, w["ana"], value=ADDRESS), ADDRESS)
    assert ana["kind"] == "ipv4-addr" and ana["count"] == 3, ana
    assert ids(ana) == sorted([w["shared"][0]["id"], w["shared"][1]["id"], w["secret"][0]["id"]])
    block = [o for o in ana["objects"] if o["id"] == w["secret"][0]["id"]][0]
    assert block["matched"] == ["203.0.113.0/24"] and block["collection"].endswith(w["node"].collections["secret"])
    vic = report(answer(w, w["vic"], value=ADDRESS), ADDRESS)
    assert vic["count"] == 2 and ids(vic) == sorted([w["shared"][0]["id"], w["shared"][1]["id"]]), vic
    # eve reads nothing: the answer for a stored value is the answer for a value never seen.
    eve = answer(w, w["eve"], value=ADDRESS)
    never = answer(w, w["eve"], value="203.0.113.99")
    assert report(eve, ADDRESS) == {**report(never, "203.0.113.99"), "value": ADDRESS}
    assert report(eve, ADDRESS)["count"] == 0 and report(eve, ADDRESS)["members"] == []
    # vic cannot tell a secret value from one that was never stored.
    secret = answer(w, w["vic"], value="secret.example")
    unseen = answer(w, w["vic"], value="unseen.example")
    strip = lambda body: [{**v, "value": None} for v in body["values"]]  # noqa: E731
    assert strip(secret) == strip(unseen) and all(v["count"] == 0 for v in secret["values"]), secret
    # A limit shortens the list, never the count.
    short = report(answer(w, w["ana"], value=ADDRESS, limit=1), ADDRESS)
    assert short["count"] == 3 and len(short["objects"]) == 1


def test_an_object_finds_who_shares_its_values_within_the_readers_rights(world):
    w = world
    body = answer(w, w["ana"], id=w["shared"][1]["id"])
    rep = report(body, ADDRESS)
    assert rep["count"] == 2 and w["shared"][1]["id"] not in [o["id"] for o in rep["objects"]], rep
    assert report(answer(w, w["vic"], id=w["shared"][1]["id"]), ADDRESS)["count"] == 1
    # An object vic may not read answers exactly as one that does not exist.
    hidden = answer(w, w["vic"], id=w["secret"][0]["id"])
    missing = answer(w, w["vic"], id=f"indicator--{uuid.uuid4()}")
    assert hidden == missing == {"values": []}


def test_warning_listed_values_are_flagged_and_their_holders_left_out(world):
    w = world
    dns = report(answer(w, w["ana"], value="8.8.8.8"), "8.8.8.8")
    assert dns["suppressed"] is True and dns["count"] == 0 and dns["objects"] == [], dns
    assert dns["warning_lists"] == ["List of well-known public IPv4 DNS resolvers"]
    ours = report(answer(w, w["ana"], value="WWW.Noisy.Test."), "www.noisy.test")
    assert ours["suppressed"] is True and ours["warning_lists"] == [OUR_LIST["name"]], ours
    private = report(answer(w, w["ana"], value="10.1.2.3"), "10.1.2.3")
    assert private["suppressed"] is True


def test_related_reports_are_named_only_to_readers_of_them(world):
    w = world
    ind = w["shared"][1]
    rep = {"type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "created": T0, "modified": T0,
           "name": "secret report", "published": "2024-01-01T00:00:00Z", "object_refs": [ind["id"]]}
    st = add_and_wait(w["node"], w["node"].collections["secret"], [rep], user=w["ana"])
    assert st["success_count"] == 1, st
    ana = report(answer(w, w["ana"], value=ADDRESS), ADDRESS)
    assert {"id": rep["id"], "type": "report", "via": [ind["id"]]} in ana["related"], ana
    vic = report(answer(w, w["vic"], value=ADDRESS), ADDRESS)
    assert vic["related"] == [], vic


def test_a_report_answers_for_what_it_lists_with_the_holders_confidence(world):
    w = world
    own = "198.51.100.20"  # a value of this test only, so the other tests' counts stay
    listed, plain = indicator(f"[ipv4-addr:value = '{own}']"), indicator(f"[ipv4-addr:value = '{own}']")
    confident = {**indicator(f"[ipv4-addr:value = '{own}']"), "confidence": 70}
    rep = {"type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "created": T0, "modified": T0,
           "name": "our report", "published": "2024-01-01T00:00:00Z",
           "object_refs": [listed["id"], w["secret"][0]["id"]]}
    st = add_and_wait(w["node"], w["node"].collections["shared"], [listed, plain, confident, rep], user=w["ana"])
    assert st["success_count"] == 4, st
    vic = answer(w, w["vic"], id=rep["id"])
    # vic may not read the secret indicator the report lists: its values are not looked up.
    assert [v["value"] for v in vic["values"]] == [own], vic
    holders = {o["id"]: o for o in report(vic, own)["objects"]}
    assert set(holders) == {plain["id"], confident["id"]}, "the report's own indicator is not a holder"
    assert holders[confident["id"]]["confidence"] == 70, holders
    assert "confidence" not in holders[plain["id"]], "no confidence stated, none invented"
    ana = answer(w, w["ana"], id=rep["id"])
    assert "secret.example" in [v["value"] for v in ana["values"]], ana
    assert w["secret"][0]["id"] not in [o["id"] for v in ana["values"] for o in v["objects"]], ana


def test_no_credentials_and_bad_credentials_are_refused(world):
    w = world
    node = w["node"]
    r = requests.get(node.base + "/api/v1/correlate", params={"value": ADDRESS}, timeout=60)
    assert r.status_code == 401, (r.status_code, r.text)
    assert ADDRESS not in r.text
    r = requests.get(node.base + "/api/v1/correlate", params={"value": ADDRESS},
                     headers={"Authorization": "Bearer not-a-token"}, timeout=60)
    assert r.status_code == 401, (r.status_code, r.text)
    assert ask(w, ("vic", "wrong-password"), value=ADDRESS).status_code == 401
    # vic's API token reads as vic does.
    secret = node.cli("token", "create", "--user", "vic", "--label", "correlation",
                      "--data-dir", node.data_dir).stdout.decode().strip()
    r = requests.get(node.base + "/api/v1/correlate", params={"value": ADDRESS},
                     headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    assert r.status_code == 200 and report(r.json(), ADDRESS)["count"] == 2, (r.status_code, r.text)


@pytest.mark.parametrize("params,says", [
    ({}, "exactly one"),
    ({"value": ADDRESS, "id": "indicator--00000000-0000-4000-8000-000000000000"}, "exactly one"),
    ({"value": ADDRESS, "colour": "red"}, "unknown field"),
    ({"id": "not-an-id"}, "not a STIX identifier"),
    ({"id": "indicator--'; DROP TABLE value_postings; --"}, "not a STIX identifier"),
    ({"value": ADDRESS, "limit": "0"}, "limit"),
    ({"value": ADDRESS, "limit": "10001"}, "limit"),
    ({"value": ADDRESS, "limit": "-1"}, "invalid query"),
    ({"value": ADDRESS, "limit": "many"}, "invalid query"),
    ({"value": "x" * 5000}, "longer than"),
    ({"value": "   "}, "is not an address"),
])
def test_malformed_queries_are_refused_precisely(world, params, says):
    r = ask(world, world["ana"], **params)
    assert r.status_code == 400, (r.status_code, r.text)
    assert says in r.text, r.text


def test_hostile_values_are_just_values_and_change_nothing(world):
    w = world
    for hostile in ["'; DROP TABLE value_postings; --", "%00\u0000nul", "😈" * 100, "../../etc/passwd",
                    "a" * 4000, "http://[::1", "1.2.3.4/99"]:
        r = ask(w, w["ana"], value=hostile)
        assert r.status_code in (200, 400), (hostile, r.status_code, r.text)
        if r.status_code == 200:
            assert all(v["count"] == 0 for v in r.json()["values"]), r.text
    assert report(answer(w, w["ana"], value=ADDRESS), ADDRESS)["count"] == 3


def test_the_cli_answers_as_the_admin_and_reindexes_idempotently(world):
    w = world
    node = w["node"]
    cli = json.loads(node.cli("correlate", ADDRESS, "--json", "--data-dir", node.data_dir).stdout)
    api = answer(w, node.admin, value=ADDRESS)
    assert cli == api and report(cli, ADDRESS)["count"] == 3, (cli, api)
    text = node.cli("correlate", ADDRESS, "--data-dir", node.data_dir).stdout.decode()
    assert text.startswith(f"ipv4-addr {ADDRESS}: 3 objects, 1 members"), text
    for _ in range(2):
        out = node.cli("correlate", "--reindex", "--data-dir", node.data_dir).stdout.decode()
        assert out.startswith("re-indexed "), out
        assert report(answer(w, w["ana"], value=ADDRESS), ADDRESS)["count"] == 3
    bad = node.cli("correlate", "--data-dir", node.data_dir, check=False)
    assert bad.returncode != 0
