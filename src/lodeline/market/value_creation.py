"""Local value creation: how much of what a country mines it also refines (refined ÷ mined output).

A ratio is only computed when the two stages measure the same thing: both quantities are converted to metric tons
(:mod:`lodeline.domain.units`), both are on the same basis (contained content, or gross weight), and neither series
covers a different scope of the mineral (:data:`lodeline.market.scope.SCOPE`). Otherwise ``refined_to_mined`` is NULL and
``comparable_note`` says why: a ratio of incomparable inputs is never printed.
"""

from __future__ import annotations

import polars as pl

from lodeline.domain.units import to_tonnes
from lodeline.market.scope import scope_note
from lodeline.market.series import is_named_country

VALUE_CREATION_COLUMNS = (
    "mineral",
    "country",
    "year",
    "refined_to_mined",
    "mined",
    "mined_unit",
    "mined_basis",
    "mined_t",
    "mined_source",
    "mined_series",
    "refined",
    "refined_unit",
    "refined_basis",
    "refined_t",
    "refined_source",
    "refined_series",
    "comparable",
    "comparable_note",
)


def _scope_note(stage: str) -> pl.Expr:
    return scope_note(pl.col("mineral"), pl.col(f"{stage}_series"))


def local_value_creation(primary: pl.DataFrame) -> pl.DataFrame:
    """Per mineral × country × year with both mining and refining output: the ratio refined / mined, in tonnes.

    Above 1 means the country refines more than it mines (it imports ore or concentrate). Each row shows both
    inputs with their units, basis, source and series; ``comparable`` is false (and the ratio NULL) when they are
    not on a comparable basis.
    """
    keys = ["mineral", "country", "year"]
    rows = primary.filter(is_named_country() & pl.col("quantity").is_not_null())

    def stage(name: str, prefix: str) -> pl.DataFrame:
        return rows.filter(pl.col("stage") == name).select(
            *keys,
            pl.col("quantity").alias(prefix),
            pl.col("unit").alias(f"{prefix}_unit"),
            pl.col("basis").alias(f"{prefix}_basis"),
            to_tonnes(pl.col("quantity"), pl.col("unit")).alias(f"{prefix}_t"),
            pl.col("source").alias(f"{prefix}_source"),
            pl.col("series").alias(f"{prefix}_series"),
        )

    joined = stage("mining", "mined").join(stage("refining", "refined"), on=keys, how="inner")
    note = (
        pl.when(pl.col("mined_t").is_null() | pl.col("refined_t").is_null())
        .then(pl.lit("a unit is not a mass unit convertible to tonnes"))
        .when(pl.col("mined_basis") != pl.col("refined_basis"))
        .then(
            pl.format(
                "mining is {} weight, refining {} weight", pl.col("mined_basis"), pl.col("refined_basis")
            )
        )
        .otherwise(pl.coalesce(_scope_note("mined"), _scope_note("refined")))
    )
    return (
        joined.with_columns(comparable_note=note)
        .with_columns(comparable=pl.col("comparable_note").is_null())
        .with_columns(
            refined_to_mined=pl.when(pl.col("comparable") & (pl.col("mined_t") > 0)).then(
                pl.col("refined_t") / pl.col("mined_t")
            )
        )
        .select(VALUE_CREATION_COLUMNS)
        .sort(keys)
    )
