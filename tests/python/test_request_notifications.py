"""Notifications for the 24/7 channel between two real `comity serve` processes: B's
comity.toml sends notices by e-mail to a real SMTP server (aiosmtpd, on loopback, so
without STARTTLS) and to a webhook served by this test. A sends B an emergency request:
B's duty officer gets one e-mail and one signed webhook saying so, with the request's id
and none of its text; B's own acknowledgement notifies nothing, but starts the clock, so
one reminder follows (once, though the scan runs every second); A's withdrawal notifies
again.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller

from conftest import free_port, target
from federation_nodes import federation, wait_until
from test_requests import OFFICER, act, add_users, doc, ok, api, reach

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: request notifications")

SECRET = b"webhook-secret-for-the-test"
DUTY = "duty-officer@b.example.org"


class Mailbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self):
        self.messages: list[tuple[str, list[str], email.message.EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


class Hooks:
    """A webhook receiver on loopback keeping (headers, body) of every POST."""

    def __init__(self):
        self.calls: list[tuple[dict, bytes]] = []
        calls = self.calls

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    mailbox, hooks = Mailbox(), Hooks()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        with federation(tmp_path_factory.mktemp("notify"), "AB", [], serve="A") as w:
            b = w["B"]
            (b.node.data_dir / "webhook-secret").write_bytes(SECRET + b"\n")
            with open(b.node.data_dir / "comity.toml", "a") as f:
                f.write(f"""
[notifications]
email_to = ["{DUTY}"]
reminder_hours = 5
scan_seconds = 1
[notifications.smtp]
host = "127.0.0.1"
port = {smtp_port}
starttls = false
from = "comity@b.example.org"
[[notifications.webhooks]]
url = "http://127.0.0.1:{hooks.port}/comity"
secret_file = "webhook-secret"
""")
            b.start()
            for x in "AB":
                add_users(w[x])
            yield w, mailbox, hooks
    finally:
        controller.stop()
        hooks.server.shutdown()


def bodies(hooks: Hooks) -> list[dict]:
    out = []
    for headers, body in hooks.calls:
        expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(headers["x-comity-signature"], expected), headers
        assert headers["content-type"] == "application/json"
        out.append(json.loads(body))
    return out


def test_emergency_request_notifies_b_by_mail_and_webhook_without_its_text(setup):
    w, mailbox, hooks = setup
    a, b = w["A"], w["B"]
    marker = f"SECRET-SUMMARY-{uuid.uuid4()}"
    d = doc("assistance")
    d["summary"] = marker
    d["emergency_justification"] = f"life at risk {marker}"
    r = ok(api(a, "POST", "", {"kind": "assistance", "to": b.id, "emergency": True, "document": d}), 201)
    rid = r["id"]
    act(a, rid, "submit")

    wait_until(lambda: len(mailbox.messages) >= 1 and len(hooks.calls) >= 1, 120,
               "B's duty officer is told of the request", nodes=[b.node])
    sender, rcpts, msg = mailbox.messages[0]
    assert (sender, rcpts) == ("comity@b.example.org", [DUTY])
    assert "EMERGENCY" in msg["Subject"] and "received" in msg["Subject"], msg["Subject"]
    text = msg.get_content()
    assert rid in text and f"comity request show {rid}" in text, text
    [notice] = bodies(hooks)
    assert notice["request"] == rid and notice["what"] == "received" and notice["act"] == "submit"
    assert notice["emergency"] is True and notice["partner"] == a.id and notice["side"] == "requested"
    assert notice["kind"] == "assistance" and notice["state"] == "delivered"

    # B's own act notifies nothing, but the clock it starts brings one reminder.
    reach(b, rid, "delivered")
    act(b, rid, "acknowledge")
    reach(a, rid, "acknowledged")
    wait_until(lambda: len(hooks.calls) >= 2 and len(mailbox.messages) >= 2, 60, "a reminder",
               nodes=[b.node])
    time.sleep(3)  # three more scans: the reminder is not sent again
    assert [(n["what"], n.get("act")) for n in bodies(hooks)] == [("received", "submit"), ("reminder", None)]
    assert len(mailbox.messages) == 2 and "answer due soon" in mailbox.messages[1][2]["Subject"]
    assert bodies(hooks)[1]["due"]

    # A later act of A notifies again.
    act(a, rid, "withdraw", note=f"solved {marker}")
    wait_until(lambda: len(hooks.calls) >= 3 and len(mailbox.messages) >= 3, 120,
               "B's duty officer is told of the withdrawal", nodes=[b.node])
    time.sleep(2)
    last = bodies(hooks)[2]
    assert (last["what"], last["act"], last["state"]) == ("event", "withdraw", "withdrawn")
    assert len(hooks.calls) == 3 and len(mailbox.messages) == 3

    # Nothing of what the request says left the node.
    for _, body in hooks.calls:
        assert marker.encode() not in body
    for _, _, m in mailbox.messages:
        assert marker not in m.as_string() and marker not in m.get_content()
