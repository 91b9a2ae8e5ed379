"""The README's "Three authorities, step by step", run literally: the shell blocks of that
section are taken from README.md as they are written and run by bash, in a directory where
`target/release/comity` is the binary under test. Then the three nodes must share exactly
as the README's sharing rules say, and the traps of setting up by hand must be gone: peers
pinned under their own ids, agreements listed by member name, CLEAR malware withheld from
a member whose agreement covers only indicators and counted in /metrics, and handling
codes in a shape the policy cannot read refused at intake."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import requests

from conftest import REPO, TAXII, comity_bin

SECTION = "### Three authorities, step by step"
PASSWORD = "correct horse battery staple"
PORTS = {"cert-a": 8441, "police-b": 8442, "ca-c": 8443}
INDICATOR = "indicator--5d3b6f5e-3c0a-4a55-9f0e-1b2c3d4e5f60"
MALWARE = "malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061"


def tour_script() -> str:
    """The section's shell blocks, in order, exactly as the README has them."""
    text = (REPO / "README.md").read_text()
    start = text.index(SECTION)
    end = min(i for i in (text.find("\n## ", start + 1), text.find("\n### ", start + 1)) if i > 0)
    blocks = re.findall(r"```sh\n(.*?)```", text[start:end], re.S)
    assert len(blocks) >= 4, blocks
    return "\n".join(blocks)


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COMITY_ADMIN_PASSWORD": PASSWORD}
    return subprocess.run(["target/release/comity", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def objects_shared_by(cwd: Path, node: str, sender: str) -> dict[str, dict]:
    listed = cli(cwd, "collection", "list", "--data-dir", f"./{node}").stdout.splitlines()
    rows = [line.split("\t") for line in listed if f"\tShared by {sender}\t" in line]
    if not rows:
        return {}
    url = f"http://127.0.0.1:{PORTS[node]}/taxii2/default/collections/{rows[0][0]}/objects/"
    r = requests.get(url, auth=("admin", PASSWORD), headers={"Accept": TAXII}, timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    return {o["id"]: o for o in r.json().get("objects", [])}


def metric(node: str, name: str, **labels) -> float:
    r = requests.get(f"http://127.0.0.1:{PORTS[node]}/metrics", auth=("admin", PASSWORD), timeout=30)
    assert r.status_code == 200, (r.status_code, r.text)
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in r.text.splitlines():
        if line.startswith(f"{name}{{{want}}} "):
            return float(line.split()[-1])
    return 0.0


def wait_until(check, timeout: float, what: str):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_three_authorities_set_up_as_the_readme_says_share_as_its_rules_say(tmp_path):
    (tmp_path / "target" / "release").mkdir(parents=True)
    (tmp_path / "target" / "release" / "comity").symlink_to(comity_bin())
    log = open(tmp_path / "tour.log", "w")
    tour = subprocess.Popen(["bash", "-e", "-c", tour_script()], cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "COMITY_LOG": "info"}, start_new_session=True)
    try:
        try:
            assert tour.wait(timeout=300) == 0, (tmp_path / "tour.log").read_text()[-4000:]
        except subprocess.TimeoutExpired:
            raise AssertionError("the tour did not finish:\n" + (tmp_path / "tour.log").read_text()[-4000:])
        output = (tmp_path / "tour.log").read_text()

        # Each peer is pinned under the id its own node has (trap 1, 3).
        files = {n: json.loads((tmp_path / f"{n}.member.json").read_text()) for n in PORTS}
        ids = {n: f["record"]["identity"]["id"] for n, f in files.items()}
        for node in PORTS:
            listed = cli(tmp_path, "member", "list", "--data-dir", f"./{node}").stdout
            assert sorted(line.split("\t")[0] for line in listed.splitlines()) == sorted(ids.values()), listed
            for other, record in files.items():
                if other != node:
                    shown = json.loads(cli(tmp_path, "member", "show", ids[other], "--data-dir", f"./{node}").stdout)
                    assert shown == record["record"], (node, other, shown)

        # The same key again under another id is refused, naming the member that has it (trap 2).
        again = cli(tmp_path, "member", "add", "--data-dir", "./cert-a", "--name", "CERT-XX", "--country", "XB",
                    "--role", "police", "--public-key", files["police-b"]["record"]["public_key"])
        assert again.returncode != 0 and f"is pinned already for member {ids['police-b']} (Police of Borduria)" \
            in again.stderr, again

        # Agreements listed by member name; --json keeps ids (trap 6).
        human = cli(tmp_path, "agreement", "list", "--data-dir", "./cert-a").stdout
        tri = next(line for line in human.splitlines() if line.endswith("A-B-C trilateral")).split("\t")
        assert tri[1:3] == ["active", "signed 3/3"], tri
        assert sorted(tri[3].split(", ")) == [
            "CERT of Arcadia (this node)", "Central Authority of Carpania", "Police of Borduria"], tri
        assert "identity--" not in human, human
        for listing in re.findall(r"agreement--\S+\t\w+\tsigned[^\n]*", output):
            assert "identity--" not in listing, listing
        as_json = json.loads(cli(tmp_path, "agreement", "list", "--json", "--data-dir", "./cert-a").stdout)
        assert {a["title"]: sorted(a["parties"]) for a in as_json} == {
            "A-B bilateral": sorted([ids["cert-a"], ids["police-b"]]),
            "A-B-C trilateral": sorted(ids.values()),
        }, as_json
        assert all(a["missing"] == [] and sorted(a["signed"]) == sorted(a["parties"]) for a in as_json), as_json

        # Borduria gets both objects; Carpania only the indicator (README sharing rule 2).
        wait_until(lambda: set(objects_shared_by(tmp_path, "police-b", "CERT of Arcadia")) == {INDICATOR, MALWARE},
                   120, "both objects at Borduria")
        wait_until(lambda: set(objects_shared_by(tmp_path, "ca-c", "CERT of Arcadia")) == {INDICATOR}, 120,
                   "the indicator at Carpania")
        stats = cli(tmp_path, "collection", "list", "--data-dir", "./ca-c").stdout
        assert re.search(r"\tShared by CERT of Arcadia\t1 objects", stats), stats
        # The withheld malware is counted on the federation channel (trap 7) and the tour's
        # metrics line shows it.
        denied = metric("cert-a", "comity_policy_denied_objects_total", channel="federation send", rule="agreement")
        assert denied >= 1, denied
        assert 'channel="federation send",rule="agreement"' in output, output[-2000:]
        assert set(objects_shared_by(tmp_path, "ca-c", "CERT of Arcadia")) == {INDICATOR}, \
            "README sharing rule 2: CLEAR malware reached a member whose agreement covers only indicators"

        # Borduria's assistance request reached Arcadia, which took it in, opened it (the
        # retrieval receipt) and acknowledged it: both hold the same signed history, and the
        # answer is due 72 hours after the signed acknowledgement.
        def shown(node: str, officer: str) -> dict:
            listed = json.loads(cli(tmp_path, "request", "list", "--json", "--officer", officer,
                                    "--data-dir", f"./{node}").stdout)
            assert len(listed) == 1, listed
            return json.loads(cli(tmp_path, "request", "show", listed[0]["id"], "--json", "--officer", officer,
                                  "--data-dir", f"./{node}").stdout)
        asked, asking = shown("cert-a", "officer-a"), shown("police-b", "officer-b")
        assert [h["act"] for h in asking["history"]] == ["submit", "deliver", "retrieve", "acknowledge"], asking
        assert [h["sha256"] for h in asked["history"]] == [h["sha256"] for h in asking["history"]]
        assert asking["history"][2]["officer"] == "officer-a" and asking["state"] == "acknowledged"
        assert (asking["requester"], asking["requested"]) == (ids["police-b"], ids["cert-a"]), asking
        assert asking["due"] and asking["due"] == asked["due"], (asking["due"], asked["due"])

        # Handling codes in a shape the policy cannot read are refused at intake (trap 4).
        col = next(line.split("\t")[0] for line in cli(tmp_path, "collection", "list", "--data-dir",
                                                         "./cert-a").stdout.splitlines() if "\tdefault\t" in line)
        bad = {"type": "indicator", "spec_version": "2.1", "id": "indicator--7d3b6f5e-3c0a-4a55-9f0e-1b2c3d4e5f61",
               "created": "2026-11-27T08:00:00.000Z", "modified": "2026-11-27T08:00:00.000Z",
               "pattern": "[ipv4-addr:value = '203.0.113.9']", "pattern_type": "stix",
               "valid_from": "2026-11-27T08:00:00Z", "x_comity_handling": "H2"}
        r = requests.post(f"http://127.0.0.1:8441/taxii2/default/collections/{col}/objects/",
                          auth=("admin", PASSWORD), headers={"Content-Type": TAXII, "Accept": TAXII},
                          data=json.dumps({"objects": [bad]}), timeout=30)
        assert r.status_code == 202, (r.status_code, r.text)
        status = r.json()
        assert (status["success_count"], status["failure_count"]) == (0, 1), status
        message = status["failures"][0]["message"]
        assert message.startswith(f"{bad['id']}: property 'x_comity_handling' must be {{\"codes\": [...]") \
            and "it is a string" in message and message.endswith("[handling-codes]"), message
    finally:
        try:
            os.killpg(tour.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        log.close()


def test_the_demo_says_per_peer_what_was_withheld_by_which_rule_with_an_example(tmp_path):
    """`comity demo` (trap 8): per sending node and peer, how many objects were withheld and
    by which rule, each rule with one example object and its reason; the numbers agree with
    what reached the peer."""
    out = subprocess.run([str(comity_bin()), "demo", "--once", "--dir", str(tmp_path / "demo"), "--port", "8451"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    text = out.stdout
    nodes = re.findall(r"(?m)^(\S[^\n]*?) \((X[ABC]), [^\n]*\n((?:  [^\n]*\n)*)", text)
    blocks = {name: block for name, _, block in nodes}
    assert len(blocks) == 3, text
    arcadia = blocks["CERT of Arcadia"]
    # Carpania's only agreement covers GREEN indicators: Arcadia's malware (CLEAR included)
    # and everything above GREEN are withheld, RED by its recipients.
    head = re.search(r"withheld from Central Authority of Carpania: (\d+) objects\n((?:    [^\n]*\n)+)", arcadia)
    assert head, arcadia
    rules = {m[1]: int(m[0]) for m in re.findall(r"    (\d+) by rule ([\w-]+), e\.g\. \S+--\S+: \S", head[2])}
    assert sum(rules.values()) == int(head[1]) and rules.get("agreement", 0) > 0, (rules, head[0])
    examples = re.findall(r"by rule agreement, e\.g\. (\S+): (.*)", head[2])
    assert examples and "no agreement covers" in examples[0][1], examples
    # what Carpania holds of Arcadia's 20 samples plus what was withheld is all 20
    held = re.search(r"Central Authority of Carpania \(XC.*?\n((?:  [^\n]*\n)*)", text, re.S)[1]
    got = int(re.search(r"Shared by CERT of Arcadia\s+(\d+) objects", held)[1])
    assert got + int(head[1]) == 20, (got, head[1])
