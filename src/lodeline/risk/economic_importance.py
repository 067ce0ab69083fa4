"""Economic importance (EC 2017): EI = sum_s (A_s * Q_s) * SI_EI, scaled to 0-10 by the largest sector.

A_s is the share of the material's EU end uses in NACE Rev. 2 two-digit sector s, Q_s that sector's EU value
added. The sum is divided by the largest Q_s in the supplied value-added table and multiplied by 10, so a
material used only in the largest manufacturing sector and impossible to substitute (SI_EI = 1) scores 10.
Lodeline bundles neither A_s nor Q_s: both are INPUTS, and a material missing either gets EI = null with the
reason, never an invented value. What it does bundle is the EI the EC PUBLISHED in the 2023 assessment
(:func:`published_ei`), labelled "published (EC 2023)" wherever it is shown; :func:`merge_ei` lets EI computed
from supplied end uses replace it material by material.
"""

from __future__ import annotations

import polars as pl

from lodeline.errors import InvalidArgumentError

EI_SCHEMA = {"material": pl.String, "ei": pl.Float64, "ei_note": pl.String}
PUBLISHED = "published (EC 2023)"
COMPUTED = "computed (--end-uses, --value-added)"
EI_SOURCE_SCHEMA = pl.Schema(
    {"material": pl.String(), "ei": pl.Float64(), "ei_note": pl.String(), "ei_source": pl.String()}
)


def published_ei(criticality_inputs: pl.DataFrame) -> pl.DataFrame:
    """``[material, ei, ei_note, ei_source]`` from the ``EI_published`` rows of ``criticality_inputs``."""
    rows = criticality_inputs.filter(pl.col("parameter") == "EI_published")
    return rows.select(
        "material",
        pl.col("value").alias("ei"),
        pl.lit("").alias("ei_note"),
        pl.lit(PUBLISHED).alias("ei_source"),
    ).cast(EI_SOURCE_SCHEMA)


def merge_ei(published: pl.DataFrame, computed: pl.DataFrame | None) -> pl.DataFrame:
    """Computed EI where it exists, else the published one; ``ei_source`` says which each row is."""
    if computed is None:
        return published
    labelled = computed.filter(pl.col("ei").is_not_null()).with_columns(pl.lit(COMPUTED).alias("ei_source"))
    rest = published.join(labelled.select("material"), on="material", how="anti")
    missing = computed.filter(pl.col("ei").is_null()).join(
        published.select("material"), on="material", how="anti"
    )
    return pl.concat(
        [
            labelled.cast(EI_SOURCE_SCHEMA),
            rest,
            missing.with_columns(pl.lit(None, dtype=pl.String).alias("ei_source")).cast(EI_SOURCE_SCHEMA),
        ],
        how="vertical",
    )


def economic_importance(
    end_uses: pl.DataFrame, value_added: pl.DataFrame, si_ei: pl.DataFrame
) -> pl.DataFrame:
    """``end_uses[material, sector, share]`` (fractions), ``value_added[sector, value_added]``,
    ``si_ei[material, si_ei]`` -> ``[material, ei, ei_note]`` for every material in ``si_ei``."""
    for name, frame, columns in (
        ("end_uses", end_uses, ("material", "sector", "share")),
        ("value_added", value_added, ("sector", "value_added")),
        ("si_ei", si_ei, ("material", "si_ei")),
    ):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise InvalidArgumentError(f"{name} lacks column(s) {missing}")
    bad = end_uses.filter((pl.col("share") < 0) | (pl.col("share") > 1))
    if bad.height:
        raise InvalidArgumentError(f"end_uses: shares must be fractions in [0, 1]; row {bad.row(0)}")
    over = end_uses.group_by("material").agg(pl.col("share").sum()).filter(pl.col("share") > 1.0 + 1e-6)
    if over.height:
        raise InvalidArgumentError(
            f"end_uses: shares of {over['material'][0]!r} sum to {over['share'][0]:.4f} > 1"
        )
    if value_added.is_empty():
        raise InvalidArgumentError("value_added is empty")
    q_max = float(value_added["value_added"].max())  # type: ignore[arg-type]
    if q_max <= 0:
        raise InvalidArgumentError("value_added must contain a positive sector value added")
    unknown = end_uses.join(value_added, on="sector", how="anti")
    if unknown.height:
        raise InvalidArgumentError(f"end_uses: sector {unknown['sector'][0]!r} has no value added")
    weighted = (
        end_uses.join(value_added, on="sector")
        .group_by("material")
        .agg((pl.col("share") * pl.col("value_added")).sum().alias("_sum"))
    )
    out = si_ei.select("material", "si_ei").join(weighted, on="material", how="left")
    return out.select(
        "material",
        pl.when(pl.col("_sum").is_not_null() & pl.col("si_ei").is_not_null())
        .then(pl.col("_sum") / q_max * 10.0 * pl.col("si_ei"))
        .alias("ei"),
        pl.when(pl.col("_sum").is_null())
        .then(pl.lit("no end-use shares supplied for this material"))
        .when(pl.col("si_ei").is_null())
        .then(pl.lit("no SI_EI in the EU inputs"))
        .otherwise(pl.lit(""))
        .alias("ei_note"),
    ).cast(EI_SCHEMA)  # type: ignore[arg-type]
