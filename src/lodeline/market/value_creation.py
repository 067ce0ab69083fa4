"""Local value creation: how much of what a country mines it also refines (refined ÷ mined output)."""

from __future__ import annotations

import polars as pl

from lodeline.market.series import is_named_country


def local_value_creation(primary: pl.DataFrame) -> pl.DataFrame:
    """Per mineral × country × year with both mining and refining output: the ratio refined / mined.

    Above 1 means the country refines more than it mines (it imports ore or concentrate). Both stages must
    be reported on the same basis (contained content) for the ratio to be meaningful; ``comparable`` says so.
    """
    keys = ["mineral", "country", "year"]
    rows = primary.filter(is_named_country() & pl.col("quantity").is_not_null())
    mined = rows.filter(pl.col("stage") == "mining").select(
        *keys, mined=pl.col("quantity"), mined_unit=pl.col("unit"), mined_basis=pl.col("basis")
    )
    refined = rows.filter(pl.col("stage") == "refining").select(
        *keys, refined=pl.col("quantity"), refined_unit=pl.col("unit"), refined_basis=pl.col("basis")
    )
    return (
        mined.join(refined, on=keys, how="inner")
        .with_columns(
            refined_to_mined=pl.when(pl.col("mined") > 0).then(pl.col("refined") / pl.col("mined")),
            comparable=(pl.col("mined_unit") == pl.col("refined_unit"))
            & (pl.col("mined_basis") == pl.col("refined_basis")),
        )
        .sort(keys)
    )
