"""Stockpile submission validation and readers (pure): every bad row named by row, field and reason; withholding;
the share of consumption and days of cover; the template read back by the readers; the canonical document."""

from __future__ import annotations

import hashlib
import io
import json
from decimal import Decimal

import pytest

from lodeline.stockpiles import readers
from lodeline.stockpiles.submission import (
    COLUMNS,
    EXAMPLE_ROW,
    LEAF_PREFIX,
    SubmissionRejected,
    canonical_document,
    is_stock_leaf,
    leaf_data,
    parse_share,
    validate_rows,
)
from lodeline.store.stocks import STOCK_LEAF_PREFIX, leaf_of

CSV = readers.template_csv()


def _csv(*rows: dict[str, str]) -> bytes:
    lines = [",".join(COLUMNS)] + [",".join(f'"{r.get(c, "")}"' for c in COLUMNS) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _errors(
    data: bytes, fmt: str = "csv", member: str = "DEU", period: str = "2026-Q3"
) -> list[tuple[int, str]]:
    with pytest.raises(SubmissionRejected) as caught:
        validate_rows(readers.read_rows(data, fmt, "f.csv"), member=member, period=period, source="f.csv")
    assert "nothing was stored" in caught.value.message
    return [(e.row, e.field) for e in caught.value.errors]


def test_template_row_validates_with_hand_computed_days_of_cover() -> None:
    """The example row: share 12.5% -> 0.125; days of cover 0.125 × 365 = 45.625 (by hand)."""
    (record,) = validate_rows(readers.read_rows(CSV, "csv"), member="DEU", period="2026-Q3")
    assert record.mineral == "cobalt"
    assert record.consumption_share == Decimal("0.125")
    assert record.days_of_cover == Decimal("45.625")
    assert record.quantity_contained_t == Decimal("1197.6")
    assert record.canonical()["days_of_cover"] == "45.625"


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"mineral": "unobtainium"}, "mineral", "unknown mineral"),
        ({"quantity_gross_t": "-5"}, "quantity_gross_t", "negative"),
        ({"quantity_contained_t": "1200.1"}, "quantity_contained_t", "above gross"),
        ({"period": ""}, "period", "missing"),
        ({"period": "2026-Q2"}, "period", "but the submission is 2026-Q3"),
        ({"member": "FRA"}, "member", "but the submitter is DEU"),
        ({"holder_type": "private"}, "holder_type", "not one of"),
        ({"consumption_share": "12.5"}, "consumption_share", "above 1"),
        ({"location_country": "Atlantis"}, "location_country", "not a known country"),
        ({"trend_5y": "up"}, "trend_5y", "not one of"),
        ({"mineral": "withheld: secret"}, "mineral", "cannot be withheld"),
        ({"quantity_gross_t": "withheld:"}, "quantity_gross_t", "without a reason"),
    ],
)
def test_bad_row_is_named_by_row_and_field(change: dict[str, str], field: str, reason: str) -> None:
    good = dict(EXAMPLE_ROW)
    bad = {**EXAMPLE_ROW, "form": "oxide", **change}
    with pytest.raises(SubmissionRejected) as caught:
        validate_rows(
            readers.read_rows(_csv(good, bad), "csv"), member="DEU", period="2026-Q3", source="f.csv"
        )
    errors = caught.value.errors
    # the good row (line 2) is fine; the bad one is line 3 of the file
    assert [(e.row, e.field) for e in errors] == [(3, field)], errors
    assert reason in errors[0].reason
    assert "row 3" in caught.value.message and repr(field) in caught.value.message


def test_every_bad_row_reported_and_duplicates_refused() -> None:
    rows = [EXAMPLE_ROW, {**EXAMPLE_ROW, "quantity_gross_t": "x"}, EXAMPLE_ROW]
    assert _errors(_csv(*rows)) == [(3, "quantity_gross_t"), (4, "form")]


def test_withholding_records_field_and_reason_and_drops_the_value() -> None:
    row = {
        **EXAMPLE_ROW,
        "quantity_gross_t": "withheld: national security",
        "consumption_share": "WITHHELD: ok",
    }
    (record,) = validate_rows(readers.read_rows(_csv(row), "csv"), member="DEU", period="2026-Q3")
    assert (
        record.quantity_gross_t is None and record.consumption_share is None and record.days_of_cover is None
    )
    assert dict(record.withheld) == {"quantity_gross_t": "national security", "consumption_share": "ok"}
    canonical = record.canonical()
    assert canonical["quantity_gross_t"] is None
    assert canonical["withheld"] == {"consumption_share": "ok", "quantity_gross_t": "national security"}


@pytest.mark.parametrize(
    ("text", "share"), [("0.25", "0.25"), ("25%", "0.25"), ("100%", "1"), ("0", "0"), ("12.5 %", "0.125")]
)
def test_share_as_fraction_or_percent(text: str, share: str) -> None:
    assert parse_share(text) == Decimal(share)


@pytest.mark.parametrize("text", ["1.5", "101%", "-1%", "nan", "inf", "abc"])
def test_share_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_share(text)


def test_declared_member_and_period_are_checked() -> None:
    assert _errors(CSV, member="Atlantis") == [(0, "member")]
    assert _errors(CSV, period="2026-Q5") == [(0, "period")]
    assert _errors(_csv()) == [(0, "*")]  # no rows


def test_xlsx_template_reads_back_like_the_csv() -> None:
    from lodeline.services.stocks import template

    from_xlsx = readers.read_rows(template("xlsx"), "xlsx")
    from_csv = readers.read_rows(CSV, "csv")
    assert [r for _, r in from_xlsx] == [{k: (v or None) for k, v in r.items()} for _, r in from_csv]
    assert [n for n, _ in from_xlsx] == [2]


def test_json_rows_with_top_level_member_and_period() -> None:
    body = {"member": "DEU", "period": "2026-Q3", "rows": [{k: v for k, v in EXAMPLE_ROW.items() if v}]}
    body["rows"][0].pop("member")
    body["rows"][0]["quantity_gross_t"] = 1200  # numbers may be JSON numbers
    (record,) = validate_rows(
        readers.read_rows(json.dumps(body).encode(), "json"), member="DEU", period="2026-Q3"
    )
    assert record.quantity_gross_t == Decimal(1200)
    assert _errors(json.dumps({"rows": [{**EXAMPLE_ROW, "extra": 1}]}).encode(), "json") == [(1, "extra")]


@pytest.mark.parametrize(
    ("data", "fmt", "where"),
    [
        (b"", "csv", (1, "*")),
        (b"period,period\r\n1,2\r\n", "csv", (1, "period")),
        (CSV + b"x,y,z" + b",z" * 20 + b"\r\n", "csv", (3, f"column {len(COLUMNS) + 1}")),
        (b"not a zip", "xlsx", (0, "*")),
        (b"[" * 100, "json", (0, "*")),
        (b"\xff\xfe", "csv", (0, "*")),
    ],
)
def test_malformed_files_are_named(data: bytes, fmt: str, where: tuple[int, str]) -> None:
    with pytest.raises(SubmissionRejected) as caught:
        readers.read_rows(data, fmt, "f")
    assert (caught.value.errors[0].row, caught.value.errors[0].field) == where


def test_size_bound() -> None:
    with pytest.raises(SubmissionRejected, match="larger than"):
        readers.read_rows(b"a" * (readers.MAX_BYTES + 1), "csv")


def test_row_bound() -> None:
    from lodeline.stockpiles.submission import MAX_ROWS

    data = CSV + (CSV.split(b"\r\n")[1] + b"\r\n") * MAX_ROWS
    with pytest.raises(SubmissionRejected, match="more than"):
        readers.read_rows(data, "csv")


def test_canonical_document_and_leaf() -> None:
    """The leaf is the prefix and the hex SHA-256 of the document (recomputed here with hashlib); rows are sorted
    and the salt changes the digest of the same figures."""
    records = validate_rows(readers.read_rows(CSV, "csv"), member="DEU", period="2026-Q3")
    doc = canonical_document("DEU", "2026-Q3", records, "00" * 16)
    parsed = json.loads(doc)
    assert parsed["rows"][0]["quantity_gross_t"] == "1200" and parsed["salt"] == "00" * 16
    assert doc == json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    expected = b"lodeline-stocks/v1:" + hashlib.sha256(doc).hexdigest().encode()
    assert leaf_data(doc) == expected == leaf_of(doc.decode())
    assert is_stock_leaf(expected) and not is_stock_leaf(expected[:-1])
    assert leaf_data(canonical_document("DEU", "2026-Q3", records, "11" * 16)) != expected
    assert LEAF_PREFIX.encode() == STOCK_LEAF_PREFIX


def test_csv_with_bom_and_blank_lines() -> None:
    data = b"\xef\xbb\xbf" + CSV + b"\r\n,,,\r\n"
    rows = readers.read_rows(data, "csv")
    assert len(rows) == 1 and rows[0][1]["period"] == "2026-Q3"
    assert io.BytesIO(data).read(3) == b"\xef\xbb\xbf"
