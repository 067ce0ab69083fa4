"""Networks built from the store: a small store filled here (checked by hand) and the bundled data."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.domain.groups import get_group
from lodeline.errors import InsufficientDataError, StoreNotBuiltError
from lodeline.sim.montecarlo import make_task, run_montecarlo
from lodeline.sim.run import run_scenario
from lodeline.sim.scenario import library_scenarios, scenario_from_text
from lodeline.sim.store import load_network, political_stability
from lodeline.store.canonical import replace_canonical

G7 = get_group("G7").members


def _production(mineral: str, stage: str, country: str, qty: float) -> dict:
    return {
        "mineral": mineral,
        "stage": stage,
        "measure": "production",
        "country": country,
        "country_raw": country,
        "year": 2024,
        "quantity": qty,
        "unit": "metric tons",
        "basis": "contained",
        "series": "test",
        "is_primary": True,
        "note": None,
        "source": "usgs_mcs2026",
        "edition": "test",
        "flag": None,
    }


def _trade(exporter: str, importer: str, qty: float) -> dict:
    return {
        "hs6": "750210",
        "mineral": "nickel",
        "stage": "refining",
        "exporter": exporter,
        "importer": importer,
        "year": 2024,
        "value_usd": qty * 1000.0,
        "quantity_t": qty,
        "coverage": "complete",
        "source": "cepii_baci",
        "edition": "test",
        "flag": None,
    }


def _fill(engine: Engine) -> None:
    production = pl.DataFrame(
        [
            _production("nickel", "mining", "IDN", 120.0),
            _production("nickel", "mining", "AUS", 60.0),
            _production("nickel", "refining", "CHN", 100.0),
            _production("nickel", "refining", "JPN", 50.0),
        ]
    )
    trade = pl.DataFrame(
        [
            _trade("CHN", "USA", 40.0),
            _trade("CHN", "NLD", 20.0),
            _trade("NLD", "DEU", 15.0),
            _trade("JPN", "USA", 10.0),
            _trade("JPN", "DEU", 20.0),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    catalog = [
        {
            "id": "test",
            "title": "test",
            "publisher": "test",
            "edition": "test",
            "licence": "test",
            "files": json.dumps([]),
            "sha256": "0" * 64,
            "rows": 9,
            "tables": json.dumps({}),
            "built_at": now,
        }
    ]
    replace_canonical(engine, {"production": [production], "trade": [trade]}, catalog, "0" * 64, now)


def test_network_from_a_small_store_by_hand(engine: Engine) -> None:
    """NLD refines nothing, so its re-export NLD→DEU 15 t goes back to its only origin, CHN (CHN→DEU 15),
    and NLD keeps 20 − 15 = 5 t. CHN ships 40 + 5 + 15 = 60 of its 100 t and uses 40 at home; JPN ships
    30 of 50 and uses 20. Consumption: USA 50, DEU 35, CHN 40, JPN 20, NLD 5 (t/yr; the network is t/month).
    Ore: no ore trade, so refiners' feed need = output / yield, yield = 150/180; IDN (120) and AUS (60)
    have no refinery and are matched pro rata to need (CHN 120, JPN 60): IDN→CHN 80, IDN→JPN 40,
    AUS→CHN 40, AUS→JPN 20.
    """
    _fill(engine)
    net = load_network(engine, "nickel", G7)
    assert [s.name for s in net.stages] == ["mining", "refining"]
    assert net.consumers == ("DEU", "JPN", "USA", "CHN", "NLD", "ROW")
    assert net.members == (True, True, True, False, False, False)
    np.testing.assert_allclose(net.demand * 12, [35, 20, 50, 40, 5, 0])
    refining = net.stages[1]
    assert refining.countries == ("CHN", "JPN")
    np.testing.assert_allclose(net.flows[1] * 12, [[15, 0, 40, 40, 5, 0], [20, 20, 10, 0, 0, 0]])
    assert net.stages[0].countries == ("AUS", "IDN")
    np.testing.assert_allclose(net.flows[0] * 12, [[40, 20], [80, 40]])
    # placeholder stocks: 30 days of consumption for USA/DEU, 60 for JPN (data/stockpile_assumptions.csv)
    month = 365.25 / 12
    np.testing.assert_allclose(
        net.stocks[:3], [35 / 12 * 30 / month, 20 / 12 * 60 / month, 50 / 12 * 30 / month]
    )
    assert net.stocks[3:].sum() == 0
    assert any("PLACEHOLDER" in n for n in net.notes)
    assert any("re-export hubs" in n for n in net.notes)

    # an Indonesian ore export ban: CHN loses 80/120 of its feed, JPN 40/60 → both refine 1/3 of baseline
    sc = scenario_from_text(
        "name: t\nmineral: nickel\nhorizon_months: 1\nresponse: {release: none, reroute_fraction: 0}\n"
        "disruptions: [{country: IDN, stage: mining, kind: export, cut: 1.0, duration_months: 1}]\n"
    )
    report = run_scenario(net, sc)
    by = {r["country"]: r for r in report.members}
    # USA gets 40/3 + 10/3 of 50/12 t per month … per month: (40 + 10)/3/12 delivered, shortfall 2/3 of demand
    assert by["USA"]["shortfall_pct"] == pytest.approx(100 * 2 / 3)
    assert by["USA"]["shortfall_t"] == pytest.approx(50 / 12 * 2 / 3)


def test_empty_store_is_refused(engine: Engine) -> None:
    with pytest.raises(StoreNotBuiltError):
        load_network(engine, "nickel", G7)


def test_mineral_without_trade_is_refused(engine: Engine) -> None:
    _fill(engine)
    with pytest.raises(InsufficientDataError, match="no complete-coverage trade rows for lithium"):
        load_network(engine, "lithium", G7)


@pytest.mark.parametrize("name", sorted(library_scenarios()))
def test_library_scenarios_run_on_the_bundled_data(built_store: tuple[str, Engine], name: str) -> None:
    _, engine = built_store
    sc = scenario_from_text(library_scenarios()[name], name)
    net = load_network(engine, sc.mineral, sc.alliance_members())
    report = run_scenario(net, sc, name)
    assert report.lp_max_abs_diff is not None and report.lp_max_abs_diff < 1e-6
    members = [r for r in report.members if r["member"]]
    assert members and all(0 <= r["shortfall_pct"] <= 100 for r in members)
    assert report.binding_nodes, "the disruption must bind somewhere"
    disrupted = {(d.country, d.stage) for d in sc.disruptions}
    assert disrupted & {(b["country"], b["stage"]) for b in report.binding_nodes}


def test_bundled_rare_earths_network_and_montecarlo(built_sqlite: tuple[str, Engine]) -> None:
    _, engine = built_sqlite
    sc = scenario_from_text(library_scenarios()["cn-rare-earths-magnets-2025"], "ree")
    net = load_network(engine, "rare-earths", sc.alliance_members())
    assert [s.name for s in net.stages] == ["mining", "refining", "component"]
    assert "CHN" in net.stages[2].countries
    stability = political_stability(engine)
    assert stability, "WGI political stability must be in the store"
    task, _ = make_task(net, sc, stability)
    # China's probability from WGI: p = 0.01 + 0.14·(1 − pv/100)
    chn = net.stages[2].countries.index("CHN")
    assert task.probs[chn] == pytest.approx(0.01 + 0.14 * (1 - stability["CHN"] / 100))
    result = run_montecarlo(task, 3_000, seed=7, chunk_size=1_000)
    assert result.unmet.shape == (3_000, len(net.consumers))
    assert (result.unmet >= -1e-9).all()
