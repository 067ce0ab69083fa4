"""The directory leaf encoding (lodeline-directory/v1): RFC 8785 canonical JSON, checked against the RFC's own
number examples and hand-written leaves; decoding refuses anything not in canonical form; the state the leaves
rebuild and the differences named against the tables."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lodeline.errors import InvalidArgumentError
from lodeline.trace import directory as d

AT = datetime(2026, 12, 5, 9, 12, 44, 120511, tzinfo=UTC)
MINE = {
    "id": "https://id.gs1.org/414/9521234000013",
    "name": "Pilbara spodumene mine",
    "facility_type": "mine",
    "country": "AUS",
    "latitude": -21.0,
    "longitude": 118.9,
    "operator_id": "pilbara-miner",
    "custody_model": "segregated",
}


@pytest.mark.parametrize(
    ("value", "text"),
    [  # RFC 8785 §3.2.2.3 and Appendix B (ECMAScript Number::toString)
        (0.0, "0"),
        (-0.0, "0"),
        (333333333.33333329, "333333333.3333333"),
        (1e30, "1e+30"),
        (4.50, "4.5"),
        (2e-3, "0.002"),
        (0.000000000000000000000000001, "1e-27"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (0.000001, "0.000001"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
        (-21.0, "-21"),
    ],
)
def test_numbers_follow_ecmascript(value: float, text: str) -> None:
    assert d.canonical_json(value) == text.encode()


def test_canonical_json_sorts_keys_and_escapes_minimally() -> None:
    # keys sort by UTF-16 code units (RFC 8785 §3.2.3): U+1F600 is D83D DE00, so it precedes U+FB01, although its
    # code point is larger
    assert d.canonical_json({"b": [1, None, True], "a": 'é\n"', "\ufb01": 1, "\U0001f600": 2}) == (
        '{"a":"é\\n\\"","b":[1,null,true],"\U0001f600":2,"\ufb01":1}'.encode()
    )
    with pytest.raises(InvalidArgumentError):
        d.canonical_json(float("nan"))


def test_a_facility_leaf_is_the_documented_bytes() -> None:
    data = d.leaf_data("facility-registered", MINE, AT)
    assert data == (
        b'{"at":"2026-12-05T09:12:44.120511Z","op":"facility-registered","record":{"country":"AUS",'
        b'"custody_model":"segregated","facility_type":"mine","id":"https://id.gs1.org/414/9521234000013",'
        b'"latitude":-21,"longitude":118.9,"name":"Pilbara spodumene mine","operator_id":"pilbara-miner"},'
        b'"type":"lodeline-directory/v1"}'
    )
    entry = d.parse_leaf(7, data)
    assert (entry.index, entry.op, entry.table, entry.key, entry.at) == (
        7,
        "facility-registered",
        "trace_facilities",
        MINE["id"],
        "2026-12-05T09:12:44.120511Z",
    )
    assert d.is_directory_leaf(data) and not d.is_directory_leaf(b"ni:///sha-256;00?ver=CBV2.0")


@pytest.mark.parametrize(
    "data",
    [
        b'{ "at":"x","op":"facility-registered"}',  # whitespace: not canonical
        b'{"at":"2026-12-05T09:12:44.120511Z","op":"facility-moved","record":{},"type":"lodeline-directory/v1"}',
        b'{"at":"2026-12-05T09:12:44.120511Z","op":"prefix-bound","record":{"prefix":"952"},'
        b'"type":"lodeline-directory/v1"}',  # columns missing
        b'{"op":"prefix-bound","at":"2026-12-05T09:12:44.120511Z","record":{"added_at":null,"participant_id":"p",'
        b'"prefix":"952"},"type":"lodeline-directory/v1"}',  # keys out of order
        b"{not json",
    ],
)
def test_anything_but_a_canonical_directory_leaf_is_refused(data: bytes) -> None:
    with pytest.raises(InvalidArgumentError):
        d.parse_leaf(3, data)


def test_times_are_utc_with_microseconds_and_dates_iso() -> None:
    naive = datetime(2026, 1, 2, 3, 4, 5)  # as SQLite returns a stored UTC time
    record = d.record_of(
        "trace_certifications",
        {
            "id": 4,
            "facility_id": "f",
            "scheme": "IRMA",
            "valid_from": date(2024, 6, 1),
            "valid_to": date(2026, 5, 31),
        },
    )
    assert d.iso_time(naive) == "2026-01-02T03:04:05.000000Z"
    assert record == {
        "id": 4,
        "facility_id": "f",
        "scheme": "IRMA",
        "certificate": None,
        "valid_from": "2024-06-01",
        "valid_to": "2026-05-31",
    }


def test_the_rebuilt_directory_and_its_differences() -> None:
    key = {"key_id": "k1", "participant_id": "pilbara-miner", "public_key": "AAAA", "valid_from": AT}
    leaves = [
        d.leaf_data(
            "participant-registered",
            {"id": "pilbara-miner", "name": "P", "role": "miner", "created_at": AT},
            AT,
        ),
        d.leaf_data("key-added", key, AT),
        d.leaf_data("facility-registered", MINE, AT),
        d.leaf_data("key-revoked", key | {"revoked_at": AT, "revocation_reason": "rotated"}, AT),
    ]
    state = d.Directory()
    for i, data in enumerate(leaves):
        state.apply(d.parse_leaf(i, data))
    (only,) = state.keys_of("pilbara-miner")
    assert only["revoked_at"] == AT and only["revocation_reason"] == "rotated"
    assert state.facilities[MINE["id"]]["certifications"] == []
    tables = d.state_of(
        {
            "trace_participants": [{"id": "pilbara-miner", "name": "P", "role": "miner", "created_at": AT}],
            "trace_participant_keys": [key | {"revoked_at": AT, "revocation_reason": "rotated"}],
            "trace_facilities": [MINE | {"country": "CHN"}],
            "trace_company_prefixes": [
                {"prefix": "9521234", "participant_id": "pilbara-miner", "added_at": AT}
            ],
        }
    )
    assert [(x.kind, x.message) for x in d.differences(tables, state)] == [
        (
            "directory-extra",
            "company prefix 9521234: in trace_company_prefixes, but no directory leaf of the log records it",
        ),
        ("directory-mismatch", f"facility {MINE['id']} country: table 'CHN', log 'AUS'"),
    ]


def test_certifications_follow_their_facility() -> None:
    other = MINE | {"id": "https://id.gs1.org/414/9521234000037", "name": "Converter"}
    irma = {
        "id": 1,
        "facility_id": MINE["id"],
        "scheme": "IRMA",
        "valid_from": date(2024, 1, 1),
        "valid_to": date(2027, 1, 1),
    }
    rmap = {
        "id": 2,
        "facility_id": MINE["id"],
        "scheme": "RMAP",
        "valid_from": date(2023, 1, 1),
        "valid_to": date(2026, 1, 1),
    }
    state = d.Directory()
    for i, (op, row) in enumerate(
        [
            ("facility-registered", MINE),
            ("certification-added", irma),
            ("certification-added", rmap),
            ("facility-registered", other),
            ("certification-added", rmap | {"facility_id": other["id"]}),  # a snapshot's row moving it
        ]
    ):
        state.apply(d.parse_leaf(i, d.leaf_data(op, row, AT)))
    assert [c["scheme"] for c in state.facilities[MINE["id"]]["certifications"]] == ["IRMA"]
    assert [(c["scheme"], c["valid_from"]) for c in state.facilities[other["id"]]["certifications"]] == [
        ("RMAP", "2023-01-01")
    ]
