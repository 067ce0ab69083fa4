"""market/targets.py on small histories written out by hand: verdicts, gaps in pp and "since when".

The figures are constructed here, so each expectation can be checked by eye: a gap is (share - line) x 100, and
"since" is the first year of the unbroken run of misses that ends in the latest year.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from lodeline.domain.groups import get_group, resolve_alliance
from lodeline.errors import InvalidArgumentError
from lodeline.market.targets import COMPARISON_ONLY, CRMA_COMPARISON, CRMA_STRATEGIC, G7_TARGET, target_table

#: The two rows of policy_facts/targets_and_commitments.csv the yardsticks come from, as the parser stores them.
TARGETS = pl.DataFrame(
    [
        {"target_id": "g7-2026-ree-magnets-single-supplier", "minerals": json.dumps(["rare-earths"]),
         "metric": "dependency on a single supplier outside the G7 and partner countries", "comparator": "<",
         "value": 60.0, "ambition_value": 50.0, "deadline": 2030},
        {"target_id": "eu-crma-single-country", "minerals": json.dumps([]),
         "metric": "share of annual EU consumption from a single third country", "comparator": "<=",
         "value": 65.0, "ambition_value": None, "deadline": 2030},
    ]
)  # fmt: skip


def _history(mineral: str, shares: dict[int, float | None]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"mineral": mineral, "stage": "refining", "basis": "production", "share_of": "world production",
             "year": y, "top_external_supplier": "CHN", "top_external_share": s, "flag": None, "source": "test"}
            for y, s in shares.items()
        ],
        schema_overrides={"top_external_share": pl.Float64, "flag": pl.String},
    )  # fmt: skip


def _row(frame: pl.DataFrame, mineral: str) -> dict[str, object]:
    return frame.filter(pl.col("mineral") == mineral).row(0, named=True)


def test_since_is_the_first_year_of_the_run_ending_in_the_latest_year() -> None:
    """2019 meets (55 % < 60 %), 2020–2022 miss: since 2020, exact; gap 2022 = (0.70 - 0.60) x 100 = +10 pp."""
    row = _row(target_table(_history("rare-earths", {2019: 0.55, 2020: 0.61, 2021: 0.65, 2022: 0.70}), TARGETS,
                            crma=False), "rare-earths")  # fmt: skip
    assert row["year"] == 2022 and row["yardstick"] == G7_TARGET
    assert row["target_verdict"] == "misses" and row["target_gap_pp"] == pytest.approx(10.0)
    assert row["target_since"] == 2020 and row["target_since_note"] == "since 2020"
    # the ambition (50 %) was already missed in 2019, the earliest year with data: a lower bound
    assert row["ambition_gap_pp"] == pytest.approx(20.0) and row["ambition_since"] == 2019
    assert row["ambition_since_note"].startswith("since at least 2019: the earliest year")
    assert row["crma_verdict"] is None and row["crma_benchmark"] is None
    assert row["years_with_data"] == "2019–2022"


def test_a_hole_in_the_years_makes_since_a_lower_bound() -> None:
    """2018 and 2021–2022 miss, 2019–2020 have no figure: the run cannot be followed past the hole."""
    row = _row(target_table(_history("copper", {2018: 0.9, 2019: None, 2021: 0.8, 2022: 0.8}), TARGETS, crma=False),
               "copper")  # fmt: skip
    assert row["yardstick"] == COMPARISON_ONLY
    assert (
        row["target_since"] == 2021 and row["target_since_note"] == "since at least 2021: no figure for 2020"
    )
    assert row["years_with_data"] == "2018, 2021, 2022"


def test_the_strict_test_misses_at_the_line_and_a_meeting_latest_year_has_no_since() -> None:
    """Exactly 60 % misses the "< 60 %" test (gap 0 pp); 45 % meets both lines (gaps -15 and -5 pp)."""
    frame = target_table(
        pl.concat([_history("rare-earths", {2024: 0.60}), _history("lithium", {2023: 0.7, 2024: 0.45})]),
        TARGETS,
        crma=True,
    )
    at_line, meets = _row(frame, "rare-earths"), _row(frame, "lithium")
    assert at_line["target_verdict"] == "misses" and at_line["target_gap_pp"] == pytest.approx(0.0)
    # the CRMA line is "at most 65 %": 60 % meets it, 5 pp of headroom
    assert at_line["crma_verdict"] == "meets" and at_line["crma_gap_pp"] == pytest.approx(-5.0)
    assert at_line["crma_scope"] == CRMA_STRATEGIC
    assert meets["target_verdict"] == "meets" and meets["target_gap_pp"] == pytest.approx(-15.0)
    assert meets["target_since"] is None and meets["ambition_gap_pp"] == pytest.approx(-5.0)


def test_minerals_outside_annex_i_get_the_crma_line_as_a_comparison() -> None:
    row = _row(target_table(_history("antimony", {2024: 0.7}), TARGETS, crma=True), "antimony")
    assert row["crma_scope"] == CRMA_COMPARISON and row["crma_verdict"] == "misses"
    assert row["crma_gap_pp"] == pytest.approx(5.0)


def test_custom_alliances_resolve_to_the_same_member_set() -> None:
    eu = get_group("EU27")
    spelled_out = resolve_alliance(", ".join(sorted(eu.members, reverse=True)).lower())
    assert spelled_out.members == eu.members and spelled_out.id == ",".join(sorted(eu.members))
    assert resolve_alliance("usa,JPN,usa").members == frozenset({"USA", "JPN"})
    assert resolve_alliance("msp").members == get_group("MSP").members and len(get_group("MSP").members) == 14


@pytest.mark.parametrize(
    ("value", "named"),
    [("USA,XYZ", "entry 2 'XYZ'"), ("USA,,JPN", "empty entry"), ("G8", "'G8' is neither a country group"),
     ("USA,WLD", "'WLD' is not an ISO 3166"), ("", "alliance is empty"), ("A," * 700, "characters long")],
)  # fmt: skip
def test_bad_alliances_are_refused_naming_the_culprit(value: str, named: str) -> None:
    with pytest.raises(InvalidArgumentError, match=named.replace("(", r"\(")):
        resolve_alliance(value)
