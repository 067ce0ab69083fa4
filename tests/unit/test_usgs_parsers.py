"""USGS parsers: flags, series mapping, primary series and the quirks of the bundled files."""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import SOURCE_MODULES, usgs_mcs2025, usgs_mcs2026
from lodeline.data.sources import usgs_series as m
from lodeline.data.sources.usgs_common import resolve_usgs_country, split_country, usgs_value
from lodeline.data.validate import validate_frame
from lodeline.domain.minerals import minerals
from lodeline.errors import DataFormatError, UnknownCountryError

PRODUCTION_COLUMNS = [
    "mineral", "stage", "measure", "country", "country_raw", "year", "quantity", "unit", "basis", "series",
    "is_primary", "note", "source", "edition", "flag", "_file", "_row",
]  # fmt: skip


@pytest.fixture(scope="module")
def parsed() -> dict[str, dict[str, pl.DataFrame]]:
    return {
        "usgs_mcs2026": dict(usgs_mcs2026.parse(RAW_DATA_DIR / "usgs_mcs2026")),
        "usgs_mcs2025": dict(usgs_mcs2025.parse(RAW_DATA_DIR / "usgs_mcs2025")),
    }


@pytest.fixture(scope="module")
def production(parsed: dict[str, dict[str, pl.DataFrame]]) -> pl.DataFrame:
    return pl.concat([p["production"] for p in parsed.values()])


def _one(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    rows = frame.filter(**where)  # type: ignore[arg-type]
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_sources_are_registered() -> None:
    assert {"usgs_mcs2026", "usgs_mcs2025"} <= set(SOURCE_MODULES)
    assert usgs_mcs2026.DATASET.licence.startswith("Public domain")
    assert usgs_mcs2025.DATASET.files == ("MCS2025_World_Data.csv",)


def test_frames_have_exactly_the_canonical_columns_and_validate(
    parsed: dict[str, dict[str, pl.DataFrame]],
) -> None:
    for source, frames in parsed.items():
        assert frames["production"].columns == PRODUCTION_COLUMNS
        for table, frame in frames.items():
            validate_frame(table, frame, dataset=source)
            assert frame["_row"].min() >= 2  # header is row 1
            assert frame["_file"].str.starts_with(source + "/").all()


def test_flags_are_kept_with_null_quantities_never_zero(production: pl.DataFrame) -> None:
    flagged = production.filter(pl.col("flag").is_in(["W", "NA", "XX", "--", "Q", "s"]))
    assert flagged.height > 200
    assert flagged["quantity"].is_null().all()
    # MCS 2026 row 4236: United States lithium mine production 2024 is "W" (withheld).
    row = _one(
        production, source="usgs_mcs2026", mineral="lithium", country="USA", year=2024, measure="production"
    )
    assert (row["quantity"], row["flag"], row["_row"]) == (None, "W", 4236)
    # Row 6110: Burma rare-earth reserves "NA".
    row = _one(production, source="usgs_mcs2026", mineral="rare-earths", country="MMR", measure="reserves")
    assert (row["quantity"], row["flag"]) == (None, "NA")
    # Row 4246: "Other countries" lithium 2024 "—" (none) → ROW, flag "--".
    row = _one(
        production, source="usgs_mcs2026", mineral="lithium", country="ROW", year=2024, measure="production"
    )
    assert (row["quantity"], row["flag"], row["country_raw"]) == (None, "--", "Other countries")
    # Row 1092: boron has no world total ("XX").
    row = _one(
        production, source="usgs_mcs2026", mineral="boron", country="WLD", year=2024, measure="production"
    )
    assert (row["quantity"], row["flag"]) == (None, "XX")
    assert (
        not (production["quantity"] == 0).any()
        or production.filter(pl.col("quantity") == 0)["flag"].is_null().all()
    )


def test_estimates_and_bounds(production: pl.DataFrame) -> None:
    row = _one(
        production, source="usgs_mcs2026", mineral="lithium", country="AUS", year=2024, measure="production"
    )
    assert (row["quantity"], row["flag"]) == (82_700, "e")  # note "Estimated."
    row = _one(
        production, source="usgs_mcs2026", mineral="lithium", country="CHL", year=2024, measure="production"
    )
    assert (row["quantity"], row["flag"]) == (48_900, None)  # note "Reported."
    row = _one(production, source="usgs_mcs2025", mineral="rare-earths", country="WLD", measure="reserves")
    assert (row["quantity"], row["flag"]) == (90_000_000, ">")
    # MCS 2025: every "PROD_EST_ 2024" figure is an estimate by definition.
    est = production.filter(
        pl.col("source") == "usgs_mcs2025", pl.col("year") == 2024, pl.col("measure") == "production"
    )
    assert (est.filter(pl.col("quantity").is_not_null())["flag"].is_in(["e", ">", "<"])).all()


def test_qualitative_and_small_values_keep_their_text(production: pl.DataFrame) -> None:
    row = _one(production, source="usgs_mcs2026", mineral="graphite", country="AUT", measure="reserves")
    assert (row["quantity"], row["flag"]) == (None, "s")
    assert "Included in" in str(row["note"])
    q = production.filter(pl.col("flag") == "Q")
    assert q.height and q["note"].str.contains("(?i)large|small|moderate").all()


def test_world_and_other_countries_rows(production: pl.DataFrame) -> None:
    wld = production.filter(pl.col("country") == "WLD")
    assert wld["country_raw"].str.starts_with("World total").all()
    # "World total (rounded) 10": the footnote number is dropped, "rounded" goes to the note.
    row = _one(
        production, source="usgs_mcs2025", mineral="antimony", country="WLD", year=2024, measure="production"
    )
    assert (row["quantity"], row["note"]) == (100_000, "rounded")
    assert (
        production.filter(pl.col("country") == "ROW")["country_raw"]
        .str.to_lowercase()
        .str.starts_with("other countries")
        .all()
    )


def test_country_qualifiers_go_to_the_note(production: pl.DataFrame) -> None:
    row = _one(
        production, source="usgs_mcs2025", mineral="feldspar", country="BRA", year=2023, measure="production"
    )
    assert row["note"] is not None and str(row["note"]).startswith("beneficiated, marketable")
    assert row["is_primary"]
    # Congo (Kinshasa) is a name, not "Congo" + a qualifier.
    assert (
        _one(
            production,
            source="usgs_mcs2025",
            mineral="cobalt",
            country="COD",
            year=2024,
            measure="production",
        )["quantity"]
        == 220_000
    )


def test_special_rows_get_their_own_non_primary_series(production: pl.DataFrame) -> None:
    cliffside = production.filter(pl.col("series").str.contains("Cliffside"))
    assert cliffside.height == 3 and not cliffside["is_primary"].any()  # 2023, 2024 output and reserves
    combined = production.filter(pl.col("series").str.contains("ilmenite and rutile"))
    assert combined.height and not combined["is_primary"].any()
    # Indium: the MCS 2025 "RESERVES_2024" column holds refinery capacity (USGS slip) → measure capacity.
    row = _one(production, source="usgs_mcs2025", mineral="indium", country="WLD", measure="capacity")
    assert row["quantity"] == 1800


def test_reserve_units_follow_the_usgs_notes(production: pl.DataFrame) -> None:
    row = _one(production, source="usgs_mcs2025", mineral="vanadium", country="WLD", measure="reserves")
    assert (row["quantity"], row["unit"]) == (18_000, "thousand metric tons")
    ti = production.filter(pl.col("source") == "usgs_mcs2025", pl.col("mineral") == "titanium")
    assert set(ti["unit"]) == {"thousand metric tons", "metric tons"}  # sponge metal stays in metric tons


def test_exactly_one_primary_series_per_group(production: pl.DataFrame) -> None:
    groups = production.filter(pl.col("is_primary")).group_by("source", "mineral", "stage", "measure")
    counts = groups.agg(pl.col("series").n_unique().alias("series"), pl.col("unit").n_unique().alias("units"))
    assert counts.filter((pl.col("series") != 1) | (pl.col("units") != 1)).height == 0
    # and no (series, country, year) appears twice
    key = ["source", "mineral", "stage", "measure", "series", "country", "year"]
    assert production.select(key).is_duplicated().sum() == 0


def test_every_covered_registry_mineral_has_a_primary_production_series(production: pl.DataFrame) -> None:
    covered = set(production["mineral"])
    assert covered <= set(minerals())
    expected_refining = {"copper", "gallium", "aluminium", "alumina", "magnesium", "silicon", "titanium", "indium",
                         "bismuth", "tellurium", "arsenic"}  # fmt: skip
    for source in ("usgs_mcs2026", "usgs_mcs2025"):
        frame = production.filter(
            pl.col("source") == source, pl.col("measure") == "production", pl.col("is_primary")
        )
        stages = frame.group_by("mineral").agg(pl.col("stage").unique())
        by_mineral = {r["mineral"]: set(r["stage"]) for r in stages.iter_rows(named=True)}
        for mineral in (
            "rare-earths",
            "lithium",
            "cobalt",
            "nickel",
            "graphite",
            "copper",
            "manganese",
            "tungsten",
        ):
            assert "mining" in by_mineral[mineral], (source, mineral)
        for mineral in expected_refining - {"scandium"}:
            if mineral in by_mineral:
                assert "refining" in by_mineral[mineral], (source, mineral)
    assert {"rare-earths", "cobalt", "lithium", "gallium", "platinum", "palladium"} <= covered


def test_every_mapped_series_matches_a_row(production: pl.DataFrame) -> None:
    """A stale entry in the series map would document a series that no longer exists."""
    used = production.filter(pl.col("source") == "usgs_mcs2026").select("mineral", "stage", "basis").unique()
    mapped = {(s.mineral, s.stage, s.basis) for s in m.S26.values()}
    assert mapped == set(used.iter_rows())


def test_rare_earths_basis_is_contained_reo(production: pl.DataFrame) -> None:
    re = production.filter(pl.col("mineral") == "rare-earths", pl.col("is_primary"))
    assert set(re["basis"]) == {"contained"}
    assert set(production.filter(pl.col("mineral") == "graphite")["basis"]) == {"gross"}


def test_salient_statistics(parsed: dict[str, dict[str, pl.DataFrame]]) -> None:
    sal = parsed["usgs_mcs2026"]["salient"]
    assert set(sal["statistic"]) <= {"net_import_reliance", "price", "production", "imports", "exports",
                                     "consumption", "other"}  # fmt: skip
    assert (sal["country"] == "USA").all()
    nir = sal.filter(pl.col("statistic") == "net_import_reliance")
    assert (nir["unit"] == "percent").all()
    bounded = nir.filter(pl.col("flag") == ">")
    assert bounded.height and (bounded["value"] > 0).all()
    exporter = nir.filter(pl.col("flag") == "E")
    assert exporter.height and exporter["value"].is_null().all()
    # Cobalt: NIR 2021 73 %, price in dollars per pound (row 1749 onward; MCS 2026 cobalt salient table).
    co = sal.filter(pl.col("mineral") == "cobalt", pl.col("year") == 2021)
    assert 73.0 in co.filter(pl.col("statistic") == "net_import_reliance")["value"].to_list()
    assert "dollars per pound" in co.filter(pl.col("statistic") == "price")["unit"].to_list()
    assert sal.select("mineral", "year", "statistic", "detail").is_duplicated().sum() == 0
    assert sal.filter(pl.col("detail").str.starts_with("Yttrium: ")).height > 0
    garbled = sal.filter(pl.col("flag") == "?")
    assert garbled.height == 2 and garbled["value"].is_null().all()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,050", (1050.0, None)),
        ("W", (None, "W")),
        ("NA", (None, "NA")),
        ("XX", (None, "XX")),
        ("—", (None, "--")),
        (">95", (95.0, ">")),
        ("<1,000", (1000.0, "<")),
        ("E", (None, "E")),
        ("Large", (None, "Q")),
        ("Moderate to large", (None, "Q")),
        ("s", (None, "s")),
        ("890–1,000", (None, "range")),
        ("?1", (None, "?")),
        ("68\u00a0", (68.0, None)),
    ],
)
def test_usgs_value(raw: str, expected: tuple[float | None, str | None]) -> None:
    assert usgs_value(raw, file="f", row=2, column="Value") == expected


def test_usgs_value_rejects_negative_and_garbage() -> None:
    with pytest.raises(DataFormatError, match="negative"):
        usgs_value("-5", file="f", row=2, column="Value")
    with pytest.raises(DataFormatError, match="not a number"):
        usgs_value("lots", file="f", row=2, column="Value")


def test_country_cells() -> None:
    assert split_country("Brazil (beneficiated, marketable)") == ("Brazil", "beneficiated, marketable")
    assert split_country("World total (rounded) 10") == ("World total", "rounded")
    assert resolve_usgs_country("Trinidad and Tobago") == "TTO"
    with pytest.raises(UnknownCountryError, match="combined multi-country row"):
        resolve_usgs_country("United States and Canada")


def test_chapter_coverage_is_explicit() -> None:
    """Every USGS chapter is either mapped or listed as out of scope with a reason."""
    assert not set(m.IN_SCOPE_26) & set(m.OUT_OF_SCOPE_26)
    assert all(reason for reason in m.OUT_OF_SCOPE_26.values())
    assert all(reason for reason in m.SKIP26.values())


def test_parsing_all_usgs_files_is_fast() -> None:
    started = time.perf_counter()
    usgs_mcs2026.parse(RAW_DATA_DIR / "usgs_mcs2026")
    usgs_mcs2025.parse(RAW_DATA_DIR / "usgs_mcs2025")
    assert time.perf_counter() - started < 5.0  # budget 20 s; typically ~0.2 s


def test_every_mapped_series_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "data-usgs.md").read_text(encoding="utf-8")
    for chapter, _stat, detail in m.S26:
        assert f"| {chapter} |" in doc and detail in doc, (chapter, detail)
    for commodity, kind in m.S25:
        assert f"| {commodity} | {kind} |" in doc, (commodity, kind)
    for chapter in m.OUT_OF_SCOPE_26:
        assert chapter in doc
