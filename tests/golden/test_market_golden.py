"""Published figures reproduced from the bundled sources through the whole pipeline (parse → store → indicators)."""

from __future__ import annotations

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.services import market as svc


def share(engine: Engine, mineral: str, stage: str, year: int, country: str) -> float:
    frame = svc.shares(engine, mineral, stage, year).frame
    return float(frame.filter(pl.col("country") == country)["share"][0])


def test_china_rare_earth_mine_share_2024(built_sqlite: tuple[str, Engine]) -> None:
    """USGS MCS 2026, rare earths 2024 (t REO): China 270,000; the rounded world total is 380,000 but the country rows
    add up to more: US 45,500 + Australia 29,000 + Brazil 560 + Burma 27,000 + China 270,000 + India 2,900 +
    Madagascar 1,400 + Malaysia 140 + Nigeria 1,500 + Russia 2,600 + Thailand 2,100 + Vietnam 300 + other 1,000
    = 384,000. Shares are taken of the larger figure (so they never add up past 1): 270,000 / 384,000 = 0.703125."""
    assert share(built_sqlite[1], "rare-earths", "mining", 2024, "CHN") == pytest.approx(270_000 / 384_000)


def test_drc_cobalt_mine_share_2024(built_sqlite: tuple[str, Engine]) -> None:
    # USGS MCS 2026, cobalt: Congo (Kinshasa) 226,000 t of a world total of 302,000 t (2024, estimated).
    assert share(built_sqlite[1], "cobalt", "mining", 2024, "COD") == pytest.approx(226_000 / 302_000)


def test_china_dominates_rare_earth_refining(built_sqlite: tuple[str, Engine]) -> None:
    # IEA Critical Minerals Data Explorer (May 2025): China refines about 91% of magnet rare earths (2024).
    assert share(built_sqlite[1], "rare-earths", "refining", 2024, "CHN") == pytest.approx(0.91, abs=0.01)


def test_rare_earth_dependency_is_above_the_g7_target(built_sqlite: tuple[str, Engine]) -> None:
    dep = svc.dependency(built_sqlite[1], "rare-earths", "G7+").frame
    mining_2024 = dep.filter((pl.col("stage") == "mining") & (pl.col("year") == 2024)).row(0, named=True)
    assert mining_2024["top_external_supplier"] == "CHN"
    assert mining_2024["target"] == pytest.approx(0.60) and mining_2024["gap"] > 0
    magnets_2024 = dep.filter(
        (pl.col("stage") == "component") & (pl.col("year") == 2024) & (pl.col("basis") == "trade value")
    ).row(0, named=True)
    assert magnets_2024["top_external_supplier"] == "CHN" and magnets_2024["coverage"] == "complete"
    assert 0.5 < magnets_2024["top_external_share"] < 0.8


def test_hhi_within_bounds_for_every_group(built_sqlite: tuple[str, Engine]) -> None:
    overview = svc.minerals_overview(built_sqlite[1]).frame
    assert overview.height >= 30
    # parts above a rounded world total are normalised by their sum (gallium 2025), so HHI never passes 10,000
    assert overview["hhi"].is_between(0, 10_000).all()
