"""The EPCIS Event Hash ID agrees with the reference implementation (github.com/RalphTro/epcis-event-hash-generator)
on every vendored reference document at its newest published CBV 2.0 output, event by event, pre-hash string and
hash ID (whichever of the two the reference publishes); the reference outputs Lodeline does not follow are asserted
as documented in MANIFEST.json (their reasons there). Provenance: PROVENANCE.txt."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lodeline.trace.event_hash import document_hash_ids, document_prehashes, hash_id

DATA = Path(__file__).parent / "data" / "epcis_event_hash"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text())


def _document(folder: Path, name: str) -> dict:
    (path,) = [p for p in (folder / f"{name}.jsonld", folder / f"{name}.json") if p.exists()]
    return json.loads(path.read_text())


def _lines(folder: Path, name: str, kind: str) -> list[str] | None:
    path = folder / f"{name}.{kind}"
    return path.read_text().splitlines() if path.exists() else None


def _vector(folder: Path, name: str) -> tuple[dict, list[str] | None, list[str] | None]:
    return _document(folder, name), _lines(folder, name, "prehashes"), _lines(folder, name, "hashes")


def test_every_vendored_document_is_in_the_manifest() -> None:
    """No silent skips: each bundled document is either a vector or a documented deviation, and each carries the
    published hashes or pre-hash strings it is checked against."""
    docs = [*DATA.glob("*.jsonld"), *DATA.glob("*.json")]
    assert {p.stem for p in docs if p.name != "MANIFEST.json"} == set(MANIFEST["vectors"])
    deviations = [*(DATA / "deviations").glob("*.jsonld"), *(DATA / "deviations").glob("*.json")]
    assert {p.stem for p in deviations} == set(MANIFEST["deviations"])
    for name in MANIFEST["vectors"]:
        assert (DATA / f"{name}.hashes").exists() or (DATA / f"{name}.prehashes").exists(), name


@pytest.mark.parametrize("name", sorted(MANIFEST["vectors"]))
def test_reference_vector(name: str) -> None:
    doc, prehashes, hashes = _vector(DATA, name)
    ours = document_prehashes(doc)
    if prehashes is not None:
        for i, (got, want) in enumerate(zip(ours, prehashes, strict=True)):
            assert got == want, f"{name} event {i}"
    if hashes is not None:
        if (
            prehashes is not None
        ):  # the vendored set is consistent: each hash is SHA-256 of its pre-hash string
            assert [hash_id(p) for p in prehashes] == hashes
        assert document_hash_ids(doc) == hashes
    assert ours


def _deviation(name: str) -> tuple[list[str], list[str]]:
    """Ours and theirs for a deviation, after checking the reference's own set is consistent."""
    doc, theirs, their_hashes = _vector(DATA / "deviations", name)
    assert theirs is not None and their_hashes is not None
    assert [hash_id(p) for p in theirs] == their_hashes
    ours = document_prehashes(doc)
    assert len(ours) == len(theirs)
    assert document_hash_ids(doc) != their_hashes  # a deviation really is one
    return ours, theirs


def test_uncompacted_curie_deviation() -> None:
    """TransformationEventWithUserExtensions (MANIFEST.json "deviations"): the reference leaves the sensor report
    type ``example:someSensorProperty`` unexpanded although the context binds ``example``; README rule 15 expands
    every CURIE. That is the only difference."""
    (ours,), (theirs,) = _deviation("TransformationEventWithUserExtensions")
    assert "type=example:someSensorProperty" in theirs
    assert ours == theirs.replace(
        "type=example:someSensorProperty", "type=http://ns.example.com/epcis/someSensorProperty"
    )


def test_draft_master_data_code_value_deviation() -> None:
    """masterDataAvailableForWithVeryMixedVoc (MANIFEST.json "deviations"): the reference expands the Web Vocabulary
    code value ``BACKROOM`` of ``locationRoleType`` inside ``gs1:masterDataAvailableFor`` (draft rule 25, CBV 2.1
    work in progress); Lodeline writes the value as given. That is the only difference."""
    (ours,), (theirs,) = _deviation("masterDataAvailableForWithVeryMixedVoc")
    expanded = "locationRoleType=https://ref.gs1.org/voc/LocationRoleType-BACKROOM"
    assert expanded in theirs
    assert ours == theirs.replace(expanded, "locationRoleType=BACKROOM")


def test_draft_master_data_code_values_of_a_cbv_21_document() -> None:
    """masterDataAvailableForDeforestation (MANIFEST.json "deviations"): the reference expands the code values of
    ``regulationType`` and ``regulatoryIdentifierType`` (draft rule 25); everything else agrees, including the
    CBV 2.1 words ``notifying`` and ``subject_to_regulation``, which are not CBV 2.0 vocabulary and stay as written."""
    (ours,), (theirs,) = _deviation("masterDataAvailableForDeforestation")
    assert "bizStep=notifyingpersistentDispositionset=subject_to_regulation" in ours
    for vocabulary in ("RegulationTypeCode-", "RegulatoryIdentifierType-"):
        assert theirs.count(f"https://ref.gs1.org/voc/{vocabulary}") == 2
        theirs = theirs.replace(f"https://ref.gs1.org/voc/{vocabulary}", "")
    assert ours == theirs


def test_cli_hashes_a_query_document() -> None:
    """``lodeline trace hash`` prints the reference's hash IDs for an EPCISQueryDocument (no hashes before issue 11),
    ``--prehash`` its pre-hash strings; a document without an event list is a clear error, not an empty answer."""
    from typer.testing import CliRunner

    from lodeline.cli.main import app

    runner = CliRunner()
    path = str(DATA / "epcisQueryDocument.jsonld")
    result = runner.invoke(app, ["trace", "hash", path])
    assert result.exit_code == 0, result.output
    assert result.output.split() == (DATA / "epcisQueryDocument.hashes").read_text().split()
    result = runner.invoke(app, ["trace", "hash", "--prehash", path])
    assert result.output.splitlines() == (DATA / "epcisQueryDocument.prehashes").read_text().splitlines()
    result = runner.invoke(app, ["trace", "hash", str(DATA / "MANIFEST.json")])  # JSON, but no EPCIS document
    assert result.exit_code != 0 and "epcis-no-events" in str(result.exception)
