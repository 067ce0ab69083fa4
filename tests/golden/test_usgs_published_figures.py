"""Golden figures: shares computed from the parsed USGS frames equal those implied by the published tables.

Every expected number below is printed in the USGS Mineral Commodity Summaries (2025: data release
doi:10.5066/P13XCP3R; 2026: doi:10.5066/P1WKQ63T) and can be checked in the bundled CSV at the row named.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import usgs_mcs2025, usgs_mcs2026


@pytest.fixture(scope="module")
def mcs2026() -> pl.DataFrame:
    return pl.DataFrame(usgs_mcs2026.parse(RAW_DATA_DIR / "usgs_mcs2026")["production"])


@pytest.fixture(scope="module")
def mcs2025() -> pl.DataFrame:
    return pl.DataFrame(usgs_mcs2025.parse(RAW_DATA_DIR / "usgs_mcs2025")["production"])


def _primary(frame: pl.DataFrame, mineral: str, stage: str, year: int) -> dict[str, float | None]:
    rows = frame.filter(
        pl.col("mineral") == mineral,
        pl.col("stage") == stage,
        pl.col("measure") == "production",
        pl.col("year") == year,
        pl.col("is_primary"),
    )
    return dict(zip(rows["country"].to_list(), rows["quantity"].to_list(), strict=True))


def _share(frame: pl.DataFrame, mineral: str, stage: str, year: int, country: str) -> float:
    values = _primary(frame, mineral, stage, year)
    part, world = values[country], values["WLD"]
    assert part is not None and world is not None
    return part / world


# (edition, mineral, stage, year, country, published quantity, published world total, CSV row)
PUBLISHED = [
    ("2025", "rare-earths", "mining", 2024, "CHN", 270_000, 390_000, 885),
    ("2025", "rare-earths", "mining", 2023, "CHN", 255_000, 376_000, 885),
    ("2025", "cobalt", "mining", 2024, "COD", 220_000, 290_000, 268),
    ("2025", "lithium", "mining", 2024, "AUS", 88_000, 240_000, 630),
    ("2025", "gallium", "refining", 2024, "CHN", 750_000, 760_000, 371),
    ("2025", "graphite", "mining", 2024, "CHN", 1_270_000, 1_600_000, 432),
    ("2026", "rare-earths", "mining", 2024, "CHN", 270_000, 380_000, 6076),
    ("2026", "rare-earths", "mining", 2025, "CHN", 270_000, 390_000, 6094),
    ("2026", "cobalt", "mining", 2024, "COD", 226_000, 302_000, 1854),
    ("2026", "cobalt", "mining", 2025, "COD", 230_000, 310_000, 1868),
    ("2026", "lithium", "mining", 2024, "AUS", 82_700, 222_000, 4238),
    ("2026", "lithium", "mining", 2025, "AUS", 92_000, 290_000, 4250),
    ("2026", "gallium", "refining", 2024, "CHN", 839_000, 848_000, 2551),
    ("2026", "graphite", "mining", 2025, "CHN", 1_400_000, 1_800_000, 2987),
]


@pytest.mark.parametrize(("edition", "mineral", "stage", "year", "country", "qty", "world", "row"), PUBLISHED)
def test_published_quantity_and_share(
    request: pytest.FixtureRequest,
    edition: str,
    mineral: str,
    stage: str,
    year: int,
    country: str,
    qty: float,
    world: float,
    row: int,
) -> None:
    frame: pl.DataFrame = request.getfixturevalue(f"mcs{edition}")
    values = _primary(frame, mineral, stage, year)
    assert values[country] == qty
    assert values["WLD"] == world
    assert _share(frame, mineral, stage, year, country) == pytest.approx(qty / world)
    located = frame.filter(
        pl.col("mineral") == mineral,
        pl.col("country") == country,
        pl.col("year") == year,
        pl.col("is_primary"),
    )
    assert row in located["_row"].to_list()


def test_china_rare_earth_share_2024_is_about_70_percent(mcs2025: pl.DataFrame) -> None:
    # MCS 2025: "China ... 270,000 t of 390,000 t" → 69 %.
    assert _share(mcs2025, "rare-earths", "mining", 2024, "CHN") == pytest.approx(0.6923, abs=5e-4)


def test_drc_cobalt_share_is_about_three_quarters(mcs2025: pl.DataFrame, mcs2026: pl.DataFrame) -> None:
    assert _share(mcs2025, "cobalt", "mining", 2024, "COD") == pytest.approx(0.7586, abs=5e-4)
    assert _share(mcs2026, "cobalt", "mining", 2025, "COD") == pytest.approx(0.7419, abs=5e-4)


def test_country_rows_add_up_to_the_rounded_world_total(mcs2026: pl.DataFrame) -> None:
    """Countries + "Other countries" match the published (rounded) world total within USGS rounding."""
    for mineral, year in [("rare-earths", 2025), ("cobalt", 2025), ("lithium", 2025), ("graphite", 2025)]:
        values = _primary(mcs2026, mineral, "mining", year)
        world = values.pop("WLD")
        assert world is not None
        total = sum(v for v in values.values() if v is not None)
        assert total == pytest.approx(world, rel=0.03), mineral


def test_reserves_world_lower_bound_is_kept(mcs2026: pl.DataFrame) -> None:
    row = mcs2026.filter(
        pl.col("mineral") == "rare-earths", pl.col("measure") == "reserves", pl.col("country") == "WLD"
    ).row(0, named=True)
    # Published as ">85,000,000" (the CSV predates the v1.1 revision to >75 Mt; see PROVENANCE.txt).
    assert (row["quantity"], row["flag"], row["_row"]) == (85_000_000, ">", 6124)


def test_parsed_files_are_the_bundled_ones() -> None:
    assert Path(RAW_DATA_DIR / "usgs_mcs2026" / usgs_mcs2026.FILE).is_file()
    assert Path(RAW_DATA_DIR / "usgs_mcs2025" / usgs_mcs2025.FILE).is_file()
