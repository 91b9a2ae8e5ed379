"""`comity validate` against the OASIS stix2-validator, used as an oracle.

For every object of the broken-object corpus (crates/stix/tests/corpus: valid/, invalid/ and
cli-invalid/, the broken STIX patterns that the command checks with comity-pattern), of MITRE ATT&CK ICS
and Mobile, and of the OASIS STIX 2.1 examples, the MUST-level verdict of
`comity validate --json` (valid or not) must agree with stix2-validator's (run with its
SHOULD checks disabled). Where stix2-validator is wrong against the STIX 2.1 specification,
or cannot give a verdict, the case is listed in DISAGREEMENTS with the spec's words; each such
case must still disagree, so an entry that no longer applies fails the test instead of
hiding a change.

Also pins the command's contract: exit 0/1/2 and the precise message for malformed JSON.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from stix2validator import ValidationOptions, validate_instance

from conftest import REPO, TEST_DATA, comity_bin

CORPUS = REPO / "crates" / "stix" / "tests" / "corpus"
DATA_FILES = sorted((TEST_DATA / "attack").glob("*.json")) + sorted((TEST_DATA / "stix-examples").glob("*.json"))

# Case key (corpus path relative to the corpus directory, or object id) -> why the two differ.
DISAGREEMENTS = {
    # stix2-validator gives no verdict: it raises KeyError('id') / ValidationError because it
    # assumes every object (including objects embedded in the deprecated observed-data
    # `objects` container, which have no id) carries an id.
    "invalid/exclusive-properties--observed-data-objects-and-refs.json": "stix2-validator crashes (KeyError 'id')",
    "invalid/required-property--sco-id.json": "stix2-validator refuses input without 'id' instead of judging it",
    # Spec 7.2.3 (granular marking), lang: "If the marking_ref property is not present, this
    # property MUST be present. If the marking_ref property is present, this property MUST NOT
    # be present." stix2-validator's schema requires marking_ref and never looks at lang.
    "invalid/granular-marking--both-ref-and-lang.json": "spec forbids marking_ref together with lang",
    "valid/granular-markings-selectors.json": "spec allows a lang-only granular marking",
    # Spec 3.2, created_by_ref: "specifies the id property of the identity object that
    # describes the entity that created this object"; object_marking_refs: "a list of id
    # properties of marking-definition objects". stix2-validator only checks identifier syntax.
    "invalid/ref-type--created-by-malware.json": "created_by_ref must be an identity",
    "invalid/ref-type--object-marking-identity.json": "object_marking_refs must be marking definitions",
    # Spec 6.4 (domain-name), resolves_to_refs: "The objects referenced in this list MUST be of
    # type ipv4-addr or ipv6-addr or domain-name". stix2-validator does not check 2.1 SCO refs.
    "invalid/ref-type--resolves-to-file.json": "resolves_to_refs MUST be ipv4-addr/ipv6-addr/domain-name",
    # Spec 5.2 (sighting), sighting_of_ref: "This property MUST reference only an SDO or a
    # Custom Object." stix2-validator checks only that it is not an SRO/meta object.
    "invalid/ref-type--sighting-of-sco.json": "sighting_of_ref MUST reference an SDO",
    # Spec 3.2, spec_version: "The value of this property MUST be 2.1 for STIX Objects defined
    # according to this specification." stix2-validator's 2.1 schema also accepts "2.0".
    "invalid/spec-version--2-0.json": "spec_version MUST be 2.1",
    # The TLP 2.0 marking definitions are defined by extension-definition--60a3c5c5-...,
    # whose schema restricts tlp_2_0 to clear/green/amber/amber+strict/red and fixes the five
    # standard ids; stix2-validator knows nothing of that extension.
    "invalid/tlp-invalid--tlp2-value.json": "tlp_2_0 outside the TLP 2.0 extension's enum",
    "invalid/tlp-noncanonical--tlp2-id-wrong-level.json": "standard TLP:AMBER id defining another level",
}


def run_validate(*paths: Path, json_lines: bool = True) -> subprocess.CompletedProcess:
    args = [str(comity_bin()), "validate", *(["--json"] if json_lines else []), *map(str, paths)]
    return subprocess.run(args, capture_output=True, text=True, timeout=600)


def oracle(obj: dict) -> bool | str:
    """stix2-validator's MUST-level verdict, or "crash" when it raises instead of judging."""
    try:
        return validate_instance(obj, ValidationOptions(version="2.1", disabled=["all"])).is_valid
    except Exception as exc:  # noqa: BLE001 - any exception means no verdict
        return f"crash: {exc!r}"


def compare(cases: list[tuple[str, dict, dict]]) -> list[str]:
    """Returns the unexpected differences; cases are (key, object, our verdict line)."""
    problems = []
    for key, obj, ours in cases:
        theirs = oracle(obj)
        agree = theirs is ours["valid"]
        if key in DISAGREEMENTS:
            if agree:
                problems.append(f"{key}: listed as a disagreement ({DISAGREEMENTS[key]}) but both now say {theirs}")
        elif not agree:
            problems.append(f"{key}: comity says valid={ours['valid']} {ours['errors']}, stix2-validator says {theirs}")
    return problems


def test_corpus_verdicts_agree_with_stix2_validator():
    files = sorted(CORPUS.glob("*/*.json"))
    assert len(files) > 100
    proc = run_validate(*files)
    assert proc.returncode == 1, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == len(files)
    cases = []
    for line in lines:
        path = Path(line["file"])
        key = str(path.relative_to(CORPUS))
        # The corpus itself says what the verdict must be.
        assert line["valid"] == key.startswith("valid/"), (key, line["errors"])
        cases.append((key, json.loads(path.read_text()), line))
    problems = compare(cases)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("data_file", DATA_FILES, ids=lambda p: p.name)
def test_real_data_verdicts_agree_with_stix2_validator(data_file: Path):
    bundle = json.loads(data_file.read_text())
    by_id = {obj["id"]: obj for obj in bundle["objects"]}
    proc = run_validate(data_file)
    assert proc.returncode in (0, 1), proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    objects = [line for line in lines if line["id"] in by_id]
    assert len(objects) == len(bundle["objects"])
    problems = compare([(line["id"], by_id[line["id"]], line) for line in objects])
    assert not problems, "\n".join(problems[:50])


def test_exit_codes_and_input_shapes(tmp_path: Path):
    valid = json.loads((CORPUS / "valid" / "indicator.json").read_text())
    broken = json.loads((CORPUS / "invalid" / "range--confidence.json").read_text())
    shapes = {
        "object.json": valid,
        "list.json": [valid, valid],
        "envelope.json": {"more": False, "objects": [valid]},
        "bundle.json": {"type": "bundle", "id": "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", "objects": [valid]},
    }
    for name, content in shapes.items():
        (tmp_path / name).write_text(json.dumps(content))
    proc = run_validate(*(tmp_path / n for n in shapes))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [json.loads(line)["valid"] for line in proc.stdout.splitlines()] == [True] * 5

    (tmp_path / "broken.json").write_text(json.dumps(broken))
    proc = run_validate(tmp_path / "broken.json", json_lines=False)
    assert proc.returncode == 1
    assert "confidence: 101 is outside the allowed range 0..=100 [range]" in proc.stdout

    (tmp_path / "malformed.json").write_text('{\n  "type": "indicator",\n  "id": }\n')
    proc = run_validate(tmp_path / "object.json", tmp_path / "malformed.json")
    assert proc.returncode == 2
    assert "malformed.json:3:9: malformed JSON" in proc.stderr, proc.stderr

    proc = run_validate(tmp_path / "does-not-exist.json")
    assert proc.returncode == 2
    assert "cannot read" in proc.stderr
