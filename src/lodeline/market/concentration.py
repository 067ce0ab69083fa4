"""Supply shares and concentration (HHI, top-k) per mineral × stage × year.

Shares use the published world total as denominator when the source gives one (USGS "World total
(rounded)"), else the sum of the reported countries including "other countries". Because the published total
is rounded, shares can add up to slightly more than 1 (and HHI slightly exceed 10,000 for a near-monopoly). HHI (0–10,000) and top-k
are computed over NAMED countries only: "other countries" is an aggregate of many small producers, so
counting it as one supplier would overstate concentration. Rows withheld or not available (``flag`` W/NA,
NULL quantity) keep their flag and a NULL share; they are never read as zero.
"""

from __future__ import annotations

import polars as pl

from lodeline.market.series import GROUP_KEYS, is_named_country

SHARE_COLUMNS = (
    "mineral",
    "stage",
    "year",
    "country",
    "quantity",
    "unit",
    "share",
    "source",
    "edition",
    "flag",
)


def supply_shares(rows: pl.DataFrame) -> pl.DataFrame:
    """Each country's share of its mineral × stage × year total. ``rows`` is one series per group
    (see :func:`lodeline.market.series.primary_series`), possibly with world-total rows (country WLD)."""
    keys = list(GROUP_KEYS)
    world = (
        rows.filter(pl.col("country") == "WLD").group_by(keys).agg(pl.col("quantity").max().alias("_world"))
    )
    countries = rows.filter(pl.col("country") != "WLD")
    summed = countries.group_by(keys).agg(pl.col("quantity").sum().alias("_sum"))
    out = (
        countries.join(summed, on=keys, how="left")
        .join(world, on=keys, how="left")
        # The published (rounded) world total is the denominator, so shares match the publisher's own figures.
        .with_columns(total=pl.coalesce(pl.col("_world"), pl.col("_sum")))
        .with_columns(
            share=pl.when(pl.col("total") > 0).then(pl.col("quantity") / pl.col("total")).otherwise(None)
        )
    )
    return out.select(*SHARE_COLUMNS, "total").sort(
        [*keys, "share"], descending=[False] * 3 + [True], nulls_last=True
    )


def concentration(shares: pl.DataFrame) -> pl.DataFrame:
    """HHI (0–10,000), top-1 and top-3 shares, top supplier and number of named suppliers per group."""
    keys = list(GROUP_KEYS)
    named = shares.filter(is_named_country() & pl.col("share").is_not_null())
    ranked = named.sort([*keys, "share"], descending=[False] * 3 + [True])
    return (
        ranked.group_by(keys, maintain_order=True)
        .agg(
            world_total=pl.col("total").first(),
            unit=pl.col("unit").first(),
            hhi=((pl.col("share") * 100) ** 2).sum(),
            top1_share=pl.col("share").first(),
            top3_share=pl.col("share").head(3).sum(),
            top_supplier=pl.col("country").first(),
            n_countries=pl.len(),
            source=pl.col("source").first(),
            edition=pl.col("edition").first(),
        )
        .sort(keys)
    )


def hhi(shares: list[float]) -> float:
    """HHI of a list of shares in 0–1 (reference implementation for tests)."""
    return float(sum((s * 100) ** 2 for s in shares))
