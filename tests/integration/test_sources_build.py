"""The non-USGS sources load into the store on both backends, and a broken file leaves the last build intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import (
    bgs_refined_shares,
    cepii_baci,
    eu_crm_2023,
    iea_critical_minerals,
    reference,
    unep_recycling,
    wgi,
    worldbank_pinksheet,
)
from lodeline.errors import DataFormatError
from lodeline.store.canonical import catalog, read_table

SPECS: list[DatasetSpec] = [
    reference.DATASET,
    cepii_baci.DATASET,
    wgi.DATASET,
    eu_crm_2023.DATASET,
    bgs_refined_shares.DATASET,
    worldbank_pinksheet.DATASET,
    unep_recycling.DATASET,
    iea_critical_minerals.DATASET,
]


def test_sources_load_and_round_trip(engine: Engine) -> None:
    report = build(engine, RAW_DATA_DIR, datasets=SPECS)
    assert not report.skipped
    tables = {d["id"]: d for d in catalog(engine)}
    assert tables["cepii_baci"]["licence"].startswith("Etalab Open Licence 2.0")
    assert tables["iea_critical_minerals"]["licence"].startswith("CC BY 4.0")
    trade = read_table(engine, "trade", exporter="CHL", importer="CHN", hs6="283691", coverage="complete")
    assert trade.height == 1 and round(trade["quantity_t"][0]) == 185_820
    production = read_table(engine, "production", source="iea_critical_minerals", mineral="lithium")
    assert set(production["stage"]) == {"mining", "refining"}
    governance = read_table(engine, "governance", country="COD", indicator="pv", year=2023)
    assert governance["estimate"][0] == pytest.approx(-2.04)
    recycling = read_table(engine, "recycling_rates", element="Li", metric="eol_rr")
    assert recycling["value_low"][0] is None and recycling["flag"][0] == "<"
    prices = read_table(engine, "prices", series_id="wb-copper")
    assert prices.height == 797 and prices["period"].dtype == pl.Date
    assert build(engine, RAW_DATA_DIR, datasets=SPECS).skipped  # unchanged inputs: no-op


def test_malformed_source_keeps_previous_build(engine: Engine, tmp_path: Path) -> None:
    build(engine, RAW_DATA_DIR, datasets=[cepii_baci.DATASET])
    before = read_table(engine, "trade").height
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DATA_DIR / "cepii_baci", raw / "cepii_baci")
    path = raw / "cepii_baci" / cepii_baci.COMPLETE_FILE
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[6] = lines[6].replace(",250490,", ",999999,")
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        build(engine, raw, datasets=[cepii_baci.DATASET])
    assert (err.value.row, err.value.column) == (7, "hs6")
    assert read_table(engine, "trade").height == before
