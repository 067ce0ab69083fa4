"""Shared reading and cleaning for the USGS Mineral Commodity Summaries parsers.

Everything here fails loudly: a wrong encoding, a file cut off mid-row, an unknown country or a negative
quantity raises :class:`~lodeline.errors.DataFormatError` naming the file, the row (1-based, header = 1)
and the column. USGS cells are parsed once per distinct value (a few hundred), so parsing stays
vectorised where it matters: the frame itself is never looped over row by row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import polars as pl

from lodeline.data.flags import Flag, parse_flagged_number
from lodeline.domain.countries import OTHER_COUNTRIES, WORLD, resolve_country
from lodeline.errors import DataFormatError, UnknownCountryError

#: USGS-specific flags that have no counterpart in :class:`lodeline.data.flags.Flag` (value is NULL).
QUALITATIVE = "Q"  # the source gives only a word: "Large", "Small", "Moderate", "Variable …"
SMALL_OR_ELSEWHERE = "s"  # USGS "s": less than ½ unit, or included in another row (see note)
NET_EXPORTER = "E"  # net import reliance "E": the United States is a net exporter
RANGE = "range"  # a range such as "890–1,000"; the text is kept in the note, no midpoint is invented
GARBLED = "?"  # a character the cp1252 export could not hold (e.g. U+2212 minus) became "?"

_WORDS = ("large", "small", "moderate", "moderate to large", "very small")
_RANGE = re.compile(r"^\d[\d,]*(?:\.\d+)?\s*[–-]\s*\d[\d,]*(?:\.\d+)?$")


def read_text(path: Path, rel: str, encoding: str) -> str:
    """Decode a source file strictly in its declared encoding, naming the line of any bad byte.

    ``encoding`` is ``"cp1252"`` or ``"utf-8"``. A cp1252 file that decodes cleanly as UTF-8 while holding
    non-ASCII bytes has been re-encoded (its em-dashes would turn into mojibake), so it is rejected too.
    """
    data = path.read_bytes()
    if encoding == "utf-8":
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise DataFormatError(
                rel, f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); wrong encoding?", row=line
            ) from None
        return text.removeprefix("\ufeff")
    if not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass  # not UTF-8: good, go on and decode it as the declared encoding
        else:
            first = next(i for i, b in enumerate(data) if b > 0x7F)
            raise DataFormatError(
                rel,
                f"file is UTF-8 encoded but USGS publishes it as {encoding} (Windows-1252); wrong encoding",
                row=data[:first].count(b"\n") + 1,
            )
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise DataFormatError(rel, f"byte 0x{data[exc.start]:02x} is not {encoding}", row=line) from None
    return text


def read_rows(text: str, rel: str, header: Sequence[str] | None) -> list[list[str]]:
    """Split CSV text into records, checking the header (unless None), every row's field count and the last line."""
    if text and not text.endswith(("\n", "\r")):
        last = text.count("\n") + 1
        raise DataFormatError(rel, "file ends mid-row (no final line break); truncated?", row=last)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[list[str]] = []
    try:
        for record in reader:
            rows.append(record)
    except csv.Error as exc:
        raise DataFormatError(rel, f"malformed CSV ({exc}); truncated?", row=reader.line_num) from None
    if not rows:
        raise DataFormatError(rel, "file is empty")
    found = [h.strip() for h in rows[0]]
    if header is not None and found != [h.strip() for h in header]:
        raise DataFormatError(rel, f"unexpected header {found}; expected {list(header)}", row=1)
    width = len(rows[0])
    for index, record in enumerate(rows[1:], start=2):
        if len(record) != width:
            raise DataFormatError(
                rel, f"expected {width} fields, found {len(record)}; truncated or malformed row", row=index
            )
    return rows


def rows_to_frame(rows: list[list[str]], columns: Sequence[str]) -> pl.DataFrame:
    """Records (header first) → all-string frame with ``_row`` (1-based line; header = 1)."""
    body = rows[1:]
    data = {name: [r[i] for r in body] for i, name in enumerate(columns)}
    frame = pl.DataFrame(data, schema=dict.fromkeys(columns, pl.String))
    return frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias("_row"))


def usgs_value(
    raw: str, *, file: str, row: int, column: str, allow_negative: bool = False
) -> tuple[float | None, str | None]:
    """Parse one USGS cell into (value, flag). Words, ranges and USGS markers become NULL with a flag."""
    text = raw.replace("\u00a0", " ").replace("\u2212", "-").strip()  # U+2212 minus in the 2025 salient files
    low = text.lower()
    if low.startswith(("less than ½ unit", "less than 1/2 unit")):
        return None, SMALL_OR_ELSEWHERE
    if low in _WORDS or low.startswith("variable"):
        return None, QUALITATIVE
    if text == "s":
        return None, SMALL_OR_ELSEWHERE
    if text == "E":
        return None, NET_EXPORTER
    if _RANGE.match(text):
        return None, RANGE
    if text.startswith("?") and text[1:].replace(",", "").replace(".", "").isdigit():
        return None, GARBLED
    return parse_flagged_number(text, file=file, row=row, column=column, allow_negative=allow_negative)


def parse_values(frame: pl.DataFrame, column: str, file: str, *, label: str | None = None) -> pl.DataFrame:
    """Add ``quantity`` and ``flag`` parsed from ``column``; each distinct cell text is parsed once."""
    distinct = frame[column].unique().to_list()
    parsed: dict[str, tuple[float | None, str | None]] = {}
    for text in distinct:
        try:
            parsed[text] = usgs_value(text, file=file, row=0, column=label or column)
        except DataFormatError as exc:
            first = frame.filter(pl.col(column) == text)["_row"][0]
            raise DataFormatError(file, exc.reason, row=int(first), column=label or column) from None
    lookup = pl.DataFrame(
        {
            column: list(parsed),
            "quantity": [v[0] for v in parsed.values()],
            "flag": [v[1] for v in parsed.values()],
        },
        schema={column: pl.String, "quantity": pl.Float64, "flag": pl.String},
    )
    return frame.join(lookup, on=column, how="left")


# A country cell may carry a qualifier ("Brazil (beneficiated)") or a footnote number ("World total (rounded) 10").
_COUNTRY_CELL = re.compile(r"^(?P<name>[^(]+?)\s*(?:\((?P<qualifier>[^)]*)\)(?P<rest>.*))?$")
_MULTI_COUNTRY = re.compile(r"\band\b")


def split_country(raw: str) -> tuple[str, str]:
    """``"Brazil (beneficiated)"`` → (``"Brazil"``, ``"beneficiated"``); the qualifier goes to the note."""
    text = raw.replace("\u00a0", " ").strip()
    m = _COUNTRY_CELL.match(text)
    if m is None:
        return text, ""
    parts = (m["qualifier"] or "", (m["rest"] or "").strip(" ,"))
    qualifier = ", ".join(p for p in parts if p and not p.isdigit())
    return m["name"].strip(), qualifier


def resolve_usgs_country(name: str) -> str:
    """USGS country name → ISO3, with the two aggregate rows and combined rows handled explicitly."""
    low = name.lower()
    if low.startswith("world total"):
        return WORLD
    if low.startswith("other countries"):
        return OTHER_COUNTRIES
    if _MULTI_COUNTRY.search(low) and low not in _SINGLE_NAMES_WITH_AND:
        # e.g. "United States and Canada": one figure for two countries cannot be given one ISO3 code, and
        # splitting it would invent data. No in-scope series has such a row; an unmapped one must fail.
        raise UnknownCountryError(f"{name} (combined multi-country row)")
    return resolve_country(name)


_SINGLE_NAMES_WITH_AND = frozenset(
    {"trinidad and tobago", "bosnia and herzegovina", "antigua and barbuda", "saint kitts and nevis"}
)


def _resolve_cell(raw: str) -> tuple[str, str]:
    """The whole cell first ("Congo (Kinshasa)" is a name, not "Congo" + qualifier), then name + qualifier."""
    whole = raw.replace("\u00a0", " ").strip()
    if whole.lower().startswith(("world total", "other countries")):
        return resolve_usgs_country(whole), split_country(whole)[1]
    try:
        return resolve_usgs_country(whole), ""
    except UnknownCountryError:
        name, qualifier = split_country(whole)
        if name == whole:
            raise
        return resolve_usgs_country(name), qualifier


def resolve_countries(frame: pl.DataFrame, column: str, file: str, *, label: str) -> pl.DataFrame:
    """Add ``country`` (ISO3), ``country_raw`` and ``country_note`` from ``column`` (resolved per distinct name)."""
    names: dict[str, tuple[str, str]] = {}
    for raw in frame[column].unique().to_list():
        try:
            names[raw] = _resolve_cell(raw)
        except UnknownCountryError as exc:
            first = frame.filter(pl.col(column) == raw)["_row"][0]
            raise DataFormatError(file, exc.message, row=int(first), column=label) from None
    lookup = pl.DataFrame(
        {
            column: list(names),
            "country": [v[0] for v in names.values()],
            "country_note": [v[1] for v in names.values()],
        },
        schema={column: pl.String, "country": pl.String, "country_note": pl.String},
    )
    return frame.join(lookup, on=column, how="left").with_columns(
        pl.col(column).str.replace_all("\u00a0", " ").str.strip_chars().alias("country_raw")
    )


def join_notes(*parts: pl.Expr) -> pl.Expr:
    """Concatenate non-empty note parts with " -- " (the separator USGS itself uses); empty → NULL."""
    cleaned = [pl.when(p.str.strip_chars() == "").then(None).otherwise(p.str.strip_chars()) for p in parts]
    joined = pl.concat_str(cleaned, separator=" -- ", ignore_nulls=True)
    return pl.when(joined == "").then(None).otherwise(joined)


def check_unique(frame: pl.DataFrame, keys: Sequence[str], file: str) -> None:
    """Two values for one (series, country, year) would be double-counted by indicators: reject them."""
    dup = frame.filter(pl.struct(keys).is_duplicated())
    if dup.height:
        row = dup.sort("_row").row(1, named=True) if dup.height > 1 else dup.row(0, named=True)
        what = ", ".join(f"{k}={row[k]!r}" for k in keys)
        raise DataFormatError(file, f"duplicate value for {what}", row=int(row["_row"]), column="Country")


def mark_estimated(frame: pl.DataFrame, estimated: pl.Expr) -> pl.DataFrame:
    """A number the source labels as estimated gets flag ``e`` unless it already carries a stronger flag."""
    return frame.with_columns(
        pl.when(pl.col("flag").is_null() & pl.col("quantity").is_not_null() & estimated)
        .then(pl.lit(Flag.ESTIMATED.value))
        .otherwise(pl.col("flag"))
        .alias("flag")
    )
