"""The node API's OpenAPI document, served by a real `comity serve` at
`/api/v1/openapi.json`: fetched without credentials, validated as OpenAPI 3.1 by
`openapi-spec-validator`, and held to what the node answers: real answers of the node API
(lists, a new token, a member, an agreement, a cooperation request drafted, refused for a
missing field, submitted and opened with its signed history, errors) validate against the
schemas the document gives for them.
"""

from __future__ import annotations

import base64
import copy

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from conftest import running_comity, target

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: node API")


@pytest.fixture(scope="module")
def node(comity_binary, tmp_path_factory):
    with running_comity(tmp_path_factory.mktemp("openapi")) as n:
        yield n


@pytest.fixture(scope="module")
def doc(node) -> dict:
    r = requests.get(node.base + "/api/v1/openapi.json", timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return r.json()


def answer(doc: dict, method: str, path: str, status: int) -> dict:
    """The schema the document gives for `status` answered to `method path`."""
    response = doc["paths"][path][method.lower()]["responses"][str(status)]
    if "$ref" in response:
        response = doc["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
    (media, content), = response["content"].items()
    return content["schema"]


def conforms(doc: dict, schema: dict, instance) -> None:
    """Validates `instance` against `schema`, resolving references within `doc`."""
    OAS31Validator({**schema, "components": doc["components"]}).validate(instance)


def test_the_served_document_is_valid_openapi_3_1(doc):
    validate(doc)  # raises on any violation of the OpenAPI 3.1 specification
    assert doc["openapi"].startswith("3.1")
    assert all(p.startswith("/api/v1/") for p in doc["paths"])
    assert set(doc["components"]["securitySchemes"]) == {"basic", "bearer"}


def test_a_broken_document_is_refused_by_the_validator(doc):
    """The validator is not a rubber stamp: the same document with a path parameter made optional fails."""
    broken = copy.deepcopy(doc)
    broken["paths"]["/api/v1/tokens/{id}"]["parameters"][0]["required"] = False
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


@pytest.mark.parametrize("path, key", [
    ("/api/v1/tokens", "tokens"),
    ("/api/v1/members", "members"),
    ("/api/v1/agreements", "agreements"),
    ("/api/v1/witness/alerts", "alerts"),
    ("/api/v1/sightings", "sightings"),
    ("/api/v1/requests", "requests"),
])
def test_lists_answer_as_documented(node, doc, path, key):
    r = requests.get(node.base + path, auth=node.admin, timeout=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert key in body
    conforms(doc, answer(doc, "GET", path, 200), body)


def test_a_new_token_and_its_listing_answer_as_documented(node, doc):
    r = requests.post(node.base + "/api/v1/tokens", auth=node.admin, timeout=10,
                      json={"label": "openapi test", "expires_in_days": 7})
    assert r.status_code == 201, r.text
    made = r.json()
    conforms(doc, answer(doc, "POST", "/api/v1/tokens", 201), made)
    listed = requests.get(node.base + "/api/v1/tokens", timeout=10,
                          headers={"Authorization": "Bearer " + made["token"]}).json()
    assert [t["id"] for t in listed["tokens"]] == [made["id"]]
    conforms(doc, answer(doc, "GET", "/api/v1/tokens", 200), listed)
    r = requests.delete(node.base + f"/api/v1/tokens/{made['id']}", auth=node.admin, timeout=10)
    assert r.status_code == 200, r.text
    conforms(doc, answer(doc, "DELETE", "/api/v1/tokens/{id}", 200), r.json())


def test_errors_answer_as_documented(node, doc):
    cases = [
        # no credentials
        ("GET", "/api/v1/members", {}, 401),
        # the wrong media type
        ("POST", "/api/v1/tokens", {"auth": node.admin, "data": "{}", "headers": {"Content-Type": "text/plain"}}, 415),
        # an unknown member of the body
        ("POST", "/api/v1/tokens", {"auth": node.admin, "json": {"label": "x", "colour": "red"}}, 400),
        # a body over the route's limit
        ("POST", "/api/v1/tokens", {"auth": node.admin, "json": {"label": "x" * 70_000}}, 413),
        # an unknown token
        ("DELETE", "/api/v1/tokens/{id}", {"auth": node.admin}, 404),
        # an unknown agreement action
        ("POST", "/api/v1/agreements/{id}/{action}", {"auth": node.admin}, 404),
        # a query the route does not take
        ("GET", "/api/v1/sightings", {"auth": node.admin, "params": {"colour": "red"}}, 400),
        ("GET", "/api/v1/requests", {"auth": node.admin, "params": {"kind": "gossip"}}, 400),
        # an unknown request, and an id that is not a request id
        ("GET", "/api/v1/requests/{id}", {"auth": node.admin, "id": "request--00000000-0000-4000-8000-000000000000"},
         404),
        ("GET", "/api/v1/requests/{id}", {"auth": node.admin}, 400),
    ]
    for method, path, kw, status in cases:
        fill = {"{id}": kw.pop("id", "unknown"), "{action}": "dissolve"}
        url = path
        for k, v in fill.items():
            url = url.replace(k, v)
        r = requests.request(method, node.base + url, timeout=10, **kw)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        assert r.headers["Content-Type"] == "application/taxii+json;version=2.1"
        schema = answer(doc, method, path, status)
        conforms(doc, schema, r.json())
        assert r.json()["http_status"] == str(status)


def test_a_request_drafted_refused_then_submitted_answers_as_documented(node, doc):
    """A peer member, an agreement proposed to it, a request drafted to it, submitted with a
    field missing (422, naming the article), completed and submitted: each answer is what
    the document says it is (the peer is offline; the submission waits in the outbox)."""
    key = "ed25519:" + base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw()).decode()
    r = requests.post(node.base + "/api/v1/members", auth=node.admin, timeout=10,
                      json={"name": "Peer police", "country": "DE", "roles": ["police"], "public_key": key})
    assert r.status_code == 201, r.text
    conforms(doc, answer(doc, "POST", "/api/v1/members", 201), r.json())
    peer = r.json()["id"]

    r = requests.post(node.base + "/api/v1/agreements", auth=node.admin, timeout=10,
                      json={"title": "Indicators", "partners": [peer],
                            "scope": {"object_types": ["indicator"], "max_tlp": "amber", "handling": ["H1"],
                                      "purposes": ["police-cooperation"]}})
    assert r.status_code == 201, r.text
    conforms(doc, answer(doc, "POST", "/api/v1/agreements", 201), r.json())

    document = {
        "authority": {"name": "Cyber unit", "contact": "+33 1 00 00 00 00", "time_zone": "Europe/Paris"},
        "legal_basis": {"instrument": "Budapest Convention", "article": "35"},
        "summary": "Ransomware against hospitals",
        "details": {"incident": "encryption of hospital systems"},
    }
    r = requests.post(node.base + "/api/v1/requests", auth=node.admin, timeout=10,
                      json={"kind": "assistance", "to": peer, "document": document})
    assert r.status_code == 201, r.text
    conforms(doc, answer(doc, "POST", "/api/v1/requests", 201), r.json())
    rid = r.json()["id"]
    assert r.json()["state"] == "draft"

    submit = f"{node.base}/api/v1/requests/{rid}/submit"
    r = requests.post(submit, auth=node.admin, timeout=10, json={})
    assert r.status_code == 422, r.text
    conforms(doc, answer(doc, "POST", "/api/v1/requests/{id}/{act}", 422), r.json())
    assert "details.help_sought (Budapest Convention art. 35(1))" in r.json()["description"]

    # The document is the draft's: a complete one is a new draft.
    document["details"]["help_sought"] = "identify the C2 servers"
    rid = requests.post(node.base + "/api/v1/requests", auth=node.admin, timeout=10,
                        json={"kind": "assistance", "to": peer, "document": document}).json()["id"]
    r = requests.post(f"{node.base}/api/v1/requests/{rid}/submit", auth=node.admin, timeout=10, json={})
    assert r.status_code == 200, r.text
    conforms(doc, answer(doc, "POST", "/api/v1/requests/{id}/{act}", 200), r.json())
    assert r.json()["state"] == "submitted"

    r = requests.get(f"{node.base}/api/v1/requests/{rid}", auth=node.admin, timeout=10)
    assert r.status_code == 200, r.text
    shown = r.json()
    conforms(doc, answer(doc, "GET", "/api/v1/requests/{id}", 200), shown)
    assert [e["act"] for e in shown["history"]] == ["submit"]

    # An act the state machine does not allow now, and one of the other side.
    for act in ("submit", "acknowledge"):
        r = requests.post(f"{node.base}/api/v1/requests/{rid}/{act}", auth=node.admin, timeout=10, json={})
        assert r.status_code == 409, (act, r.text)
        conforms(doc, answer(doc, "POST", "/api/v1/requests/{id}/{act}", 409), r.json())
