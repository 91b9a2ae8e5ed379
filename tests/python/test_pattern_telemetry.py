"""`comity match` (telemetry streaming) and its agreement with the reference matcher.

The differential test draws random indicators and observed-data, asks the OASIS
reference matcher (`stix2-matcher`) for every (pattern, observed-data) pair, and checks
that `comity match` reports exactly the same hits.
"""
import json
import os
import random
import subprocess
from pathlib import Path

import pytest
from stix2matcher.matcher import Pattern

ROOT = Path(__file__).resolve().parents[2]
COMITY = os.environ.get("COMITY_BIN", str(ROOT / "target" / "debug" / "comity"))


def indicator(i, pattern, **extra):
    return dict({
        "type": "indicator", "spec_version": "2.1",
        "id": f"indicator--{i:08d}-0000-4000-8000-000000000000",
        "created": "2024-01-01T00:00:00Z", "modified": "2024-01-01T00:00:00Z",
        "pattern": pattern, "pattern_type": "stix", "valid_from": "2020-01-01T00:00:00Z",
    }, **extra)


def write_indicators(tmp_path, indicators):
    path = tmp_path / "indicators.json"
    path.write_text(json.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000",
                                "objects": indicators}))
    return path


def comity_match(*args, stdin=None):
    return subprocess.run([COMITY, "match", *map(str, args)], input=stdin,
                          capture_output=True, text=stdin is None or isinstance(stdin, str), timeout=120)


@pytest.fixture
def indicators(tmp_path):
    return write_indicators(tmp_path, [
        indicator(0, "[ipv4-addr:value = '203.0.113.7']"),
        indicator(1, "[domain-name:value LIKE '%.evil.example']"),
        indicator(2, "[file:hashes.'SHA-256' = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08']"),
        indicator(3, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", valid_until="2021-01-01T00:00:00Z"),
        indicator(4, "[ipv4-addr:value ISSUBSET '203.0.113.0/24']", revoked=True),
        indicator(5, "[ipv4-addr:value ISSUBSET '198.51.100.0/24']"),
    ])


TYPED = ("ipv4-addr 203.0.113.7\n"
         "domain-name a.evil.example\n"
         "file:hashes.'SHA-256' 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n"
         '{"type": "ipv4-addr", "value": "198.51.100.9"}\n'
         "ipv4-addr 192.0.2.1\n")


def hits(stdout):
    """Single-observation hits as (indicator number, observation number)."""
    return [(h["indicator"][11:19], h["observation"])
            for h in map(json.loads, stdout.splitlines()) if "observation" in h]


def cross_hits(stdout):
    """Hits across observations as (indicator number, observation numbers)."""
    return [(h["indicator"][11:19], h["observations"])
            for h in map(json.loads, stdout.splitlines()) if "observations" in h]


def test_typed_and_json_lines_from_stdin(indicators):
    r = comity_match("--indicators", indicators, "--at", "2024-06-01T00:00:00Z", stdin=TYPED)
    assert r.returncode == 0, r.stderr
    assert sorted(hits(r.stdout)) == [("00000000", 1), ("00000001", 2), ("00000002", 3), ("00000005", 4)]
    assert "observations/s" in r.stderr and "4 hits" in r.stderr


def test_expired_and_revoked_indicators_never_fire(indicators):
    r = comity_match("--indicators", indicators, "--at", "2020-06-01T00:00:00Z", stdin="ipv4-addr 203.0.113.99\n")
    assert sorted(hits(r.stdout)) == [("00000003", 1)]
    r = comity_match("--indicators", indicators, "--at", "2024-06-01T00:00:00Z", stdin="ipv4-addr 203.0.113.99\n")
    assert hits(r.stdout) == []


def test_malformed_line_names_its_number_unless_keep_going(indicators):
    bad = TYPED + "garbage\n{\"type\": \n" + "ipv4-addr 203.0.113.7\n"
    r = comity_match("--indicators", indicators, stdin=bad)
    assert r.returncode == 2 and "line 6" in r.stderr
    r = comity_match("--indicators", indicators, "--keep-going", stdin=bad)
    assert r.returncode == 0 and "line 6" in r.stderr and "line 7" in r.stderr
    assert len(hits(r.stdout)) == 5


def test_non_utf8_and_truncated_input_are_errors_not_crashes(indicators):
    r = comity_match("--indicators", indicators, stdin=b"ipv4-addr 203.0.113.7\n\xff\xfe\n")
    assert r.returncode == 2 and b"line 2" in r.stderr and b"UTF-8" in r.stderr
    r = comity_match("--indicators", indicators, stdin='{"type": "bundle", "objects": [\n{"type": "ipv4-addr"')
    assert r.returncode == 2 and "invalid JSON" in r.stderr


def test_sightings_carry_count_times_and_where_sighted(indicators, tmp_path):
    bundle = {"type": "bundle", "id": "bundle--1", "objects": [
        {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-06-01T00:00:00Z",
         "last_observed": "2024-06-01T01:00:00Z", "number_observed": 3, "object_refs": ["ipv4-addr--1"]},
        {"type": "observed-data", "id": "observed-data--2", "first_observed": "2024-05-01T00:00:00Z",
         "last_observed": "2024-05-01T00:00:00Z", "number_observed": 1, "object_refs": ["ipv4-addr--1"]},
        {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "203.0.113.7"}]}
    data = tmp_path / "telemetry.json"
    data.write_text(json.dumps(bundle, indent=2))
    r = comity_match("--indicators", indicators, data, "--sightings", "--identity", "identity--me")
    assert r.returncode == 0, r.stderr
    sightings = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(sightings) == 1
    s = sightings[0]
    assert s["type"] == "sighting" and s["sighting_of_ref"].startswith("indicator--00000000")
    assert s["count"] == 4 and s["where_sighted_refs"] == ["identity--me"]
    assert s["first_seen"] == "2024-05-01T00:00:00Z" and s["last_seen"] == "2024-06-01T01:00:00Z"
    assert sorted(s["observed_data_refs"]) == ["observed-data--1", "observed-data--2"]


VALUES = ["a", "ab", "évil.example", "x.example", "10.0.0.1", "10.1.2.3", 0, 3, 2.5, True]
IPS = ["10.0.0.1", "10.1.2.3", "192.0.2.1"]
IP_PATHS = ["ipv4-addr:value", "domain-name:resolves_to_refs[*].value"]


def random_pattern(rng):
    def lit():
        v = rng.choice(VALUES)
        return {True: "true"}.get(v, repr(v) if isinstance(v, str) else str(v))

    def test():
        path = rng.choice(["ipv4-addr:value", "domain-name:value", "file:name", "file:size",
                           "domain-name:resolves_to_refs[*].value", "file:hashes.MD5"])
        neg = rng.choice(["", "", "NOT "])
        return rng.choice([
            lambda: f"{path} {neg}{rng.choice(['=', '!=', '<', '>='])} {lit()}",
            lambda: f"{path} {neg}IN ({', '.join(rng.sample(['0', '3', '2.5'], 2) if rng.random() < 0.5 else rng.sample([repr(v) for v in VALUES if isinstance(v, str)], 2))})",
            lambda: f"{path} {neg}LIKE '{rng.choice(['a%', '%example', '_b', '10.%'])}'",
            lambda: f"{path} {neg}MATCHES '{rng.choice(['^a', 'b$', 'ex', '^10'])}'",
            lambda: f"{rng.choice(IP_PATHS)} {neg}ISSUBSET '{rng.choice(['10.0.0.0/8', '10.1.0.0/16'])}'",
        ])()

    def comparison(depth=0):
        if depth < 2 and rng.random() < 0.3:
            return f"({comparison(depth + 1)} {rng.choice(['AND', 'OR'])} {comparison(depth + 1)})"
        return test()

    return rng.choice([
        lambda: f"[{comparison()}]",
        lambda: f"[{comparison()}] OR [{comparison()}]",
        lambda: f"[{comparison()}] REPEATS 2 TIMES",
    ])()


def random_observed_data(rng, k):
    def value():
        return rng.choice(VALUES)

    objs = [{"type": "ipv4-addr", "id": f"ipv4-addr--{k}", "value": rng.choice(IPS)}]
    kind = rng.randrange(3)
    if kind == 1:
        objs.append({"type": "domain-name", "id": f"domain-name--{k}", "value": value(),
                     "resolves_to_refs": [f"ipv4-addr--{k}"]})
    elif kind == 2:
        objs.append({"type": "file", "id": f"file--{k}", "name": value(), "size": value(),
                     "hashes": {"MD5": value()}})
    od = {"type": "observed-data", "id": f"observed-data--{k}", "first_observed": "2024-06-01T00:00:00Z",
          "last_observed": "2024-06-01T00:00:00Z", "number_observed": rng.choice([1, 2]),
          "object_refs": [o["id"] for o in objs]}
    return {"type": "bundle", "id": f"bundle--{k}", "objects": [od, *objs]}


@pytest.mark.parametrize("seed", [20240601, 7, 99, 1234])
def test_same_hits_as_the_reference_matcher_on_random_data(tmp_path, seed):
    rng = random.Random(seed)
    patterns = [random_pattern(rng) for _ in range(100)]
    bundles = [random_observed_data(rng, k) for k in range(40)]
    expected = set()
    usable = []
    for i, p in enumerate(patterns):
        try:
            compiled = Pattern(p, "2.1")
            found = {(i, k) for k, b in enumerate(bundles) if compiled.match([b])}
        except Exception:  # the reference refuses this pattern or this data: skip it
            continue
        usable.append(i)
        expected |= found
    ind = write_indicators(tmp_path, [indicator(i, patterns[i]) for i in usable])
    data = tmp_path / "observations.json"
    data.write_text(json.dumps(bundles, indent=1))
    r = comity_match("--indicators", ind, data, "--quiet")
    assert r.returncode == 0, r.stderr
    got = {(int(i), k - 1) for i, k in hits(r.stdout)}
    assert len(usable) > 60 and expected
    assert got == expected, [patterns[i] for i, _ in got ^ expected]
    # Across the whole document: an indicator fires (on one observation or several)
    # exactly when the reference matches it against all the observed-data together.
    fired = {int(i) for i, _ in hits(r.stdout)} | {int(i) for i, _ in cross_hits(r.stdout)}
    whole = {i for i in usable if Pattern(patterns[i], "2.1").match(bundles)}
    assert fired == whole, [patterns[i] for i in fired ^ whole]


def test_patterns_over_several_observations_fire_across_a_document(tmp_path):
    ind = write_indicators(tmp_path, [
        indicator(0, "[ipv4-addr:value = '203.0.113.7'] FOLLOWEDBY [domain-name:value = 'evil.example']"),
        indicator(1, "[domain-name:value = 'evil.example'] FOLLOWEDBY [ipv4-addr:value = '203.0.113.7']"),
        indicator(2, "([ipv4-addr:value = '203.0.113.7'] AND [domain-name:value = 'evil.example']) WITHIN 60 SECONDS"),
    ])
    def od(k, t, sco):
        sco = dict(sco, id=f"{sco['type']}--{k}")
        return [{"type": "observed-data", "id": f"observed-data--{k}", "first_observed": t, "last_observed": t,
                 "number_observed": 1, "object_refs": [sco["id"]]}, sco]
    objects = od(1, "2024-06-01T00:00:00Z", {"type": "ipv4-addr", "value": "203.0.113.7"}) + \
        od(2, "2024-06-01T00:05:00Z", {"type": "domain-name", "value": "evil.example"})
    data = tmp_path / "telemetry.json"
    data.write_text(json.dumps({"type": "bundle", "id": "bundle--9", "objects": objects}, indent=1))
    r = comity_match("--indicators", ind, data)
    assert r.returncode == 0, r.stderr
    assert cross_hits(r.stdout) == [("00000000", [1, 2])]
    assert hits(r.stdout) == []
