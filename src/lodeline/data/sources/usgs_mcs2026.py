"""USGS Mineral Commodity Summaries 2026 data release (one long CSV, Windows-1252).

World sections → ``production`` (production, capacity, reserves per country); the section
"Salient Statistics—United States" → ``salient``. "Import Sources" (US import shares 2021–24) is not loaded:
no canonical table holds import shares by origin yet. Series mapping: :mod:`.usgs_series`; quirks:
docs/data-usgs.md.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import usgs_series as m
from lodeline.data.sources.usgs_common import (
    check_unique,
    join_notes,
    mark_estimated,
    parse_values,
    read_rows,
    read_text,
    resolve_countries,
    rows_to_frame,
)
from lodeline.errors import DataFormatError

FOLDER = "usgs_mcs2026"
FILE = "MCS2026_Commodities_Data.csv"
REL = f"{FOLDER}/{FILE}"
SOURCE = "usgs_mcs2026"
EDITION = "MCS 2026"
HEADER = (
    "MCS chapter", "Section", "Commodity", "Country", "Statistics", "Statistics_detail", "Unit", "Year", "Value",
    "Notes", "Is critical mineral 2025", "Other notes",
)  # fmt: skip
COLS = ("chapter", "section", "commodity", "country_cell", "statistics", "detail", "unit", "year", "value",
        "notes", "critical", "other_notes")  # fmt: skip
SALIENT_SECTION = "Salient Statistics—United States"
_ROUNDED = re.compile(r"[:,]\s*rounded\s*$", re.IGNORECASE)

#: USGS "Statistics" → Lodeline's salient vocabulary (anything else is ``other``; the label stays in ``detail``).
SALIENT_STATISTIC = {
    "Net import reliance": "net_import_reliance",
    "Price": "price",
    "Production": "production",
    "Import": "imports",
    "Export": "exports",
    "Consumption": "consumption",
}


def _load(folder: Path) -> pl.DataFrame:
    text = read_text(folder / FILE, REL, "cp1252")
    return rows_to_frame(read_rows(text, REL, HEADER), COLS)


def _world(frame: pl.DataFrame) -> pl.DataFrame:
    world = frame.filter(pl.col("section").str.starts_with("World"))
    world = world.with_columns(
        pl.col("detail").str.replace_all("\u00a0", " ").str.replace(_ROUNDED.pattern, "").str.strip_chars()
        .alias("detail_base"),
        pl.col("statistics").str.strip_chars().str.to_lowercase().alias("measure"),
    )  # fmt: skip
    unknown = world.filter(~pl.col("chapter").is_in([*m.IN_SCOPE_26, *m.OUT_OF_SCOPE_26]))
    if unknown.height:
        raise DataFormatError(
            REL, f"USGS chapter {unknown['chapter'][0]!r} is not in usgs_series", row=int(unknown["_row"][0]),
            column="MCS chapter",
        )  # fmt: skip
    world = world.filter(pl.col("chapter").is_in(m.IN_SCOPE_26))
    keys = [
        {"chapter": c, "measure": s, "key_detail": d, **spec._asdict()} for (c, s, d), spec in m.S26.items()
    ]
    spec = pl.DataFrame(keys, schema_overrides={"series_as": pl.String})
    world = world.with_columns(pl.col("detail_base").str.to_lowercase().alias("key_detail"))
    skip = pl.DataFrame(
        [{"chapter": c, "measure": s, "key_detail": d} for (c, s, d) in m.SKIP26],
        schema={"chapter": pl.String, "measure": pl.String, "key_detail": pl.String},
    )
    world = world.join(skip, on=["chapter", "measure", "key_detail"], how="anti")
    world = world.join(spec, on=["chapter", "measure", "key_detail"], how="left")
    unmapped = world.filter(pl.col("mineral").is_null())
    if unmapped.height:
        r = unmapped.row(0, named=True)
        raise DataFormatError(
            REL, f"unmapped USGS series {r['chapter']!r} / {r['statistics']!r} / {r['detail']!r}",
            row=int(r["_row"]), column="Statistics_detail",
        )  # fmt: skip
    world = parse_values(world, "value", REL, label="Value")
    world = resolve_countries(world, "country_cell", REL, label="Country")
    # A folded variant ("Mine production: beneficiated, marketable") keeps its qualifier in the note.
    qualifier = pl.when(pl.col("series_as").is_not_null() & (pl.col("detail_base") != pl.col("series_as")))
    world = world.with_columns(
        pl.col("year").cast(pl.Int32, strict=True),
        pl.col("unit").str.strip_chars(),
        pl.coalesce("series_as", "detail_base").alias("series"),
        join_notes(
            qualifier.then(pl.col("detail_base")).otherwise(pl.lit("")),
            pl.col("country_note"),
            pl.col("notes"),
            pl.when(pl.col("flag").is_in(["Q", "range", "?"])).then("value").otherwise(pl.lit("")),
        ).alias("note"),
    )
    world = mark_estimated(world, pl.col("notes").str.strip_chars().str.starts_with("Estimated"))
    world = world.with_columns(
        pl.col("primary").alias("is_primary"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(EDITION).alias("edition"),
        pl.lit(REL).alias("_file"),
    )
    check_unique(world, ["mineral", "stage", "measure", "series", "country", "year"], REL)
    return world.select(
        "mineral", "stage", "measure", "country", "country_raw", "year", "quantity", "unit", "basis", "series",
        "is_primary", "note", "source", "edition", "flag", "_file", "_row",
    )  # fmt: skip


def _salient(frame: pl.DataFrame) -> pl.DataFrame:
    sal = frame.filter(pl.col("section") == SALIENT_SECTION)
    known = [*m.IN_SCOPE_26, *m.OUT_OF_SCOPE_26, *m.SALIENT26_CHAPTER]
    unknown = sal.filter(~pl.col("chapter").is_in(known))
    if unknown.height:
        raise DataFormatError(
            REL, f"USGS chapter {unknown['chapter'][0]!r} is not in usgs_series", row=int(unknown["_row"][0]),
            column="MCS chapter",
        )  # fmt: skip
    minerals = {
        (c, k): m.SALIENT26_COMMODITY.get((c, k), m.chapter_mineral_26(c))
        for c, k in sal.select("chapter", "commodity").unique().iter_rows()
    }
    lookup = pl.DataFrame(
        [{"chapter": c, "commodity": k, "mineral": v} for (c, k), v in minerals.items()],
        schema={"chapter": pl.String, "commodity": pl.String, "mineral": pl.String},
    )
    sal = sal.join(lookup, on=["chapter", "commodity"], how="left").filter(pl.col("mineral").is_not_null())
    sal = parse_values(sal, "value", REL, label="Value")
    # Name the commodity in ``detail`` when a chapter covers several commodities, or when several chapters feed
    # one mineral (Rare Earths, Rare Earths (Heavy) and Yttrium → rare-earths; the two titanium chapters).
    chapters = sal.select("chapter", "mineral").unique()
    shared = chapters.filter(pl.col("mineral").is_duplicated())["mineral"].unique().to_list()
    chapter_title = pl.col("chapter").str.to_lowercase()
    differs = pl.col("commodity").str.to_lowercase().str.strip_chars() != chapter_title
    prefix = pl.when(differs | pl.col("mineral").is_in(shared)).then(
        pl.col("commodity").str.strip_chars() + pl.lit(": ")
    )
    sal = sal.with_columns(
        pl.col("statistics").replace_strict(SALIENT_STATISTIC, default="other").alias("statistic"),
        pl.concat_str([prefix.otherwise(pl.lit("")), pl.col("detail").str.strip_chars()]).alias("detail"),
        pl.col("year").cast(pl.Int32, strict=True),
        pl.lit("USA").alias("country"),
        pl.col("unit").str.strip_chars(),
        join_notes(
            pl.col("notes"),
            pl.when(pl.col("flag").is_in(["Q", "range", "?"])).then("value").otherwise(pl.lit("")),
        ).alias("note"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(EDITION).alias("edition"),
        pl.lit(REL).alias("_file"),
    )
    sal = mark_estimated(sal, pl.col("notes").str.strip_chars().str.starts_with("Estimated"))
    return sal.select(
        "mineral", "country", "year", "statistic", "detail", pl.col("quantity").alias("value"), "unit", "note",
        "source", "edition", "flag", "_file", "_row",
    )  # fmt: skip


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    frame = _load(folder)
    return {"production": _world(frame), "salient": _salient(frame)}


DATASET = DatasetSpec(
    id=SOURCE,
    title="USGS Mineral Commodity Summaries 2026 data release: world production, capacity, reserves; "
    "US salient statistics",
    publisher="U.S. Geological Survey, National Minerals Information Center",
    edition=EDITION,
    licence="Public domain (U.S. Government work, USGS); cite doi:10.5066/P1WKQ63T",
    folder=FOLDER,
    files=(FILE,),
    parse=parse,
)
