"""World Bank Worldwide Governance Indicators (2024 update) → ``governance``.

Reads ``wgidataset.csv`` (long format: one row per economy × year × indicator). ``estimate`` is the WGI score
(about -2.5 … 2.5) and ``pct_rank`` the percentile rank (0–100). The World Bank's missing markers (".." in this
file, "#N/A" in some exports) become NULL with flag ``NA``; they are never read as zero.

World Bank economy codes that are not ISO 3166-1 alpha-3 are mapped explicitly (``WB_CODES``). The former
Netherlands Antilles (``ANT``, dissolved 2010) has no ISO 3166-1 code and no apportionable successor, so its
rows are excluded on purpose (``EXCLUDED_CODES``); any other unknown code is an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from lodeline.data.catalog import DatasetSpec
from lodeline.data.flags import Flag
from lodeline.data.sources import _files
from lodeline.domain.countries import countries
from lodeline.errors import DataFormatError

FILE = "wgidataset.csv"
SOURCE_ID = "wgi"
EDITION = "2024 update (data 1996-2023)"
HEADER = (
    "codeindyr",
    "code",
    "countryname",
    "year",
    "indicator",
    "estimate",
    "stddev",
    "nsource",
    "pctrank",
    "pctranklower",
    "pctrankupper",
)
INDICATORS = frozenset({"va", "pv", "ge", "rq", "rl", "cc"})
MISSING_MARKERS = frozenset({"..", "#N/A", "#n/a"})

#: World Bank economy code → ISO 3166-1 alpha-3 (or Lodeline's XKX for Kosovo).
WB_CODES = {
    "ROM": "ROU",  # Romania (pre-2002 UN code still used by the WB)
    "ZAR": "COD",  # Congo, Dem. Rep. (former Zaire)
    "TMP": "TLS",  # Timor-Leste (former East Timor code)
    "ADO": "AND",  # Andorra
    "KSV": "XKX",  # Kosovo (no ISO code; XKX is the widely used user-assigned code)
    "WBG": "PSE",  # West Bank and Gaza → ISO "Palestine, State of"
}
#: Codes excluded on purpose, with the reason (documented in docs/data-sources.md).
EXCLUDED_CODES = {
    "ANT": "Netherlands Antilles, dissolved 2010; no ISO 3166-1 code and no apportionable successor"
}


def _value(raw: str, *, file: str, row: int, column: str) -> tuple[float | None, bool]:
    text = raw.strip()
    if text in MISSING_MARKERS or not text:
        return None, True
    value, flag = _files.number(
        text, file=file, row=row, column=column, allow_negative=(column == "estimate")
    )
    if flag is not None:
        raise DataFormatError(
            file, f"unexpected flag {flag!r} in a WGI value {raw!r}", row=row, column=column
        )
    return value, False


def parse(folder: Path) -> Mapping[str, pl.DataFrame]:
    file = _files.label(folder, FILE)
    rows = _files.read_csv(folder, FILE, header=HEADER)
    known = countries()
    out: dict[str, list[object]] = {
        k: [] for k in ("country", "year", "indicator", "estimate", "pct_rank", "flag", "_row")
    }
    for r in rows:
        c, line = r.cells, r.line
        code = c["code"].strip()
        if code in EXCLUDED_CODES:
            continue
        iso3 = WB_CODES.get(code, code)
        if iso3 not in known:
            raise DataFormatError(
                file,
                f"World Bank code {code!r} ({c['countryname']!r}) is neither ISO 3166-1 "
                "nor mapped in WB_CODES",
                row=line,
                column="code",
            )
        indicator = c["indicator"].strip()
        if indicator not in INDICATORS:
            raise DataFormatError(file, f"unknown WGI indicator {indicator!r}", row=line, column="indicator")
        estimate, est_missing = _value(c["estimate"], file=file, row=line, column="estimate")
        pct_rank, pct_missing = _value(c["pctrank"], file=file, row=line, column="pctrank")
        if pct_rank is not None and pct_rank > 100:
            raise DataFormatError(file, f"percentile rank above 100: {pct_rank}", row=line, column="pctrank")
        out["country"].append(iso3)
        out["year"].append(_files.year(c["year"], file=file, row=line, column="year"))
        out["indicator"].append(indicator)
        out["estimate"].append(estimate)
        out["pct_rank"].append(pct_rank)
        out["flag"].append(Flag.NOT_AVAILABLE.value if (est_missing or pct_missing) else None)
        out["_row"].append(line)
    frame = pl.DataFrame(
        out, schema_overrides={"estimate": pl.Float64, "pct_rank": pl.Float64, "flag": pl.String}
    )
    return {
        "governance": frame.with_columns(
            source=pl.lit(SOURCE_ID), edition=pl.lit(EDITION), _file=pl.lit(file)
        )
    }


DATASET = DatasetSpec(
    id=SOURCE_ID,
    title="Worldwide Governance Indicators: six dimensions, estimates and percentile ranks, 1996-2023",
    publisher="World Bank (Kaufmann & Kraay); mirrored from github.com/lmorgans/WGIdata",
    edition=EDITION,
    licence="CC BY 4.0 (World Bank open data terms; attribution required)",
    folder="wgi",
    files=(FILE,),
    parse=parse,
)
