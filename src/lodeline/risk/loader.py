"""The risk package's only door to the store: read canonical tables and assemble the method's inputs.

Everything it calls afterwards is pure. It reads through :func:`lodeline.store.canonical.read_table` only.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import polars as pl
from sqlalchemy import Engine

from lodeline.domain.groups import get_group
from lodeline.domain.units import TONNES_PER_UNIT, to_tonnes
from lodeline.errors import StoreNotBuiltError
from lodeline.risk import EU_STAGES
from lodeline.risk.economic_importance import EI_SOURCE_SCHEMA, published_ei
from lodeline.risk.parameters import eu_parameters, parameters_provenance
from lodeline.risk.shares import (
    SOURCE_PREFERENCE,
    combine_global,
    eu_sourcing_shares,
    production_shares,
    refined_stage_shares,
)
from lodeline.store.canonical import is_built, read_table


@dataclass(frozen=True)
class RiskInputs:
    params: pl.DataFrame
    shares: pl.DataFrame
    trade_factors: pl.DataFrame
    governance: pl.DataFrame
    production: pl.DataFrame
    trade: pl.DataFrame
    provenance: tuple[str, ...]
    #: ``[material, ei, ei_note, ei_source]``: the EI the EC published in 2023 (never computed here)
    ei_published: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=EI_SOURCE_SCHEMA))


def _provenance(frame: pl.DataFrame, label: str) -> list[str]:
    if frame.is_empty():
        return []
    pairs = frame.select("source", "edition").unique().sort("source", "edition")
    return [f"{label}: {s} {e}" for s, e in pairs.iter_rows()]


def load_risk_inputs(
    engine: Engine, *, years: int = 5, importers: Collection[str] = frozenset()
) -> RiskInputs:
    """Read every table the assessment needs and build the share frames (``years`` most recent years).

    Only the trade the methods use is read: flows into the EU27 (EU sourcing) and into ``importers`` (the
    alliance of a GeoPolRisk query), at the mining and refining stages. That keeps the load well under a second.
    """
    if not is_built(engine):
        raise StoreNotBuiltError()
    eu27 = get_group("EU27").members
    criticality_inputs = read_table(engine, "criticality_inputs")
    production = read_table(engine, "production", measure="production")
    stage_shares = read_table(engine, "stage_shares")
    trade = read_table(
        engine, "trade", importer=sorted(eu27 | set(importers)), stage=sorted(EU_STAGES.values())
    )
    trade_factors = read_table(engine, "trade_factors")
    governance = read_table(engine, "governance")
    shares = pl.concat(
        [
            combine_global(
                production_shares(production, years=years), refined_stage_shares(stage_shares, years=years)
            ),
            eu_sourcing_shares(trade, eu27, years=years),
        ],
        how="vertical",
    )
    provenance = (
        f"EU CRM 2023 inputs: {parameters_provenance(criticality_inputs)}",
        *_provenance(trade_factors, "t_c"),
        *_provenance(governance, "WGI"),
    )
    return RiskInputs(
        params=eu_parameters(criticality_inputs),
        shares=shares,
        trade_factors=trade_factors,
        governance=governance,
        production=production,
        trade=trade,
        provenance=provenance,
        ei_published=published_ei(criticality_inputs),
    )


def domestic_production_tonnes(production: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """``[mineral, stage, year, quantity_t]`` of a group's primary production where the unit is tonnes.

    One source per (mineral, stage, year), by the same preference as the share builders. The basis (contained
    metal vs gross weight) may differ from the traded product's; docs/methods/criticality.md says so.
    """
    # Mass units only (domain.units); anything else (cubic metres of helium, carats …) is left out.
    rows = production.filter(
        pl.col("is_primary")
        & pl.col("country").is_in(list(members))
        & pl.col("quantity").is_not_null()
        & pl.col("unit").str.strip_chars().str.to_lowercase().is_in(list(TONNES_PER_UNIT))
        & pl.col("stage").is_in(list(EU_STAGES.values()))
    )
    keys = ["mineral", "stage", "year"]
    rank = pl.col("source").replace_strict(
        list(SOURCE_PREFERENCE), list(range(len(SOURCE_PREFERENCE))), default=len(SOURCE_PREFERENCE)
    )
    rows = rows.with_columns(rank.cast(pl.Int64).alias("_rank"))
    rows = rows.filter(pl.col("_rank") == pl.col("_rank").min().over(keys))
    rows = rows.filter(pl.col("edition") == pl.col("edition").max().over(keys))
    return rows.group_by(keys).agg(to_tonnes(pl.col("quantity"), pl.col("unit")).sum().alias("quantity_t"))
