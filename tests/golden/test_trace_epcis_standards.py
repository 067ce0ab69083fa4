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
# Vectors with both a pre-hash and a hash file (tests/golden/test_event_hash_reference.py checks every vector).
VECTORS = sorted(
    p.stem
    for p in (DATA / "epcis_event_hash").glob("*.jsonld")
    if p.with_suffix(".prehashes").exists() and p.with_suffix(".hashes").exists()
)


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


# --- what GS1's own examples contain (issue 11): accepted; what the schema forbids: still rejected ------------


def _gs1(rel: str) -> dict:
    return json.loads((DATA / "epcis_examples" / "gs1" / rel).read_text())


def test_document_id_may_be_a_blank_node_but_not_just_any_string() -> None:
    """GS1 SensorDataExample17 names its document ``_:document1`` (a JSON-LD blank node identifier: the context
    aliases ``id`` to ``@id``). Free text is still not an identifier."""
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    doc["id"] = "_:document1"
    assert validate_document(doc) == []
    doc["id"] = "document one"
    assert ("epcis-bad-format", None, "id") in _codes_fields(doc)


def test_event_node_id_is_accepted_and_its_value_checked() -> None:
    """An event's own ``id`` (its JSON-LD node identifier) is a URI or a blank node, never a number or text."""
    doc = _example("Example_9.6.3-AggregationEvent.jsonld")
    ev = doc["epcisBody"]["eventList"][0]
    for good in ("_:event1", "https://id.example.org/event/1"):
        ev["id"] = good
        assert validate_document(doc) == [], good
    ev["id"] = 5
    assert ("epcis-wrong-type", 0, "id") in _codes_fields(doc)
    ev["id"] = "event one"
    assert ("epcis-bad-format", 0, "id") in _codes_fields(doc)


@pytest.mark.parametrize(
    "name",
    [
        "Example_9.6.3-AggregationEvent.jsonld",
        "gs1/JSON/WithFullCombinationOfFields/transaction_event_all_possible_fields.jsonld",
        "AssociationEvent-a.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "Example_9.6.1-ObjectEvent.jsonld",
    ],
)
def test_persistent_disposition_on_every_event_type_with_its_shape_checked(name: str) -> None:
    """GS1's PersistentDisposition-example puts persistentDisposition on aggregation events; the schema defines
    it (set/unset: non-empty lists of dispositions) on object and transformation events only. Every event type
    takes it, with that shape."""
    doc = _example(name) if not name.startswith("gs1/") else _gs1(name.removeprefix("gs1/"))
    ev = doc["epcisBody"]["eventList"][0]
    ev["persistentDisposition"] = {"set": ["completeness_verified"], "unset": ["completeness_inferred"]}
    assert validate_document(doc) == []
    ev["persistentDisposition"] = {"set": "completeness_verified"}  # a single value where a list is required
    assert ("epcis-wrong-type", 0, "persistentDisposition.set") in _codes_fields(doc)


def test_sensor_element_type_and_curie_report_type_are_accepted() -> None:
    """GS1 SensorDataExample12: a sensor element typed ``epcis:SensorElement`` (``type`` aliases ``@type``) and a
    sensor report typed by a CURIE (``example:someSensorProperty``). A report type that is neither a CBV
    measurement type nor an IRI is still rejected."""
    doc = _gs1("JSON/WithSensorData/SensorDataExample12.jsonld")
    assert validate_document(doc) == []
    doc["epcisBody"]["eventList"][0]["sensorElementList"][0]["sensorReport"][1]["type"] = "some property"
    found = _codes_fields(doc)
    assert any(f == "sensorElementList[0].sensorReport[1].type" for _, _, f in found), found


def test_unknown_names_are_still_rejected_as_unknown_fields() -> None:
    """A name the event type does not have (an ObjectEvent's ``childEPCs``) or a bare word is not accepted just
    because it is a term of the context; an extension needs an IRI or prefix:name."""
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    ev = doc["epcisBody"]["eventList"][0]
    ev["childEPCs"], ev["colour"], ev["ex:colour"] = ["urn:epc:id:sgtin:0614141.107346.1"], "red", "red"
    doc["note"] = "x"
    found = _codes_fields(doc)
    assert ("epcis-unknown-field", 0, "childEPCs") in found
    assert ("epcis-unknown-field", 0, "colour") in found
    assert ("epcis-unknown-field", None, "note") in found
    assert not any(f == "ex:colour" for _, _, f in found)


def test_query_document_validates_and_locates_its_events() -> None:
    """GS1 EPCISQueryDocument.jsonld: events under epcisBody.queryResults.resultsBody.eventList. A problem in one
    is reported with that event's index and eventID, as in an EPCISDocument."""
    doc = _gs1("JSON/EPCISQueryDocument.jsonld")
    assert validate_document(doc) == []
    ev = doc["epcisBody"]["queryResults"]["resultsBody"]["eventList"][1]
    del ev["eventTime"]
    issues = validate_document(doc)
    assert [(i.code, i.index, i.field, i.event_id) for i in issues] == [
        ("epcis-missing-field", 1, "eventTime", ev["eventID"])
    ]
    del doc["epcisBody"]["queryResults"]["queryName"]
    assert ("epcis-missing-field", None, "epcisBody.queryResults.queryName") in _codes_fields(doc)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(schemaVersion=2.0), ("epcis-wrong-type", None, "schemaVersion")),
        (lambda d: d.pop("schemaVersion"), ("epcis-missing-field", None, "schemaVersion")),
        (lambda d: d.pop("creationDate"), ("epcis-missing-field", None, "creationDate")),
        (
            lambda d: d["epcisBody"]["eventList"][0].update(
                bizTransactionList={"type": "po", "bizTransaction": "http://transaction.acme.com/po/12345678"}
            ),
            ("epcis-wrong-type", 0, "bizTransactionList"),
        ),
        (lambda d: d.update(type="ObjectEvent"), ("epcis-not-document", None, "type")),
        (lambda d: d.pop("type"), ("epcis-missing-field", None, "type")),
    ],
    ids=[
        "schemaVersion-number",
        "no-schemaVersion",
        "no-creationDate",
        "object-for-array",
        "event-type",
        "no-type",
    ],
)
def test_genuinely_invalid_documents_are_still_rejected(change: object, expected: tuple) -> None:
    doc = _example("Example_9.6.1-ObjectEvent.jsonld")
    change(doc)  # type: ignore[operator]
    assert expected in _codes_fields(doc)
