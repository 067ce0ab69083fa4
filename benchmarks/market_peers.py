"""The market benchmark's indicator set, computed three ways over the same in-memory tables, and the equality check.

The indicator set (what ``bench_market`` times on every side), per mineral × stage × year:

* ``shares``: each country's share of the preferred primary production series (one source per group: the newest
  USGS edition, then the IEA, then alphabetical), over max(published world total, sum of the reported rows);
* ``concentration``: HHI (0–10,000), top-1 and top-3 shares, top supplier (ties: lower ISO3 code) and number of
  named suppliers, over named countries with a known share;
* ``production_dependency``: the alliance's own share of world production (NULL where part of the output is not
  attributed to a country and no member is named) and the largest non-member producer with its share;
* ``trade_value`` / ``trade_quantity``: the alliance's imports (USD / t) with complete bilateral coverage where a
  year has it, else the top-6 series: total, imports from outside the alliance, the members' share, and the
  largest non-member exporter with its share of the imports from outside.

Implementations: Lodeline (:func:`lodeline_core`: the package's own functions, Polars), pandas written as a
competent user would (:func:`pandas_core`: boolean masks, ``groupby(...).agg``/``transform``, sort + first row per
group; no Python function per group), and DuckDB SQL over the same tables registered as Arrow
(:func:`duckdb_core`). :func:`check_equal` compares them (sorted by key, strings exactly, floats within 1e-9
relative, NULLs in the same places) and raises :class:`MarketBaselineMismatch` on any difference.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from lodeline.market.concentration import concentration, supply_shares
from lodeline.market.dependency import production_dependency, trade_dependency
from lodeline.market.series import SOURCE_PREFERENCE, primary_series

KEYS = ["mineral", "stage", "year"]
#: Columns compared per indicator (after the keys).
COLUMNS: dict[str, list[str]] = {
    "shares": ["country", "share"],
    "concentration": ["hhi", "top1_share", "top3_share", "top_supplier", "n_countries"],
    "production_dependency": ["alliance_share", "top_external_supplier", "top_external_share"],
    "trade_value": ["alliance_supply", "denominator", "alliance_share", "top_external_supplier", "top_external_share"],
    "trade_quantity": ["alliance_supply", "denominator", "alliance_share", "top_external_supplier", "top_external_share"],
}  # fmt: skip
#: Sort keys per indicator (shares have one row per country).
SORT = {name: [*KEYS, "country"] if name == "shares" else KEYS for name in COLUMNS}
RTOL = 1e-9
#: Below this, output not attributed to a country is rounding noise (lodeline.market.dependency._ROUNDING).
ROUNDING = 1e-9
NEGLIGIBLE = r"^(?:--|XX)(?:;|$)"


class MarketBaselineMismatch(RuntimeError):
    """Two implementations disagree: a speed ratio between them would compare different work."""


# --- Lodeline ---------------------------------------------------------------------------------------------------


def lodeline_core(production: pl.DataFrame, trade: pl.DataFrame, alliance: frozenset[str]) -> dict[str, Any]:
    """The indicator set through Lodeline's own functions (as ``compute_all`` calls them)."""
    shares = supply_shares(primary_series(production))
    return {
        "shares": shares,
        "concentration": concentration(shares),
        "production_dependency": production_dependency(shares, alliance),
        "trade_value": trade_dependency(trade, alliance, measure="value_usd"),
        "trade_quantity": trade_dependency(
            trade.filter(pl.col("quantity_t").is_not_null()), alliance, measure="quantity_t"
        ),
    }


# --- pandas -----------------------------------------------------------------------------------------------------


def _first_per_group(
    frame: pd.DataFrame, by: list[str], order: list[str], ascending: list[bool]
) -> pd.DataFrame:
    """The first row of each group after sorting: sort once, keep the first of each key (vectorised)."""
    return frame.sort_values([*by, *order], ascending=[True] * len(by) + ascending).drop_duplicates(by)


def pandas_shares(production: pd.DataFrame) -> pd.DataFrame:
    rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    prod = production[production["is_primary"] & (production["measure"] == "production")]
    prod = prod.assign(_rank=prod["source"].map(rank).fillna(len(rank)))
    best = _first_per_group(prod, KEYS, ["_rank", "source"], [True, True])[[*KEYS, "source"]]
    prod = prod.merge(best, on=[*KEYS, "source"])
    is_world = prod["country"] == "WLD"
    world = prod[is_world].groupby(KEYS)["quantity"].max().rename("_world")
    rows = prod[~is_world]
    summed = rows.groupby(KEYS)["quantity"].sum().rename("_sum")
    rows = rows.join(summed, on=KEYS).join(world, on=KEYS)
    total = rows[["_world", "_sum"]].max(axis=1)
    return rows.assign(total=total, share=(rows["quantity"] / total).where(total > 0))[
        [*KEYS, "country", "quantity", "flag", "total", "share"]
    ]


def pandas_concentration(shares: pd.DataFrame) -> pd.DataFrame:
    named = shares[~shares["country"].isin(["WLD", "ROW"]) & shares["share"].notna()]
    named = named.assign(_sq=(named["share"] * 100) ** 2)
    ranked = named.sort_values([*KEYS, "share", "country"], ascending=[True, True, True, False, True])
    grouped = ranked.groupby(KEYS)
    out = grouped.agg(
        hhi=("_sq", "sum"),
        top1_share=("share", "first"),
        top_supplier=("country", "first"),
        n_countries=("share", "size"),
    )
    out["top3_share"] = grouped.head(3).groupby(KEYS)["share"].sum()
    return out.reset_index()


def pandas_production_dependency(shares: pd.DataFrame, alliance: frozenset[str]) -> pd.DataFrame:
    member = shares["country"].isin(list(alliance))
    is_row = shares["country"] == "ROW"
    negligible = shares["flag"].fillna("").str.contains(NEGLIGIBLE)
    frame = shares.assign(
        _row_share=shares["share"].where(is_row),
        _member_share=shares["share"].where(member),
        _member=member,
        _withheld=shares["share"].isna() & ~negligible & (member | is_row),
    )
    unattributed = frame.groupby(KEYS).agg(
        _other=("_row_share", "sum"), _known=("share", "sum"), _withheld=("_withheld", "any")
    )
    valid = frame[frame["share"].notna()]
    out = valid.groupby(KEYS).agg(_named=("_member_share", "sum"), _n_members=("_member", "sum"))
    out = out.join(unattributed)
    partial = ((out["_other"] + (1 - out["_known"]).clip(lower=0)) > ROUNDING) | out["_withheld"]
    out["alliance_share"] = out["_named"].where(~(partial & (out["_n_members"] == 0)))
    external = valid[~valid["_member"] & ~valid["country"].isin(["WLD", "ROW"])]
    top = _first_per_group(external, KEYS, ["share", "country"], [False, True]).set_index(KEYS)
    out = out.join(top[["country", "share"]].rename(columns={"country": "top_external_supplier", "share": "top_external_share"}))  # fmt: skip
    return out.reset_index()


def pandas_trade_dependency(trade: pd.DataFrame, alliance: frozenset[str], measure: str) -> pd.DataFrame:
    members = list(alliance)
    imports = trade[
        trade["importer"].isin(members) & (trade["exporter"] != trade["importer"]) & trade[measure].notna()
    ]
    truncated = (imports["coverage"] != "complete").astype(int)
    imports = imports[truncated == truncated.groupby([imports[k] for k in KEYS]).transform("min")]
    by_origin = imports.groupby([*KEYS, "exporter", "coverage", "source"], as_index=False)[measure].sum()
    by_origin = by_origin.rename(columns={measure: "q"})
    from_member = by_origin["exporter"].isin(members)
    by_origin = by_origin.assign(
        _member_q=by_origin["q"].where(from_member, 0.0), _external_q=by_origin["q"].where(~from_member, 0.0)
    )
    out = by_origin.groupby(KEYS).agg(
        alliance_supply=("q", "sum"), denominator=("_external_q", "sum"), _member_q=("_member_q", "sum")
    )
    out["alliance_share"] = out["_member_q"] / out["alliance_supply"]
    top = _first_per_group(by_origin[~from_member], KEYS, ["q", "exporter"], [False, True]).set_index(KEYS)
    out = out.join(top[["exporter", "q"]].rename(columns={"exporter": "top_external_supplier"}))
    out["top_external_share"] = (out["q"] / out["denominator"]).where(out["denominator"] > 0)
    return out.reset_index()


def pandas_core(production: pd.DataFrame, trade: pd.DataFrame, alliance: frozenset[str]) -> dict[str, Any]:
    shares = pandas_shares(production)
    return {
        "shares": shares,
        "concentration": pandas_concentration(shares),
        "production_dependency": pandas_production_dependency(shares, alliance),
        "trade_value": pandas_trade_dependency(trade, alliance, "value_usd"),
        "trade_quantity": pandas_trade_dependency(trade, alliance, "quantity_t"),
    }


# --- DuckDB -----------------------------------------------------------------------------------------------------

_RANK_SQL = " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SOURCE_PREFERENCE))
_K = "mineral, stage, year"

SHARES_SQL = f"""
CREATE OR REPLACE TEMP TABLE shares AS
WITH p AS (
    SELECT *, COALESCE(CASE source {_RANK_SQL} END, {len(SOURCE_PREFERENCE)}) AS _rank
    FROM production WHERE is_primary AND measure = 'production'
), best AS (
    SELECT {_K}, first(source ORDER BY _rank, source) AS _best FROM p GROUP BY {_K}
), prim AS (
    SELECT p.* FROM p JOIN best USING ({_K}) WHERE p.source = best._best
), world AS (
    SELECT {_K}, max(quantity) AS _world FROM prim WHERE country = 'WLD' GROUP BY {_K}
), rows AS (
    SELECT *, COALESCE(sum(quantity) OVER (PARTITION BY {_K}), 0) AS _sum FROM prim WHERE country <> 'WLD'
)
SELECT {_K}, country, quantity, flag, greatest(_world, _sum) AS total,
       CASE WHEN greatest(_world, _sum) > 0 THEN quantity / greatest(_world, _sum) END AS share
FROM rows LEFT JOIN world USING ({_K})
"""

CONCENTRATION_SQL = f"""
WITH r AS (
    SELECT *, row_number() OVER (PARTITION BY {_K} ORDER BY share DESC, country) AS rn
    FROM shares WHERE country NOT IN ('WLD', 'ROW') AND share IS NOT NULL
)
SELECT {_K}, sum(pow(share * 100, 2)) AS hhi, max(share) AS top1_share,
       sum(share) FILTER (WHERE rn <= 3) AS top3_share, any_value(country) FILTER (WHERE rn = 1) AS top_supplier,
       count(*) AS n_countries
FROM r GROUP BY {_K}
"""

PRODUCTION_DEPENDENCY_SQL = f"""
WITH s AS (
    SELECT *, list_contains($members, country) AS member,
           regexp_matches(COALESCE(flag, ''), '{NEGLIGIBLE}') AS negligible
    FROM shares
), unattributed AS (
    SELECT {_K}, COALESCE(sum(share) FILTER (WHERE country = 'ROW'), 0) AS _other,
           COALESCE(sum(share), 0) AS _known,
           COALESCE(bool_or(share IS NULL AND NOT negligible AND (member OR country = 'ROW')), false) AS _withheld
    FROM s GROUP BY {_K}
), alliance AS (
    SELECT {_K}, COALESCE(sum(share) FILTER (WHERE member), 0) AS _named,
           count(*) FILTER (WHERE member) AS _n_members
    FROM s WHERE share IS NOT NULL GROUP BY {_K}
), external AS (
    SELECT {_K}, first(country ORDER BY share DESC, country) AS top_external_supplier,
           max(share) AS top_external_share
    FROM s WHERE share IS NOT NULL AND NOT member AND country NOT IN ('WLD', 'ROW') GROUP BY {_K}
)
SELECT {_K},
       CASE WHEN ((_other + greatest(1 - _known, 0)) > {ROUNDING} OR _withheld) AND _n_members = 0 THEN NULL
            ELSE _named END AS alliance_share,
       top_external_supplier, top_external_share
FROM alliance LEFT JOIN unattributed USING ({_K}) LEFT JOIN external USING ({_K})
"""


def trade_dependency_sql(measure: str) -> str:
    if measure not in ("value_usd", "quantity_t"):
        raise ValueError(f"measure must be value_usd or quantity_t, not {measure!r}")
    return f"""
WITH t AS (
    SELECT *, CASE WHEN coverage = 'complete' THEN 0 ELSE 1 END AS _c FROM trade
    WHERE list_contains($members, importer) AND exporter <> importer AND {measure} IS NOT NULL
), best AS (
    SELECT * FROM t QUALIFY _c = min(_c) OVER (PARTITION BY {_K})
), by_origin AS (
    SELECT {_K}, exporter, coverage, source, sum({measure}) AS q, list_contains($members, exporter) AS from_member
    FROM best GROUP BY ALL
), totals AS (
    SELECT {_K}, sum(q) AS alliance_supply, COALESCE(sum(q) FILTER (WHERE NOT from_member), 0) AS denominator,
           COALESCE(sum(q) FILTER (WHERE from_member), 0) / sum(q) AS alliance_share
    FROM by_origin GROUP BY {_K}
), external AS (
    SELECT {_K}, first(exporter ORDER BY q DESC, exporter) AS top_external_supplier, max(q) AS _top
    FROM by_origin WHERE NOT from_member GROUP BY {_K}
)
SELECT totals.*, top_external_supplier,
       CASE WHEN denominator > 0 THEN _top / denominator END AS top_external_share
FROM totals LEFT JOIN external USING ({_K})
"""


def duckdb_core(con: Any, alliance: frozenset[str]) -> dict[str, Any]:
    """The indicator set in DuckDB SQL over the tables registered on ``con`` as ``production`` and ``trade``;
    results are fetched as Arrow tables."""
    params = {"members": sorted(alliance)}
    con.execute(SHARES_SQL)
    return {
        "shares": con.sql("SELECT * FROM shares").to_arrow_table(),
        "concentration": con.sql(CONCENTRATION_SQL).to_arrow_table(),
        "production_dependency": con.sql(PRODUCTION_DEPENDENCY_SQL, params=params).to_arrow_table(),
        "trade_value": con.sql(trade_dependency_sql("value_usd"), params=params).to_arrow_table(),
        "trade_quantity": con.sql(trade_dependency_sql("quantity_t"), params=params).to_arrow_table(),
    }


def duckdb_connection(production: pl.DataFrame, trade: pl.DataFrame) -> Any:
    """An in-memory DuckDB with the two tables registered (zero-copy Arrow views of the Polars frames)."""
    import duckdb

    con = duckdb.connect()
    con.register("production", production.to_arrow())
    con.register("trade", trade.to_arrow())
    return con


# --- equality ---------------------------------------------------------------------------------------------------


def _normalised(frame: Any, name: str) -> pd.DataFrame:
    if isinstance(frame, pl.DataFrame) or not isinstance(frame, pd.DataFrame):
        frame = frame.to_pandas()
    cols = [*KEYS, *[c for c in COLUMNS[name] if c not in KEYS]]
    return frame[cols].sort_values(SORT[name]).reset_index(drop=True)


def _mismatch(name: str, column: str, ours: pd.DataFrame, where: np.ndarray, a: Any, b: Any) -> str:
    i = int(np.flatnonzero(where)[0])
    key = ", ".join(str(ours.loc[i, k]) for k in SORT[name])
    return f"{name}.{column} differs at ({key}): {a[i]!r} vs {b[i]!r} ({int(where.sum())} rows)"


def compare(name: str, reference: Any, other: Any, label: str) -> int:
    """Raise :class:`MarketBaselineMismatch` unless ``other`` equals ``reference``; return the row count."""
    ours, theirs = _normalised(reference, name), _normalised(other, name)
    if len(ours) != len(theirs):
        raise MarketBaselineMismatch(f"{label}: {name} has {len(theirs)} rows, Lodeline {len(ours)}")
    for column in ours.columns:
        a, b = ours[column].to_numpy(dtype=object), theirs[column].to_numpy(dtype=object)
        null_a, null_b = pd.isna(ours[column]).to_numpy(), pd.isna(theirs[column]).to_numpy()
        bad = null_a != null_b
        both = ~null_a & ~null_b
        if (
            pd.api.types.is_float_dtype(ours[column])
            or column in ("share", "hhi")
            or column.endswith("_share")
        ):
            x, y = a[both].astype(float), b[both].astype(float)
            bad[both] = ~np.isclose(x, y, rtol=RTOL, atol=0.0)
        else:
            bad[both] = np.array(
                [str(u) != str(v) for u, v in zip(a[both], b[both], strict=True)], dtype=bool
            )
        if bad.any():
            raise MarketBaselineMismatch(f"{label}: " + _mismatch(name, column, ours, bad, a, b))
    return len(ours)


def check_equal(reference: dict[str, Any], **others: dict[str, Any]) -> dict[str, int]:
    """Every indicator of every other implementation against Lodeline's; rows compared per indicator."""
    rows: dict[str, int] = {}
    for label, result in others.items():
        for name in COLUMNS:
            rows[name] = compare(name, reference[name], result[name], label)
    return rows
