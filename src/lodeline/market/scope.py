"""What a production series measures when it is narrower or wider than the mineral it is filed under.

The IEA publishes some stages for a subset or a superset of the mineral the registry names: refining of the magnet
rare earths only, battery-grade graphite including synthetic graphite. Views that name a figure use
:func:`measured_name`; ratios between stages refuse to divide such a series by the other stage's
(:mod:`lodeline.market.value_creation`).
"""

from __future__ import annotations

import polars as pl

_MAGNET_REE = "Magnet rare earths (Nd, Pr, Tb, Dy)"

#: (mineral, series as the parser stores it) → (name of what is measured, why it differs from the mineral).
SCOPE: dict[tuple[str, str], tuple[str, str]] = {
    ("rare-earths", "Magnet rare earth elements - Refining"): (
        _MAGNET_REE,
        "IEA refining covers the magnet rare earths only (Nd, Pr, Tb, Dy); USGS mining is all rare-earth oxides",
    ),
    ("rare-earths", "Magnet rare earth elements - Mining"): (
        _MAGNET_REE,
        "IEA mining covers the magnet rare earths only (Nd, Pr, Tb, Dy)",
    ),
    ("graphite", "Graphite - Battery grade"): (
        "Battery-grade graphite (natural and synthetic)",
        "battery-grade graphite includes synthetic graphite made from petroleum coke, not from mined graphite",
    ),
}


def _lookup(mineral: pl.Expr, series: pl.Expr, index: int) -> pl.Expr:
    table = {f"{m}\x1f{s}": v[index] for (m, s), v in SCOPE.items()}
    key = mineral + pl.lit("\x1f") + series.fill_null("")
    return key.replace_strict(table, default=None, return_dtype=pl.String)


def scope_note(mineral: pl.Expr, series: pl.Expr) -> pl.Expr:
    """Why the series measures something other than the whole mineral; NULL when it measures the mineral."""
    return _lookup(mineral, series, 1)


def measured_name(mineral: pl.Expr, series: pl.Expr, default: pl.Expr) -> pl.Expr:
    """The name of what the series measures: ``default`` (the mineral's name) unless :data:`SCOPE` says otherwise."""
    return pl.coalesce(_lookup(mineral, series, 0), default)


#: (mineral, stage) → (HS6 code, note) where the traded product is the same material, on the same basis, as the
#: stage's production series, so that production + imports − exports (apparent consumption) adds like with like.
#: Only these get an apparent-consumption dependency; see docs/methods/dependency.md.
SAME_PRODUCT_HS: dict[tuple[str, str], tuple[str, str]] = {
    ("copper", "refining"): (
        "740311",
        "refined copper cathodes (other refined shapes, HS 740319, are not covered)",
    ),
    ("magnesium", "refining"): ("810411", "unwrought magnesium, at least 99.8 % Mg"),
    ("silicon", "refining"): ("280469", "silicon metal, below 99.99 % Si"),
    ("titanium", "refining"): ("810820", "unwrought titanium, including sponge"),
    ("bauxite", "mining"): ("260600", "aluminium ores and concentrates (bauxite), gross weight"),
    ("baryte", "mining"): ("251110", "natural barium sulphate (barytes), gross weight"),
}
