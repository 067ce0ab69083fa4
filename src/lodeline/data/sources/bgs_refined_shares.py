"""BGS World Mineral Statistics, refined/smelter-stage country shares (rounded %) → ``stage_shares``.

Shares are kept exactly as published (integer percentages, top countries only), divided by 100 to the 0–1 scale of
``stage_shares``; they are not re-normalised, so a material-year may sum to a little under or over 1.

The extract labels alumina (the refined stage of the aluminium chain) as ``bauxite``; it is booked as mineral
``alumina``, stage ``refining`` (see ``MATERIALS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import _files
from lodeline.domain.countries import iso2_to_iso3
from lodeline.errors import DataFormatError, UnknownCountryError

FILE = "bgs_refined_production_shares_2000_2024.csv"
SOURCE_ID = "bgs_refined_shares"
EDITION = "World Mineral Statistics, shares 2000-2024 (atlas 17b328d)"
HEADER = ("material", "year", "country_iso2", "share_pct_rounded")

#: extract label → (mineral id, stage). Every BGS series here is a refined / smelter-stage statistic.
MATERIALS = {
    "cobalt": ("cobalt", "refining"),  # refined cobalt
    "nickel": ("nickel", "refining"),  # smelter/refinery nickel
    "copper": ("copper", "refining"),  # refined copper
    "bauxite": (
        "alumina",
        "refining",
    ),  # the series is alumina production (PROVENANCE); label is the extract's
    "magnesium": ("magnesium", "refining"),  # primary magnesium metal
    "germanium": ("germanium", "refining"),  # germanium metal
    "arsenic": ("arsenic", "refining"),  # white arsenic
}
#: Integer rounding of n shares can add up to n × 0.5 points over 100; more than that is a broken file.
_ROUNDING_SLACK_PER_ROW = 0.5


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    file = _files.label(folder, FILE)
    out: dict[str, list[object]] = {k: [] for k in ("mineral", "stage", "country", "year", "share", "_row")}
    seen: dict[tuple[str, int, str], int] = {}
    for r in _files.read_csv(folder, FILE, header=HEADER):
        c, line = r.cells, r.line
        label = c["material"].strip()
        if label not in MATERIALS:
            raise DataFormatError(file, f"unknown BGS material label {label!r}", row=line, column="material")
        mineral, stage = MATERIALS[label]
        code = c["country_iso2"].strip()
        try:
            country = iso2_to_iso3(code)
        except UnknownCountryError:
            raise DataFormatError(
                file, f"not an ISO 3166-1 alpha-2 code: {code!r}", row=line, column="country_iso2"
            ) from None
        year = _files.year(c["year"], file=file, row=line, column="year")
        pct = _files.required_number(c["share_pct_rounded"], file=file, row=line, column="share_pct_rounded")
        if pct > 100:
            raise DataFormatError(file, f"share {pct}% exceeds 100%", row=line, column="share_pct_rounded")
        key = (mineral, year, country)
        if key in seen:
            raise DataFormatError(
                file, f"duplicate share (first at row {seen[key]})", row=line, column="country_iso2"
            )
        seen[key] = line
        out["mineral"].append(mineral)
        out["stage"].append(stage)
        out["country"].append(country)
        out["year"].append(year)
        out["share"].append(pct / 100.0)
        out["_row"].append(line)
    frame = pl.DataFrame(out, schema_overrides={"share": pl.Float64})
    sums = frame.group_by("mineral", "year").agg(
        total=pl.col("share").sum(), n=pl.len(), first_row=pl.col("_row").min()
    )
    over = sums.filter(pl.col("total") > 1 + pl.col("n") * _ROUNDING_SLACK_PER_ROW / 100)
    if over.height:
        bad = over.row(0, named=True)
        raise DataFormatError(
            file,
            f"shares of {bad['mineral']} in {bad['year']} sum to {bad['total']:.2f} > 1",
            row=bad["first_row"],
            column="share_pct_rounded",
        )
    return {
        "stage_shares": frame.with_columns(
            source=pl.lit(SOURCE_ID),
            edition=pl.lit(EDITION),
            flag=pl.lit(None, dtype=pl.String),
            _file=pl.lit(file),
        )
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="BGS World Mineral Statistics: refined-stage production shares by country (rounded %), 2000-2024",
    publisher="British Geological Survey (UKRI); shares computed by github.com/Varcolacus/critical-materials-atlas",
    edition=EDITION,
    licence="BGS data, © UKRI, used with acknowledgement (exact licence of the extract not verified)",
    folder="bgs_refined_shares",
    files=(FILE,),
    parse=parse,
)
