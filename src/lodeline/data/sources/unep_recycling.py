"""UNEP IRP (2011) Recycling Rates of Metals, appendix tables C1, D1, E2, F1 → ``recycling_rates``.

Each cell is kept verbatim in ``raw`` (e.g. ``"60h, 72i"``, ``"<1a"``, ``"25-50e"``) and parsed into bounds in
percent, as published:

* every comma-separated estimate is an interval: ``57`` → [57, 57]; ``58-63`` → [58, 63]; ``<1`` → (open, 1];
  ``>80`` → [80, open); ``~50`` → [50, 50] (approximate, said in ``note``);
* ``value_low`` / ``value_high`` are the envelope of all estimates; an open side stays NULL and sets the flag
  (``<`` when only an upper bound is known, ``>`` when only a lower bound is) — an upper bound never becomes 0;
* the trailing letter of an estimate is a footnote of that table; ``note`` lists each letter with its cited source
  (unlettered estimates are the working group's expert opinion).

A blank cell means the report gives no estimate for that metric: no row. ``mineral`` is the Lodeline id for the
element (``Co`` → ``cobalt``); rare-earth elements (La–Lu, Y) map to ``rare-earths`` and the PGMs without their own
id (Rh, Ru, Ir, Os) to ``platinum-group-metals``; iron (steel scrap) is not iron ore and keeps NULL.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import _files
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import DataFormatError, UnknownMineralError

RATES_FILE = "unep_irp2011_recycling_rates_raw.csv"
FOOTNOTES_FILE = "unep_irp2011_footnotes.csv"
SOURCE_ID = "unep_recycling"
EDITION = "2011 (Graedel et al., ISBN 978-92-807-3161-3)"
RATES_HEADER = (
    "unep_table",
    "page",
    "element",
    "old_scrap_ratio_pct_raw",
    "recycled_content_pct_raw",
    "eol_recycling_rate_pct_raw",
)
FOOTNOTES_HEADER = ("unep_table", "footnote", "source")
METRICS = {
    "eol_recycling_rate_pct_raw": "eol_rr",
    "recycled_content_pct_raw": "recycled_content",
    "old_scrap_ratio_pct_raw": "old_scrap_ratio",
}
_ESTIMATE = re.compile(
    r"^(?P<op>[<>~])?\s*(?P<lo>\d+(?:\.\d+)?)(?:\s*-\s*(?P<hi>\d+(?:\.\d+)?))?\s*(?P<fn>[a-z])?$"
)
_REE = ("La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Y")
#: element symbols whose mineral is not found by symbol alias (group members) or must not be (Fe ≠ iron ore).
ELEMENT_OVERRIDES: dict[str, str | None] = {
    **dict.fromkeys(_REE, "rare-earths"),
    **dict.fromkeys(("Rh", "Ru", "Ir", "Os"), "platinum-group-metals"),
    "Fe": None,
}


def element_mineral(symbol: str) -> str | None:
    if symbol in ELEMENT_OVERRIDES:
        return ELEMENT_OVERRIDES[symbol]
    try:
        return resolve_mineral(symbol)
    except UnknownMineralError:
        return None


def parse_cell(
    raw: str, *, footnotes: Mapping[str, str], file: str, row: int, column: str
) -> tuple[float | None, float | None, str | None, str]:
    """Return (low, high, flag, note) for one published cell (see the module docstring)."""
    lows: list[float | None] = []
    highs: list[float | None] = []
    notes: list[str] = []
    approximate = False
    for part in (p.strip() for p in raw.split(",")):
        m = _ESTIMATE.match(part)
        if m is None:
            raise DataFormatError(file, f"cannot read estimate {part!r} in {raw!r}", row=row, column=column)
        lo = float(m["lo"])
        hi = float(m["hi"]) if m["hi"] else lo
        if hi < lo or hi > 100:
            raise DataFormatError(
                file, f"estimate {part!r} is not a range within 0-100 %", row=row, column=column
            )
        op = m["op"]
        lows.append(None if op == "<" else lo)
        highs.append(None if op == ">" else hi)
        approximate |= op == "~"
        letter = m["fn"]
        if letter is None:
            notes.append(f"{part}: working-group expert opinion")
        elif letter in footnotes:
            notes.append(f"{part}: {footnotes[letter]}")
        else:
            raise DataFormatError(
                file, f"footnote {letter!r} of {part!r} is not in {FOOTNOTES_FILE}", row=row, column=column
            )
    low = None if any(v is None for v in lows) else min(v for v in lows if v is not None)
    high = None if any(v is None for v in highs) else max(v for v in highs if v is not None)
    flag = None
    if low is None and high is None:
        flag = "NA"
    elif low is None:
        flag = "<"
    elif high is None:
        flag = ">"
    if approximate:
        notes.append("'~' = approximately")
    return low, high, flag, "; ".join(notes)


def _footnotes(folder: Path) -> dict[str, dict[str, str]]:
    file = _files.label(folder, FOOTNOTES_FILE)
    table: dict[str, dict[str, str]] = {}
    for r in _files.read_csv(folder, FOOTNOTES_FILE, header=FOOTNOTES_HEADER):
        letter = r.cells["footnote"].strip()
        if not re.fullmatch(r"[a-z]", letter):
            raise DataFormatError(
                file, f"footnote marker must be one letter: {letter!r}", row=r.line, column="footnote"
            )
        table.setdefault(r.cells["unep_table"].strip(), {})[letter] = r.cells["source"].strip()
    return table


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    file = _files.label(folder, RATES_FILE)
    footnotes = _footnotes(folder)
    out: dict[str, list[object]] = {
        k: []
        for k in ("element", "mineral", "metric", "value_low", "value_high", "raw", "note", "flag", "_row")
    }
    seen: dict[str, int] = {}
    for r in _files.read_csv(folder, RATES_FILE, header=RATES_HEADER):
        c, line = r.cells, r.line
        element, table = c["element"].strip(), c["unep_table"].strip()
        if not re.fullmatch(r"[A-Z][a-z]?", element):
            raise DataFormatError(file, f"not an element symbol: {element!r}", row=line, column="element")
        if element in seen:
            raise DataFormatError(
                file, f"element {element} repeats row {seen[element]}", row=line, column="element"
            )
        seen[element] = line
        if table not in footnotes:
            raise DataFormatError(
                file, f"table {table!r} has no footnotes in {FOOTNOTES_FILE}", row=line, column="unep_table"
            )
        for column, metric in METRICS.items():
            raw = c[column].strip()
            if not raw:
                continue
            low, high, flag, note = parse_cell(
                raw, footnotes=footnotes[table], file=file, row=line, column=column
            )
            out["element"].append(element)
            out["mineral"].append(element_mineral(element))
            out["metric"].append(metric)
            out["value_low"].append(low)
            out["value_high"].append(high)
            out["raw"].append(raw)
            out["note"].append(f"UNEP IRP 2011 table {table}, {c['page'].strip()}; {note}")
            out["flag"].append(flag)
            out["_row"].append(line)
    frame = pl.DataFrame(
        out,
        schema_overrides={
            "mineral": pl.String,
            "value_low": pl.Float64,
            "value_high": pl.Float64,
            "flag": pl.String,
        },
    )
    return {
        "recycling_rates": frame.with_columns(
            source=pl.lit(SOURCE_ID), edition=pl.lit(EDITION), _file=pl.lit(file)
        )
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="UNEP IRP Recycling Rates of Metals (2011): EoL recycling rate, recycled content, old-scrap ratio",
    publisher="UNEP International Resource Panel (Graedel et al. 2011); cells keyed from "
    "github.com/ChampionApe/BergAndSorensen2026_CE",
    edition=EDITION,
    licence="UNEP: reproduction for educational or non-profit purposes with acknowledgement (not a CC licence)",
    folder="recycling_unep2011",
    files=(RATES_FILE, FOOTNOTES_FILE),
    parse=parse,
)
