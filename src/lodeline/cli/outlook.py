"""``lodeline outlook show``: will the pipeline bring the alliance's single-supplier dependency below 60 % by 2030?

The command is also attachable to another group (``register(app)`` adds it as ``outlook``, e.g. to
``lodeline projects``); it only parses options and renders :func:`lodeline.services.outlook.outlook`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from lodeline.cli.output import Format, check_out_path, emit
from lodeline.config import get_settings
from lodeline.services import outlook as svc
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
out_console = Console()
err = Console(stderr=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f} %"


def _print_summary(result: svc.OutlookResult) -> None:
    s = result.summary
    p = s["pipeline"]
    out_console.print(
        f"[bold]{s['mineral']} {s['stage']}[/bold] · alliance {s['alliance']} · {s['yardstick']}\n"
        f"base year {s['base_year']}: {s['base_top_external_supplier']} {_pct(s['base_dependency'])} "
        f"of world supply\n"
        f"{s['target_year']}: on time {_pct(s['deterministic'])}, no pipeline {_pct(s['no_pipeline'])}, "
        f"median {_pct(s['median'])} (10–90 %: {_pct(s['p10'])}–{_pct(s['p90'])}; {s['draws']:,} draws, "
        f"seed {s['seed']})"
    )
    for label, prob in s["probabilities"].items():
        out_console.print(f"  P(dependency {label} in {s['target_year']}) = {prob:.3f}")
    iea = s["iea_base_case"]
    if iea["dependency"] is not None:
        out_console.print(
            f"  IEA {s['iea_edition']} base case {iea['year']} (cross-check): "
            f"{iea['top_external_supplier']} {_pct(iea['dependency'])}"
        )
    out_console.print(
        f"pipeline: {p['projects']} projects, {p['counted']} counted, {p['capacity_not_stated']} without a stated "
        f"capacity, {p['start_not_stated']} without a stated start"
    )
    for note in s["notes"]:
        out_console.print(f"[yellow]note:[/yellow] {note}")


def _payload(result: svc.OutlookResult) -> dict[str, Any]:
    return {
        "summary": result.summary,
        "trajectory": result.trajectory.to_dicts(),
        "projects": result.projects.to_dicts(),
        "provenance": result.provenance.to_dict(),
    }


def outlook_command(
    mineral: str = typer.Option(
        ..., "--mineral", "-m", help="copper, cobalt, lithium, nickel, rare-earths, graphite"
    ),
    stage: str = typer.Option("refining", "--stage", "-s", help="mining or refining"),
    year: int = typer.Option(2030, "--year", "-y", help="Target year of the probabilities"),
    draws: int = typer.Option(10_000, "--draws", "-n", help=f"Monte Carlo draws (1–{svc.MAX_DRAWS:,})"),
    seed: int = typer.Option(0, "--seed", help="Random seed (same seed, same answer)"),
    alliance: str | None = typer.Option(
        None, "--alliance", "-a", help="Country group (G7+, G7, EU27, MSP …) or ISO3 codes (default G7+)"
    ),
    scenario: str = typer.Option(
        svc.DEFAULT_SCENARIO, "--scenario", help="IEA demand scenario: STEPS, APS or NZE"
    ),
    projects: bool = typer.Option(False, "--projects", help="csv/parquet/xlsx/table: the project table"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout"),
) -> None:
    """The alliance's single-supplier dependency to 2030/2035 with the pipeline on time and as a Monte Carlo
    distribution (delays and failures by study stage), P(below 60 %) and P(below 50 %), and the projects that
    matter most. Method: docs/methods/outlook-2030.md."""
    check_out_path(out)
    result = svc.outlook(
        get_engine(),
        mineral,
        stage,
        year=year,
        draws=draws,
        seed=seed,
        alliance=get_settings().alliance if alliance is None else alliance,
        scenario=scenario,
    )
    if fmt is Format.json:
        text = json.dumps(_payload(result), default=str, indent=2) + "\n"
        if out is None:
            sys.stdout.write(text)
        else:
            out.write_text(text, encoding="utf-8")
            err.print(f"wrote {out}")
        return
    caption = result.provenance.source_line()
    if fmt is Format.table:
        _print_summary(result)
        if projects:
            table = result.projects.select(
                [
                    c
                    for c in (
                        "project_id",
                        "country",
                        "capacity",
                        "expected_start",
                        "study_stage",
                        "swing_pp",
                        "not_counted_because",
                    )
                    if c in result.projects.columns
                ]
            )
            emit(table, fmt, title="pipeline projects (most influential first)", caption=caption)
        else:
            emit(
                result.trajectory.drop("mineral", "stage"),
                fmt,
                title="dependency trajectory",
                caption=caption,
            )
        return
    frame = result.projects if projects else result.trajectory
    emit(frame, fmt, out=out, title="outlook", caption=caption, provenance=result.provenance)
    if out is not None:
        err.print(f"wrote {out}")


def register(target: typer.Typer, name: str = "outlook") -> None:
    """Add the outlook command to another group (e.g. ``lodeline projects outlook``)."""
    target.command(name)(outlook_command)


register(app, "show")
