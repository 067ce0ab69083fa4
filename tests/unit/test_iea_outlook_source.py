"""The IEA projection reader (data/sources/iea_outlook.py): figures as the raw file gives them, and malformed
content is a DataFormatError naming the file and the key, never a KeyError or a zero."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import iea_outlook
from lodeline.data.sources.iea_critical_minerals import JSON_FILE
from lodeline.errors import DataFormatError


def test_demand_and_base_case_supply_as_published() -> None:
    """From iea_cm_may2025_barrytho_iea.json: totalDemand.Lithium.totalDemand 2024 = 205.0 kt, STEPS 2030 =
    455.48724 kt; supply.Lithium.refining China 2024 = 169.67759 kt."""
    folder = RAW_DATA_DIR / "iea_critical_minerals"
    demand = iea_outlook.demand(folder)
    lithium = {(r["scenario"], r["year"]): r["demand"] for r in demand.filter(mineral="lithium").to_dicts()}
    assert lithium[("STEPS", 2024)] == 205.0
    assert lithium[("STEPS", 2030)] == pytest.approx(455.48724292580795)
    assert set(demand["mineral"].unique()) == set(iea_outlook.MINERALS.values())
    supply = iea_outlook.supply(folder).filter(mineral="lithium", stage="refining", country="CHN", year=2024)
    assert supply["quantity"].to_list() == [pytest.approx(169.67759096410308)]


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({}, "no 'totalDemand' object"),
        ({"totalDemand": {"Copper": {"totalDemand": {"2024": 1.0}}}}, "totalDemand.Copper.totalDemand.STEPS"),
        (
            {"totalDemand": {"Copper": {"totalDemand": {"2024": "lots", "STEPS": {}, "APS": {}, "NZE": {}}}}},
            "expected a number",
        ),
    ],
)
def test_malformed_demand_names_the_key(tmp_path: Path, doc: dict[str, object], message: str) -> None:
    folder = tmp_path / "iea_critical_minerals"
    folder.mkdir()
    (folder / JSON_FILE).write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        iea_outlook.demand(folder)


def test_invalid_json_is_a_data_format_error(tmp_path: Path) -> None:
    folder = tmp_path / "iea_critical_minerals"
    folder.mkdir()
    (folder / JSON_FILE).write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFormatError, match="invalid JSON"):
        iea_outlook.supply(folder)
