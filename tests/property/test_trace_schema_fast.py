"""The compiled validator agrees with python-jsonschema on valid documents and on random mutations of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from lodeline.trace.epcis import fast_validator, validator
from lodeline.trace.generator import lithium_chain, nickel_chain

EXAMPLES = sorted((Path(__file__).parents[1] / "golden" / "data" / "epcis_examples").glob("*.jsonld"))
DOCS: list[dict[str, Any]] = [json.loads(p.read_text()) for p in EXAMPLES]
DOCS += [doc for _, doc in lithium_chain().documents + nickel_chain().documents]

REPLACEMENTS: list[Any] = [None, 1, 1.5, True, "x", "not a uri", "2025-13-45", [], {}, ["a", "a"], "ADD", -3]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _agree(doc: dict) -> None:
    expected = not any(True for _ in validator().iter_errors(doc))
    assert fast_validator()(doc) is expected


def test_valid_documents_agree() -> None:
    for doc in DOCS:
        assert fast_validator()(doc)
        _agree(doc)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_mutations_agree(data: st.DataObject) -> None:
    doc = copy.deepcopy(data.draw(st.sampled_from(DOCS)))
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    action = data.draw(st.sampled_from(["delete", "replace", "add"]))
    if action == "delete":
        if isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    elif action == "replace":
        parent[path[-1]] = data.draw(st.sampled_from(REPLACEMENTS))
    elif isinstance(parent, dict):
        parent[data.draw(st.sampled_from(["action", "foo", "ex:bar", "eventID", "quantity"]))] = data.draw(
            st.sampled_from(REPLACEMENTS)
        )
    _agree(doc)


# Targeted mutations of single events: the compiled validator dispatches on an event's "type" and merges the
# allOf of an event definition into one walk, so every kind of event error must still be seen exactly as
# jsonschema sees it, both inside a document and for a bare event (the schema's root also accepts events).
EVENTS: list[dict[str, Any]] = [
    ev for doc in DOCS for ev in doc.get("epcisBody", {}).get("eventList", []) if isinstance(ev, dict)
]
EVENT_TYPE_VALUES: list[Any] = [
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
    "EPCISDocument",
    "EPCISQueryDocument",
    "https://example.org/MyEvent",
    "MyEvent",
    "objectevent",
    "",
    1,
    None,
    True,
    ["ObjectEvent"],
    {"type": "ObjectEvent"},
]
BAD_TIMES = [
    "2025-03-03",
    "2025-03-03T08:00:00",
    "2025-13-03T08:00:00Z",
    "yesterday",
    "2025-03-03T08:00:00+0100",
]
BAD_URIS = ["not a uri", "urn", "https://ex.org/a b", "{x}", "", "//host/path"]
BAD_WORDS = ["add", "OBSERVE ", "shipping2", "urn:epcglobal:cbv:bizstep:shipping", "https://ns.gs1.org/cbv/x"]
ODD_VALUES: list[Any] = [
    *REPLACEMENTS,
    0,
    "",
    "ObjectEvent",
    "urn:epc:id:sgtin:1.2.3",
    "2025-03-03T08:00:00Z",
]
NEW_NAMES = ["foo", "ex:bar", "https://example.org/x", "lodeline:x", "action", "epcList", "ilmd", "@context"]


def _uri_holders(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths of the strings that look like URIs, i.e. that the schema checks as such."""
    if isinstance(node, str):
        return [prefix] if ":" in node and prefix[-1:] != ("type",) else []
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [p for k, v in items for p in _uri_holders(v, (*prefix, k))]


def _set(node: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_event_mutations_agree(data: st.DataObject) -> None:
    # Odd values are copied when drawn: a shared list set inside itself made a cycle (RecursionError in _paths).
    event = copy.deepcopy(data.draw(st.sampled_from(EVENTS)))
    for _ in range(data.draw(st.integers(1, 2))):
        kind = data.draw(
            st.sampled_from(["drop", "retype", "add", "event type", "date-time", "uri", "enum", "nested"])
        )
        keys = sorted(event)
        if kind == "drop" and keys:
            del event[data.draw(st.sampled_from(keys))]
        elif kind == "retype" and keys:
            event[data.draw(st.sampled_from(keys))] = copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES)))
        elif kind == "add":
            event[data.draw(st.sampled_from(NEW_NAMES))] = copy.deepcopy(
                data.draw(st.sampled_from(ODD_VALUES))
            )
        elif kind == "event type":
            event["type"] = data.draw(st.sampled_from(EVENT_TYPE_VALUES))
        elif kind == "date-time":
            event[data.draw(st.sampled_from(["eventTime", "recordTime"]))] = data.draw(
                st.sampled_from(BAD_TIMES)
            )
        elif kind == "uri" and _uri_holders(event):
            _set(event, data.draw(st.sampled_from(_uri_holders(event))), data.draw(st.sampled_from(BAD_URIS)))
        elif kind == "enum":
            field = data.draw(st.sampled_from(["action", "bizStep", "disposition", "persistentDisposition"]))
            event[field] = data.draw(st.sampled_from([*BAD_WORDS, "ADD", "DELETE", "OBSERVE", "shipping"]))
        elif kind == "nested":
            paths = [p for p in _paths(event) if len(p) > 1]
            if paths:
                _set(
                    event,
                    data.draw(st.sampled_from(paths)),
                    copy.deepcopy(data.draw(st.sampled_from(ODD_VALUES))),
                )
    doc = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2025-03-03T08:00:00Z",
        "epcisBody": {"eventList": [event]},
    }
    _agree(doc)
    if data.draw(st.booleans()):
        event["@context"] = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
    _agree(event)


def test_instances_that_are_not_documents_agree() -> None:
    for instance in [None, 1, "ObjectEvent", [], {}, {"type": None}, {"type": "ObjectEvent"}, {"foo": 1}]:
        _agree(instance)


# In the EPCIS schema the event type is also required, so an instance without it (or not an object) fails
# whatever the dispatch says. This schema has no such safety net: every case of the dispatch and the merging of
# allOf objects shows.
DISPATCHED = {
    "allOf": [
        {"if": {"properties": {"kind": {"enum": ["a"]}}}, "then": {"required": ["x"]}},
        {
            "if": {"type": "object", "properties": {"kind": {"type": "string", "enum": ["a", "b"]}}},
            "then": {"required": ["y"]},
            "else": {"type": ["object", "string"], "properties": {"y": {"type": "integer"}}},
        },
        {"if": {"not": {"properties": {"kind": {"enum": ["b"]}}}}, "then": {"$ref": "#/definitions/merged"}},
    ],
    "definitions": {
        "base": {"type": "object", "properties": {"x": {"type": "string"}}, "required": ["z"]},
        "merged": {
            "allOf": [
                {"$ref": "#/definitions/base"},
                {
                    "type": "object",
                    "properties": {"x": {"enum": ["u", 1]}, "y": {"type": "string"}},
                    "propertyNames": {"enum": ["kind", "x", "y", "z"]},
                },
            ]
        },
    },
}
SMALL = st.sampled_from([None, 1, True, "a", "b", "u", "v", [], {}, ["a"]])


@settings(max_examples=300, deadline=None)
@example({"kind": "v", "x": "a", "z": 0})  # x fails only the second of the merged schemas
@example(2)  # a non-object meets the "else" of the typed "if"
@example({"kind": 1, "x": "u", "z": 0})  # a kind no enum lists: only the "else" and the "not" apply
@given(
    st.one_of(
        SMALL,
        st.dictionaries(st.sampled_from(["kind", "x", "y", "z", "w"]), SMALL | st.integers(0, 2), max_size=5),
    )
)
def test_dispatch_and_merge_agree_on_a_small_schema(instance: Any) -> None:
    from jsonschema import Draft7Validator

    from lodeline.trace.schema_fast import compile_schema

    assert compile_schema(DISPATCHED, {})(instance) is Draft7Validator(DISPATCHED).is_valid(instance)


def test_unique_items_compare_as_json() -> None:
    from jsonschema import Draft7Validator

    from lodeline.trace.schema_fast import compile_schema

    schema = {"type": "array", "uniqueItems": True}
    for instance in [
        [1, True],
        [0, False],
        [1, 1.0],
        [[1], [True]],
        [[1], [1.0]],
        [{"a": 1}, {"a": True}],
        [{"a": [1]}, {"a": [1.0]}],
        [{"a": 1, "b": 2}, {"b": 2, "a": 1}],
        [[], {}],
        [0, None],
        ["1", 1],
        ["a", "a"],
    ]:
        assert compile_schema(schema, {})(instance) is Draft7Validator(schema).is_valid(instance), instance
