"""Mass units as the parsers store them, and their factor to metric tons (t).

Only mass units are listed: anything else (million cubic metres of helium, percent, carats …) has no factor, and
a caller that needs tonnes must treat such a quantity as not convertible rather than guess.
"""

from __future__ import annotations

import polars as pl

#: unit label (lower case, as stored in the canonical tables) → metric tons per unit.
TONNES_PER_UNIT: dict[str, float] = {
    "metric tons": 1.0,
    "metric dry tons": 1.0,
    "t": 1.0,
    "tonnes": 1.0,
    "kilograms": 1e-3,
    "kg": 1e-3,
    "kt": 1e3,
    "thousand metric tons": 1e3,
    "thousand metric dry tons": 1e3,
    "million metric tons": 1e6,
}


def tonnes_factor(unit: str | None) -> float | None:
    """Metric tons per ``unit``, or None when the unit is not a mass unit this module knows."""
    if unit is None:
        return None
    return TONNES_PER_UNIT.get(unit.strip().lower())


def to_tonnes(quantity: pl.Expr, unit: pl.Expr) -> pl.Expr:
    """``quantity`` converted to metric tons; NULL where the unit is not a known mass unit."""
    factor = (
        unit.str.strip_chars()
        .str.to_lowercase()
        .replace_strict(TONNES_PER_UNIT, default=None, return_dtype=pl.Float64)
    )
    return quantity * factor
