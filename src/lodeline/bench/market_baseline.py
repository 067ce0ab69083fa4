"""The plain pandas baseline for the market benchmark: the same indicators written with groupby/apply.

Kept deliberately idiomatic-but-plain (what an analyst would write first); its results are checked
against the Polars implementation in tests/integration/test_market_bench.py.
"""

from __future__ import annotations

from typing import Any

SOURCE_PREFERENCE = ("usgs_mcs2026", "usgs_mcs2025", "iea_critical_minerals")


def pandas_indicators(production: Any, trade: Any, alliance: frozenset[str]) -> dict[str, Any]:
    import pandas as pd

    prod = production[(production["is_primary"]) & (production["measure"] == "production")].copy()
    rank = {s: i for i, s in enumerate(SOURCE_PREFERENCE)}
    prod["_rank"] = prod["source"].map(lambda s: rank.get(s, len(rank)))

    def keep_best(group: pd.DataFrame) -> pd.DataFrame:
        best = group.sort_values(["_rank", "source"]).iloc[0]["source"]
        return group[group["source"] == best]

    keys = ["mineral", "stage", "year"]

    def per_group(frame: pd.DataFrame, fn: Any) -> pd.DataFrame:
        # pandas 3 hands apply() each group without its key columns; put them back as columns.
        out = frame.groupby(keys, group_keys=True).apply(fn)
        return out.reset_index(level=list(range(len(keys)))).reset_index(drop=True)

    prod = per_group(prod, keep_best)

    def shares(group: pd.DataFrame) -> pd.DataFrame:
        world = group.loc[group["country"] == "WLD", "quantity"].max()
        rows = group[group["country"] != "WLD"].copy()
        parts = rows["quantity"].sum()
        # the larger of the published (rounded) total and the sum of the rows, as lodeline.market.concentration
        total = max(world, parts) if pd.notna(world) else parts
        rows["share"] = rows["quantity"] / total if total and total > 0 else None
        return rows

    share_frame = per_group(prod, shares)

    def conc(group: pd.DataFrame) -> pd.Series:
        named = group[~group["country"].isin(["WLD", "ROW"]) & group["share"].notna()]
        # ties go to the lower ISO3 code, as in lodeline.market.concentration
        named = named.sort_values(["share", "country"], ascending=[False, True])
        return pd.Series(
            {
                "hhi": float(((named["share"] * 100) ** 2).sum()),
                "top1_share": named["share"].iloc[0] if len(named) else None,
                "top3_share": named["share"].head(3).sum(),
                "top_supplier": named["country"].iloc[0] if len(named) else None,
            }
        )

    conc_frame = share_frame.groupby(["mineral", "stage", "year"]).apply(conc)

    def external(group: pd.DataFrame) -> pd.Series:
        ext = group[~group["country"].isin([*alliance, "WLD", "ROW"]) & group["share"].notna()]
        ext = ext.sort_values(["share", "country"], ascending=[False, True])
        return pd.Series(
            {
                "top_external_supplier": ext["country"].iloc[0] if len(ext) else None,
                "top_external_share": ext["share"].iloc[0] if len(ext) else None,
            }
        )

    dep_prod = share_frame.groupby(["mineral", "stage", "year"]).apply(external)

    imports = trade[trade["importer"].isin(list(alliance)) & (trade["exporter"] != trade["importer"])].copy()
    imports = imports[imports["value_usd"].notna()]
    imports["_c"] = (imports["coverage"] != "complete").astype(int)
    imports = per_group(imports, lambda g: g[g["_c"] == g["_c"].min()])

    def trade_dep(group: pd.DataFrame) -> pd.Series:
        by_origin = group.groupby("exporter")["value_usd"].sum()
        ext = by_origin[~by_origin.index.isin(list(alliance))].sort_values(ascending=False)
        total = ext.sum()  # imports from outside the alliance, as lodeline.market.dependency
        return pd.Series(
            {
                "top_external_supplier": ext.index[0] if len(ext) else None,
                "top_external_share": ext.iloc[0] / total if len(ext) and total else None,
            }
        )

    dep_trade = imports.groupby(["mineral", "stage", "year"]).apply(trade_dep)
    return {
        "shares": share_frame,
        "concentration": conc_frame,
        "dep_production": dep_prod,
        "dep_trade": dep_trade,
    }
