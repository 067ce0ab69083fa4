"""USGS Mineral Commodity Summaries 2025 data release: world data (one wide CSV, UTF-8 with BOM).

Each row is one (commodity, country, series) with columns PROD_2023, "PROD_EST_ 2024", CAP_2023,
"CAP_EST_ 2024" and RESERVES_2024, each followed by a notes column. The wide table is melted to one row per
published cell; a blank cell is "no figure published" and yields no row (it is not a flag). When a value cell
is blank but its notes cell holds a marker ("NA", "xx", "Large" …), the marker is the published value.
Series mapping: :mod:`.usgs_series`; quirks: docs/data-usgs.md. The US salient files are not parsed yet.
"""

from __future__ import annotations

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

FOLDER = "usgs_mcs2025"
FILE = "MCS2025_World_Data.csv"
REL = f"{FOLDER}/{FILE}"
SOURCE = "usgs_mcs2025"
EDITION = "MCS 2025"
HEADER = (
    "SOURCE", "COMMODITY", "COUNTRY", "TYPE", "UNIT_MEAS", "PROD_2023", "PROD_EST_ 2024", "PROD_NOTES",
    "CAP_2023", "CAP_EST_ 2024", "CAP_NOTES", "RESERVES_2024", "RESERVE_NOTES",
)  # fmt: skip
#: value column → (measure, year, notes column, estimated by definition)
CELLS = {
    "PROD_2023": ("production", 2023, "PROD_NOTES", False),
    "PROD_EST_ 2024": ("production", 2024, "PROD_NOTES", True),
    "CAP_2023": ("capacity", 2023, "CAP_NOTES", False),
    "CAP_EST_ 2024": ("capacity", 2024, "CAP_NOTES", True),
    "RESERVES_2024": ("reserves", 2024, "RESERVE_NOTES", False),
}
_MARKERS = ("na", "xx", "w", "large", "small", "moderate", "moderate to large", "very small")


def _melt(frame: pl.DataFrame) -> pl.DataFrame:
    parts = []
    for column, (measure, year, notes, estimated) in CELLS.items():
        note = pl.col(notes).str.replace_all("\u00a0", " ").str.strip_chars()
        value = pl.col(column).str.replace_all("\u00a0", " ").str.strip_chars()
        # A marker written in the notes column stands in for a blank value ("NA (Reserve data is …)" too).
        marker = note.str.to_lowercase().str.extract(r"^(" + "|".join(_MARKERS) + r")\b", 1)
        from_note = (value == "") & marker.is_not_null()
        # "Included in World total" / "Included with Other countries" is what MCS 2026 prints as "s".
        included = (value == "") & note.str.to_lowercase().str.starts_with("included")
        parts.append(
            frame.select(
                "commodity",
                "country_cell",
                "type",
                "unit",
                "_row",
                pl.when(from_note)
                .then(note.str.slice(0, marker.str.len_chars()))
                .when(included)
                .then(pl.lit("s"))
                .otherwise(value)
                .alias("value"),
                pl.lit(column).alias("value_column"),
                pl.lit(measure).alias("measure"),
                pl.lit(year, dtype=pl.Int32).alias("year"),
                pl.when(from_note & (note.str.len_chars() == marker.str.len_chars()))
                .then(pl.lit(""))
                .otherwise(note)
                .alias("notes"),
                pl.lit(estimated).alias("estimated_column"),
            )
        )
    long = pl.concat(parts)
    return long.filter(pl.col("value") != "")


def _attach_series(long: pl.DataFrame) -> pl.DataFrame:
    key = [
        pl.col("commodity").str.strip_chars().str.to_lowercase(),
        pl.col("type").str.strip_chars().str.to_lowercase(),
    ]
    long = long.with_columns(key[0].alias("k_commodity"), key[1].alias("k_type"))
    known = set(m.OUT_OF_SCOPE_25) | {c for c, _ in m.S25}
    unknown = long.filter(~pl.col("k_commodity").is_in(list(known)))
    if unknown.height:
        raise DataFormatError(
            REL, f"USGS commodity {unknown['commodity'][0]!r} is not in usgs_series", row=int(unknown["_row"][0]),
            column="COMMODITY",
        )  # fmt: skip
    long = long.filter(~pl.col("k_commodity").is_in(list(m.OUT_OF_SCOPE_25)))
    rows = []
    for (commodity, kind), spec in m.S25.items():
        s = spec.series
        for measure in ("production", "capacity", "reserves"):
            mineral, stage, basis, measure_out = s.mineral, s.stage, s.basis, measure
            unit_override = spec.unit
            if measure == "reserves":
                if spec.reserves_is_capacity:
                    measure_out = "capacity"
                else:
                    stage = "mining"  # reserves are in the ground
                    mineral = spec.reserves_mineral or mineral
                    basis = spec.reserves_basis or basis
                    unit_override = spec.reserves_unit
            rows.append(
                {
                    "k_commodity": commodity, "k_type": kind, "measure": measure, "mineral": mineral,
                    "stage": stage, "basis": basis, "measure_out": measure_out, "is_primary": s.primary,
                    "series_as": s.series_as, "unit_override": unit_override,
                }
            )  # fmt: skip
    spec_frame = pl.DataFrame(rows, schema_overrides={"series_as": pl.String, "unit_override": pl.String})
    long = long.join(spec_frame, on=["k_commodity", "k_type", "measure"], how="left")
    unmapped = long.filter(pl.col("mineral").is_null())
    if unmapped.height:
        r = unmapped.row(0, named=True)
        raise DataFormatError(
            REL, f"unmapped USGS series {r['commodity']!r} / {r['type']!r}", row=int(r["_row"]), column="TYPE"
        )
    return long


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    text = read_text(folder / FILE, REL, "utf-8")
    cols = ("source_col", "commodity", "country_cell", "type", "unit", *HEADER[5:])
    frame = rows_to_frame(read_rows(text, REL, HEADER), cols)
    long = _attach_series(_melt(frame))
    parsed = []
    # Parse per value column so an error names the exact source column.
    for column in CELLS:
        part = long.filter(pl.col("value_column") == column)
        if part.height:
            parsed.append(parse_values(part, "value", REL, label=column))
    long = resolve_countries(pl.concat(parsed), "country_cell", REL, label="COUNTRY")
    # A few country qualifiers mark a different quantity on the same TYPE row (m.QUALIFIER_SERIES_25): those rows
    # get their own, non-primary series so the primary series keeps one value per country and year.
    special = pl.lit(None, dtype=pl.String)
    for (commodity, qualifier), label in m.QUALIFIER_SERIES_25.items():
        hit = (pl.col("k_commodity") == commodity) & pl.col("country_note").str.starts_with(qualifier)
        special = pl.when(hit).then(pl.lit(label)).otherwise(special)
    combined = special.is_not_null()
    long = long.with_columns(
        pl.coalesce("unit_override", pl.col("unit").str.strip_chars()).alias("unit"),
        pl.coalesce(special, "series_as", pl.col("type").str.strip_chars()).alias("series"),
        (pl.col("is_primary") & ~combined).alias("is_primary"),
        join_notes(
            pl.col("country_note"),
            pl.col("notes"),
            pl.when(pl.col("flag").is_in(["Q", "range", "?"])).then("value").otherwise(pl.lit("")),
        ).alias("note"),
    )
    estimated = pl.col("estimated_column") | pl.col("notes").str.to_lowercase().str.starts_with("estimated")
    long = mark_estimated(long, estimated)
    long = long.with_columns(
        pl.col("measure_out").alias("measure"),
        pl.lit(SOURCE).alias("source"),
        pl.lit(EDITION).alias("edition"),
        pl.lit(REL).alias("_file"),
    )
    check_unique(long, ["mineral", "stage", "measure", "series", "country", "year"], REL)
    production = long.select(
        "mineral", "stage", "measure", "country", "country_raw", "year", "quantity", "unit", "basis", "series",
        "is_primary", "note", "source", "edition", "flag", "_file", "_row",
    ).sort("_row", "year")  # fmt: skip
    return {"production": production}


DATASET = DatasetSpec(
    id=SOURCE,
    title="USGS Mineral Commodity Summaries 2025 data release: world production, capacity and reserves",
    publisher="U.S. Geological Survey, National Minerals Information Center",
    edition=EDITION,
    licence="Public domain (U.S. Government work, USGS); cite doi:10.5066/P13XCP3R",
    folder=FOLDER,
    files=(FILE,),
    parse=parse,
)
