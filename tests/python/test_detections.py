"""Detections out: a real node's indicators as Suricata and Snort 3 rules, a Zeek Intel file,
plain lists, YARA rules and Sigma rules, through `comity export --format …` and
`GET /api/v1/detections`. The Suricata rules are checked by `suricata-check` (a rule checker
from PyPI, written by others); the Snort 3 rules are parsed by `idstools` (`rule.parse`,
from PyPI: it reads the rule grammar Snort and Suricata share, not Snort 3's options and
their arguments, and no Snort 3 can be had here to load them); the Zeek file against the Intel framework's columns; the
YARA rules are compiled by libyara (yara-python) and run over files; the Sigma rules are
read and validated by pySigma and turned by its SQLite backend into queries run over a
table of log lines. The sharing policy decides first: another member's
TLP:RED indicator never reaches a sensor, nor revoked or expired ones; hostile names and
values cannot break a rule or a line; every route refuses who may not export.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from conftest import add_and_wait, target
from federation_nodes import GREEN, RED, T0, federation

pytestmark = pytest.mark.skipif(target() == "medallion", reason="comity-only: detections")

ANALYST = ("sensor", "sensor-password-1")
VIEWER = ("vic", "vic-password-1")
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
HOSTILE_NAME = 'x"; sid:1; rev:1;) alert ip any any -> any any (msg:"\tinjected\nline'


def ind(pattern: str, marking: str = GREEN, **extra) -> dict:
    obj = {"type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}", "created": T0,
           "modified": T0, "name": extra.pop("name", "c2 server"), "pattern": pattern, "pattern_type": "stix",
           "valid_from": T0, "object_marking_refs": [marking]}
    obj.update(extra)
    return obj


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    with federation(tmp_path_factory.mktemp("detections"), "AB", [], serve="A") as w:
        a, b = w["A"], w["B"]
        for (name, password), role in ((ANALYST, "analyst"), (VIEWER, "viewer")):
            a.node.cli("user", "add", name, "--role", role, "--data-dir", a.node.data_dir,
                       env={"COMITY_USER_PASSWORD": password})
        objs = {
            "ip": ind("[ipv4-addr:value = '203.0.113.7'] OR [ipv6-addr:value = '2001:db8::7']"),
            "net": ind("[ipv4-addr:value = '198.51.100.0/24']"),
            "domain": ind("[domain-name:value = 'Evil.Example']", name=HOSTILE_NAME),
            "url": ind("[url:value = 'http://evil.example/gate.php?id=1;x=\"2\"']"),
            "hashes": ind(f"[file:hashes.'SHA-256' = '{SHA256}' OR file:hashes.MD5 = '{MD5}']"),
            # our own RED: our sensors may have it
            "own_red": ind("[domain-name:value = 'own-red.example']", RED),
            # B's RED, held here: it stays where its named recipients read it
            "their_red": ind("[domain-name:value = 'their-red.example']", RED, created_by_ref=b.id),
            "expired": ind("[domain-name:value = 'expired.example']", valid_until="2025-01-01T00:00:00Z"),
            "and": ind("[ipv4-addr:value = '192.0.2.1'] AND [domain-name:value = 'and.example']"),
            "regex": ind("[domain-name:value MATCHES '^x']"),
        }
        cid = a.node.collections["default"]
        add_and_wait(a.node, cid, list(objs.values()), user=a.node.admin)
        for user in (ANALYST[0], VIEWER[0]):
            a.node.cli("collection", "grant", cid, user, "--read", "--data-dir", a.node.data_dir)
        # a collection only the admin reads
        restricted = a.node.cli("collection", "add", "--title", "restricted", "--data-dir",
                                a.node.data_dir).stdout.decode().strip()
        hidden = ind("[domain-name:value = 'hidden.example']")
        add_and_wait(a.node, restricted, [hidden], user=a.node.admin)
        yield {"a": a, "b": b, "objs": objs, "restricted": restricted, "hidden": hidden}


def export(a, *args) -> subprocess.CompletedProcess:
    return a.node.cli("export", *args, "--data-dir", a.node.data_dir)


def get(a, auth=ANALYST, headers=None, **params) -> requests.Response:
    return requests.get(a.url + "/api/v1/detections", params=params, auth=auth, headers=headers or {},
                        timeout=60)


# suricata-check's advice the rules knowingly do not follow, and why: the SID range (the
# local range, 1,000,000-1,999,999, is too small for stable SIDs over millions of indicators);
# the Emerging Threats conventions for msg wording and for severity, deployment, attack
# target and performance metadata (a member's indicators do not say them); the indicator's
# own name in msg (S404: its wording of "C2"); and rules on addresses alone, which by nature
# have no content to match (S020).
ADVICE_NOT_TAKEN = {"S301", "S400", "S404", "S800", "S801", "S802", "S803", "S020"}


def suricata_check(rules: str, tmp: Path) -> dict[str, int]:
    """The codes of the issues suricata-check reports for `rules`, with their counts."""
    path = tmp / "comity.rules"
    path.write_text(rules)
    out = tmp / "check"
    exe = shutil.which("suricata-check", path=str(Path(sys.executable).parent))
    assert exe, "suricata-check is installed from tests/python/requirements.txt"
    run = subprocess.run([exe, "--rules", str(path), "--out", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    codes: dict[str, int] = {}
    checked = 0
    for line in (out / "suricata-check.jsonl").read_text().splitlines():
        checked += 1
        for issue in json.loads(line)["issues"]:
            codes[issue["code"]] = codes.get(issue["code"], 0) + 1
    assert checked == len(rules.splitlines()), (checked, rules)
    return codes


def test_suricata_rules_name_their_indicator_and_pass_a_rule_checker(world, tmp_path):
    a, objs = world["a"], world["objs"]
    run = export(a, "--format", "suricata")
    rules = run.stdout.decode()
    lines = rules.splitlines()
    assert all(line.startswith("alert ") and line.count("rev:1;") == 1 and line.endswith(";)")
               for line in lines), rules
    by = lambda key: [line for line in lines if objs[key]["id"] in line]  # noqa: E731
    assert len(by("ip")) == 4 and any("-> 203.0.113.7 any" in line for line in by("ip"))
    assert any("2001:db8::7" in line for line in by("ip"))
    assert any("-> 198.51.100.0/24 any" in line for line in by("net"))
    dns = [line for line in by("domain") if line.startswith("alert dns")]
    assert len(dns) == 1 and 'dns.query; dotprefix; content:".evil.example"; nocase; endswith;' in dns[0], dns
    assert "tls.sni" in "".join(by("domain"))
    # the hostile name stays inside its msg: one rule, one sid, its quotes and semicolons gone
    assert all(line.count("sid:") == 1 and "injected" in line for line in by("domain"))
    assert 'content:"|2f|gate.php?id=1|3b|x=%222%22"; fast_pattern;' in by("url")[0], by("url")
    assert by("url")[0].endswith(f"metadata:comity_indicator {objs['url']['id']}, tlp green, "
                                 "created_at 2024_05_01, updated_at 2024_05_01;)"), by("url")
    # hashes are matched from the lists the list format writes
    assert any("filesha256:comity-sha256.list;" in line for line in lines)
    assert any("filemd5:comity-md5.list;" in line for line in lines)
    assert by("own_red") and "tlp red" in by("own_red")[0]
    for absent in ("their_red", "expired", "and", "regex"):
        assert not by(absent), absent
    assert "their-red.example" not in rules and "expired.example" not in rules
    err = run.stderr.decode()
    assert "Withheld by the sharing policy: 1 indicators." in err, err
    assert "Skipped 3 indicators" in err and objs["and"]["id"] in err and "AND" in err, err
    # a second export writes the same rules (stable SIDs)
    assert export(a, "--format", "suricata").stdout.decode() == rules
    advice = suricata_check(rules, tmp_path)
    assert set(advice) <= ADVICE_NOT_TAKEN, advice
    # the checker does check: a rule without target, classtype or metadata dates draws advice
    bare = "alert ip $HOME_NET any -> 192.0.2.1 any (msg:\"x\"; sid:3000000001; rev:1;)\n"
    (tmp_path / "bare").mkdir()
    assert {"C100", "C101", "C103"} <= set(suricata_check(bare, tmp_path / "bare")), "suricata-check ran"


# The options a Snort 3 rule of Comity's may have, in the order it writes them.
SNORT_OPTIONS = ["msg", "flow", "byte_test", "ssl_state", "http_header", "http_uri", "content", "isdataat",
                 "service", "classtype", "sid", "rev", "metadata"]


def snort_parse(rules: str) -> list[dict]:
    """Every line of `rules` parsed by idstools, each checked to be one whole alert rule."""
    from idstools import rule as idsrule
    parsed = []
    for line in rules.splitlines():
        r = idsrule.parse(line)
        assert r is not None, line
        assert r["action"] == "alert" and r["proto"] in ("ip", "udp", "tcp") and r["raw"] == line, r
        names = [o["name"] for o in r["options"]]
        assert set(names) <= set(SNORT_OPTIONS), names
        assert names[0] == "msg" and names[-4:] == ["classtype", "sid", "rev", "metadata"], names
        assert r["rev"] == 1 and 3_000_000_000 <= r["sid"] <= 2**32 - 1, r
        parsed.append(r)
    return parsed


def snort_meta(r: dict) -> dict[str, str]:
    return dict(m.split(" ", 1) for m in r["metadata"])


def contents(r: dict) -> list[str]:
    return [o["value"] for o in r["options"] if o["name"] == "content"]


def test_snort_rules_parse_and_name_their_indicator(world):
    a, objs = world["a"], world["objs"]
    run = export(a, "--format", "snort")
    rules = run.stdout.decode()
    parsed = snort_parse(rules)
    assert len(parsed) == len(rules.splitlines()) > 0
    assert len({r["sid"] for r in parsed}) == len(parsed), "SIDs never repeat"
    by: dict[str, list[dict]] = {}
    for r in parsed:
        meta = snort_meta(r)
        assert meta["tlp"] in ("green", "red") and meta["created_at"] == "2024_05_01", meta
        by.setdefault(meta["comity_indicator"], []).append(r)
    ip = by[objs["ip"]["id"]]
    assert sorted((r["source_addr"], r["dest_addr"]) for r in ip) == sorted([
        ("$HOME_NET", "203.0.113.7"), ("203.0.113.7", "$HOME_NET"),
        ("$HOME_NET", "2001:db8::7"), ("2001:db8::7", "$HOME_NET")]), ip
    assert {r["dest_addr"] for r in by[objs["net"]["id"]]} == {"198.51.100.0/24", "$HOME_NET"}
    dns, sni = by[objs["domain"]["id"]]
    assert (dns["proto"], dns["dest_port"], dns["service"]) == ("udp", "53", "dns"), dns
    assert contents(dns) == ['"|04|evil|07|example|00|", offset 12, nocase, fast_pattern'], dns
    assert (sni["ssl_state"], sni["service"]) == ("client_hello", "ssl"), sni
    assert contents(sni) == ['"|00 00 0c|evil.example", nocase, fast_pattern'], sni
    # the hostile name stays inside its msg: its quotes, semicolons and newline gone
    assert dns["msg"].startswith("COMITY TLP:GREEN domain x__ sid_1_ rev_1_) alert ip") and "injected" in dns["msg"]
    [url] = by[objs["url"]["id"]]
    assert url["http_header"] == "field host" and url["http_uri"] is None and url["service"] == "http"
    # http_uri is percent-decoded by Snort 3: the quotes of `%222%22` are matched as bytes
    assert contents(url) == ['"evil.example", depth 12, nocase',
                             '"|2f|gate.php?id=1|3b|x=|22|2|22|", depth 20, fast_pattern'], url
    # no file hashes in Snort 3, and the policy and validity decide as for Suricata
    assert objs["hashes"]["id"] not in by and SHA256 not in rules
    assert snort_meta(by[objs["own_red"]["id"]][0])["tlp"] == "red"
    for absent in ("their_red", "expired", "and", "regex"):
        assert objs[absent]["id"] not in by, absent
    err = run.stderr.decode()
    assert "Withheld by the sharing policy: 1 indicators." in err and "Skipped 3 indicators" in err, err
    # stable SIDs, shared with the Suricata rules of the same values
    assert export(a, "--format", "snort").stdout.decode() == rules
    suricata = export(a, "--format", "suricata").stdout.decode()
    assert {r["sid"] for r in ip} <= {int(s.split(";")[0]) for s in suricata.split("sid:")[1:]}
    over_http = get(a, format="snort")
    assert over_http.status_code == 200 and over_http.headers["Content-Type"].startswith("text/plain")
    assert over_http.text == rules


def test_hostile_values_stay_inside_their_snort_content(world):
    a = world["a"]
    # a URL with a pipe, a semicolon, a quote and escaped backslash and newline; a domain
    # named with a quote and a semicolon in its indicator's name
    hostile = ind("[url:value = 'http://hostile.example/a|b;c\"d%5C%0A%7Ce'] OR "
                  "[domain-name:value = 'hostile.example']", name='q"; sid:9;) |\\x')
    cid = a.node.cli("collection", "add", "--title", "snort hostile", "--data-dir",
                     a.node.data_dir).stdout.decode().strip()
    add_and_wait(a.node, cid, [hostile], user=a.node.admin)
    rules = export(a, "--format", "snort", "--collection", cid).stdout.decode()
    parsed = snort_parse(rules)
    assert len(parsed) == 3 and all(snort_meta(r)["comity_indicator"] == hostile["id"] for r in parsed), rules
    url = [r for r in parsed if r.get("http_uri", 0) is None]
    assert len(url) == 1, rules
    assert contents(url[0]) == ['"hostile.example", depth 15, nocase',
                                '"|2f|a|7c|b|3b|c|22|d|5c 0a 7c|e", depth 12, fast_pattern'], url
    # the name's quote and semicolons are gone from msg; what is left cannot end it
    assert sorted(r["msg"] for r in parsed) == ["COMITY TLP:GREEN domain q__ sid_9_) __x"] * 2 + [
        "COMITY TLP:GREEN url q__ sid_9_) __x"], [r["msg"] for r in parsed]


def test_zeek_intel_and_lists_follow_their_formats(world):
    a, objs = world["a"], world["objs"]
    intel = export(a, "--format", "zeek-intel").stdout.decode().splitlines()
    assert intel[0] == "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc"
    rows = [line.split("\t") for line in intel[1:]]
    assert all(len(r) == 4 and r[2] == "comity" for r in rows), rows
    got = {(r[0], r[1]) for r in rows}
    assert {("203.0.113.7", "Intel::ADDR"), ("2001:db8::7", "Intel::ADDR"), ("198.51.100.0/24", "Intel::SUBNET"),
            ("evil.example", "Intel::DOMAIN"), (SHA256, "Intel::FILE_HASH"),
            ("evil.example/gate.php?id=1;x=%222%22", "Intel::URL")} <= got, got
    assert not any("their-red" in r[0] for r in rows)
    sha = export(a, "--format", "list", "--value-type", "sha256").stdout.decode()
    assert sha == SHA256 + "\n"
    both = export(a, "--format", "list", "--value-type", "ipv4", "--value-type", "domain").stdout.decode().split()
    assert sorted(both) == sorted(["203.0.113.7", "198.51.100.0/24", "evil.example", "own-red.example"]), both


def test_yara_rules_compile_and_match_the_files_they_describe(world, tmp_path):
    import yara
    a, objs = world["a"], world["objs"]
    text = export(a, "--format", "yara").stdout.decode()
    assert export(a, "--format", "yara").stdout.decode() == text, "names are stable"
    rules = yara.compile(source=text)
    by_indicator: dict[str, set[str]] = {}
    for rule in rules:
        by_indicator.setdefault(rule.meta["comity_indicator"], set()).add(rule.identifier)
        assert rule.meta["tlp"] in ("TLP:GREEN", "TLP:RED"), rule.meta

    def fired(data: bytes) -> set[str]:
        path = tmp_path / "sample"
        path.write_bytes(data)
        return {m.meta["comity_indicator"] for m in rules.match(str(path))}

    # file hashes, in a collection of their own (libyara scans no empty file, whose hashes
    # the world's indicators hold)
    import hashlib
    sample, other = b"MZ\x90\x00 dropper sample", b"MZ\x90\x00 another sample"
    hashed = ind(f"[file:hashes.'SHA-256' = '{hashlib.sha256(sample).hexdigest()}' OR "
                 f"file:hashes.MD5 = '{hashlib.md5(other).hexdigest()}' OR "
                 f"file:hashes.'SHA-1' = '{hashlib.sha1(b'third').hexdigest()}']")
    cid = a.node.cli("collection", "add", "--title", "yara hashes", "--data-dir",
                     a.node.data_dir).stdout.decode().strip()
    add_and_wait(a.node, cid, [hashed], user=a.node.admin)
    hash_rules = yara.compile(source=export(a, "--format", "yara", "--collection", cid).stdout.decode())
    for data, want in ((sample, 1), (other, 1), (b"third", 1), (b"fourth", 0)):
        path = tmp_path / "hashed"
        path.write_bytes(data)
        matched = hash_rules.match(str(path))
        assert len(matched) == want and all(m.meta["comity_indicator"] == hashed["id"] for m in matched), data
    assert fired(b"beacon to sub.evil.example every 60 s") == {objs["domain"]["id"]}
    assert fired("c2: E\0V\0I\0L\0.\0E\0X\0A\0M\0P\0L\0E\0".replace("\\0", "\0").encode()) \
        == {objs["domain"]["id"]}, "wide strings, any case"
    assert fired(b"notevil.example and 203.0.113.70 and 198.51.100.9") == set(), "whole words only, no ranges"
    assert fired(b"GET http://evil.example/gate.php?id=1;x=%222%22 HTTP/1.1") == {objs["url"]["id"], objs["domain"]["id"]}
    assert fired(b"203.0.113.7") == {objs["ip"]["id"]}
    assert fired(b"their-red.example expired.example and.example") == set()
    # the hostile name is a meta value, nothing more: one rule for the domain indicator
    assert len(by_indicator[objs["domain"]["id"]]) == 1
    for absent in ("their_red", "expired", "and", "regex", "net"):
        assert objs[absent]["id"] not in by_indicator, absent
    over_http = get(a, format="yara")
    assert over_http.status_code == 200 and over_http.text == text


def test_sigma_rules_validate_and_their_queries_find_the_log_lines(world):
    import sqlite3
    from sigma.backends.sqlite import sqliteBackend
    from sigma.collection import SigmaCollection
    from sigma.validators.core import validators
    a, objs = world["a"], world["objs"]
    text = export(a, "--format", "sigma").stdout.decode()
    collection = SigmaCollection.from_yaml(text)
    rules = collection.rules
    assert rules and all(not r.errors for r in rules), [r.errors for r in rules]
    assert len({r.id for r in rules}) == len(rules)
    # pySigma's own validators find nothing to say (those that check ATT&CK, D3FEND and CAR
    # tags download their catalogues, and the rules carry no such tags)
    offline = {name: v for name, v in validators.items() if name not in ("attacktag", "d3_fendtag", "cartag")}
    assert "tlpv2_tag" in offline and "identifier_uniqueness" in offline
    issues = [(name, r) for name, v in offline.items() for r in rules for _ in v().validate(r)]
    # one piece of advice taken knowingly: the URL's "?" is escaped so that it is not a
    # wildcard, which the validator asks to be sure of
    assert [(name, objs["url"]["id"] in r.description) for name, r in issues] == [("escaped_wildcard", True)], issues
    categories = sorted(r.logsource.category for r in rules if objs["ip"]["id"] in r.description
                        or objs["hashes"]["id"] in r.description)
    assert categories == ["firewall", "process_creation"], categories
    tags = {str(t) for r in rules for t in r.tags}
    assert tags == {"tlp.green", "tlp.red"}, tags

    db = sqlite3.connect(":memory:")
    db.execute('CREATE TABLE logs (line TEXT, query TEXT, dst_ip TEXT, src_ip TEXT, "c-uri" TEXT, Hashes TEXT)')
    lines = {
        "dns": ("dns", "sub.evil.example", None, None, None, None),
        "dns-exact": ("dns-exact", "evil.example", None, None, None, None),
        "dns-other": ("dns-other", "notevil.example", None, None, None, None),
        "fw-out": ("fw-out", None, "203.0.113.7", "10.0.0.5", None, None),
        "fw-in": ("fw-in", None, "10.0.0.5", "2001:db8::7", None, None),
        "fw-net": ("fw-net", None, "198.51.100.23", "10.0.0.5", None, None),
        "fw-other": ("fw-other", None, "203.0.113.70", "10.0.0.5", None, None),
        "proxy": ("proxy", None, None, None, 'http://evil.example/gate.php?id=1;x=%222%22', None),
        "proxy-other": ("proxy-other", None, None, None, "http://evil.example/gate.phpXid=1", None),
        "exe": ("exe", None, None, None, None, f"MD5=00,SHA256={SHA256.upper()},IMPHASH=00"),
        "exe-other": ("exe-other", None, None, None, None, "SHA256=" + "0" * 64),
        "red": ("red", "their-red.example", None, None, None, None),
    }
    db.executemany("INSERT INTO logs VALUES (?, ?, ?, ?, ?, ?)", lines.values())
    found: set[str] = set()
    for rule in rules:
        for query in sqliteBackend().convert_rule(rule):
            found |= {row[0] for row in db.execute(query)}
    assert found == {"dns", "dns-exact", "fw-out", "fw-in", "fw-net", "proxy", "exe"}, found
    r = get(a, format="sigma")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("application/yaml")
    assert r.text == text


@pytest.mark.parametrize("args,says", [
    (["--format", "snort2"], "unknown format \"snort2\": expected stix, suricata, snort, zeek-intel, list, yara or sigma, "
                             "or misp-feed"),
    (["--format", "list", "--value-type", "ipv5"], "unknown value type \"ipv5\""),
    (["--value-type", "ipv4"], "--value-type goes with the sensor formats"),
    (["--format", "suricata", "--all-versions"], "go with --format stix"),
])
def test_the_cli_refuses_what_it_cannot_do(world, args, says):
    a = world["a"]
    run = a.node.cli("export", *args, "--data-dir", a.node.data_dir, check=False)
    assert run.returncode != 0 and says in run.stderr.decode(), run.stderr.decode()
    assert run.stdout == b""


def test_sensors_pull_over_http_with_etags_and_revoked_indicators_leave(world):
    a, objs = world["a"], world["objs"]
    secret = a.node.cli("token", "create", "--user", ANALYST[0], "--label", "sensor",
                        "--data-dir", a.node.data_dir).stdout.decode().strip()
    bearer = {"Authorization": f"Bearer {secret}"}
    r = get(a, auth=None, headers=bearer, format="suricata")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain"), (r.status_code, r.text)
    assert r.text == export(a, "--format", "suricata").stdout.decode()
    etag = r.headers["ETag"]
    again = get(a, auth=None, headers={**bearer, "If-None-Match": etag}, format="suricata")
    assert again.status_code == 304 and again.text == "" and again.headers["ETag"] == etag
    listed = get(a, format="list", type="sha256,md5")
    assert sorted(listed.text.split()) == sorted([SHA256, MD5]), listed.text
    # revoking the indicator drops its rules from the next answer, and the ETag changes
    revoked = {**objs["ip"], "modified": "2024-05-02T10:00:00.000Z", "revoked": True}
    add_and_wait(a.node, a.node.collections["default"], [revoked], user=a.node.admin)
    after = get(a, auth=None, headers={**bearer, "If-None-Match": etag}, format="suricata")
    assert after.status_code == 200 and after.headers["ETag"] != etag
    assert objs["ip"]["id"] not in after.text and "203.0.113.7" not in after.text
    assert objs["domain"]["id"] in after.text
    snort = get(a, format="snort")
    assert snort.status_code == 200 and objs["domain"]["id"] in snort.text
    assert objs["ip"]["id"] not in snort.text and "203.0.113.7" not in snort.text


@pytest.mark.parametrize("auth,params,status,says", [
    (None, {"format": "suricata"}, 401, ""),
    (("sensor", "wrong-password"), {"format": "suricata"}, 401, ""),
    (VIEWER, {"format": "suricata"}, 403, "viewer role may not export"),
    (ANALYST, {}, 400, "format is required"),
    (ANALYST, {"format": "snort2"}, 400, "unknown format"),
    (ANALYST, {"format": "list", "type": "ipv4,ipv5"}, 400, "unknown value type"),
    (ANALYST, {"format": "list", "colour": "red"}, 400, "unknown field"),
    (ANALYST, {"format": "list", "collection": str(uuid.uuid4())}, 404, "that you may read"),
])
def test_who_may_pull_and_what_is_refused(world, auth, params, status, says):
    r = get(world["a"], auth=auth, **params)
    assert r.status_code == status and says in r.text, (r.status_code, r.text)
    assert "evil.example" not in r.text



def test_a_collection_the_user_may_not_read_answers_as_one_that_does_not_exist(world):
    a, restricted = world["a"], world["restricted"]
    admin = get(a, auth=a.node.admin, format="list", collection=restricted)
    assert admin.status_code == 200 and admin.text == "hidden.example\n", admin.text
    everything = get(a, format="list")
    assert everything.status_code == 200 and "evil.example" in everything.text
    assert "hidden.example" not in everything.text
    made_up = str(uuid.uuid4())
    for cid in (restricted, made_up):
        r = get(a, format="list", collection=cid)
        assert r.status_code == 404, (r.status_code, r.text)
        assert r.json()["description"] == f"no collection {cid!r} that you may read".replace("'", '"')
