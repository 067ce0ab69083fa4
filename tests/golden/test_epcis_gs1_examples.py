"""Every bundled GS1 EPCIS 2.0 example document against its expected verdict (``gs1/EXPECTED.json``).

The examples are GS1's own (``tests/golden/data/epcis_examples``, the ``gs1/`` tree keeps the GS1 repository's
relative paths; PROVENANCE.txt names the commit of each file). A document GS1 publishes as an example validates;
one that cannot be valid EPCIS 2.0 (pre-ratification drafts that name the type ``isA``, ...) fails with the code
and field the manifest gives, and the manifest says why (citing the schema rule). The manifest covers every
bundled file, so adding a file without a verdict fails here.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from lodeline.trace.epcis import (
    document_events,
    fast_validator,
    load_and_validate,
    parse_document,
    validate_document,
    validator,
)
from lodeline.trace.errors import TraceError

EXAMPLES = Path(__file__).parent / "data" / "epcis_examples"
GS1 = EXAMPLES / "gs1"
MANIFEST: dict[str, Any] = json.loads((GS1 / "EXPECTED.json").read_text(encoding="utf-8"))["files"]
BUNDLED = sorted(
    p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*") if p.suffix in (".json", ".jsonld")
)
BUNDLED.remove("gs1/EXPECTED.json")


def test_manifest_covers_every_bundled_file() -> None:
    assert sorted(MANIFEST) == BUNDLED


def test_the_bundle_is_the_whole_gs1_set_we_took() -> None:
    """At least the 15 examples bundled before and every GS1 example named in the issue's list of false
    rejections (query document, persistentDisposition on aggregation events, blank node ids, sensor types,
    event ids) are here."""
    assert len(BUNDLED) >= 140
    for name in (
        "gs1/JSON/EPCISQueryDocument.jsonld",
        "gs1/JSON/PersistentDisposition-example.jsonld",
        "gs1/JSON/WithSensorData/SensorDataExample12.jsonld",
        "gs1/JSON/WithSensorData/SensorDataExample17.jsonld",
    ):
        assert name in BUNDLED


def test_provenance_names_every_gs1_file_with_its_commit() -> None:
    text = (GS1 / "PROVENANCE.txt").read_text(encoding="utf-8")
    for rel in (r for r in BUNDLED if r.startswith("gs1/")):
        line = next((ln for ln in text.splitlines() if ln.split()[:1] == [rel.removeprefix("gs1/")]), None)
        assert line is not None, rel
        assert re.search(r"\b[0-9a-f]{40}\b", line), line


@pytest.mark.parametrize("rel", BUNDLED)
def test_example_matches_its_expected_verdict(rel: str) -> None:
    expected = MANIFEST[rel]
    doc = parse_document((EXAMPLES / rel).read_bytes(), file=rel)
    issues = validate_document(doc)
    if expected["valid"]:
        assert issues == [], [(i.code, i.index, i.field, i.reason) for i in issues]
        assert document_events(doc) or expected.get("events", 1) == 0
    else:
        assert expected["why"], rel  # every expected failure says why
        found = {(i.code, i.field) for i in issues}
        assert (expected["code"], expected["field"]) in found, [(i.code, i.field, i.reason) for i in issues]


@pytest.mark.parametrize("rel", BUNDLED)
def test_compiled_validator_agrees_with_jsonschema_on_every_example(rel: str) -> None:
    """The overlay (JSON-LD reading of the schema) is applied to both validators: on every real document, valid
    or not, the compiled yes/no check and python-jsonschema agree."""
    doc = parse_document((EXAMPLES / rel).read_bytes(), file=rel)
    assert fast_validator()(doc) is validator().is_valid(doc)


# --- through the command line: exit status and message --------------------------------------------------------


def _cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from lodeline.cli.main import main

    monkeypatch.setattr(sys, "argv", ["lodeline", *args])
    status = 0  # main returns on success and exits with a status otherwise
    try:
        main()
    except SystemExit as exc:
        status = int(exc.code or 0)
    out = capsys.readouterr()
    return status, out.out + out.err


@pytest.mark.parametrize(
    ("rel", "status", "needle"),
    [
        ("gs1/JSON/EPCISQueryDocument.jsonld", 0, "valid EPCIS 2.0 query document, 2 event(s)"),
        ("gs1/JSON/PersistentDisposition-example.jsonld", 0, "valid EPCIS 2.0 document, 2 event(s)"),
        ("gs1/JSON/WithSensorData/SensorDataExample17.jsonld", 0, "valid EPCIS 2.0 document, 1 event(s)"),
        ("gs1/JSON/WithSensorData/SensorDataExample12.jsonld", 0, "valid EPCIS 2.0 document, 1 event(s)"),
        ("gs1/JSON/Example-custom.jsonld", 2, "epcis-missing-field"),
    ],
)
def test_cli_validate_exit_status(
    rel: str, status: int, needle: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _cli(monkeypatch, capsys, "trace", "validate", str(EXAMPLES / rel))
    assert code == status, out
    assert needle in out


def test_capture_refuses_a_query_document_with_a_clear_error() -> None:
    """Validation accepts the query document; capture (``load_and_validate(capture=True)``) names the type."""
    data = (GS1 / "JSON" / "EPCISQueryDocument.jsonld").read_bytes()
    assert load_and_validate(data)["type"] == "EPCISQueryDocument"
    with pytest.raises(TraceError) as info:
        load_and_validate(data, file="q.jsonld", capture=True)
    [issue] = info.value.issues
    assert (issue.code, issue.field) == ("epcis-not-document", "type")
    assert "capture takes an EPCISDocument" in issue.reason


def test_capture_prepare_refuses_a_query_document() -> None:
    """The real capture path (``capture.prepare``: validate, hash, derive ledger operations) stops at the type."""
    from lodeline.trace.capture import prepare

    with pytest.raises(TraceError) as info:
        prepare((GS1 / "JSON" / "EPCISQueryDocument.jsonld").read_bytes(), file="q.jsonld")
    assert [(i.code, i.field) for i in info.value.issues] == [("epcis-not-document", "type")]


def test_an_empty_event_list_is_refused_with_its_place() -> None:
    """The schema allows an empty eventList; the registry's profile does not (nothing to record). The message
    names the list of the document's own type."""
    doc = json.loads((EXAMPLES / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    doc["epcisBody"]["eventList"] = []
    assert [(i.code, i.reason) for i in validate_document(doc)] == [
        ("epcis-no-events", "epcisBody.eventList is empty")
    ]
    query = json.loads((GS1 / "JSON" / "EPCISQueryDocument.jsonld").read_text())
    query["epcisBody"]["queryResults"]["resultsBody"]["eventList"] = []
    assert [i.reason for i in validate_document(query)] == [
        "epcisBody.queryResults.resultsBody.eventList is empty"
    ]
