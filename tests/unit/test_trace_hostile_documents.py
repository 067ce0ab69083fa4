"""Hostile and degenerate documents are rejected with a named reason, in bounded time and output, without a
RecursionError or any other crash anywhere between the bytes and the hash IDs (issue 10)."""

from __future__ import annotations

import copy
import json
import time
from functools import lru_cache
from typing import Any

import pytest

from lodeline.trace.capture import prepare
from lodeline.trace.chain_setup import document_bytes
from lodeline.trace.epcis import (
    MAX_CONTEXT_ENTRIES,
    MAX_DEPTH,
    MAX_ISSUES,
    load_and_validate,
    parse_document,
    validate_document,
)
from lodeline.trace.errors import TraceError
from lodeline.trace.generator import lithium_chain


def _doc() -> dict[str, Any]:
    return copy.deepcopy(lithium_chain().documents[0][1])  # commission 1,000 t SC6 at a mine, ship it


def _rejected(data: bytes) -> TraceError:
    with pytest.raises(TraceError) as info:
        load_and_validate(data)
    return info.value


def _with_quantity(literal: str) -> bytes:
    data = document_bytes(_doc())
    assert data.count(b'"quantity":1000000') == 2
    return data.replace(b'"quantity":1000000', b'"quantity":' + literal.encode(), 1)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_non_json_number_literals_are_rejected_at_parse(literal: str) -> None:
    err = _rejected(_with_quantity(literal))
    assert err.code == "epcis-not-json" and literal in err.issues[0].reason


@pytest.mark.parametrize(
    ("literal", "why"),
    [
        ("1e400", "finite"),  # overflows to inf when parsed
        ("1e308", "at most"),  # finite, but overflows once converted to kg or summed
        ("1e13", "at most"),  # over the per-line maximum of 1e12 kg
        ("5e-324", "subnormal"),
        ("0", "positive"),
        ("-1", "positive"),
        ("0.0001", "at least"),  # under a gram: below what the ledger can tell from rounding noise
    ],
)
def test_out_of_range_quantities_are_named(literal: str, why: str) -> None:
    err = _rejected(_with_quantity(literal))
    issue = err.issues[0]
    assert (issue.code, issue.index, issue.field) == ("ledger-bad-quantity", 0, "quantityList[0].quantity")
    assert why in issue.reason


def test_quantity_maximum_applies_after_unit_conversion() -> None:
    doc = _doc()
    line = doc["epcisBody"]["eventList"][0]["quantityList"][0]
    line["quantity"], line["uom"] = 2e9, "TNE"  # 2e12 kg
    with pytest.raises(TraceError) as info:
        load_and_validate(document_bytes(doc))
    assert info.value.issues[0].field == "quantityList[0].quantity"
    line["quantity"] = 1e9  # 1e12 kg: the maximum itself is allowed
    load_and_validate(document_bytes(doc))


def test_huge_integer_quantity_is_a_named_rejection_not_a_crash() -> None:
    err = _rejected(_with_quantity("1" + "0" * 400))
    assert err.issues[0].code == "ledger-bad-quantity"
    assert _rejected(_with_quantity("1" * 5000)).code == "epcis-not-json"  # past Python's int parse limit


@pytest.mark.parametrize(
    ("where", "value", "field"),
    [
        ("ilmd", float("nan"), "ilmd.lodeline:metalFraction"),
        ("ilmd", 0, "ilmd.lodeline:metalFraction"),
        ("ilmd", 1.5, "ilmd.lodeline:metalFraction"),
        ("ilmd", 5e-324, "ilmd.lodeline:metalFraction"),
        ("ilmd", "0.5", "ilmd.lodeline:metalFraction"),
        ("ilmd", True, "ilmd.lodeline:metalFraction"),
        ("event", 1e308, "lodeline:declaredYield"),
        ("event", -0.5, "lodeline:declaredYield"),
        ("event", "high", "lodeline:declaredYield"),
    ],
)
def test_fraction_and_yield_must_be_finite_numbers_in_range(where: str, value: Any, field: str) -> None:
    doc = _doc()
    ev = doc["epcisBody"]["eventList"][0]
    if where == "ilmd":
        ev["ilmd"]["lodeline:metalFraction"] = value
    else:
        ev["lodeline:declaredYield"] = value
    data = json.dumps(doc).encode()  # NaN is written as a literal: rejected at parse instead
    with pytest.raises(TraceError) as info:
        load_and_validate(data)
    issue = info.value.issues[0]
    assert issue.index in (None, 0) and issue.code in ("ledger-bad-value", "epcis-not-json")
    if issue.code == "ledger-bad-value":
        assert issue.field == field


@pytest.mark.parametrize("key", ["lodeline:material", "lodeline:recycled"])
def test_attributes_of_the_wrong_type_are_named(key: str) -> None:
    doc = _doc()
    doc["epcisBody"]["eventList"][0]["ilmd"][key] = ["a", "list"]
    with pytest.raises(TraceError) as info:
        prepare(document_bytes(doc))
    assert (info.value.code, info.value.issues[0].field) == ("ledger-bad-value", f"ilmd.{key}")


def test_identifiers_longer_than_the_store_keeps_are_rejected() -> None:
    doc = _doc()
    ev = doc["epcisBody"]["eventList"][0]
    ev["epcList"] = ["urn:epc:id:sgtin:9521234.012345." + "9" * 300]
    err = _rejected(document_bytes(doc))
    assert (err.code, err.issues[0].field) == ("identifier-too-long", "epcList[0]")
    doc = _doc()
    doc["epcisBody"]["eventList"][1]["eventID"] = "urn:uuid:" + "a" * 300
    assert _rejected(document_bytes(doc)).code == "identifier-too-long"


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 1_000, 100_000])
def test_deep_nesting_is_rejected_without_recursion(depth: int) -> None:
    doc = _doc()
    inner = "[" * depth + "]" * depth
    data = document_bytes(doc).replace(b'"ilmd":{', b'"ilmd":{"lodeline:deep":' + inner.encode() + b",", 1)
    started = time.perf_counter()
    err = _rejected(data)
    assert err.code == "epcis-too-deep"
    assert time.perf_counter() - started < 5
    with pytest.raises(TraceError):
        prepare(data)  # the capture path (parse, validate, hash) rejects it the same way


def test_nesting_within_the_limit_is_accepted() -> None:
    doc = _doc()
    nest: Any = 1
    for _ in range(MAX_DEPTH - 5):  # document → epcisBody → eventList → event → ilmd → …
        nest = [nest]
    doc["epcisBody"]["eventList"][0]["ilmd"]["lodeline:nested"] = nest
    load_and_validate(document_bytes(doc))
    prepare(document_bytes(doc))


def test_lone_surrogates_and_bad_utf8_are_not_json() -> None:
    data = document_bytes(_doc())
    bad = data.replace(b'"disposition":"active"', b'"disposition":"active","lodeline:x":"\\ud800"', 1)
    assert _rejected(bad).code == "epcis-not-json"
    assert _rejected(data.replace(b"active", b"act\xed\xa0\x80ive", 1)).code == "epcis-not-json"
    # an escaped backslash before "ud800" is plain text, and a proper pair is a real character
    fine = data.replace(b'"disposition":"active"', b'"disposition":"active","lodeline:x":"\\\\ud800"', 1)
    fine = fine.replace(b'"lodeline:x"', b'"lodeline:y":"\\ud83d\\ude00","lodeline:x"', 1)
    load_and_validate(fine)


@pytest.mark.parametrize("value", ["T", "2025", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_unusable_event_times_are_named(value: str) -> None:
    doc = _doc()
    doc["epcisBody"]["eventList"][0]["eventTime"] = value
    err = _rejected(document_bytes(doc))
    assert (err.code, err.issues[0].index, err.issues[0].field) == ("epcis-bad-format", 0, "eventTime")


def test_an_overlong_context_is_named_and_the_longest_accepted_one_passes() -> None:
    """The document's and each event's ``@context`` hold at most MAX_CONTEXT_ENTRIES (64) entries: 64 pass,
    65 are rejected before the schema is consulted, naming the place (document or event index)."""
    doc = _doc()
    extra = [{f"ex{i}": f"https://example.org/ns/{i}#"} for i in range(MAX_CONTEXT_ENTRIES)]
    doc["@context"] = [*doc["@context"], *extra][:MAX_CONTEXT_ENTRIES]
    assert len(doc["@context"]) == 64
    load_and_validate(document_bytes(doc))
    doc["@context"] = [*doc["@context"], {"one": "https://example.org/one#"}]
    err = _rejected(document_bytes(doc))
    assert [(i.code, i.index, i.field) for i in err.issues] == [("epcis-bad-value", None, "@context")]
    assert "65 entries" in err.issues[0].reason
    doc = _doc()
    doc["epcisBody"]["eventList"][1]["@context"] = [*extra, {"one": "https://example.org/one#"}]
    err = _rejected(document_bytes(doc))
    assert [(i.code, i.index, i.field) for i in err.issues] == [("epcis-bad-value", 1, "@context")]


@lru_cache(maxsize=1)
def _junk_documents() -> dict[str, bytes]:
    """Documents of about 1 MB that are wrong in many places at once."""
    base = _doc()
    out: dict[str, bytes] = {}
    doc = copy.deepcopy(base)
    doc["epcisBody"]["eventList"] = [{"junk": i} for i in range(60_000)]
    out["junk events"] = document_bytes(doc)
    doc = copy.deepcopy(base)
    doc["epcisBody"]["eventList"][0].update({f"junk{i}": i for i in range(60_000)})
    out["junk keys in one event"] = document_bytes(doc)
    doc = copy.deepcopy(base)
    doc.update({f"junk{i}": i for i in range(60_000)})
    out["junk keys in the document"] = document_bytes(doc)
    doc = copy.deepcopy(base)
    ev = doc["epcisBody"]["eventList"][1]
    doc["epcisBody"]["eventList"] = [copy.deepcopy(ev) for _ in range(2_500)] + [{"junk": 1}]
    out["valid events then one bad"] = document_bytes(doc)
    doc = copy.deepcopy(base)  # jsonschema compares unhashable items pairwise: quadratic
    doc["@context"] = [*doc["@context"], *({"key": i} for i in range(70_000))]
    del doc["epcisBody"]["eventList"][0]["eventTime"]
    out["long context of distinct objects"] = document_bytes(doc)
    doc["@context"].append({"key": 0})
    out["long context with one repeat"] = document_bytes(doc)
    doc = copy.deepcopy(base)
    doc["epcisBody"]["eventList"][0]["bizStep"] = {f"k{i}": "x" * 10 for i in range(60_000)}
    out["one huge wrong value"] = document_bytes(doc)
    return out


@pytest.mark.parametrize("name", list(_junk_documents()))
def test_junk_documents_are_rejected_fast_with_a_capped_report(name: str) -> None:
    data = _junk_documents()[name]
    assert 600_000 < len(data) < 1_600_000
    started = time.perf_counter()
    err = _rejected(data)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{name}: {elapsed:.1f} s"
    assert len(err.issues) <= MAX_ISSUES + 1
    size = len(json.dumps(err.to_dict()))
    assert size < 200_000, f"{name}: {size} bytes of issues"


def test_the_report_says_how_many_problems_were_not_listed() -> None:
    doc = _doc()
    doc["epcisBody"]["eventList"] = [{"junk": i} for i in range(500)]
    issues = validate_document(parse_document(document_bytes(doc)))
    assert len(issues) == MAX_ISSUES + 1
    last = issues[-1]
    assert last.code == "too-many-issues" and last.index is None
    assert "500" in last.reason or "more" in last.reason


def test_a_huge_number_of_ledger_issues_is_capped_too() -> None:
    doc = _doc()
    event = doc["epcisBody"]["eventList"][1]
    event["quantityList"][0]["uom"] = "LTR"  # not a mass: a ledger issue per shipment
    doc["epcisBody"]["eventList"] = [copy.deepcopy(event) for _ in range(3_000)]
    found = [i for issues in prepare(document_bytes(doc)).issues.values() for i in issues]
    assert len(found) >= 3_000
    err = TraceError(found)
    assert len(err.issues) == MAX_ISSUES + 1 and err.issues[-1].code == "too-many-issues"
    assert f"{len(found) - MAX_ISSUES} more" in err.issues[-1].reason
    assert len(json.dumps(err.to_dict())) < 50_000
