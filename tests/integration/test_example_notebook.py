"""The example notebook ``examples/notebooks/g7_rare_earths.ipynb`` runs end to end and its numbers are right.

The notebook is executed with nbclient in a ``python3`` kernel (jupyter_client starts it with this interpreter, the
project's venv) against a store built from the bundled data (``LODELINE_DATABASE_URL``). Its last cell prints a
JSON summary; each figure is checked against a value computed here by hand from the raw files:

- China's share of rare-earth refining in 2024: ``supply["Rare Earth Elements"]["refining"]`` of the IEA JSON
  (``data/raw/iea_critical_minerals/iea_cm_may2025_barrytho_iea.json``), China ÷ total for 2024 (73.757 ÷ 80.805 =
  0.9128). The alliance's own share is the alliance members listed in that block ÷ total: only the United States
  (0.961 kt) for both the G7 and the G7+ (Australia refines 0.0 in 2024; no EU member is listed).
- The gap is that share minus the G7 2026 target, ``value`` 60 (%) of row ``g7-2026-ree-magnets-single-supplier``
  in ``data/raw/policy_facts/targets_and_commitments.csv``.
- Days of stock cover: the days of ``sim/data/stockpile_assumptions.csv`` (the holder's row, else ``*``: 30, Japan
  60) are days of primary consumption; the stress test divides by consumption including recycled supply, so they
  shrink by the recycled content: the mean over the 15 rare-earth rows (La–Lu, Y) of table F1 in
  ``data/raw/recycling_unep2011/unep_irp2011_recycling_rates_raw.csv`` of the lower bound of
  ``recycled_content_pct_raw`` ("1-10" → 1, "<1" → 0, "0" → 0): 6 ÷ 15 = 0.4 %, so 30 × 0.996 = 29.88 days.
- A six-month ban is 6 × 30.4375 = 182.625 days; the longest cover (Japan, 59.76 days) is shorter, so the stocks
  do not cover it. Stocks are drawn over ``release_months`` (3) of the same CSV in equal parts when every month is
  short: 2/3, 1/3 and 0 of the starting stock are left after months 1, 2 and 3.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine

from lodeline.config import get_settings

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "examples" / "notebooks" / "g7_rare_earths.ipynb"
RAW = ROOT / "src" / "lodeline" / "data" / "raw"
STOCKS = ROOT / "src" / "lodeline" / "sim" / "data" / "stockpile_assumptions.csv"
G7 = ["CAN", "DEU", "FRA", "GBR", "ITA", "JPN", "USA"]
REE = ("La", "Ce", "Pr", "Nd", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y")


def _iea_refining_2024() -> tuple[float, float, float]:
    """(China, United States, total) kt of magnet rare earths refined in 2024, from the IEA JSON."""
    block = json.loads((RAW / "iea_critical_minerals" / "iea_cm_may2025_barrytho_iea.json").read_text())
    refining = block["supply"]["Rare Earth Elements"]["refining"]
    countries = refining["countries"]
    return countries["China"]["2024"], countries["United States"]["2024"], refining["total"]["2024"]


def _target() -> float:
    with (RAW / "policy_facts" / "targets_and_commitments.csv").open(encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["target_id"] == "g7-2026-ree-magnets-single-supplier")
    return float(row["value"]) / 100


def _recycled_content() -> float:
    with (RAW / "recycling_unep2011" / "unep_irp2011_recycling_rates_raw.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["unep_table"] == "F1" and r["element"] in REE]
    assert len(rows) == len(REE)
    lows = []
    for r in rows:
        match = re.match(r"^(\d+(?:\.\d+)?)", r["recycled_content_pct_raw"].strip())
        lows.append(float(match.group(1)) if match else 0.0)  # "<1" has lower bound 0
    return sum(lows) / len(lows) / 100


def _stock_days(country: str) -> float:
    with STOCKS.open(encoding="utf-8") as f:
        rows = {(r["holder"], r["mineral"]): r for r in csv.DictReader(f)}
    row = rows.get((country, "*"), rows[("*", "*")])
    return float(row["days_of_cover"])


@pytest.fixture(scope="module")
def summary(built_sqlite: tuple[str, Engine]) -> dict[str, object]:
    import nbformat
    from nbclient import NotebookClient

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
        get_settings.cache_clear()
        notebook = nbformat.read(NOTEBOOK, as_version=4)
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), (
            "commit the notebook without outputs"
        )
        NotebookClient(
            notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(ROOT)}}
        ).execute()
    get_settings.cache_clear()
    last = notebook.cells[-1].outputs
    text = "".join(o.get("text", "") for o in last if o.get("output_type") == "stream")
    result: dict[str, object] = json.loads(text.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("alliance", ["G7", "G7+"])
def test_china_share_of_refining_and_the_gap(summary: dict[str, object], alliance: str) -> None:
    china, usa, total = _iea_refining_2024()
    s = summary[alliance]
    assert isinstance(s, dict)
    assert s["refining_year"] == 2024 and s["top_external_supplier"] == "CHN"
    assert s["top_external_share"] == pytest.approx(china / total, abs=1e-9)  # 0.9128
    assert s["alliance_share"] == pytest.approx(usa / total, abs=1e-9)  # 0.0119
    assert s["target"] == pytest.approx(_target())
    assert s["gap"] == pytest.approx(china / total - _target(), abs=1e-9)  # +31.3 points


@pytest.mark.parametrize("alliance", ["G7", "G7+"])
def test_stocks_do_not_cover_a_six_month_ban(summary: dict[str, object], alliance: str) -> None:
    assert summary["ban_days"] == pytest.approx(6 * 30.4375)
    s = summary[alliance]
    assert isinstance(s, dict)
    rc = _recycled_content()
    assert rc == pytest.approx(0.004)
    days = s["days_of_cover_start"]
    assert isinstance(days, dict)
    if alliance == "G7":
        assert sorted(days) == G7
    else:
        assert set(G7) < set(days) and "AUS" in days and s["members"] == len(days) == 32
    for country, value in days.items():
        assert value == pytest.approx(_stock_days(country) * (1 - rc), rel=1e-9), country
    assert s["max_days_of_cover"] == pytest.approx(60 * (1 - rc), rel=1e-9)  # Japan
    assert s["stocks_cover_ban"] is False
    start = s["member_stock_start_t"]
    by_month = s["member_stock_t_by_month"]
    assert isinstance(start, float) and isinstance(by_month, list) and start > 0
    assert by_month[:3] == pytest.approx([start * 2 / 3, start / 3, 0.0], abs=1e-6)
    assert s["stocks_exhausted_month"] == 3
    assert s["members_short"] == sorted(days)
    assert isinstance(s["member_shortfall_t_during_ban"], float) and s["member_shortfall_t_during_ban"] > 0
    assert s["member_shortfall_t_after_ban"] == 0.0
