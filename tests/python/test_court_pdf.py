"""The printable court file of a cooperation request, between two real `comity serve`
processes: a request whose fields hold Arabic and Chinese goes through its life with evidence
attached; its PDF, fetched with `comity request export --format pdf` and over
`/api/v1/requests/{id}/file?format=pdf`, is read back with poppler (`pdftotext`, `pdftoppm`,
`pdfdetach`): it holds the id, the kind, every state of the history, the attachment's SHA-256,
the Chinese and Arabic text, page numbers, and the JSON court file whose SHA-256 it prints,
which `comity request verify` accepts. Rights as for the JSON file.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest
import requests

from conftest import target
from federation_nodes import federation
from test_requests import OFFICER, act, add_users, api, doc, ok, reach, same_history

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: cooperation requests")

AUTHORITY = "الهيئة الوطنية للأمن السيبراني"
SUMMARY = "请求保全服务器日志"


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    with federation(tmp_path_factory.mktemp("court-pdf"), "AB", []) as w:
        for x in "AB":
            add_users(w[x])
        yield w


def text_of(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], check=True,
                          capture_output=True).stdout.decode()


def pages_of(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", pdf], check=True, capture_output=True).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))


def test_a_court_file_prints_with_every_field_event_hash_and_script(pair, tmp_path):
    a, b = pair["A"], pair["B"]
    d = doc("mla")
    d["authority"]["name"] = AUTHORITY
    d["summary"] = SUMMARY
    d["requested_authority"] = {"name": "网络安全中心", "time_zone": "Asia/Shanghai"}
    r = ok(api(a, "POST", "", {"kind": "mla", "to": b.id, "emergency": False, "document": d}), 201)
    rid = r["id"]
    act(a, rid, "submit")
    reach(b, rid, "delivered")
    ok(api(b, "GET", f"/{rid}"))  # the signed retrieval
    act(b, rid, "acknowledge")
    act(b, rid, "review")
    act(b, rid, "request_info", note="哪些服务器？ أي الخوادم؟")
    reach(a, rid, "info_requested")
    act(a, rid, "supply_info", note="203.0.113.7")
    reach(b, rid, "under_review")
    act(b, rid, "accept")
    act(b, rid, "execute")
    evidence = tmp_path / "سجلات-日志.txt"
    evidence.write_bytes(b"preserved server logs\n" * 500)
    sha = hashlib.sha256(evidence.read_bytes()).hexdigest()
    b.node.cli("request", "transition", rid, "complete", "--attach", str(evidence), "--officer",
               OFFICER[0], "--data-dir", b.node.data_dir)
    reach(a, rid, "executed")
    history = same_history(a, b, rid)
    states = ["submitted", "delivered", "acknowledged", "under_review", "info_requested",
              "accepted", "in_execution", "executed"]

    # through the CLI on the requesting side
    from_cli = tmp_path / "a.pdf"
    a.node.cli("request", "export", rid, "--format", "pdf", "--out", from_cli, "--officer",
               OFFICER[0], "--data-dir", a.node.data_dir)
    # and over the API on the requested side
    served = api(b, "GET", f"/{rid}/file?format=pdf")
    assert served.status_code == 200, served.text
    assert served.headers["Content-Type"] == "application/pdf"
    from_api = tmp_path / "b.pdf"
    from_api.write_bytes(served.content)

    for pdf in (from_cli, from_api):
        assert pdf.read_bytes().startswith(b"%PDF-")
        text = text_of(pdf)
        flat = re.sub(r"\s+", " ", text)
        assert rid in flat
        assert "mla: mutual legal assistance" in flat
        for state in states:
            assert f"→ {state}" in flat, (state, flat[:3000])
        assert len(re.findall(r"Event \d+: \w+ → ", flat)) >= len(history)
        assert sha in text.replace("\n", ""), "the attachment's SHA-256"
        # the name reads right to left (its first letter is Arabic): pdftotext prints it in
        # display order, the Chinese and the extension at the left of the Arabic word
        assert "日志.txt-\u202bسجلات\u202c" in flat or "日志.txt-سجلات" in flat, \
            [w for w in flat.split() if "txt" in w]
        assert SUMMARY in flat and "网络安全中心" in flat and "哪些服务器" in flat
        # pdftotext gives Arabic in logical order, word by word
        for word in AUTHORITY.split():
            assert word in flat, (word, [w for w in flat.split() if re.search("[\u0600-\u06ff]", w)])
        assert "Europe/Paris, requesting authority" in flat
        assert "Asia/Shanghai, requested authority" in flat
        n = pages_of(pdf)
        assert f"page 1 of {n}" in flat and f"page {n} of {n}" in flat
        # every page renders
        out = tmp_path / pdf.stem
        out.mkdir()
        subprocess.run(["pdftoppm", "-png", "-r", "60", pdf, out / "p"], check=True,
                       capture_output=True)
        pngs = sorted(out.glob("p-*.png"))
        assert len(pngs) == n and all(p.stat().st_size > 1000 for p in pngs)
        # the embedded JSON court file is the one whose SHA-256 every page prints, and it verifies
        detached = tmp_path / f"{pdf.stem}-detached"
        detached.mkdir()
        subprocess.run(["pdfdetach", "-saveall", "-o", detached, pdf], check=True, capture_output=True)
        embedded = detached / "court-file.json"
        digest = hashlib.sha256(embedded.read_bytes()).hexdigest()
        assert text.count(f"court-file.json SHA-256 {digest}") == n
        filed = json.loads(embedded.read_text())
        assert filed["request"]["id"] == rid and len(filed["events"]) == len(history)
        maker = a if pdf is from_cli else b
        key = tmp_path / f"{pdf.stem}.key"
        key.write_bytes(maker.node.cli("log", "key", "--data-dir", maker.node.data_dir).stdout)
        done = a.node.cli("request", "verify", embedded, "--key", key, check=False)
        assert done.returncode == 0, done.stderr

    # the JSON form is still the default, and its bytes are what a printed file hashes
    plain = api(a, "GET", f"/{rid}/file")
    assert plain.headers["Content-Type"] == "application/json"
    assert json.loads(plain.content)["format"] == "comity-request-file/1"


def test_the_printed_file_has_the_rights_and_errors_of_the_json_file(pair, tmp_path):
    a, b = pair["A"], pair["B"]
    r = ok(api(a, "POST", "", {"kind": "assistance", "to": b.id, "emergency": False,
                               "document": doc("assistance")}), 201)
    rid = r["id"]
    assert api(a, "GET", f"/{rid}/file?format=pdf", auth=("viewer", OFFICER[1])).status_code == 403
    assert api(a, "GET", f"/{rid}/file?format=pdf", auth=None).status_code == 401
    bad = api(a, "GET", f"/{rid}/file?format=docx")
    assert bad.status_code == 400 and "expected json or pdf" in bad.text, bad.text
    assert api(a, "GET", f"/{rid}/file?format=pdf&colour=red").status_code == 400
    assert api(a, "GET", "/request--00000000-0000-4000-8000-000000000000/file?format=pdf").status_code == 404
    # the other member's node does not hold a draft: nothing to print there
    assert api(b, "GET", f"/{rid}/file?format=pdf").status_code == 404
    # the CLI refuses an unknown format and will not overwrite a file
    wrong = a.node.cli("request", "export", rid, "--format", "docx", "--out", tmp_path / "x",
                       "--officer", OFFICER[0], "--data-dir", a.node.data_dir, check=False)
    assert wrong.returncode != 0 and b"possible values: json, pdf" in wrong.stderr, wrong.stderr
    taken = tmp_path / "taken.pdf"
    taken.write_bytes(b"keep")
    again = a.node.cli("request", "export", rid, "--format", "pdf", "--out", taken, "--officer",
                       OFFICER[0], "--data-dir", a.node.data_dir, check=False)
    assert again.returncode != 0 and taken.read_bytes() == b"keep"
    # a draft prints too, for its requester
    draft = tmp_path / "draft.pdf"
    a.node.cli("request", "export", rid, "--format", "pdf", "--out", draft, "--officer", OFFICER[0],
               "--data-dir", a.node.data_dir)
    flat = re.sub(r"\s+", " ", text_of(draft))
    assert "State draft" in flat and "No event has been signed yet" in flat, flat
