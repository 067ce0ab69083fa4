"""Build a mineral's supply network from canonical frames (``production``, ``trade``) — pure, no I/O.

Steps (each documented in docs/methods/stress-test.md):
1. Traded stage T: the stage of the mineral's complete-coverage BACI rows (year Y). Producing stages are
   those up to T with production data; a stage T without production data takes exports as output.
2. Node output per stage: primary ``production`` rows, first source in :data:`SOURCE_PREFERENCE` with
   data for Y, converted to tonnes; ``ROW`` kept as a node, ``WLD`` dropped. Capacity from the same
   source's ``capacity`` rows, else capacity = output (no spare assumed).
3. Trade at T: tonnes × content factor (``data/content_factors.csv``); re-export hubs (exporters with no
   output at T) are passed through to the origins of their imports; each exporter's shipments are capped
   at its output; the rest of a producer's output is domestic use.
4. Flows between producing stages (no ore trade in the bundle): domestic first, the remainder matched
   in proportion to each downstream node's remaining feed need, after scaling by the implied yield.
5. Consumers: alliance members and the largest other consumers individually, the rest as ``ROW``.
   Stocks from ``data/stockpile_assumptions.csv`` (PLACEHOLDER assumptions) for members only.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import polars as pl

from lodeline.domain.countries import OTHER_COUNTRIES, WORLD
from lodeline.errors import InsufficientDataError
from lodeline.sim.network import Array, Stage, SupplyNetwork

STAGES = ("mining", "refining", "component")
SOURCE_PREFERENCE = ("usgs_mcs2026", "usgs_mcs2025", "iea_critical_minerals")
#: Trade of a group code used as the bilateral pattern for a mineral that has no code of its own.
TRADE_PROXY = {"gallium": "gallium-germanium-group", "germanium": "gallium-germanium-group"}
UNIT_TO_TONNES = {
    "metric tons": 1.0,
    "kilograms": 1e-3,
    "kt": 1e3,
    "thousand metric tons": 1e3,
    "thousand metric dry tons": 1e3,
    "million metric tons": 1e6,
}
OTHER_CONSUMERS_KEPT = 10
#: Producers below this share of their stage's output (and not alliance members) are merged into ROW.
MIN_NODE_SHARE = 0.005


@dataclass(frozen=True)
class ContentFactor:
    hs6: str
    mineral: str
    factor: float
    note: str


@lru_cache(maxsize=1)
def content_factors() -> dict[str, ContentFactor]:
    text = resources.files("lodeline.sim").joinpath("data", "content_factors.csv").read_text(encoding="utf-8")
    return {
        r["hs6"]: ContentFactor(r["hs6"], r["mineral"], float(r["factor"]), r["note"])
        for r in csv.DictReader(text.splitlines())
    }


@dataclass(frozen=True)
class StockAssumption:
    days_of_cover: float
    release_months: float
    note: str


@lru_cache(maxsize=1)
def stockpile_assumptions() -> dict[tuple[str, str], StockAssumption]:
    text = (
        resources.files("lodeline.sim")
        .joinpath("data", "stockpile_assumptions.csv")
        .read_text(encoding="utf-8")
    )
    return {
        (r["holder"], r["mineral"]): StockAssumption(
            float(r["days_of_cover"]), float(r["release_months"]), f"{r['status']}: {r['note']}"
        )
        for r in csv.DictReader(text.splitlines())
    }


def stock_for(holder: str, mineral: str) -> StockAssumption:
    table = stockpile_assumptions()
    for key in ((holder, mineral), (holder, "*"), ("*", mineral), ("*", "*")):
        if key in table:
            return table[key]
    return StockAssumption(0.0, 1.0, "no assumption")


def _stage_output(
    production: pl.DataFrame, mineral: str, stage: str, year: int, measure: str, source: str | None = None
) -> tuple[dict[str, float], str | None]:
    rows = production.filter(
        (pl.col("mineral") == mineral)
        & (pl.col("stage") == stage)
        & (pl.col("measure") == measure)
        & (pl.col("year") == year)
        & pl.col("is_primary")
        & pl.col("quantity").is_not_null()
        & (pl.col("country") != WORLD)
    )
    for src in (source,) if source else SOURCE_PREFERENCE:
        part = rows.filter(pl.col("source") == src)
        if part.height == 0:
            continue
        latest = part["edition"].max()
        part = part.filter(pl.col("edition") == latest)
        out: dict[str, float] = {}
        for country, qty, unit in part.select("country", "quantity", "unit").iter_rows():
            if unit not in UNIT_TO_TONNES:
                raise InsufficientDataError(f"{mineral} {stage}: unit {unit!r} has no conversion to tonnes")
            out[country] = out.get(country, 0.0) + float(qty) * UNIT_TO_TONNES[unit]
        if sum(out.values()) > 0:
            return out, src
    return {}, None


def _reexport_pass_through(matrix: Array, names: list[str], producers: set[str], notes: list[str]) -> Array:
    """Give a hub's exports back to the origins of its imports, in proportion to what it imported."""
    out = matrix.copy()
    moved: list[tuple[str, float, str]] = []
    for h, hub in enumerate(names):
        exports = out[h].sum()
        if hub in producers or exports <= 0:
            continue
        imports = out[:, h].copy()
        imports[h] = 0.0
        if imports.sum() <= 0:
            if OTHER_COUNTRIES in names:
                r = names.index(OTHER_COUNTRIES)
                out[r] += out[h]
                moved.append((hub, float(exports), "ROW (no recorded imports)"))
            else:
                moved.append((hub, float(exports), "dropped (no recorded imports)"))
            out[h] = 0.0
            continue
        origin = imports / imports.sum()
        # The hub's exports came from its import origins; what it re-exported is no longer its own use.
        out[:, h] = np.maximum(out[:, h] - origin * min(exports, imports.sum()), 0.0)
        out += np.outer(origin, out[h])
        out[h] = 0.0
        np.fill_diagonal(out, 0.0)
        moved.append((hub, float(exports), "import origins"))
    if moved:
        moved.sort(key=lambda m: -m[1])
        top = "; ".join(f"{h} {t:,.0f} t → {where}" for h, t, where in moved[:6])
        notes.append(
            f"re-export hubs: {len(moved)} non-producing exporters, {sum(m[1] for m in moved):,.0f} t passed "
            f"through (largest: {top})"
        )
    return out


def _match_upstream(
    upstream: Array, up_names: tuple[str, ...], down_need: Array, down_names: tuple[str, ...]
) -> Array:
    """Domestic first, then proportional to remaining need. Σ supply == Σ need by construction."""
    flow = np.zeros((len(up_names), len(down_names)))
    supply = upstream.copy()
    need = down_need.copy()
    for i, c in enumerate(up_names):
        if c in down_names:
            j = down_names.index(c)
            take = min(supply[i], need[j])
            flow[i, j] += take
            supply[i] -= take
            need[j] -= take
    if need.sum() > 0:
        flow += np.outer(supply, need / need.sum())
    return flow


def _small(values: dict[str, float], members: frozenset[str]) -> set[str]:
    total = sum(values.values())
    return {
        c
        for c, v in values.items()
        if c not in members and c != OTHER_COUNTRIES and v < MIN_NODE_SHARE * total
    }


def _merge_small(
    values: dict[str, float], members: frozenset[str], keep: set[str] | None = None
) -> dict[str, float]:
    small = _small(values, members) if keep is None else {c for c in values if c not in keep}
    out: dict[str, float] = {}
    for c, v in values.items():
        key = OTHER_COUNTRIES if c in small else c
        out[key] = out.get(key, 0.0) + v
    return out


def _merge_small_rows(
    nodes: tuple[str, ...], flow: Array, members: frozenset[str], notes: list[str], stage: str
) -> tuple[tuple[str, ...], Array]:
    totals = dict(zip(nodes, flow.sum(axis=1), strict=True))
    small = _small({c: float(v) for c, v in totals.items()}, members)
    if not small:
        return nodes, flow
    kept = tuple(c for c in nodes if c not in small and c != OTHER_COUNTRIES)
    merged = np.zeros((len(kept) + 1, flow.shape[1]))
    for i, c in enumerate(nodes):
        merged[kept.index(c) if c in kept else len(kept)] += flow[i]
    notes.append(f"{stage}: {len(small)} producers below {MIN_NODE_SHARE:.1%} of output merged into ROW")
    return (*kept, OTHER_COUNTRIES), merged


def build_network(
    production: pl.DataFrame,
    trade: pl.DataFrame,
    mineral: str,
    members: frozenset[str],
    year: int | None = None,
    recycled_content: float = 0.0,
) -> SupplyNetwork:
    """The network of ``mineral`` for ``year`` (default: the latest complete trade year)."""
    notes: list[str] = []
    trade_mineral = mineral
    t = trade.filter((pl.col("mineral") == mineral) & (pl.col("coverage") == "complete"))
    if t.height == 0 and mineral in TRADE_PROXY:
        trade_mineral = TRADE_PROXY[mineral]
        t = trade.filter((pl.col("mineral") == trade_mineral) & (pl.col("coverage") == "complete"))
        notes.append(
            f"PROXY: bilateral pattern of {trade_mineral} used for {mineral} (no trade code of its own)"
        )
    if t.height == 0:
        raise InsufficientDataError(
            f"no complete-coverage trade rows for {mineral}: cannot build its network"
        )
    year = year or int(t["year"].max())  # type: ignore[arg-type]
    t = t.filter((pl.col("year") == year) & pl.col("quantity_t").is_not_null())
    if t.height == 0:
        raise InsufficientDataError(f"no {mineral} trade quantities for {year}")
    traded_stage = str(t["stage"].mode().sort()[0])
    stage_names = [s for s in STAGES[: STAGES.index(traded_stage) + 1]]
    outputs: dict[str, dict[str, float]] = {}
    capacity: dict[str, dict[str, float]] = {}
    for s in stage_names:
        out, src = _stage_output(production, mineral, s, year, "production")
        if src is None:
            continue
        cap, _ = _stage_output(production, mineral, s, year, "capacity", src)
        outputs[s], capacity[s] = out, cap
        notes.append(f"{s}: output from {src} ({len(out)} nodes, {sum(out.values()):,.0f} t/yr)")
        if not cap:
            notes.append(f"{s}: no capacity data; capacity = output (no spare)")
    # trade matrix at the traded stage (tonnes of content)
    factors = content_factors()
    frames = []
    for hs6, part in t.group_by("hs6"):
        code = str(hs6[0])
        factor = factors[code].factor if code in factors else 1.0
        if code not in factors:
            notes.append(f"HS {code}: no content factor on file; gross weight used (factor 1.0)")
        frames.append(part.with_columns((pl.col("quantity_t") * factor).alias("content_t")))
    flows_df = pl.concat(frames).group_by("exporter", "importer").agg(pl.col("content_t").sum())
    names = sorted(set(flows_df["exporter"]) | set(flows_df["importer"]) | set(outputs.get(traded_stage, {})))
    pos = {c: i for i, c in enumerate(names)}
    matrix = np.zeros((len(names), len(names)))
    for exp, imp, qty in flows_df.iter_rows():
        if exp != imp:
            matrix[pos[exp], pos[imp]] += qty
    if traded_stage in outputs:
        producers = {c for c, v in outputs[traded_stage].items() if v > 0}
        matrix = _reexport_pass_through(matrix, names, producers, notes)
        stage_out = np.array([outputs[traded_stage].get(c, 0.0) for c in names])
        shipped = matrix.sum(axis=1)
        scale = np.divide(stage_out, shipped, out=np.ones_like(stage_out), where=shipped > stage_out)
        capped = [names[i] for i in np.flatnonzero(scale < 1.0)]
        if capped:
            notes.append(
                f"exports capped at output for {', '.join(capped)} (trade > production after conversion)"
            )
        matrix = matrix * np.minimum(scale, 1.0)[:, None]
    else:
        producers = {names[i] for i in np.flatnonzero(matrix.sum(axis=1) > 0)}
        stage_out = matrix.sum(axis=1)
        outputs[traded_stage] = {c: float(stage_out[pos[c]]) for c in producers}
        capacity[traded_stage] = {}
        notes.append(f"{traded_stage}: no production data; output = recorded exports (domestic use unseen)")
    stage_names = [s for s in stage_names if s in outputs]
    prod_nodes = tuple(sorted(c for c, v in outputs[traded_stage].items() if v > 0))
    domestic = {c: max(outputs[traded_stage][c] - matrix[pos[c]].sum(), 0.0) for c in prod_nodes}
    consumption = matrix.sum(axis=0) + np.array([domestic.get(c, 0.0) for c in names])
    # consumers: members individually, the largest others individually, the rest as ROW
    others = sorted(
        (c for c in names if c not in members and c != OTHER_COUNTRIES and consumption[pos[c]] > 0),
        key=lambda c: -consumption[pos[c]],
    )
    kept = (
        sorted(c for c in names if c in members and consumption[pos[c]] > 0) + others[:OTHER_CONSUMERS_KEPT]
    )
    consumers = (*kept, OTHER_COUNTRIES)
    col = {c: consumers.index(c) if c in kept else len(consumers) - 1 for c in names}
    last_flow = np.zeros((len(prod_nodes), len(consumers)))
    for i, p in enumerate(prod_nodes):
        for j, c in enumerate(names):
            last_flow[i, col[c]] += matrix[pos[p], j]
        last_flow[i, col[p]] += domestic[p]
    # small producers (< MIN_NODE_SHARE of a stage, not members) are merged into one ROW node per stage
    prod_nodes, last_flow = _merge_small_rows(prod_nodes, last_flow, members, notes, traded_stage)
    for s in stage_names:
        outputs[s] = _merge_small(outputs[s], members)
        capacity[s] = _merge_small(capacity[s], members, keep=set(outputs[s]))
    # upstream stages, matched by implied yield
    stages: list[Stage] = []
    flows: list[Array] = []
    ordered = [s for s in stage_names if s != traded_stage] + [traded_stage]
    for s in ordered:
        nodes = prod_nodes if s == traded_stage else tuple(sorted(c for c, v in outputs[s].items() if v > 0))
        monthly_out = (
            last_flow.sum(axis=1) / 12.0
            if s == traded_stage
            else np.array([outputs[s].get(c, 0.0) for c in nodes]) / 12.0
        )
        monthly_cap = np.maximum(np.array([capacity[s].get(c, 0.0) for c in nodes]) / 12.0, monthly_out)
        stages.append(Stage(s, nodes, monthly_out, monthly_cap))
    for k in range(len(stages) - 1):
        up, down = stages[k], stages[k + 1]
        implied_yield = down.output.sum() / up.output.sum()
        notes.append(
            f"{up.name}→{down.name}: no ore/intermediate trade; domestic first, then pro rata; implied "
            f"conversion {implied_yield:.4g} t {down.name} per t {up.name}"
        )
        flows.append(_match_upstream(up.output, up.countries, down.output / implied_yield, down.countries))
    flows.append(last_flow / 12.0)
    demand = flows[-1].sum(axis=0)
    is_member = tuple(c in members for c in consumers)
    stocks = np.zeros(len(consumers))
    rates = np.zeros(len(consumers))
    for j, c in enumerate(consumers):
        if is_member[j]:
            a = stock_for(c, mineral)
            stocks[j] = demand[j] * a.days_of_cover / (365.25 / 12)
            rates[j] = stocks[j] / a.release_months
    notes.append("stocks: " + stock_for("*", mineral).note)
    # Recycling as secondary supply: RC = recycled / (primary + recycled) ⇒ recycled = primary × RC/(1−RC).
    rc = min(max(recycled_content, 0.0), 0.95)
    recycling = demand * rc / (1.0 - rc)
    if rc > 0:
        notes.append(
            f"recycling: recycled content {rc:.3f} (UNEP 2011) added as secondary supply per consumer"
        )
    return SupplyNetwork(
        mineral=mineral,
        year=year,
        stages=tuple(stages),
        flows=tuple(flows),
        consumers=consumers,
        members=is_member,
        recycling=recycling,
        stocks=stocks,
        release_rate=rates,
        notes=tuple(notes),
    )
