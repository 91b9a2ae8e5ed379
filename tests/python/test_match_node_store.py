"""`comity match` without --indicators matches telemetry against every indicator stored in
the node: imported ones fire, others and expired ones do not."""
import json
import os
import subprocess
import uuid
from pathlib import Path

BIN = os.environ.get("COMITY_BIN", str(Path(__file__).resolve().parents[2] / "target/debug/comity"))


def indicator(pattern, valid_until=None):
    obj = {
        "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
    }
    if valid_until:
        obj["valid_until"] = valid_until
    return obj


def test_match_streams_telemetry_against_stored_indicators(tmp_path):
    data = tmp_path / "node"
    env = {**os.environ, "COMITY_ADMIN_PASSWORD": "a long test passphrase"}
    subprocess.run([BIN, "init", "--data-dir", str(data)], env=env, check=True, capture_output=True)
    ip = indicator("[ipv4-addr:value = '203.0.113.7']")
    domain = indicator("[domain-name:value = 'evil.example']")
    expired = indicator("[ipv4-addr:value = '198.51.100.9']", valid_until="2026-02-01T00:00:00Z")
    bundle = tmp_path / "bundle.json"
    bundle.write_text(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                  "objects": [ip, domain, expired]}))
    subprocess.run([BIN, "import", "--data-dir", str(data), str(bundle)], env=env, check=True,
                   capture_output=True)
    telemetry = "ipv4-addr 203.0.113.7\nipv4-addr 192.0.2.1\nipv4-addr 198.51.100.9\n"
    run = subprocess.run([BIN, "match", "--data-dir", str(data), "--at", "2026-06-01T00:00:00Z"],
                         input=telemetry, text=True, capture_output=True, env=env)
    assert run.returncode == 0, run.stderr
    hits = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    assert [h["indicator"] for h in hits] == [ip["id"]]
    assert "3 observations, 1 hits" in run.stderr


def test_match_without_a_node_says_how_to_make_one(tmp_path):
    run = subprocess.run([BIN, "match", "--data-dir", str(tmp_path / "none")], input="",
                         text=True, capture_output=True)
    assert run.returncode == 2
    assert "comity init" in run.stderr
