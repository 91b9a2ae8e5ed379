"""Clusters over HTTP against a real `comity serve`: `GET /api/v1/correlate/cluster`.

Analyst ana writes a shared collection (also read by viewer vic) and a secret one only she
reads; eve is a viewer with no grant. Report "ministry" and report "ports" share an address,
"ports" and an incident share a domain, and a secret report shares the address too. Each
reader gets the cluster of what it may read, nothing of the rest; an object a reader may not
read answers as one that does not exist. The GraphML export is read back with networkx and
the STIX grouping with the stix2 library (both from PyPI); the CLI gives the admin's cluster.
"""

from __future__ import annotations

import io
import json
import uuid

import networkx
import pytest
import requests
import stix2

from conftest import add_and_wait, running_comity, target

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: the node API")

T0 = "2024-01-01T00:00:00.000Z"
ADDRESS = "203.0.113.5"
DOMAIN = "evil.test"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def base(kind: str, marking: str = CLEAR, **fields) -> dict:
    return {"type": kind, "spec_version": "2.1", "id": f"{kind}--{uuid.uuid4()}", "created": T0,
            "modified": T0, "object_marking_refs": [marking], **fields}


def indicator(pattern: str) -> dict:
    return base("indicator", pattern=pattern, pattern_type="stix", valid_from=T0)


def report(name: str, refs: list[dict], marking: str = CLEAR) -> dict:
    return base("report", marking, name=name, published=T0, object_refs=[o["id"] for o in refs])


def setup(node):
    node.add_user("ana", "ana-password-1", role="analyst")
    node.add_user("vic", "vic-password-1", role="viewer")
    node.add_user("eve", "eve-password-1", role="viewer")
    node.add_collection("shared", read=["ana", "vic"], write=["ana"])
    node.add_collection("secret", read=["ana"], write=["ana"])


@pytest.fixture(scope="module")
def world(comity_binary, tmp_path_factory):
    with running_comity(tmp_path_factory.mktemp("cluster"), setup=setup) as node:
        ana = ("ana", "ana-password-1")
        i1, i2 = indicator(f"[ipv4-addr:value = '{ADDRESS}']"), indicator(f"[ipv4-addr:value = '{ADDRESS}']")
        i3, i4 = indicator(f"[domain-name:value = '{DOMAIN}']"), indicator(f"[domain-name:value = '{DOMAIN}']")
        ministry = report("Intrusion at the ministry", [i1])
        ports = report("Campaign against ports", [i2, i3], GREEN)
        outage = base("incident", name="Port outage")
        tie = base("relationship", relationship_type="indicates", source_ref=i4["id"], target_ref=outage["id"])
        shared = [i1, i2, i3, i4, ministry, ports, outage, tie]
        i5 = indicator(f"[ipv4-addr:value = '{ADDRESS}']")
        hidden = report("Secret source", [i5])
        for title, objects in (("shared", shared), ("secret", [i5, hidden])):
            st = add_and_wait(node, node.collections[title], objects, user=ana)
            assert st["success_count"] == len(objects), st
        yield {"node": node, "ana": ana, "vic": ("vic", "vic-password-1"), "eve": ("eve", "eve-password-1"),
               "ministry": ministry, "ports": ports, "outage": outage, "hidden": hidden, "i1": i1, "i2": i2,
               "i5": i5}


def ask(w, user, **params) -> requests.Response:
    return requests.get(w["node"].base + "/api/v1/correlate/cluster", params=params, auth=user, timeout=60)


def cluster(w, user, **params) -> dict:
    r = ask(w, user, **params)
    assert r.status_code == 200, (r.status_code, r.text)
    return r.json()


def nodes(body: dict) -> dict[str, int]:
    return {n["id"]: n["distance"] for n in body["nodes"]}


def test_each_reader_gets_the_cluster_of_what_it_may_read(world):
    w = world
    ana = cluster(w, w["ana"], id=w["ministry"]["id"])
    assert nodes(ana) == {w["ministry"]["id"]: 0, w["ports"]["id"]: 1, w["hidden"]["id"]: 1,
                          w["outage"]["id"]: 2}, ana
    assert ana["nodes"][0]["id"] == w["ministry"]["id"] and ana["nodes"][0]["name"] == "Intrusion at the ministry"
    assert ana["tlp"] == "green" and ana["truncated"] is False, ana
    link = [e for e in ana["edges"] if {e["source"], e["target"]} == {w["ministry"]["id"], w["ports"]["id"]}]
    assert len(link) == 1, ana["edges"]
    [evidence] = link[0]["evidence"]
    assert (evidence["kind"], evidence["value"]) == ("ipv4-addr", ADDRESS), evidence
    assert sorted(evidence["holders"]) == sorted([w["i1"]["id"], w["i2"]["id"]]), evidence

    vic = cluster(w, w["vic"], id=w["ministry"]["id"])
    assert nodes(vic) == {w["ministry"]["id"]: 0, w["ports"]["id"]: 1, w["outage"]["id"]: 2}, vic
    text = json.dumps(vic)
    for secret in (w["hidden"]["id"], w["i5"]["id"], "Secret source"):
        assert secret not in text, f"{secret} leaked to vic: {text}"


def test_bounds_cut_the_cluster_and_say_so(world):
    w = world
    near = cluster(w, w["ana"], id=w["ministry"]["id"], depth=1)
    assert w["outage"]["id"] not in nodes(near) and near["truncated"] is True, near
    two = cluster(w, w["ana"], id=w["ministry"]["id"], max_nodes=2)
    assert len(two["nodes"]) == 2 and two["truncated"] is True, two


def test_an_object_the_reader_may_not_read_answers_as_one_that_does_not_exist(world):
    w = world
    missing = f"report--{uuid.uuid4()}"
    for user, seed in ((w["vic"], w["hidden"]["id"]), (w["eve"], w["ministry"]["id"])):
        hidden, absent = ask(w, user, id=seed), ask(w, user, id=missing)
        assert hidden.status_code == absent.status_code == 404, (hidden.text, absent.text)
        assert hidden.json()["description"].replace(seed, "X") == absent.json()["description"].replace(missing, "X")


def test_no_credentials_and_bad_credentials_are_refused(world):
    w = world
    r = requests.get(w["node"].base + "/api/v1/correlate/cluster", params={"id": w["ministry"]["id"]}, timeout=60)
    assert r.status_code == 401 and "ministry" not in r.text, (r.status_code, r.text)
    assert ask(w, ("ana", "wrong-password"), id=w["ministry"]["id"]).status_code == 401


SEED = "seed"  # stands for the ministry report's id in the cases below


@pytest.mark.parametrize("params,says", [
    ({}, "missing field `id`"),
    ({"id": "not-an-id"}, "not a STIX identifier"),
    ({"id": "report--'; DROP TABLE value_postings; --"}, "not a STIX identifier"),
    ({"id": SEED, "depth": "0"}, "depth must be 1 to 3"),
    ({"id": SEED, "depth": "4"}, "depth must be 1 to 3"),
    ({"id": SEED, "max_nodes": "0"}, "max_nodes 1 to 500"),
    ({"id": SEED, "max_nodes": "501"}, "max_nodes 1 to 500"),
    ({"id": SEED, "depth": "-1"}, "invalid query"),
    ({"id": SEED, "depth": "deep"}, "invalid query"),
    ({"id": SEED, "format": "pdf"}, "unknown variant `pdf`"),
    ({"id": SEED, "colour": "red"}, "unknown field"),
])
def test_malformed_queries_are_refused_precisely(world, params, says):
    w = world
    query = {k: (w["ministry"]["id"] if v == SEED else v) for k, v in params.items()}
    r = ask(w, w["ana"], **query)
    assert r.status_code == 400, (r.status_code, r.text)
    assert says in r.text, r.text
    assert len(cluster(w, w["ana"], id=w["ministry"]["id"])["nodes"]) == 4


def test_graphml_reads_back_in_networkx(world):
    w = world
    r = ask(w, w["vic"], id=w["ministry"]["id"], format="graphml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/graphml+xml"), r.headers
    graph = networkx.read_graphml(io.BytesIO(r.content))
    body = cluster(w, w["vic"], id=w["ministry"]["id"])
    assert set(graph.nodes) == set(nodes(body))
    assert graph.number_of_edges() == len(body["edges"])
    assert graph.nodes[w["ports"]["id"]]["name"] == "Campaign against ports"
    assert graph.nodes[w["outage"]["id"]]["distance"] == 2
    edge = graph.edges[w["ministry"]["id"], w["ports"]["id"]]
    assert f"ipv4-addr {ADDRESS}" in edge["evidence"] and edge["weight"] == 1, edge


def test_the_stix_grouping_parses_and_carries_the_strictest_marking(world):
    w = world
    body = cluster(w, w["ana"], id=w["ministry"]["id"], format="stix")
    grouping = stix2.parse(body, allow_custom=False)
    assert grouping.type == "grouping" and grouping.context == "suspicious-activity"
    assert grouping.object_marking_refs == [GREEN]
    assert grouping.object_refs[0] == w["ministry"]["id"]
    for must in (w["ports"]["id"], w["outage"]["id"], w["hidden"]["id"], w["i2"]["id"]):
        assert must in grouping.object_refs, (must, grouping.object_refs)
    again = cluster(w, w["ana"], id=w["ministry"]["id"], format="stix")
    assert again["id"] == body["id"], "the same cluster keeps its grouping id"


def test_the_cli_draws_the_admins_cluster(world):
    w = world
    node = w["node"]
    seed = w["ministry"]["id"]
    cli = json.loads(node.cli("correlate", seed, "--cluster", "--json", "--data-dir", node.data_dir).stdout)
    api = cluster(w, node.admin, id=seed)
    assert cli == api and len(cli["nodes"]) == 4, (cli, api)
    xml = node.cli("correlate", seed, "--cluster", "--format", "graphml", "--data-dir", node.data_dir).stdout
    assert set(networkx.read_graphml(io.BytesIO(xml)).nodes) == set(nodes(api))
    text = node.cli("correlate", seed, "--cluster", "--depth", "1", "--data-dir", node.data_dir).stdout.decode()
    assert text.splitlines()[0].startswith(seed), text
    assert text.splitlines()[-1] == "3 nodes, 3 links, TLP:GREEN (truncated: raise --depth or --max-nodes)", text
    for bad in ([ADDRESS, "--cluster"], [seed, "--cluster", "--depth", "9"], [seed, "--format", "stix"]):
        out = node.cli("correlate", *bad, "--data-dir", node.data_dir, check=False)
        assert out.returncode != 0, (bad, out.stdout)
