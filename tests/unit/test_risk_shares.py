"""Share builders (production, BGS, EU sourcing), EU parameters and the pure chart builders."""

from __future__ import annotations

import polars as pl
import pytest

from lodeline.risk.chart import criticality_chart, tornado_chart
from lodeline.risk.parameters import eu_parameters
from lodeline.risk.shares import combine_global, eu_sourcing_shares, production_shares, refined_stage_shares


def production_rows(
    rows: list[tuple[str, int, float | None, str, str]], *, stage: str = "mining"
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {
                "mineral": "m",
                "stage": stage,
                "measure": "production",
                "country": country,
                "year": year,
                "quantity": quantity,
                "is_primary": True,
                "source": source,
                "edition": edition,
            }
            for country, year, quantity, source, edition in rows
        ],
        schema_overrides={"quantity": pl.Float64},
    )


def shares_of(frame: pl.DataFrame, year: int) -> dict[str, float]:
    return dict(frame.filter(pl.col("year") == year).select("country", "share").iter_rows())


def test_world_total_is_the_denominator_and_row_and_withheld_add_no_supplier() -> None:
    frame = production_rows(
        [
            ("CHN", 2024, 60.0, "usgs_mcs2026", "MCS 2026"),
            ("AUS", 2024, 20.0, "usgs_mcs2026", "MCS 2026"),
            ("USA", 2024, None, "usgs_mcs2026", "MCS 2026"),  # withheld: dropped, never zero
            ("ROW", 2024, 20.0, "usgs_mcs2026", "MCS 2026"),
            ("WLD", 2024, 125.0, "usgs_mcs2026", "MCS 2026"),
        ]
    )
    out = production_shares(frame)
    assert shares_of(out, 2024) == {"CHN": pytest.approx(0.48), "AUS": pytest.approx(0.16)}
    assert set(out["stage"]) == {"extraction"} and set(out["scope"]) == {"global"}


def test_without_a_world_row_the_sum_including_row_is_used() -> None:
    frame = production_rows(
        [("CHN", 2024, 60.0, "s", "1"), ("AUS", 2024, 20.0, "s", "1"), ("ROW", 2024, 20.0, "s", "1")]
    )
    assert shares_of(production_shares(frame), 2024) == {"CHN": pytest.approx(0.6), "AUS": pytest.approx(0.2)}


def test_one_source_per_year_by_preference_and_newest_edition() -> None:
    frame = production_rows(
        [
            ("CHN", 2024, 90.0, "iea_critical_minerals", "May 2025"),
            ("AUS", 2024, 10.0, "iea_critical_minerals", "May 2025"),
            ("CHN", 2024, 50.0, "usgs_mcs2025", "MCS 2025"),
            ("AUS", 2024, 50.0, "usgs_mcs2025", "MCS 2025"),
            ("CHN", 2024, 70.0, "usgs_mcs2026", "MCS 2026"),
            ("AUS", 2024, 30.0, "usgs_mcs2026", "MCS 2026"),
            ("CHN", 2023, 80.0, "iea_critical_minerals", "May 2024"),
            ("AUS", 2023, 20.0, "iea_critical_minerals", "May 2024"),
        ]
    )
    out = production_shares(frame)
    assert shares_of(out, 2024) == {"CHN": pytest.approx(0.7), "AUS": pytest.approx(0.3)}
    assert set(out.filter(pl.col("year") == 2024)["source"]) == {"usgs_mcs2026"}
    assert shares_of(out, 2023) == {"CHN": pytest.approx(0.8), "AUS": pytest.approx(0.2)}


def test_only_the_most_recent_years_are_kept() -> None:
    frame = production_rows([("CHN", y, 1.0, "s", "1") for y in range(2015, 2025)])
    assert sorted(production_shares(frame, years=3)["year"].unique()) == [2022, 2023, 2024]


def test_bgs_fills_processing_only_where_production_lacks_it() -> None:
    bgs = pl.DataFrame(
        {
            "mineral": ["m", "m", "n"],
            "stage": ["refining"] * 3,
            "country": ["CHN", "NOR", "CHN"],
            "year": [2024, 2024, 2024],
            "share": [0.9, 0.1, 0.5],
            "source": "bgs",
            "edition": "1",
        }
    )
    produced = production_shares(production_rows([("JPN", 2024, 1.0, "s", "1")], stage="refining"))
    combined = combine_global(produced, refined_stage_shares(bgs))
    assert set(combined.filter(pl.col("mineral") == "m")["country"]) == {"JPN"}
    assert set(combined.filter(pl.col("mineral") == "n")["country"]) == {"CHN"}


def test_eu_sourcing_uses_extra_eu_imports_and_the_best_coverage() -> None:
    rows = [
        # complete 2024: tonnes everywhere -> tonnes; intra-EU (FRA->DEU) and non-EU importers ignored
        ("CHN", "DEU", 2024, 900.0, 30.0, "complete"),
        ("BRA", "FRA", 2024, 100.0, 10.0, "complete"),
        ("FRA", "DEU", 2024, 5000.0, 500.0, "complete"),
        ("CHN", "USA", 2024, 5000.0, 500.0, "complete"),
        # top6 2024 would double count: ignored because complete exists for 2024
        ("CHN", "DEU", 2024, 900.0, None, "top6"),
        # top6 2023: no tonnes -> US dollars
        ("CHN", "DEU", 2023, 300.0, None, "top6"),
        ("BRA", "ITA", 2023, 100.0, None, "top6"),
    ]
    trade = pl.DataFrame(
        [
            {
                "mineral": "m",
                "stage": "refining",
                "exporter": e,
                "importer": i,
                "year": y,
                "value_usd": v,
                "quantity_t": q,
                "coverage": c,
                "source": "baci",
                "edition": "1",
            }
            for e, i, y, v, q, c in rows
        ],
        schema_overrides={"quantity_t": pl.Float64},
    )
    out = eu_sourcing_shares(trade, {"DEU", "FRA", "ITA"})
    assert shares_of(out, 2024) == {"CHN": pytest.approx(0.75), "BRA": pytest.approx(0.25)}
    assert shares_of(out, 2023) == {"CHN": pytest.approx(0.75), "BRA": pytest.approx(0.25)}
    assert set(out["stage"]) == {"processing"} and set(out["scope"]) == {"eu"}


def test_eu_parameters_reshape_percentages_and_group_proxies() -> None:
    long = pl.DataFrame(
        [
            ("Cobalt", "cobalt", "supply_basis_extraction", None, "GSonly"),
            ("Cobalt", "cobalt", "supply_basis_processing", None, "GS+EU"),
            ("Cobalt", "cobalt", "IR_extraction_pct", 81.0, None),
            ("Cobalt", "cobalt", "IR_processing_pct", 1.0, None),
            ("Cobalt", "cobalt", "EoL_RIR_pct", 22.0, None),
            ("Cobalt", "cobalt", "SI_SR", 0.98, None),
            ("Cobalt", "cobalt", "SI_EI", 0.97, None),
            ("Terbium", None, "group", None, "HREE"),
            ("Terbium", None, "supply_basis_processing", None, "GSonly"),
            ("Terbium", None, "SI_SR", 0.92, None),
            ("Terbium", None, "EoL_RIR_pct", 1.0, None),
        ],
        schema=["material", "mineral", "parameter", "value", "text_value"],
        orient="row",
    )
    params = eu_parameters(long)
    cobalt = {r["stage"]: r for r in params.filter(pl.col("material") == "Cobalt").iter_rows(named=True)}
    assert cobalt["extraction"]["ir"] == pytest.approx(0.81) and cobalt["extraction"]["basis"] == "GSonly"
    assert cobalt["processing"]["eol_rir"] == pytest.approx(0.22) and cobalt["processing"]["si_sr"] == 0.98
    terbium = params.filter(pl.col("material") == "Terbium").row(0, named=True)
    assert (
        terbium["mineral"] == "rare-earths"
        and "HREE" in terbium["proxy"]
        and terbium["stage"] == "processing"
    )


def test_chart_builders_embed_plotly_thresholds_labels_and_source() -> None:
    table = pl.DataFrame(
        {
            "material": ["Alphium", "Betium", "Nodatium"],
            "sr": [2.0, 0.5, None],
            "ei": [4.0, None, None],
            "critical": [True, None, None],
        }
    )
    html = criticality_chart(table, source_line="test source")
    assert '<script src="https://cdn.plot.ly' not in html and len(html) > 1_000_000
    for text in ("SR = 1", "EI = 2.8", "Alphium", "Betium", "not bundled", "Source: test source"):
        assert text in html
    assert "Nodatium" not in html  # no SR: not drawn (it is "insufficient data" in the table)
    bars = pl.DataFrame(
        {
            "material": ["A", "A"],
            "factor": ["t_c", "EoL-RIR"],
            "sr_base": [2.0, 2.0],
            "sr_low": [1.9, 1.5],
            "sr_high": [2.1, 2.6],
            "swing": [0.2, 1.1],
        }
    )
    tornado_html = tornado_chart(bars, source_line="test source")
    assert "Supply-risk tornado: A" in tornado_html and "EoL-RIR" in tornado_html
