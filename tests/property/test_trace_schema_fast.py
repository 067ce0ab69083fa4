"""The compiled validator agrees with python-jsonschema on valid documents and on random mutations of them."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
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
