"""``lodeline stocks release-plan``: a coordinated release rule set tested against a stress-test scenario.

The ``stocks`` group lives in ``cli/stocks.py``; it calls :func:`register` to add this command. The work is done
by :mod:`lodeline.services.release` (the same service the API and the tabletop exercise call).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.inputs import is_file, read_text, read_yaml
from lodeline.cli.output import Format, check_out_path, emit
from lodeline.errors import InvalidArgumentError
from lodeline.services import release as service
from lodeline.stockpiles.release import StockRow
from lodeline.stockpiles.release_rules import ReleaseRules, ReleaseRulesError, parse_rules

console = Console(stderr=True)
MEMBER_COLUMNS = (
    "member",
    "stock_t",
    "pooled_t",
    "releasable_t",
    "first_release_month",
    "release_t",
    "shortfall_without_release_t",
    "shortfall_with_release_t",
    "shortfall_avoided_t",
    "shortfall_optimised_t",
    "days_of_cover_start",
    "days_of_cover_left",
)


def load_rules(name: str) -> ReleaseRules:
    """A rules file, or a bundled rule set by name (a file of that name wins)."""
    path = Path(name)
    if is_file(path):
        return parse_rules(read_yaml(path, "release rules"), name)
    if name in {str(r["name"]) for r in service.list_rules()}:
        return service.rules_named(name)
    known = ", ".join(str(r["name"]) for r in service.list_rules())
    raise ReleaseRulesError(
        name, "(file)", f"not a file, and no bundled rule set of that name (bundled: {known})"
    )


def release_plan_command(
    scenario: str = typer.Option(
        ..., "--scenario", help="Scenario YAML, or a library name (see `lodeline sim scenarios`)."
    ),
    stocks: Path | None = typer.Option(
        None,
        "--stocks",
        help="CSV of pooled stocks: member,mineral,tonnes[,holder_type]. Default: the scenario's placeholder stocks.",
    ),
    period: str | None = typer.Option(
        None,
        "--period",
        help="Pool the stocks the members submitted for this period (e.g. 2026-Q3) instead of --stocks.",
    ),
    basis: str = typer.Option(
        "published",
        "--basis",
        help="With --period: 'published' (the disclosure-controlled aggregates anyone may see; suppressed cells "
        "are not pooled) or 'submissions' (every member's full figures: the secretariat's view).",
    ),
    rules: str = typer.Option(
        "iea-style",
        "--rules",
        help="Release rules YAML, or a bundled rule set name (iea-style, optimised-exercise, …).",
    ),
    fmt: Format = typer.Option(
        Format.table,
        "--format",
        "-f",
        help="table, csv, json (the whole plan), parquet or xlsx (member rows).",
    ),
    out: Path | None = typer.Option(None, "--out", help="Write to this file instead of stdout."),
) -> None:
    """Each member's release, the shortfall avoided, days of cover left and the LP duals for a scenario."""
    from lodeline.cli.sim import load_scenario

    check_out_path(out)
    scen = load_scenario(scenario)
    rule_set = load_rules(rules)
    if stocks is not None and period is not None:
        raise InvalidArgumentError("give --stocks or --period, not both")
    rows: list[StockRow] | None
    if period is not None:
        from lodeline.store.engine import get_engine

        plan = service.plan_for_period(scen, scenario, rule_set, get_engine(), period, basis)
    else:
        rows = (
            None if stocks is None else service.stock_rows_from_csv(read_text(stocks, "stocks"), str(stocks))
        )
        where = str(stocks or "stocks")
        plan = service.plan(scen, scenario, rule_set, rows, stocks_where=where)
    if fmt is Format.json:
        text = json.dumps(plan, indent=2, default=str) + "\n"
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
        return
    frame = pl.DataFrame(plan["members"]).select(MEMBER_COLUMNS)
    title = f"{rule_set.name} on {plan['scenario']} ({plan['mineral']}, {plan['months']} months)"
    emit(frame, fmt, out=out, title=title, caption=plan["trigger_reason"])
    if fmt is Format.table:
        if plan["duals"]:
            emit(
                pl.DataFrame(plan["duals"]).head(20),
                fmt,
                title="Binding constraints of the optimised allocation: value of one more tonne (first 20)",
            )
        console.print(f"basis: {plan['basis']['kind']}: {plan['basis']['description']}")
        console.print(
            f"trigger: {plan['trigger_reason']}; shortfall avoided {plan['totals']['shortfall_avoided_t']:,.1f} t "
            f"(allocation {plan['allocation']}; optimised under the same rules: "
            f"{plan['totals']['shortfall_optimised_t']:,.1f} t short)"
        )
        for item in plan["assumptions"]:
            console.print(f"[bold]assumption[/] ({item['kind']}): {item['text']}")


def register(app: typer.Typer) -> None:
    """Add ``release-plan`` to the ``stocks`` group (called from ``cli/stocks.py``)."""
    app.command("release-plan")(release_plan_command)
