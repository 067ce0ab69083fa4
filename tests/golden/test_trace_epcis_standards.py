"""The official GS1 EPCIS 2.0 examples validate; the CBV 2.0 event hash matches the reference vectors."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from lodeline.trace.epcis import load_and_validate, validate_document
from lodeline.trace.errors import TraceError
from lodeline.trace.event_hash import document_hash_ids, document_prehashes

DATA = Path(__file__).parent / "data"
EXAMPLES = sorted((DATA / "epcis_examples").glob("*.jsonld"))
VECTORS = sorted(p.stem for p in (DATA / "epcis_event_hash").glob("*.jsonld"))


def test_examples_present() -> None:
    assert len(EXAMPLES) == 15


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_official_example_validates(path: Path) -> None:
    assert validate_document(json.loads(path.read_text())) == []


@pytest.mark.parametrize("name", VECTORS)
def test_prehash_and_hash_match_reference(name: str) -> None:
    doc = json.loads((DATA / "epcis_event_hash" / f"{name}.jsonld").read_text())
    prehashes = (DATA / "epcis_event_hash" / f"{name}.prehashes").read_text().splitlines()
    hashes = (DATA / "epcis_event_hash" / f"{name}.hashes").read_text().split()
    assert document_prehashes(doc) == prehashes
    assert document_hash_ids(doc) == hashes


def _example(name: str) -> dict:
    return json.loads((DATA / "epcis_examples" / name).read_text())


def _codes_fields(doc: dict) -> set[tuple[str, int | None, str | None]]:
    return {(i.code, i.index, i.field) for i in validate_document(doc)}


def test_missing_event_time_is_named() -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    del doc["epcisBody"]["eventList"][0]["eventTime"]
    assert ("epcis-missing-field", 0, "eventTime") in _codes_fields(doc)


def test_wrong_type_is_named() -> None:
    doc = _example("Example_9.6.4-TransformationEvent.jsonld")
    doc["epcisBody"]["eventList"][0]["inputQuantityList"][0]["quantity"] = "ten"
    assert ("epcis-wrong-type", 0, "inputQuantityList[0].quantity") in _codes_fields(doc)


def test_bad_quantity_list_is_named() -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    doc["epcisBody"]["eventList"][0]["quantityList"] = [{"quantity": 3, "uom": "KGM"}]
    assert ("epcis-missing-field", 0, "quantityList[0].epcClass") in _codes_fields(doc)


def test_bad_time_and_uri_formats_are_rejected() -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    ev = doc["epcisBody"]["eventList"][0]
    ev["eventTime"], ev["epcList"] = "yesterday", ["not a uri"]
    found = _codes_fields(doc)
    assert ("epcis-bad-format", 0, "eventTime") in found
    assert ("epcis-bad-format", 0, "epcList[0]") in found


def test_error_carries_event_id_and_raises() -> None:
    doc = _example("Example_9.6.4-TransformationEvent.jsonld")
    bad = copy.deepcopy(doc)
    del bad["epcisBody"]["eventList"][0]["eventTime"]
    with pytest.raises(TraceError) as info:
        load_and_validate(json.dumps(bad), file="x.json")
    issue = info.value.issues[0]
    assert issue.event_id == doc["epcisBody"]["eventList"][0]["eventID"]
    assert info.value.code == "epcis-missing-field"


def test_not_json_rejected() -> None:
    with pytest.raises(TraceError) as info:
        load_and_validate(b"{nope")
    assert info.value.code == "epcis-not-json"


def test_hash_ignores_event_id_record_time_and_key_order() -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    ev = doc["epcisBody"]["eventList"][0]
    h = document_hash_ids(doc)[0]
    reordered = dict(reversed(list(ev.items())))
    reordered["recordTime"] = "2030-01-01T00:00:00Z"
    reordered.pop("eventID", None)
    reordered["epcList"] = list(reversed(ev["epcList"]))
    doc["epcisBody"]["eventList"] = [reordered]
    assert document_hash_ids(doc)[0] == h
    reordered["action"] = "ADD" if reordered["action"] != "ADD" else "DELETE"
    assert document_hash_ids(doc)[0] != h


def test_urn_and_digital_link_hash_the_same() -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    ev = doc["epcisBody"]["eventList"][0]
    ev["epcList"] = ["urn:epc:id:sgtin:4012345.011111.9876"]
    h = document_hash_ids(doc)[0]
    ev["epcList"] = ["https://example.com/01/04012345111118/21/9876?x=1"]
    assert document_hash_ids(doc)[0] == h
