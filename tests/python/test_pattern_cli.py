"""`comity pattern match` / `validate`: output form, exit codes, and hostile input."""
import json
import os
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMITY = os.environ.get("COMITY_BIN", str(ROOT / "target" / "debug" / "comity"))

OBSERVED = [
    {"type": "observed-data", "first_observed": "2024-01-01T00:00:00Z", "last_observed": "2024-01-01T00:00:00Z",
     "number_observed": 1, "objects": {"0": {"type": "ipv4-addr", "value": "10.0.0.1"}}},
    {"type": "observed-data", "id": "observed-data--2", "first_observed": "2024-01-01T00:00:05Z",
     "last_observed": "2024-01-01T00:00:05Z", "number_observed": 1,
     "objects": {"0": {"type": "domain-name", "value": "evil.example"}}},
]


def run(*args, timeout=60):
    start = time.monotonic()
    r = subprocess.run([COMITY, "pattern", *map(str, args)], capture_output=True, timeout=timeout)
    return r, time.monotonic() - start


def write(tmp_path, content, name="in.json"):
    p = tmp_path / name
    p.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return p


def test_binding_names_observed_data_by_id_or_position(tmp_path):
    f = write(tmp_path, OBSERVED)
    r, _ = run("match", "[ipv4-addr:value = '10.0.0.1'] FOLLOWEDBY [domain-name:value = 'evil.example']",
               f, "--stix-version", "2.0")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [0, "observed-data--2"]
    r, _ = run("match", "[ipv4-addr:value = '10.0.0.2']", f, "--stix-version", "2.0")
    assert r.returncode == 1 and r.stdout == b""


def test_bad_input_exits_2_with_a_reason(tmp_path):
    pattern = "[ipv4-addr:value = '10.0.0.1']"
    for content in [b"\xff\xfe[]", b'[{"type": "observed-data", ', b"42", b"[{}]"]:
        r, _ = run("match", pattern, write(tmp_path, content), "--stix-version", "2.0")
        assert r.returncode == 2 and r.stderr.strip(), content
    r, _ = run("match", "[ipv4-addr:value = ", write(tmp_path, OBSERVED))
    assert r.returncode == 2 and b"line 1:" in r.stderr


def test_hostile_patterns_get_a_prompt_answer(tmp_path):
    f = write(tmp_path, OBSERVED)
    deep = "(" * 10_000 + "[ipv4-addr:value = '10.0.0.1']" + ")" * 10_000
    r, took = run("match", deep, f, "--stix-version", "2.0")
    assert r.returncode == 2 and b"nest deeper" in r.stderr and took < 30
    r, took = run("match", "[ipv4-addr:value = '10.0.0.1'] REPEATS 1000000 TIMES", f, "--stix-version", "2.0")
    assert r.returncode == 1 and took < 30
    r, took = run("match", "[domain-name:value MATCHES '(a*)*$b']", f, "--stix-version", "2.0")
    assert r.returncode == 1 and took < 30
    r, took = run("validate", deep)
    assert r.returncode == 1 and took < 30
