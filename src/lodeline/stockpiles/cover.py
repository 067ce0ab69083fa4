"""Days of cover of the pooled stocks against the alliance's consumption (pure: no I/O; method in
docs/methods/stock-days-of-cover.md, "Pooled days of cover").

Per mineral: the pooled contained tonnes as PUBLISHED (the disclosure-controlled total of the contained table; a
suppressed total stays suppressed, ``:c``, and gives no cover figure), the alliance's annual apparent consumption of
the mineral on a contained-metal basis (production + imports − exports, from the market tables), and
``days_of_cover = contained_t / consumption_t × 365``. A gap on either side is a gap (null and a reason), never 0.
"""

from __future__ import annotations

import polars as pl

DAYS_PER_YEAR = 365
COVER_COLUMNS = (
    "mineral",
    "contained_t",
    "contained_flag",
    "consumption_t",
    "consumption_year",
    "consumption_basis",
    "consumption_source",
    "consumption_flag",
    "days_of_cover",
    "gap",
)


def days_of_cover(contained_t: float | None, consumption_t: float | None) -> float | None:
    """``contained_t / consumption_t × 365``; None when either is unknown or consumption is not positive."""
    if contained_t is None or consumption_t is None or consumption_t <= 0:
        return None
    return contained_t / consumption_t * DAYS_PER_YEAR


def _gap(contained_flag: str | None, contained: float | None, consumption: float | None) -> str | None:
    if contained is None and contained_flag is not None:
        return "pooled contained tonnes suppressed (:c) by disclosure control"
    if contained is None:
        return "no contained tonnes submitted"
    if consumption is None:
        return "no alliance apparent consumption on a contained-metal basis in the market tables"
    if consumption <= 0:
        return "apparent consumption not positive"
    return None


def cover_table(pooled: pl.DataFrame, consumption: pl.DataFrame) -> pl.DataFrame:
    """``pooled``: mineral, contained_t (null when suppressed), flag. ``consumption``: mineral, consumption_t, year,
    basis, source, flag (one row per mineral: the latest year). One row per pooled mineral (COVER_COLUMNS)."""
    by_mineral = {r["mineral"]: r for r in consumption.iter_rows(named=True)}
    rows = []
    for p in pooled.sort("mineral").iter_rows(named=True):
        c = by_mineral.get(p["mineral"], {})
        use = c.get("consumption_t")
        rows.append(
            {
                "mineral": p["mineral"],
                "contained_t": p["contained_t"],
                "contained_flag": p["flag"],
                "consumption_t": use,
                "consumption_year": c.get("year"),
                "consumption_basis": c.get("basis"),
                "consumption_source": c.get("source"),
                "consumption_flag": c.get("flag"),
                "days_of_cover": days_of_cover(p["contained_t"], use),
                "gap": _gap(p["flag"], p["contained_t"], use),
            }
        )
    schema = {
        "mineral": pl.Utf8,
        "contained_t": pl.Float64,
        "contained_flag": pl.Utf8,
        "consumption_t": pl.Float64,
        "consumption_year": pl.Int64,
        "consumption_basis": pl.Utf8,
        "consumption_source": pl.Utf8,
        "consumption_flag": pl.Utf8,
        "days_of_cover": pl.Float64,
        "gap": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema)
