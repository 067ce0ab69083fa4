"""Typed data-quality flags and the number parser that produces them.

A flag is kept next to a (possibly missing) value and is never turned into a number:

=========  ======================================================
``W``      withheld to avoid disclosing company proprietary data
``e``      estimated
``NA``     not available
``>``      lower bound (value is the bound)
``<``      upper bound (value is the bound)
``r``      revised
``XX``     not applicable / zero not meaningful (USGS "XX")
``--``     none / negligible as printed by the source (value NULL)
=========  ======================================================
"""

from __future__ import annotations

import re
from enum import StrEnum

from lodeline.errors import DataFormatError


class Flag(StrEnum):
    WITHHELD = "W"
    ESTIMATED = "e"
    NOT_AVAILABLE = "NA"
    LOWER_BOUND = ">"
    UPPER_BOUND = "<"
    REVISED = "r"
    NOT_APPLICABLE = "XX"
    NEGLIGIBLE = "--"


_MISSING = {
    "w": Flag.WITHHELD,
    "na": Flag.NOT_AVAILABLE,
    "n/a": Flag.NOT_AVAILABLE,
    "xx": Flag.NOT_APPLICABLE,
    "--": Flag.NEGLIGIBLE,
    "—": Flag.NEGLIGIBLE,
    "-": Flag.NEGLIGIBLE,
}
_NUMBER = re.compile(
    r"^(?P<bound>[<>])?\s*(?P<num>-?\d[\d,]*(?:\.\d+)?|-?\.\d+)\s*(?P<suffix>e|r|\(e\)|\(r\))?$"
)


def parse_flagged_number(
    raw: object, *, file: str, row: int, column: str, allow_negative: bool = False
) -> tuple[float | None, str | None]:
    """Parse a source cell into (value, flag). Empty → (None, None). Unparseable → DataFormatError."""
    if raw is None:
        return None, None
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        value = float(raw)
        if value < 0 and not allow_negative:
            raise DataFormatError(file, f"negative quantity {raw}", row=row, column=column)
        return value, None
    text = str(raw).strip().replace("\u00a0", " ")
    if not text:
        return None, None
    missing = _MISSING.get(text.lower())
    if missing is not None:
        return None, missing.value
    m = _NUMBER.match(text)
    if m is None:
        raise DataFormatError(file, f"not a number or a known flag: {text!r}", row=row, column=column)
    value = float(m["num"].replace(",", ""))
    if value < 0 and not allow_negative:
        raise DataFormatError(file, f"negative quantity {text!r}", row=row, column=column)
    flag: str | None = None
    if m["bound"]:
        flag = m["bound"]
    elif m["suffix"]:
        flag = m["suffix"].strip("()")
    return value, flag
