"""Days of cover of the pooled stocks against the alliance's consumption, through the service, the API route and
the CLI, on a store built from the bundled data (SQLite and PostgreSQL).

Hand-worked (period 2026-Q3, alliance G7+):
- titanium, contained tonnes: DEU 3,000, FRA 3,100, ITA 2,900 → 3 contributors, largest 3,100 of 9,000 (34 %),
  the others estimate it within 2,900 ≫ 10 %: published, pooled contained = 9,000 t.
- consumption: the G7+ apparent consumption of titanium sponge 2024 (tests/golden/test_market_figures_issue11.py):
  ``usgs_mcs2026/MCS2026_Commodities_Data.csv`` TITANIUM sponge production, Japan 57,000 t (the only member with a
  figure), plus ``BACI_2024`` hs6 810820 members' imports from outside 36,033.465 t, minus exports to outside
  4,911.135 t = 88,122.33 t (flag production-lower-bound: the United States is withheld).
- days of cover = 9,000 / 88,122.33 × 365 = 37.28 days.
- cobalt: 100 + 110 + 90 = 300 t contained, published; there is no apparent consumption of cobalt on a contained basis
  in the market tables (trade is in oxides, production in refined metal), so its cover is a gap (null + reason).
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app as cli
from lodeline.config import RAW_DATA_DIR, get_settings
from lodeline.data.build import build
from lodeline.server import create_app
from lodeline.services import stock_cover
from lodeline.services import stocks as service
from lodeline.stockpiles.submission import EXAMPLE_ROW

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PERIOD = "2026-Q3"
HOLDINGS = {
    "DEU": (("titanium", "3000"), ("cobalt", "100")),
    "FRA": (("titanium", "3100"), ("cobalt", "110")),
    "ITA": (("titanium", "2900"), ("cobalt", "90")),
}
CONSUMPTION = 57_000 + 36_033.465 - 4_911.135


@pytest.fixture
def submitted(engine: Engine) -> Engine:
    build(engine, RAW_DATA_DIR)
    for member, items in HOLDINGS.items():
        rows = [
            (
                i + 1,
                {
                    **EXAMPLE_ROW,
                    "period": PERIOD,
                    "member": member,
                    "location_country": member,
                    "mineral": mineral,
                    "form": f"{mineral} metal",
                    "quantity_gross_t": tonnes,
                    "quantity_contained_t": tonnes,
                },
            )
            for i, (mineral, tonnes) in enumerate(items)
        ]
        service.submit_rows(engine, rows, member=member, period=PERIOD)
    return engine


def test_cover_of_titanium_and_the_cobalt_gap(submitted: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    result = stock_cover.cover(submitted, PERIOD, "G7+")
    rows = {r["mineral"]: r for r in result.frame.iter_rows(named=True)}
    ti = rows["titanium"]
    assert ti["contained_t"] == pytest.approx(9000.0)
    assert ti["consumption_t"] == pytest.approx(CONSUMPTION, rel=1e-9)
    assert ti["consumption_year"] == 2024 and ti["consumption_source"] == "usgs_mcs2026;cepii_baci"
    assert "contained" in ti["consumption_basis"]
    assert ti["days_of_cover"] == pytest.approx(9000 / 88_122.33 * 365, rel=1e-6)
    assert round(ti["days_of_cover"], 2) == 37.28
    co = rows["cobalt"]
    assert co["contained_t"] == pytest.approx(300.0)
    assert co["consumption_t"] is None and co["days_of_cover"] is None
    assert "no alliance apparent consumption" in co["gap"]
    assert {s["id"] for s in result.provenance.sources} >= {"usgs_mcs2026", "cepii_baci"}

    with TestClient(create_app(submitted), base_url="https://testserver") as client:
        body = client.get("/api/v1/stocks/cover", params={"period": PERIOD}).json()
        api = {r["mineral"]: r for r in body["data"]}
        assert api["titanium"]["days_of_cover"] == pytest.approx(ti["days_of_cover"])
        assert api["cobalt"]["days_of_cover"] is None
        bad = client.get("/api/v1/stocks/cover", params={"period": PERIOD, "alliance": "XXX"})
        assert bad.status_code == 400
    monkeypatch.setenv("LODELINE_DATABASE_URL", str(submitted.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    shown = CliRunner().invoke(cli, ["stocks", "cover", "--period", PERIOD, "-f", "csv"])
    assert shown.exit_code == 0, shown.output
    frame = pl.read_csv(shown.stdout.encode())
    assert frame.filter(pl.col("mineral") == "titanium")["days_of_cover"][0] == pytest.approx(
        37.2775, abs=1e-3
    )


def test_cover_without_contained_figures_is_a_gap_per_mineral(engine: Engine) -> None:
    """Three members give gross cobalt only (no contained figure): the contained table is empty (said in its notes)
    and cobalt's cover is a gap naming why, not an error and not 0."""
    from lodeline.services import stock_aggregates

    for member, tonnes in (("DEU", "100"), ("FRA", "110"), ("ITA", "90")):
        row = {**EXAMPLE_ROW, "period": PERIOD, "member": member, "location_country": member,
               "quantity_gross_t": tonnes, "quantity_contained_t": ""}  # fmt: skip
        service.submit_rows(engine, [(1, row)], member=member, period=PERIOD)
    contained = stock_aggregates.published(engine, PERIOD, measure="contained")
    assert contained.frame.is_empty()
    assert any("no member gave contained tonnes" in n for n in contained.provenance.notes)
    rows = stock_cover.cover(engine, PERIOD).frame.to_dicts()
    assert [(r["mineral"], r["contained_t"], r["days_of_cover"]) for r in rows] == [("cobalt", None, None)]
    assert rows[0]["gap"] == "no contained tonnes submitted"
