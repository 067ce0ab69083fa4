"""The EU 2023 assessment's per-material parameters, reshaped from the long ``criticality_inputs`` table.

Percentages become fractions here (IR 81 % -> 0.81) so that every formula downstream works on fractions.
"""

from __future__ import annotations

import polars as pl

from lodeline.risk import EU_STAGES

#: Group members without supply data of their own are assessed on their group's supply (a documented
#: deviation: the EC uses element-level supply for each rare earth).
GROUP_SUPPLY_PROXY: dict[str, str] = {
    "HREE": "rare-earths",
    "LREE": "rare-earths",
    "PGM": "platinum-group-metals",
}

#: What the output says for a member read on its group's supply. The bundled rare-earth series (USGS mine
#: production in REO, IEA refining of magnet rare earths) are totals: nothing bundled splits them into heavy and
#: light rare earths by country, so HREE and LREE members share one set of supply shares.
GROUP_PROXY_NOTES: dict[str, str] = {
    "HREE": "HREE/LREE not distinguished: supply shares are those of all rare earths together (the bundled data "
    "have no heavy-rare-earth series); the EC assesses each element on its own supply",
    "LREE": "HREE/LREE not distinguished: supply shares are those of all rare earths together (the bundled data "
    "have no light-rare-earth series); the EC assesses each element on its own supply",
}
#: (EU material, stage) whose supply is another Lodeline mineral at that stage: the EC's "Aluminium" covers
#: bauxite at extraction (listed as "bauxite/alumina/aluminium").
STAGE_MINERAL: dict[tuple[str, str], str] = {("Aluminium", "extraction"): "bauxite"}

PARAMETER_SCHEMA: dict[str, type[pl.DataType]] = {
    "material": pl.String,
    "mineral": pl.String,
    "proxy": pl.String,
    "stage": pl.String,
    "bottleneck": pl.String,
    "basis": pl.String,
    "ir": pl.Float64,
    "eol_rir": pl.Float64,
    "si_sr": pl.Float64,
    "si_ei": pl.Float64,
}


def _numeric(long: pl.DataFrame, parameter: str) -> pl.DataFrame:
    return long.filter(pl.col("parameter") == parameter).select("material", pl.col("value").alias(parameter))


def _text(long: pl.DataFrame, parameter: str) -> pl.DataFrame:
    return long.filter(pl.col("parameter") == parameter).select(
        "material", pl.col("text_value").alias(parameter)
    )


def eu_parameters(criticality_inputs: pl.DataFrame) -> pl.DataFrame:
    """One row per (material, assessed stage): basis, IR, EoL-RIR, SI_SR, SI_EI (fractions where relevant).

    A stage is assessed when the EC gives it a supply basis (``supply_basis_<stage>``). Group rows (HREE,
    LREE, PGM) carry no substitution index and so cannot be assessed themselves; their members can.
    ``bottleneck`` is the stage the EC reports the material's SR at (``bottleneck_stage``, lower-cased;
    null where the inputs give none).
    """
    long = criticality_inputs
    materials = long.group_by("material").agg(pl.col("mineral").drop_nulls().first())
    materials = materials.join(_text(long, "group"), on="material", how="left").with_columns(
        pl.when(pl.col("mineral").is_null() & pl.col("group").is_in(list(GROUP_SUPPLY_PROXY)))
        .then(
            pl.col("group").replace_strict(
                GROUP_PROXY_NOTES,
                default=pl.concat_str(
                    pl.lit("supply of group "), pl.col("group"), pl.lit(" used for this member")
                ),
            )
        )
        .alias("proxy"),
        pl.coalesce(
            pl.col("mineral"), pl.col("group").replace_strict(GROUP_SUPPLY_PROXY, default=None)
        ).alias("mineral"),
    )
    for name in ("SI_SR", "SI_EI", "EoL_RIR_pct"):
        materials = materials.join(_numeric(long, name), on="material", how="left")
    materials = materials.join(
        _text(long, "bottleneck_stage").select(
            "material", pl.col("bottleneck_stage").str.strip_chars().str.to_lowercase().alias("bottleneck")
        ),
        on="material",
        how="left",
    )
    frames = []
    for stage in EU_STAGES:
        per_stage = (
            materials.join(_text(long, f"supply_basis_{stage}"), on="material", how="left")
            .join(_numeric(long, f"IR_{stage}_pct"), on="material", how="left")
            .filter(pl.col(f"supply_basis_{stage}").is_not_null() & (pl.col(f"supply_basis_{stage}") != ""))
            .select(
                "material",
                "mineral",
                "proxy",
                pl.lit(stage).alias("stage"),
                "bottleneck",
                pl.col(f"supply_basis_{stage}").alias("basis"),
                (pl.col(f"IR_{stage}_pct") / 100.0).alias("ir"),
                (pl.col("EoL_RIR_pct") / 100.0).alias("eol_rir"),
                pl.col("SI_SR").alias("si_sr"),
                pl.col("SI_EI").alias("si_ei"),
            )
        )
        frames.append(per_stage)
    if not frames:
        return pl.DataFrame(schema=PARAMETER_SCHEMA)
    out = pl.concat(frames, how="vertical").cast(PARAMETER_SCHEMA)  # type: ignore[arg-type]
    for (material, stage), mineral in STAGE_MINERAL.items():
        hit = (pl.col("material") == material) & (pl.col("stage") == stage)
        out = out.with_columns(
            pl.when(hit).then(pl.lit(mineral)).otherwise(pl.col("mineral")).alias("mineral"),
            pl.when(hit)
            .then(pl.lit(f"{stage} supply read from mineral {mineral}"))
            .otherwise(pl.col("proxy"))
            .alias("proxy"),
        )
    return out.sort("material", "stage")


def parameters_provenance(criticality_inputs: pl.DataFrame) -> str:
    """``source edition`` pairs of the criticality inputs, for the output's provenance column."""
    pairs = criticality_inputs.select("source", "edition").unique().sort("source")
    return "; ".join(f"{s} {e}" for s, e in pairs.iter_rows())
