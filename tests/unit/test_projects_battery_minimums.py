"""The Battery Regulation recycled-content supplement: the bundled file adds lead (absent from the targets file)
with its provision, never overrides the targets file, and a bad row is refused naming file, row and column."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.errors import DataFormatError
from lodeline.projects.recycling import MINIMUM_SCHEMA, parse_supplement, with_supplement
from lodeline.services.projects import battery_supplement

ROW = {
    "mineral": "lead",
    "from_year": "2031",
    "min_pct": "85",
    "provision": "Art. 8(2)(b)",
    "source_url": "u",
}


def test_bundled_supplement_adds_lead_with_its_provision() -> None:
    """projects/data/battery_recycled_content.csv: lead 85 % from 2031 (Regulation (EU) 2023/1542 Art. 8(2)(b),
    checked against the Council's text as reported: "16% for cobalt, 85% for lead, 6% for lithium and 6% for
    nickel"); the 2036 row has no figure (no stored source states it), so it stays None."""
    sup = battery_supplement()
    assert sup.height == 1
    lead = sup.row(0, named=True)
    assert lead["mineral"] == "lead" and lead["min_2031_pct"] == 85.0 and lead["min_2036_pct"] is None
    assert "Art. 8(2)(b)" in lead["target_id"] and "Art. 8(3)(b) (not verified)" in lead["target_id"]


def test_the_supplement_never_overrides_the_targets_file() -> None:
    targets = pl.DataFrame(
        [{"mineral": "cobalt", "min_2031_pct": 16.0, "min_2036_pct": 26.0, "target_id": "co"}],
        schema=MINIMUM_SCHEMA,
    )
    sup = parse_supplement([ROW, {**ROW, "mineral": "cobalt", "min_pct": "99"}])
    merged = with_supplement(targets, sup)
    assert merged["mineral"].to_list() == ["cobalt", "lead"]
    assert merged.filter(pl.col("mineral") == "cobalt")["min_2031_pct"].item() == 16.0


@pytest.mark.parametrize(
    ("bad", "column"),
    [
        ({"min_pct": "eighty"}, "min_pct"),
        ({"min_pct": "185"}, "min_pct"),
        ({"from_year": "2030"}, "from_year"),
        ({"mineral": ""}, "mineral"),
        ({"source_url": ""}, "provision"),
    ],
)
def test_a_bad_row_names_file_row_and_column(bad: dict[str, str], column: str) -> None:
    with pytest.raises(DataFormatError) as err:
        parse_supplement([ROW, {**ROW, **bad}], "battery_recycled_content.csv")
    assert err.value.row == 3 and err.value.column == column
    assert "battery_recycled_content.csv, row 3" in str(err.value)
