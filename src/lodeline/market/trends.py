"""Long trends of concentration and alliance dependency, stitched from several sources, one row per year.

Every source that covers a mineral × stage is computed on its own (its shares, HHI and top-k through
:mod:`lodeline.market.concentration`, the alliance's single-supplier dependency through
:func:`lodeline.market.dependency.production_dependency`), then one source is picked per year:

* **Precedence** (:data:`TREND_PRECEDENCE`, see docs/methods/trends.md): production tonnages with a country
  breakdown first, in the order the market indicators use (:data:`lodeline.market.series.SOURCE_PREFERENCE`: the
  newest USGS MCS edition, then the older one, then the IEA), then any other tonnage series (alphabetical); then
  published shares without tonnages (BGS, rounded % of the top countries); last, world totals without a country
  breakdown (USGS DS140), which give the size of the market but no concentration figure. A year a source covers
  only with withheld or unavailable figures does not count as covered by it.
* The runner-up source of a year is kept beside the pick (``alt_*`` columns) for the overlap comparison.
* ``break`` marks the first year of a source that follows another one; ``break_from`` names the one before, and
  where both published a figure for a common year up to the break (the overlap year) the ``jump_*`` columns give
  the difference new − old in that year.
* Gaps stay gaps: a year no source covers has no row; nothing is interpolated.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from lodeline.market.concentration import concentration, published_shares, supply_shares
from lodeline.market.dependency import production_dependency
from lodeline.market.scope import measured_name, scope_note
from lodeline.market.series import GROUP_KEYS, SOURCE_PREFERENCE

#: What a source's rows are, in the order of precedence.
KIND_TONNAGES = "production tonnages by country"
KIND_PUBLISHED_SHARES = "published shares (rounded %, top countries; no tonnages)"
KIND_WORLD_TOTAL = "world total only (no country breakdown: no concentration figure)"
#: Precedence when several sources cover a year: (kind, then source order within the kind).
TREND_PRECEDENCE: tuple[str, ...] = (KIND_TONNAGES, KIND_PUBLISHED_SHARES, KIND_WORLD_TOTAL)

TREND_COLUMNS = (
    "mineral",
    "stage",
    "year",
    "source",
    "edition",
    "kind",
    "series",
    "measures",
    "scope_note",
    "basis",
    "unit",
    "world_total",
    "top_supplier",
    "top1_share",
    "top3_share",
    "hhi",
    "n_countries",
    "top_external_supplier",
    "alliance_dependency",
    "alliance_share",
    "alliance_share_flag",
    "break",
    "break_from",
    "overlap_year",
    "jump_hhi",
    "jump_top1_share",
    "jump_alliance_dependency",
    "alt_source",
    "alt_edition",
    "alt_hhi",
    "alt_top1_share",
    "alt_alliance_dependency",
)
_INDICATORS = ("hhi", "top1_share", "alliance_dependency")
_CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "mineral": pl.String(),
    "stage": pl.String(),
    "year": pl.Int64(),
    "source": pl.String(),
    "edition": pl.String(),
    "kind": pl.String(),
    "series": pl.String(),
    "basis": pl.String(),
    "unit": pl.String(),
    "world_total": pl.Float64(),
    "top_supplier": pl.String(),
    "top1_share": pl.Float64(),
    "top3_share": pl.Float64(),
    "hhi": pl.Float64(),
    "n_countries": pl.Int64(),
    "top_external_supplier": pl.String(),
    "alliance_dependency": pl.Float64(),
    "alliance_share": pl.Float64(),
    "alliance_share_flag": pl.String(),
}


@dataclass(frozen=True)
class Trend:
    """``series``: one row per year (:data:`TREND_COLUMNS`); ``candidates``: every source's figures per year."""

    series: pl.DataFrame
    candidates: pl.DataFrame


def _indicators(
    shares: pl.DataFrame, members: frozenset[str], kind: str, basis: pl.DataFrame
) -> pl.DataFrame:
    """Concentration and production-basis dependency of one source's share rows, per mineral × stage × year."""
    keys = list(GROUP_KEYS)
    if shares.is_empty():
        return pl.DataFrame(schema=_CANDIDATE_SCHEMA)
    conc = concentration(shares)
    dep = production_dependency(shares, members).select(
        *keys,
        "top_external_supplier",
        alliance_dependency=pl.col("top_external_share"),
        alliance_share=pl.col("alliance_share"),
        alliance_share_flag=pl.col("alliance_share_flag"),
    )
    out = conc.join(dep, on=keys, how="left")
    out = out.join(basis, on=keys, how="left") if not basis.is_empty() else out.with_columns(basis=None)
    return (
        out.with_columns(kind=pl.lit(kind), n_countries=pl.col("n_countries").cast(pl.Int64))
        .select(list(_CANDIDATE_SCHEMA))
        .cast(_CANDIDATE_SCHEMA)  # type: ignore[arg-type]
    )


def _world_total_only(rows: pl.DataFrame) -> pl.DataFrame:
    """Years a source covers with a world total and no country row: the market's size, no concentration."""
    keys = list(GROUP_KEYS)
    with_countries = rows.filter(pl.col("country") != "WLD").select(keys).unique()
    world = rows.filter((pl.col("country") == "WLD") & pl.col("quantity").is_not_null()).join(
        with_countries, on=keys, how="anti"
    )
    if world.is_empty():
        return pl.DataFrame(schema=_CANDIDATE_SCHEMA)
    totals = world.group_by(keys).agg(
        source=pl.col("source").first(),
        edition=pl.col("edition").first(),
        series=pl.col("series").first(),
        basis=pl.col("basis").first(),
        unit=pl.col("unit").first(),
        world_total=pl.col("quantity").max(),
        kind=pl.lit(KIND_WORLD_TOTAL),
    )
    missing = [pl.lit(None).alias(c) for c in _CANDIDATE_SCHEMA if c not in totals.columns]
    return totals.with_columns(missing).select(list(_CANDIDATE_SCHEMA)).cast(_CANDIDATE_SCHEMA)  # type: ignore[arg-type]


def candidates(production: pl.DataFrame, stage_shares: pl.DataFrame, members: frozenset[str]) -> pl.DataFrame:
    """Every source's figures per mineral × stage × year, each source computed on its own.

    ``production``: primary production rows (``measure`` production, ``is_primary``) of any number of sources;
    ``stage_shares``: published share rows (BGS). ``members``: the alliance's ISO3 codes."""
    keys = list(GROUP_KEYS)
    parts: list[pl.DataFrame] = []
    # one source at a time: supply_shares sums a mineral × stage × year's rows, so sources must not be mixed
    for source in sorted(production["source"].unique().to_list()) if production.height else []:
        rows = production.filter(pl.col("source") == source)
        basis = rows.group_by(keys).agg(basis=pl.col("basis").first())
        parts.append(_indicators(supply_shares(rows), members, KIND_TONNAGES, basis))
        parts.append(_world_total_only(rows))
    if stage_shares.height:
        for source in sorted(stage_shares["source"].unique().to_list()):
            rows = published_shares(stage_shares.filter(pl.col("source") == source))
            parts.append(_indicators(rows, members, KIND_PUBLISHED_SHARES, pl.DataFrame()))
    if not parts:
        return pl.DataFrame(schema=_CANDIDATE_SCHEMA)
    out = pl.concat(parts, how="vertical_relaxed")
    return out.with_columns(_rank=_precedence(pl.col("kind"), pl.col("source"))).sort(
        [*keys, "_rank", "source"]
    )


def _precedence(kind: pl.Expr, source: pl.Expr) -> pl.Expr:
    """Smaller is preferred: the kind's place in :data:`TREND_PRECEDENCE`, then the source's in
    :data:`SOURCE_PREFERENCE` (sources it does not name come after, in alphabetical order by the final sort)."""
    kinds = {k: i for i, k in enumerate(TREND_PRECEDENCE)}
    sources = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    kind_rank = kind.replace_strict(kinds, default=len(kinds), return_dtype=pl.Int64)
    source_rank = source.replace_strict(sources, default=len(sources), return_dtype=pl.Int64)
    return kind_rank * 1000 + source_rank


def stitch(found: pl.DataFrame) -> pl.DataFrame:
    """One row per mineral × stage × year from :func:`candidates`: the preferred source, its runner-up, breaks."""
    keys = list(GROUP_KEYS)
    if found.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in TREND_COLUMNS})
    ranked = found.sort([*keys, "_rank", "source"]).with_columns(_pos=pl.int_range(pl.len()).over(keys))
    chosen = ranked.filter(pl.col("_pos") == 0)
    runner_up = ranked.filter(pl.col("_pos") == 1).select(
        *keys,
        alt_source=pl.col("source"),
        alt_edition=pl.col("edition"),
        alt_hhi=pl.col("hhi"),
        alt_top1_share=pl.col("top1_share"),
        alt_alliance_dependency=pl.col("alliance_dependency"),
    )
    stage = ["mineral", "stage"]
    chosen = chosen.sort(keys).with_columns(_previous=pl.col("source").shift(1).over(stage))
    chosen = chosen.with_columns(
        **{"break": pl.col("_previous").is_not_null() & (pl.col("_previous") != pl.col("source"))}
    ).with_columns(break_from=pl.when(pl.col("break")).then(pl.col("_previous")))
    jumps = _jumps(chosen.filter(pl.col("break")), found)
    return (
        chosen.join(runner_up, on=keys, how="left")
        .join(jumps, on=keys, how="left")
        .with_columns(
            measures=measured_name(pl.col("mineral"), pl.col("series"), pl.col("mineral")),
            scope_note=scope_note(pl.col("mineral"), pl.col("series")),
        )
        .select(TREND_COLUMNS)
        .sort(keys)
    )


def _jumps(breaks: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """At each break: the latest year up to it where the old and the new source both have a figure (the overlap
    year) and the difference new − old of each indicator there. No common year: no jump (NULL)."""
    keys = list(GROUP_KEYS)
    stage = ["mineral", "stage"]
    figures = found.select(*stage, "year", "source", *_INDICATORS)
    if breaks.is_empty():
        return pl.DataFrame(
            schema={
                "mineral": pl.String,
                "stage": pl.String,
                "year": pl.Int64,
                "overlap_year": pl.Int64,
                **{f"jump_{i}": pl.Float64 for i in _INDICATORS},
            }
        )
    pairs = (
        breaks.select(*keys, "source", "break_from")
        .join(figures, on=[*stage, "source"], suffix="_new")
        .filter(pl.col("year_new") <= pl.col("year"))
        .join(
            figures.rename({"year": "year_new", "source": "break_from"}),
            on=[*stage, "year_new", "break_from"],
            suffix="_old",
        )
        .sort([*keys, "year_new"])
        .group_by(keys, maintain_order=True)
        .last()
    )
    return pairs.select(
        *keys,
        overlap_year=pl.col("year_new"),
        **{f"jump_{i}": pl.col(i) - pl.col(f"{i}_old") for i in _INDICATORS},
    )


def trend(production: pl.DataFrame, stage_shares: pl.DataFrame, members: frozenset[str]) -> Trend:
    """The stitched yearly series and every source's figures (see the module docstring)."""
    found = candidates(production, stage_shares, members)
    return Trend(series=stitch(found), candidates=found.drop("_rank") if "_rank" in found.columns else found)
