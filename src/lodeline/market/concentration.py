"""Supply shares and concentration (HHI, top-k) per mineral × stage × year.

Denominator: the larger of the published world total (USGS "World total (rounded)") and the sum of the reported
countries including "other countries". A rounded total can be smaller than its parts (gallium 2025: named countries
909,000 kg against a world total of 900,000 kg); then the sum of the parts is used and the rows carry the flag
``parts>total``, so shares never add up to more than 1 and HHI never exceeds 10,000. HHI (0–10,000) and top-k are
computed over NAMED countries only: "other countries" is an aggregate of many small producers, so counting it as
one supplier would overstate concentration. Rows withheld or not available (``flag`` W/NA, NULL quantity) keep
their flag and a NULL share; they are never read as zero.

Sources that publish shares only (BGS World Mineral Statistics: rounded percentages of the top countries, see
:func:`published_shares`) enter as share rows without quantities; :func:`prefer_newest_source` uses them for a
mineral and stage only where they run later than the production series (germanium refining: BGS to 2024, the USGS
yearbook to 2023 with 2021–2023 not available).
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
    "series",
    "share",
    "source",
    "edition",
    "flag",
)
#: Flag on every row of a group whose reported parts add up to more than the published (rounded) total.
PARTS_EXCEED_TOTAL = "parts>total"
#: Unit label of share-only rows (no tonnage published).
SHARE_ONLY_UNIT = "share of world output"
#: Relative excess of the parts over the stated total below which it is float rounding, not a discrepancy.
_SUM_TOLERANCE = 1e-9
PUBLISHED_SHARES_SERIES = "Published country shares of world production (rounded %, top countries)"


def supply_shares(rows: pl.DataFrame) -> pl.DataFrame:
    """Each country's share of its mineral × stage × year total. ``rows`` is one series per group
    (see :func:`lodeline.market.series.primary_series`), possibly with world-total rows (country WLD)."""
    keys = list(GROUP_KEYS)
    if "series" not in rows.columns:  # the series name is descriptive; frames built by hand may leave it out
        rows = rows.with_columns(series=pl.lit(None, pl.String))
    world = (
        rows.filter(pl.col("country") == "WLD").group_by(keys).agg(pl.col("quantity").max().alias("_world"))
    )
    countries = rows.filter(pl.col("country") != "WLD")
    summed = countries.group_by(keys).agg(pl.col("quantity").sum().alias("_sum"))
    # Flag a real excess, not the last-bit difference between two ways of summing the same floats.
    exceeds = pl.col("_world").is_not_null() & (pl.col("_sum") > pl.col("_world") * (1 + _SUM_TOLERANCE))
    out = (
        countries.join(summed, on=keys, how="left")
        .join(world, on=keys, how="left")
        # The published (rounded) world total is the denominator unless the parts add up to more than it.
        .with_columns(total=pl.max_horizontal(pl.col("_world"), pl.col("_sum")))
        .with_columns(
            share=pl.when(pl.col("total") > 0).then(pl.col("quantity") / pl.col("total")).otherwise(None),
            flag=pl.when(exceeds)
            .then(_add_flag(pl.col("flag"), PARTS_EXCEED_TOTAL))
            .otherwise(pl.col("flag")),
        )
    )
    return _sorted(out.select(*SHARE_COLUMNS, "total"))


def _add_flag(flag: pl.Expr, extra: str) -> pl.Expr:
    return pl.when(flag.is_null()).then(pl.lit(extra)).otherwise(flag + pl.lit(";" + extra))


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    keys = list(GROUP_KEYS)
    return frame.sort([*keys, "share", "country"], descending=[False] * 3 + [True, False], nulls_last=True)


def published_shares(stage_shares: pl.DataFrame) -> pl.DataFrame:
    """``stage_shares`` rows (mineral, stage, country, year, share 0–1, source, edition, flag) as share rows.

    Rounded percentages of the top countries can add up to a little more than 1: they are then divided by their
    sum (flag ``parts>total``). What they leave below 1 is output of unnamed countries, unknown."""
    if stage_shares.is_empty():
        return pl.DataFrame(schema=_share_schema())
    keys = list(GROUP_KEYS)
    summed = pl.col("share").sum().over(keys)
    out = stage_shares.with_columns(
        quantity=pl.lit(None, pl.Float64),
        unit=pl.lit(SHARE_ONLY_UNIT),
        series=pl.lit(PUBLISHED_SHARES_SERIES),
        total=pl.lit(None, pl.Float64),
        share=pl.when(summed > 1).then(pl.col("share") / summed).otherwise(pl.col("share")),
        flag=pl.when(summed > 1)
        .then(_add_flag(pl.col("flag"), PARTS_EXCEED_TOTAL))
        .otherwise(pl.col("flag")),
    )
    return _sorted(out.select(*SHARE_COLUMNS, "total").cast(_share_schema()))  # type: ignore[arg-type]


def _share_schema() -> dict[str, pl.DataType]:
    return {
        "mineral": pl.String(),
        "stage": pl.String(),
        "year": pl.Int64(),
        "country": pl.String(),
        "quantity": pl.Float64(),
        "unit": pl.String(),
        "series": pl.String(),
        "share": pl.Float64(),
        "source": pl.String(),
        "edition": pl.String(),
        "flag": pl.String(),
        "total": pl.Float64(),
    }


def prefer_newest_source(production: pl.DataFrame, *alternatives: pl.DataFrame) -> pl.DataFrame:
    """Share rows per mineral × stage from the source whose latest year with a known share is the most recent.

    ``production`` (shares of the preferred production series) is always the fallback: an alternative (e.g.
    :func:`published_shares`) is used only for a mineral × stage where it runs later than every other source,
    and there for every year it covers; the production series fills the years it does not (ties go to
    production)."""
    parts = [
        f.with_columns(_order=pl.lit(i))
        for i, f in enumerate((production, *alternatives))
        if not f.is_empty()
    ]
    if not parts:
        return production
    rows = pl.concat(parts, how="vertical_relaxed")
    stage = ["mineral", "stage"]
    latest = (
        rows.filter(pl.col("share").is_not_null())
        .group_by([*stage, "source", "_order"])
        .agg(_latest=pl.col("year").max())
    )
    # rank the sources of a mineral × stage: newest first, then the order the frames were given in
    ranked = latest.sort([*stage, "_latest", "_order"], descending=[False, False, True, False]).with_columns(
        _rank=pl.int_range(pl.len()).over(stage)
    )
    rows = rows.join(ranked.select(*stage, "source", "_rank"), on=[*stage, "source"], how="left")
    # the production series always stays as a fallback; an alternative only where it is the newest source
    rows = rows.filter((pl.col("_order") == 0) | (pl.col("_rank") == 0)).with_columns(
        pl.col("_rank").fill_null(1_000_000)
    )
    # per year: the best-ranked source that has a known share that year
    has_value = rows.group_by([*GROUP_KEYS, "_rank"]).agg(_known=pl.col("share").is_not_null().any())
    best = (
        has_value.sort([*GROUP_KEYS, "_known", "_rank"], descending=[False, False, False, True, False])
        .group_by(list(GROUP_KEYS), maintain_order=True)
        .first()
        .select(*GROUP_KEYS, _best=pl.col("_rank"))
    )
    out = rows.join(best, on=list(GROUP_KEYS)).filter(pl.col("_rank") == pl.col("_best"))
    return _sorted(out.drop("_order", "_rank", "_best"))


def concentration(shares: pl.DataFrame) -> pl.DataFrame:
    """HHI (0–10,000), top-1 and top-3 shares, top supplier and number of named suppliers per group."""
    keys = list(GROUP_KEYS)
    named = shares.filter(is_named_country() & pl.col("share").is_not_null())
    ranked = named.sort([*keys, "share", "country"], descending=[False] * 3 + [True, False])
    return (
        ranked.group_by(keys, maintain_order=True)
        .agg(
            world_total=pl.col("total").first(),
            unit=pl.col("unit").first(),
            series=pl.col("series").first(),
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
