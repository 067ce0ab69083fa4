"""The EPCIS Event Hash ID agrees with the reference implementation (github.com/RalphTro/epcis-event-hash-generator)
on every vendored reference document, event by event, pre-hash string and hash ID; the one reference vector Lodeline
does not follow is asserted as documented in MANIFEST.json (its reason there). Provenance: PROVENANCE.txt."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from lodeline.trace.event_hash import document_hash_ids, document_prehashes, hash_id

DATA = Path(__file__).parent / "data" / "epcis_event_hash"
MANIFEST = json.loads((DATA / "MANIFEST.json").read_text())


def _vector(folder: Path, name: str) -> tuple[dict, list[str], list[str]]:
    doc = json.loads((folder / f"{name}.jsonld").read_text())
    prehashes = (folder / f"{name}.prehashes").read_text().splitlines()
    hashes = (folder / f"{name}.hashes").read_text().split()
    return doc, prehashes, hashes


def test_every_vendored_document_is_in_the_manifest() -> None:
    """No silent skips: each bundled document is either a vector or a documented deviation."""
    assert {p.stem for p in DATA.glob("*.jsonld")} == set(MANIFEST["vectors"])
    assert {p.stem for p in (DATA / "deviations").glob("*.jsonld")} == set(MANIFEST["deviations"])


@pytest.mark.parametrize("name", sorted(MANIFEST["vectors"]))
def test_reference_vector(name: str) -> None:
    doc, prehashes, hashes = _vector(DATA, name)
    assert len(prehashes) == len(hashes) > 0
    # the vendored set is consistent: each reference hash is SHA-256 of its reference pre-hash string
    assert [hash_id(p) for p in prehashes] == hashes
    ours = document_prehashes(doc)
    for i, (got, want) in enumerate(zip(ours, prehashes, strict=True)):
        assert got == want, f"{name} event {i}"
    assert document_hash_ids(doc) == hashes


def test_sensor_component_deviation() -> None:
    """epcisDocWithSensorComponent (MANIFEST.json "deviations"): the reference's pre-hash string writes two
    sensorElementList for the document's one, moving both reports' coordinateReferenceSystem into the second, and
    its published hash is not the SHA-256 of that string. Lodeline's pre-hash keeps one list, each report whole,
    and expands ``cbv:Comp-latitude`` with the document's context."""
    doc, (theirs,), (their_hash,) = _vector(DATA / "deviations", "epcisDocWithSensorComponent")
    assert hashlib.sha256(theirs.encode()).hexdigest() not in their_hash  # inconsistent with itself
    assert theirs.count("sensorElementList") == 2
    (ours,) = document_prehashes(doc)
    assert ours.count("sensorElementList") == 1 and ours.count("sensorElement") == 2  # "…List" + one element
    crs = "coordinateReferenceSystem=http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    assert ours.endswith(
        "sensorElementListsensorElement"
        "sensorReporttype=https://gs1.org/voc/Anglevalue=23.319941"
        f"component=https://ref.gs1.org/cbv/Comp-longitudeuom=DD{crs}"
        "sensorReporttype=https://gs1.org/voc/Anglevalue=42.698334"
        f"component=https://ref.gs1.org/cbv/Comp-latitudeuom=DD{crs}"
    )
    # everything before the sensor list agrees with the reference
    head = theirs[: theirs.index("sensorElementList")]
    assert ours.startswith(head)


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
