"""Which minerals miss the single-supplier targets, by how much, and since when (pure: frames in, frame out).

Input: the alliance's single-supplier dependency (:mod:`lodeline.market.dependency`, one row per mineral × stage ×
basis × year) and the ``targets`` table (policy facts). Output: one row per mineral × stage × basis with the latest
year's figure and three yardsticks (see docs/methods/targets.md):

* the G7 test: dependency on a single supplier outside the alliance below 60 % by 2030 (``target_*``);
* the G7 ambition: 50 % (``ambition_*``);
* for the EU27 only, the CRMA benchmark: at most 65 % of annual consumption from one third country
  (Regulation (EU) 2024/1252, Art. 1(2); ``crma_*``).

The G7 declaration names rare earths and permanent magnets; every other mineral is measured with the same yardstick
as a comparison (``yardstick`` says which). The CRMA benchmark covers the strategic raw materials of its Annex I;
other minerals get it as a comparison (``crma_scope``).

Sign convention: ``*_gap_pp = (dependency − threshold) × 100``, in percentage points. Positive = above the line
(misses by that much); negative = below it (headroom). With a strict "<" test a gap of exactly 0 misses.

"Since when": the first year of the unbroken run of misses that ends in the latest year. Only years with a figure
count. The run stops at a year that meets the line and at a hole in the years (a year with no figure): then the
answer is "since at least YEAR", and ``*_since_note`` says why (the earliest year with data already misses, or the
year before has no figure). A line the latest year meets has no "since".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl

#: Labels of ``yardstick``.
G7_TARGET = "G7 target"
COMPARISON_ONLY = "same yardstick, comparison only"
#: Labels of ``crma_scope``.
CRMA_STRATEGIC = "CRMA benchmark (strategic raw material)"
CRMA_COMPARISON = "same yardstick, comparison only (not a strategic raw material)"
#: CRMA Annex I (Regulation (EU) 2024/1252): the strategic raw materials, as Lodeline mineral ids. The Annex names
#: grades (battery-grade lithium, nickel, manganese and graphite; metallurgy-grade boron; magnesium, silicon and
#: titanium metal; rare earths for permanent magnets) that the bundled series do not separate.
CRMA_STRATEGIC_MINERALS = frozenset(
    {
        "aluminium",
        "alumina",
        "bauxite",
        "bismuth",
        "boron",
        "cobalt",
        "copper",
        "gallium",
        "germanium",
        "graphite",
        "lithium",
        "magnesium",
        "manganese",
        "nickel",
        "palladium",
        "platinum",
        "platinum-group-metals",
        "rare-earths",
        "silicon",
        "titanium",
        "tungsten",
    }
)

TARGET_COLUMNS = (
    "mineral",
    "stage",
    "basis",
    "share_of",
    "year",
    "years_with_data",
    "top_external_supplier",
    "dependency",
    "yardstick",
    "target_id",
    "target",
    "target_year",
    "target_verdict",
    "target_gap_pp",
    "target_since",
    "target_since_note",
    "ambition",
    "ambition_verdict",
    "ambition_gap_pp",
    "ambition_since",
    "ambition_since_note",
    "crma_scope",
    "crma_benchmark",
    "crma_verdict",
    "crma_gap_pp",
    "crma_since",
    "crma_since_note",
    "flag",
    "source",
)
_KEYS = ["mineral", "stage", "basis"]


@dataclass(frozen=True, slots=True)
class Line:
    """One ceiling read from the targets table: ``share <comparator> threshold`` passes."""

    target_id: str
    threshold: float
    comparator: str
    target_year: int | None


def _pick(targets: pl.DataFrame, metric_words: str) -> dict[str, Any]:
    """The first target row with a value whose metric contains ``metric_words`` (case-insensitive)."""
    rows = targets.filter(
        pl.col("metric").str.to_lowercase().str.contains(metric_words, literal=True)
        & pl.col("value").is_not_null()
    )
    if rows.is_empty():
        raise ValueError(
            f"no target with a value whose metric mentions {metric_words!r} in the targets table"
        )
    return rows.row(0, named=True)


def g7_lines(targets: pl.DataFrame) -> tuple[Line, Line | None, list[str]]:
    """The G7 single-supplier test and ambition (0–1) and the minerals the target names, from the targets table."""
    row = _pick(targets, "single supplier")
    minerals: list[str] = json.loads(row["minerals"] or "[]")
    test = Line(row["target_id"], float(row["value"]) / 100, row["comparator"], row["deadline"])
    ambition = row["ambition_value"]
    return (
        test,
        None if ambition is None else Line(row["target_id"], float(ambition) / 100, row["comparator"], None),
        minerals,
    )


def crma_line(targets: pl.DataFrame) -> Line:
    """The CRMA single-third-country benchmark (0–1) from the targets table."""
    row = _pick(targets, "single third country")
    return Line(row["target_id"], float(row["value"]) / 100, row["comparator"], row["deadline"])


def misses(share: pl.Expr, threshold: float, comparator: str) -> pl.Expr:
    """True where ``share`` fails ``share <comparator> threshold`` (NULL where the share is unknown)."""
    if comparator == "<":
        return share >= threshold
    if comparator == "<=":
        return share > threshold
    raise ValueError(f"unsupported comparator {comparator!r} for a ceiling target (expected < or <=)")


def _since(history: pl.DataFrame, miss: str, prefix: str) -> pl.DataFrame:
    """Per mineral × stage × basis: the first year of the run of misses ending in the latest year, and why it is
    a lower bound where it is one. ``history`` holds only years with a figure, sorted by year within each key."""
    prev_year = pl.col("year").shift(1).over(_KEYS)
    prev_miss = pl.col(miss).shift(1).over(_KEYS)
    run_starts = pl.col(miss) & (
        prev_year.is_null() | (pl.col("year") - prev_year != 1) | ~prev_miss.fill_null(False)
    )
    marked = history.with_columns(
        _run=run_starts.cast(pl.Int32).cum_sum().over(_KEYS),
        _first=prev_year.is_null(),
        _hole=prev_year.is_not_null() & (pl.col("year") - prev_year != 1),
    )
    last = marked.group_by(_KEYS).agg(_last_run=pl.col("_run").last(), _last_miss=pl.col(miss).last())
    starts = (
        marked.join(last, on=_KEYS)
        .filter(pl.col("_last_miss") & (pl.col("_run") == pl.col("_last_run")))
        .sort("year")
        .group_by(_KEYS)
        .agg(since=pl.col("year").first(), first=pl.col("_first").first(), hole=pl.col("_hole").first())
    )
    note = (
        pl.when(pl.col("first"))
        .then(pl.format("since at least {}: the earliest year with data already misses", pl.col("since")))
        .when(pl.col("hole"))
        .then(pl.format("since at least {}: no figure for {}", pl.col("since"), pl.col("since") - 1))
        .otherwise(pl.format("since {}", pl.col("since")))
    )
    return starts.select(*_KEYS, pl.col("since").alias(f"{prefix}_since"), note.alias(f"{prefix}_since_note"))


def _years_text(years: pl.Expr) -> pl.Expr:
    """``2018–2024`` for an unbroken span, else the years listed (holes must be visible)."""
    span = years.max() - years.min() + 1 == years.len()
    return (
        pl.when(years.len() == 1)
        .then(years.min().cast(pl.String))
        .when(span)
        .then(pl.format("{}–{}", years.min(), years.max()))
        .otherwise(years.sort().cast(pl.String).str.join(", "))
    )


def target_table(dependency: pl.DataFrame, targets: pl.DataFrame, *, crma: bool) -> pl.DataFrame:
    """One row per mineral × stage × basis: the latest dependency, its supplier, the three yardsticks' verdicts,
    gaps (pp) and since-when. ``crma`` applies the EU CRMA benchmark (when the alliance is the EU27)."""
    test, ambition, named = g7_lines(targets)
    history = dependency.filter(pl.col("top_external_share").is_not_null()).sort([*_KEYS, "year"])
    share = pl.col("top_external_share")
    lines = [("target", test.threshold, test.comparator)]
    if ambition is not None:
        lines.append(("ambition", ambition.threshold, ambition.comparator))
    if crma:
        benchmark = crma_line(targets)
        lines.append(("crma", benchmark.threshold, benchmark.comparator))
    history = history.with_columns([misses(share, t, c).alias(f"_{p}_miss") for p, t, c in lines])
    latest = history.group_by(_KEYS).agg(pl.all().last(), years_with_data=_years_text(pl.col("year")))
    out = latest.with_columns(
        dependency=share,
        yardstick=pl.when(pl.col("mineral").is_in(named))
        .then(pl.lit(G7_TARGET))
        .otherwise(pl.lit(COMPARISON_ONLY)),
        target_id=pl.lit(test.target_id),
        target_year=pl.lit(test.target_year, pl.Int64),
    )
    for prefix, threshold, _ in lines:
        out = out.with_columns(
            pl.lit(threshold).alias("crma_benchmark" if prefix == "crma" else prefix),
            pl.when(pl.col(f"_{prefix}_miss"))
            .then(pl.lit("misses"))
            .otherwise(pl.lit("meets"))
            .alias(f"{prefix}_verdict"),
            ((share - threshold) * 100).alias(f"{prefix}_gap_pp"),
        ).join(_since(history, f"_{prefix}_miss", prefix), on=_KEYS, how="left")
    if crma:
        out = out.with_columns(
            crma_scope=pl.when(pl.col("mineral").is_in(list(CRMA_STRATEGIC_MINERALS)))
            .then(pl.lit(CRMA_STRATEGIC))
            .otherwise(pl.lit(CRMA_COMPARISON))
        )
    missing = [c for c in TARGET_COLUMNS if c not in out.columns]
    out = out.with_columns([pl.lit(None, _null_type(c)).alias(c) for c in missing])
    return out.select(TARGET_COLUMNS).sort(_KEYS)


def _null_type(column: str) -> type[pl.DataType]:
    """The type of a yardstick column that does not apply (no ambition, or not the EU27)."""
    if column.endswith("_since"):
        return pl.Int64
    if column.endswith("_gap_pp") or column in ("ambition", "crma_benchmark"):
        return pl.Float64
    return pl.String
