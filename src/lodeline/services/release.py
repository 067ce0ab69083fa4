"""Coordinated release plans for the CLI, the API and the tabletop exercise: pooled stocks + a release rule set run
through a stress-test scenario by the one engine (``lodeline.sim``: its month loop and its HiGHS allocation LP).

Three runs of the same scenario with the pooled stocks: without release (the trigger is read from it), with the
rule set's allocation, and with the optimised allocation under the same pool, caps and lead times (its LP duals say
which constraint binds; for an optimised rule set it is the plan itself). Nothing here reads files or knows HTTP:
the stocks arrive as rows (a CSV file's text is parsed by :func:`stock_rows_from_csv`). Method:
docs/methods/release-plan.md.
"""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine

from lodeline.errors import DataFormatError, InvalidArgumentError, NotFoundError
from lodeline.services import sim as sim_service
from lodeline.services.results import Provenance
from lodeline.sim.engine import DAYS_PER_MONTH
from lodeline.sim.network import SupplyNetwork
from lodeline.sim.run import run_scenario
from lodeline.sim.scenario import Scenario
from lodeline.sim.shaping import NOISE_TOLERANCE, assumptions, clean_value
from lodeline.stockpiles.release import (
    ENGINE_RULE,
    MAX_STOCK_ROWS,
    STOCK_COLUMNS,
    AlertStanding,
    StockRow,
    first_release_month,
    parse_stock_rows,
    plan_rows,
    pool_stocks,
    release_gate,
    trigger_month,
)
from lodeline.stockpiles.release_rules import (
    ReleaseRules,
    ReleaseRulesError,
    bundled,
    bundled_rules,
    parse_rules,
    rules_from_text,
)

METHOD = "docs/methods/release-plan.md"
PLACEHOLDER_NOTE = (
    "PLACEHOLDER ASSUMPTION: no stocks given, so the scenario's own stocks (sim/data/stockpile_assumptions.csv or the "
    "inline network) are pooled, taken as public strategic stock"
)


def alert_standing(engine: Engine | None, mineral: str) -> AlertStanding | None:
    """The mineral's recorded alert that is not closed, read from the alert lifecycle (None: there is none)."""
    from lodeline.services import alert_lifecycle
    from lodeline.store.engine import get_engine

    row = alert_lifecycle.current_alerts(engine if engine is not None else get_engine()).get(mineral)
    if row is None:
        return None
    as_of = row["as_of"]
    return AlertStanding(
        mineral=mineral,
        alert_id=int(row["id"]),
        state=str(row["state"]),
        level=str(row["current_level"]),
        peak_level=str(row["level"]),
        as_of=as_of.isoformat() if hasattr(as_of, "isoformat") else str(as_of),
    )


def list_rules() -> list[dict[str, Any]]:
    """The bundled example rule sets: name, title, trigger, allocation."""
    out = []
    for name, text in bundled_rules().items():
        r = rules_from_text(text, f"rules:{name}")
        out.append({"name": name, "title": r.name, "trigger": r.trigger.kind, "allocation": r.allocation})
    return out


def rules_named(name: str) -> ReleaseRules:
    """A bundled rule set by name (404 naming the known ones)."""
    return bundled(name)


def stock_rows_from_csv(text: str, where: str) -> list[StockRow]:
    """A stocks CSV (``member,mineral,tonnes[,holder_type]``, header first) validated row by row."""
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    try:
        header = reader.fieldnames or []
        missing = [c for c in STOCK_COLUMNS if c not in header]
        if missing:
            shown = ", ".join(h[:40] for h in header[:12]) + (", …" if len(header) > 12 else "")
            raise DataFormatError(
                where, f"missing column(s) {', '.join(missing)} (header: {shown[:600]})", row=1
            )
        for raw in reader:
            rows.append(raw)
            if len(rows) > MAX_STOCK_ROWS:
                raise DataFormatError(where, f"more than {MAX_STOCK_ROWS:,} stock rows")
    except csv.Error as exc:  # e.g. a field past csv's size limit
        raise DataFormatError(where, f"not a readable CSV file ({exc})") from None
    return parse_stock_rows(rows, where, first_row=2)


def stock_rows_from_submissions(engine: Engine, period: str) -> list[StockRow]:
    """The pooled stocks as the members submitted them for ``period`` (latest version of each submission): the
    secretariat's view, which the operator's CLI has. Contained tonnes where a member gave them, else gross; a
    quantity withheld on security grounds is left out (the plan's assumptions say so)."""
    from lodeline.stockpiles.submission import check_period
    from lodeline.store import stocks as stocks_db

    try:
        period = check_period(period)
    except ValueError as exc:
        raise InvalidArgumentError(f"period: {exc}", period=period) from exc
    rows = stocks_db.latest_rows(engine, period)
    if not rows:
        raise NotFoundError(f"no stockpile submission for {period}", period=period)
    out = []
    for row in rows:
        tonnes = (
            row["quantity_contained_t"]
            if row["quantity_contained_t"] is not None
            else row["quantity_gross_t"]
        )
        if tonnes is not None:
            out.append(StockRow(row["member"], row["mineral"], float(tonnes), row["holder_type"]))
    return out


#: Where a plan's pooled stocks come from (the response's ``basis.kind``).
BASES = ("published", "submissions")


def _published_rows(
    engine: Engine, period: str, net: SupplyNetwork, rules: ReleaseRules
) -> tuple[list[StockRow], list[str]]:
    """The pool as anyone may see it: the PUBLISHED contained tonnes of the scenario's mineral (per holder type the
    rule set pools, or the mineral total), placed at the scenario's consuming members pro rata to their baseline
    demand, since published aggregates do not say who holds what. A suppressed (``:c``) cell is not pooled at
    all (its tonnes are unknown to the caller): the plan says which cells were left out."""
    from lodeline.services import stock_aggregates

    frame = stock_aggregates.published(engine, period, measure="contained").frame
    mine = frame.filter((pl.col("mineral") == net.mineral) & (pl.col("form") == "ALL"))
    idx = np.flatnonzero(np.array(net.members, dtype=bool))
    members = [net.consumers[j] for j in idx]
    demand = net.demand[idx].astype(float)
    weights = demand / demand.sum() if demand.sum() > 0 else np.full(len(members), 1.0 / max(len(members), 1))
    types = rules.pool.holder_types
    cells = (
        mine.filter(pl.col("holder_type") == "ALL")
        if types is None
        else mine.filter(pl.col("holder_type").is_in(list(types)))
    )
    notes = [
        f"basis: published aggregates of {period} (contained tonnes, disclosure-controlled): the published pooled "
        "stock is placed at the scenario's members pro rata to their baseline demand, because the published "
        "table does not attribute stock to members; no member's own figure is used"
    ]
    rows: list[StockRow] = []
    left_out = []
    for cell in cells.iter_rows(named=True):
        holder = None if cell["holder_type"] == "ALL" else cell["holder_type"]
        if cell["tonnes"] is None:
            left_out.append(cell["holder_type"])
            continue
        rows.extend(
            StockRow(m, net.mineral, float(cell["tonnes"]) * float(w), holder or "public_strategic")
            for m, w in zip(members, weights, strict=True)
        )
    if left_out:
        notes.append(
            f"suppressed (:c) cells not pooled: {net.mineral} {', '.join(left_out)} (their tonnes are confidential)"
        )
    if not rows:
        notes.append(f"no published stock of {net.mineral} for {period}: nothing is pooled")
        rows = [StockRow(m, net.mineral, 0.0, "public_strategic") for m in members]
    return rows, notes


def plan_for_period(
    scenario: Scenario,
    where: str,
    rules: ReleaseRules,
    engine: Engine,
    period: str,
    basis: str,
) -> dict[str, Any]:
    """The release plan with the stocks pooled for ``period`` on a ``basis``: ``published`` (the disclosure-
    controlled aggregates, what a member or the public may see) or ``submissions`` (every member's latest
    submission: the secretariat's view). The result's ``basis`` says which was used."""
    if basis not in BASES:
        raise InvalidArgumentError(f"basis: {basis!r} is not one of {', '.join(BASES)}", basis=basis)
    net = sim_service.network(scenario, where, engine)
    if basis == "published":
        rows, notes = _published_rows(engine, period, net, rules)
        description = "published aggregates (contained tonnes; suppressed cells not pooled)"
    else:
        members = {net.consumers[j] for j in np.flatnonzero(np.array(net.members, dtype=bool))}
        submitted = stock_rows_from_submissions(engine, period)
        rows = [r for r in submitted if r.mineral != net.mineral or r.member in members]
        others = sorted({r.member for r in submitted if r.mineral == net.mineral and r.member not in members})
        notes = [
            f"basis: every member's latest submission for {period} (secretariat view; contained, else gross)"
        ]
        if others:
            notes.append(
                f"submitted stocks of members outside the scenario's alliance not pooled: {', '.join(others)}"
            )
        description = "members' submissions (full figures)"
    result = plan(
        scenario,
        where,
        rules,
        rows,
        stocks_where=f"{basis} {period}",
        engine=engine,
        net=net,
    )
    result["notes"] = [*notes, *result["notes"]]
    result["provenance"]["notes"] = [*notes, *result["provenance"]["notes"]]
    result["basis"] = {"kind": basis, "period": period, "description": description}
    return result


def _placeholder_rows(net: SupplyNetwork) -> list[StockRow]:
    return [
        StockRow(c, net.mineral, float(net.stocks[j]), "public_strategic")
        for j, c in enumerate(net.consumers)
        if net.members[j]
    ]


def plan(
    scenario: Scenario,
    where: str,
    rules: ReleaseRules,
    stocks: list[StockRow] | None = None,
    *,
    stocks_where: str = "stocks",
    first_row: int = 2,
    engine: Engine | None = None,
    net: SupplyNetwork | None = None,
) -> dict[str, Any]:
    """The release plan of ``rules`` with the pooled ``stocks`` (None: the scenario's placeholder stocks). An
    ``alert_level`` trigger reads the scenario mineral's recorded alert from the alert lifecycle (``engine``, else
    the configured store); the plan's ``trigger_alert`` is that alert (None: none that is not closed)."""
    net = net if net is not None else sim_service.network(scenario, where, engine)
    idx = np.flatnonzero(np.array(net.members, dtype=bool))
    members = tuple(net.consumers[j] for j in idx)
    notes: list[str] = []
    stocks_given = stocks
    if stocks is None:
        stocks = _placeholder_rows(net)
        notes.append(PLACEHOLDER_NOTE)
    pool = pool_stocks(stocks, net.mineral, members, rules, stocks_where, first_row)
    notes.extend(pool.notes)
    engine_stocks = np.zeros(len(net.consumers))
    engine_rate = np.zeros(len(net.consumers))
    engine_stocks[idx] = pool.drawable
    engine_rate[idx] = pool.rate
    pooled_net = replace(net, stocks=engine_stocks, release_rate=engine_rate)
    months = scenario.horizon_months
    without = run_scenario(pooled_net, scenario, where, rule="none").to_dict()
    baseline = float(net.demand[idx].sum())
    shares = [m["member_shortfall_t"] / baseline if baseline > 0 else 0.0 for m in without["monthly"]]
    prices = [m["price_multiple"] for m in without["monthly"]]
    standing = alert_standing(engine, net.mineral) if rules.trigger.kind == "alert_level" else None
    start, reason = trigger_month(rules.trigger, shares, prices, net.mineral, standing)
    first = first_release_month(start, pool.lead_months, months)
    gate = release_gate(first)
    with_release = run_scenario(
        pooled_net, scenario, where, rule=ENGINE_RULE[rules.allocation], release_at=gate
    ).to_dict()
    optimised = (
        with_release
        if rules.allocation == "optimised"
        else run_scenario(pooled_net, scenario, where, rule="optimised", release_at=gate).to_dict()
    )

    def per_member(report: dict[str, Any], key: str) -> np.ndarray:
        by = {r["country"]: r for r in report["members"]}
        return np.array([float(by[m][key]) for m in members])

    rows = plan_rows(
        pool,
        first,
        months,
        net.demand[idx],
        DAYS_PER_MONTH,
        per_member(with_release, "stock_draw_t"),
        per_member(without, "shortfall_t"),
        per_member(with_release, "shortfall_t"),
        per_member(optimised, "shortfall_t"),
    )
    monthly = [
        {
            "month": m["month"],
            "member": c,
            "release_t": m["by_member"][c]["stock_draw_t"],
            "shortfall_t": m["by_member"][c]["shortfall_t"],
            "stock_end_t": m["by_member"][c]["stock_end_t"],
        }
        for m in with_release["monthly"]
        for c in members
    ]
    totals = {
        k: float(sum(float(r[k]) for r in rows))
        for k in (
            "stock_t",
            "pooled_t",
            "releasable_t",
            "release_t",
            "shortfall_without_release_t",
            "shortfall_with_release_t",
            "shortfall_avoided_t",
            "shortfall_optimised_t",
        )
    }
    all_notes = [*notes, reason, *net.notes]
    result = {
        "scenario": scenario.name,
        "mineral": net.mineral,
        "months": months,
        "rules": rules.model_dump(mode="json"),
        "allocation": rules.allocation,
        "triggered": start is not None,
        "trigger_month": None if start is None else start + 1,
        "trigger_reason": reason,
        "trigger_alert": None if standing is None else standing.to_dict(),
        "members": rows,
        "totals": totals,
        "monthly": monthly,
        "duals": optimised["duals"],
        "duals_of": "the optimised allocation (HiGHS LP) under the same pool, caps and lead times",
        "lp_max_abs_diff": optimised["lp_max_abs_diff"],
        "price_multiple_max": {
            "without_release": without["price_multiple_max"],
            "with_release": with_release["price_multiple_max"],
        },
        "notes": all_notes,
        "assumptions": assumptions(all_notes),
        "noise_tolerance": NOISE_TOLERANCE,
        "method": METHOD,
        "basis": {
            "kind": "placeholder" if stocks_given is None else "given",
            "period": None,
            "description": "the scenario's placeholder stocks"
            if stocks_given is None
            else f"stock rows given by the caller ({stocks_where})",
        },
    }
    sources = sim_service.provenance(scenario, all_notes, engine).sources
    result["provenance"] = Provenance(sources=sources, method=METHOD, unit="t", notes=all_notes).to_dict()
    return dict(clean_value(result))


def plan_for_exercise(
    net: SupplyNetwork,
    scenario: Scenario,
    where: str,
    rules_spec: str | dict[str, Any],
    stocks: list[dict[str, Any]] | None,
    engine: Engine | None = None,
) -> dict[str, Any]:
    """The release plan an exercise script asks for (``release_rules`` by name or inline, optional ``stocks`` rows);
    errors name the script's field (``release_rules.trigger``) or stock row."""
    if isinstance(rules_spec, str):
        if rules_spec not in bundled_rules():
            known = ", ".join(bundled_rules())
            raise ReleaseRulesError(
                where, "release_rules", f"no bundled rule set {rules_spec!r} (bundled: {known})"
            )
        rules = bundled(rules_spec)
    else:
        try:
            rules = parse_rules(rules_spec, where)
        except ReleaseRulesError as exc:
            raise ReleaseRulesError(where, f"release_rules.{exc.field}", str(exc.details["reason"])) from None
    rows = None if stocks is None else parse_stock_rows(stocks, f"{where}: stocks", first_row=1)
    return plan(
        scenario, where, rules, rows, stocks_where=f"{where}: stocks", first_row=1, engine=engine, net=net
    )
