"""A wiretap between two real `comity serve` nodes: B's endpoint registered at A is a TCP
proxy written here that records every byte crossing it, both ways. A shares an indicator
whose pattern names a random domain and submits a cooperation request whose fields carry
a random phrase; B receives both. The capture holds the envelopes' metadata (version, id,
sender, receiver, kind, time, sequence number, signature; receipts) but none of the
object's content or id, and none of the request's fields or id: those bodies are sealed
to B (HPKE), and the sealed body captured opens, with B's key and by an independent
implementation of RFC 9180, to exactly what B stored.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import secrets
import socket
import threading
import uuid

import pytest
import requests

from conftest import add_and_wait, free_port, target
from federation_nodes import (CLEAR, Terms, envelope, federation, indicator, node_key, post_inbox, receipt,
                              refusal, sealing_key, shared_by, signed, wait_until)
from sealing import info, open_, parse_public, seal_body

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: federation")

OFFICER = ("liaison", "liaison-password-1")
AB = Terms("A-B wiretapped", "AB", ("indicator",), "amber")


class Tap:
    """A loopback TCP proxy to `port` that keeps every byte it forwards, both ways."""

    def __init__(self, port: int):
        self.port = port
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.lock = threading.Lock()
        self.captured = bytearray()
        self.connections = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket):
        try:
            while data := src.recv(65536):
                with self.lock:
                    self.captured += data
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def bytes(self) -> bytes:
        with self.lock:
            return bytes(self.captured)

    def close(self):
        self.closed = True
        self.server.close()


def envelopes_in(capture: bytes) -> list[dict]:
    """The JSON envelopes (bodies of the HTTP messages) in the capture."""
    out = []
    for m in re.finditer(rb'\{"v":1,', capture):
        with contextlib.suppress(ValueError):
            env, _ = json.JSONDecoder().raw_decode(capture[m.start():].decode("utf-8", "replace"))
            out.append(env)
    return out


def test_a_wiretap_between_two_nodes_sees_metadata_but_no_shared_content(tmp_path):
    domain = f"{secrets.token_hex(6)}.wiretap.example"
    phrase = f"phrase-{secrets.token_hex(8)}"
    with contextlib.ExitStack() as stack:
        b_port = free_port()
        tap = Tap(b_port)
        stack.callback(tap.close)
        w = stack.enter_context(federation(tmp_path, "AB", [AB], ports={"B": b_port},
                                           endpoints={("A", "B"): tap.url}))
        a, b = w["A"], w["B"]
        for m in (a, b):
            m.node.cli("user", "add", OFFICER[0], "--role", "liaison", "--data-dir", m.node.data_dir,
                       env={"COMITY_USER_PASSWORD": OFFICER[1]})
        # intelligence
        obj = indicator(1, pattern=f"[domain-name:value = '{domain}']", name=f"watch {domain}")
        add_and_wait(a.node, a.node.collections["default"], [obj])
        wait_until(lambda: any(o["id"] == obj["id"] for o in shared_by(b, a)), 120, "B holds the indicator",
                   nodes=[a.node, b.node])
        # a cooperation request
        document = {
            "authority": {"name": "CERT-A desk", "contact": "+00 1", "time_zone": "UTC", "office_hours": "24/7"},
            "legal_basis": {"instrument": "Budapest Convention", "article": "29"},
            "summary": f"summary {phrase}", "offence": "unauthorised access",
            "details": {"incident": f"C2 at {domain}", "help_sought": f"takedown, {phrase}"},
        }
        r = requests.post(f"{a.url}/api/v1/requests", auth=OFFICER, timeout=60,
                          json={"kind": "assistance", "to": b.id, "emergency": False, "document": document})
        assert r.status_code == 201, r.text
        rid = r.json()["id"]
        r = requests.post(f"{a.url}/api/v1/requests/{rid}/submit", auth=OFFICER, json={}, timeout=60)
        assert r.status_code == 200, r.text

        def b_holds_it():
            out = b.node.cli("request", "list", "--json", "--officer", OFFICER[0],
                             "--data-dir", b.node.data_dir).stdout
            return next((x for x in json.loads(out) if x["id"] == rid), None)
        wait_until(b_holds_it, 120, "B holds the request", nodes=[a.node, b.node])
        shown = json.loads(b.node.cli("request", "show", rid, "--json", "--officer", OFFICER[0],
                                      "--data-dir", b.node.data_dir).stdout)
        assert shown["document"]["details"] == document["details"], shown

        capture = tap.bytes()
        assert tap.connections >= 1, tap.connections
        # what crossed: the envelopes, their metadata in clear, signed by A
        sent = [e for e in envelopes_in(capture) if e.get("from") == a.id and e.get("to") == b.id]
        kinds = {e["kind"] for e in sent}
        assert {"stix-objects", "request"} <= kinds, kinds
        # none of the content, none of the ids inside
        for secret in (domain, phrase, obj["id"], rid, obj["name"], "domain-name:value",
                       "Budapest Convention", "CERT-A desk"):
            assert secret.encode() not in capture, f"{secret!r} crossed the wire in clear"
        # every body of those kinds is sealed, and opens for B (and only in its envelope)
        own = sealing_key(b)
        opened = []
        for e in sent:
            if e["kind"] not in ("stix-objects", "request"):
                continue
            assert set(e["body"]) == {"sealed"} and set(e["body"]["sealed"]) == {"enc", "ct"}, e["body"]
            text = open_(own, info(e["from"], e["to"], e["kind"], e["id"]), e["body"]["sealed"])
            opened.append(json.loads(text))
            with pytest.raises(Exception):
                open_(own, info(e["from"], e["to"], e["kind"], str(e["seq"])), e["body"]["sealed"])
        assert any(o.get("id") == obj["id"] for x in opened for o in x.get("objects", [])), opened
        assert any(phrase in json.dumps(x) for x in opened if "event" in x), opened
        # B's receipts came back through the tap: about envelopes only
        receipts = [e for e in envelopes_in(capture) if e.get("kind") == "receipt"]
        assert receipts and all(e["from"] == b.id and e["to"] == a.id for e in receipts), receipts


def test_bodies_not_sealed_to_this_node_for_this_envelope_are_refused_and_nothing_is_stored(tmp_path):
    with federation(tmp_path, "AB", [AB], serve="B") as w:
        a, b = w["A"], w["B"]
        key_a = node_key(a)
        to_b = parse_public(b.encryption_key)

        def post(env: dict) -> requests.Response:
            return post_inbox(b, signed(env, key_a, seal=False), key_a)

        # sealed as A's node seals: delivered
        ok = envelope(a.id, b.id, 1, [indicator(1, CLEAR)])
        r = post(seal_body(ok, to_b))
        receipt(r, b, 200, to=a.id, envelope_id=ok["id"], seq=1, outcome="delivered")
        stored = {o["id"] for o in shared_by(b, a)}
        assert stored == {ok["body"]["objects"][0]["id"]}, stored
        # each refusal is signed, recorded, takes its sequence number, and stores nothing
        plain = envelope(a.id, b.id, 2, [indicator(2, CLEAR)])
        refusal(post(plain), b, plain, "must be sealed to this node")
        # a body that does not open (sealed to another key, changed, or another envelope's)
        # is rejected unrecorded and takes no sequence number: the sender seals it again
        def unopened(r: requests.Response) -> None:
            assert r.status_code == 400, (r.status_code, r.text)
            assert "does not open with this node's key for this envelope" in r.text, r.text
            assert "nothing was recorded" in r.text, r.text

        other_key = envelope(a.id, b.id, 3, [indicator(3, CLEAR)])
        unopened(post(seal_body(other_key, parse_public(a.encryption_key))))
        tampered = seal_body(envelope(a.id, b.id, 3, [indicator(4, CLEAR)]), to_b)
        ct = bytearray(base64.b64decode(tampered["body"]["sealed"]["ct"]))
        ct[5] ^= 1
        tampered["body"]["sealed"]["ct"] = base64.b64encode(bytes(ct)).decode()
        unopened(post(tampered))
        # the sealed body of one envelope, replayed in another (new id, signed again)
        replayed = {**seal_body(envelope(a.id, b.id, 3, [indicator(5, CLEAR)]), to_b), "id": str(uuid.uuid4())}
        unopened(post(replayed))
        malformed = envelope(a.id, b.id, 3, None, body={"sealed": {"enc": "AA==", "ct": "AA==", "x": 1}})
        refusal(post(malformed), b, malformed, "must be sealed to this node")
        assert {o["id"] for o in shared_by(b, a)} == stored
