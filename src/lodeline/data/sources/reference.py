"""Lodeline's own reference tables (minerals, country groups), written as data in ``lodeline/domain/data``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.domain.countries import alias_files
from lodeline.domain.groups import country_groups
from lodeline.domain.minerals import minerals


def parse(_folder: Path) -> Mapping[str, pl.DataFrame]:
    mineral_rows = [
        {
            "id": m.id,
            "name": m.name,
            "aliases": json.dumps(list(m.aliases)),
            "hs_codes": json.dumps({k: v.value for k, v in m.hs.items()}),
            "basis": m.basis,
            "eu_crm_2023": m.eu_crm_2023,
        }
        for m in minerals().values()
    ]
    group_rows = [
        {"group_id": g.id, "iso3": iso3, "description": g.description}
        for g in country_groups().values()
        for iso3 in sorted(g.members)
    ]
    return {"minerals": pl.DataFrame(mineral_rows), "country_groups": pl.DataFrame(group_rows)}


DATASET = DatasetSpec(
    id="lodeline_reference",
    title="Lodeline reference tables: minerals (aliases, HS 2017 codes, stages) and country groups",
    publisher="Lodeline project",
    edition="1",
    licence="Apache-2.0 (project data); ISO 3166-1 codes are facts",
    folder="../../domain/data",
    files=("minerals.yaml", "country_groups.csv", "countries.csv", *alias_files()),
    parse=parse,
)
