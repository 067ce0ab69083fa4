"""``lodeline sim run|montecarlo|exercise|scenarios``: stress tests and emergency exercises."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lodeline.cli.inputs import is_file, read_yaml
from lodeline.cli.output import Format, check_out_dir, check_out_path, emit
from lodeline.errors import InvalidArgumentError
from lodeline.services import sim as service
from lodeline.sim.montecarlo import DEFAULT_CHUNK, MAX_SAMPLES, Executor
from lodeline.sim.network import SupplyNetwork
from lodeline.sim.report import MEMBER_COLUMNS
from lodeline.sim.scenario import Scenario, ScenarioError, library_scenario
from lodeline.sim.shaping import tolerance_text

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


def load_scenario(name: str) -> Scenario:
    """A scenario file, or a library scenario by name (a file of that name wins)."""
    if not name.strip():
        raise typer.BadParameter(
            "give a scenario file or a library scenario name (see `lodeline sim scenarios`)",
            param_hint="'scenario_file'",
        )
    path = Path(name)
    if not is_file(path):
        shipped = library_scenario(name)
        if shipped is not None:
            return shipped
        raise ScenarioError(name, "(file)", "not a file, and no library scenario of that name")
    return service.parse_data(read_yaml(path, "scenario"), name)


def _network(scenario: Scenario, where: str) -> SupplyNetwork:
    return service.network(scenario, where)


def _stability() -> dict[str, float]:
    return service.stability()


def _json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


@app.command("run")
def run_command(
    scenario_file: str = typer.Argument(
        ..., help="Scenario YAML, or a library name (see `lodeline sim scenarios`)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json"),
    out: Path | None = typer.Option(
        None, "--out", help="Also write an HTML report (charts embedded offline)."
    ),
) -> None:
    """Run a scenario month by month: shortfall, days of cover, stock draw, binding nodes, prices, LP duals."""
    check_out_path(out)
    scenario = load_scenario(scenario_file)
    report = service.run(scenario, scenario_file)
    if out is not None:
        out.write_text(service.report_html("run", report), encoding="utf-8")
        console.print(f"report written to {out}")
    if fmt is Format.json:
        _json(report)
        return
    if fmt is not Format.table:
        raise InvalidArgumentError("sim run supports --format table or json")
    cols = list(MEMBER_COLUMNS)
    emit(
        pl.DataFrame(report["members"]).select(cols),
        fmt,
        title=f"{scenario.name} ({report['mineral']}, {report['months']} months)",
    )
    if report["binding_nodes"]:
        emit(
            pl.DataFrame(report["binding_nodes"]),
            fmt,
            title="Binding countries and stages (t over the horizon)",
        )
    if report["duals"]:
        emit(
            pl.DataFrame(report["duals"]).head(20), fmt, title="LP duals: value of one more tonne (first 20)"
        )
    console.print(
        f"peak price multiple {report['price_multiple_max']:.2f}; LP check max |Δ| {report['lp_max_abs_diff']}"
    )
    _print_assumptions(report)


def _print_assumptions(result: dict[str, Any]) -> None:
    for item in result["assumptions"]:
        console.print(f"[bold]assumption[/] ({item['kind']}): {item['text']}")
    console.print(
        f"values below {tolerance_text(result['noise_tolerance'])} are shown as 0 (docs/methods/stress-test.md)"
    )


@app.command("montecarlo")
def montecarlo_command(
    scenario_file: str = typer.Argument(..., help="Scenario YAML or library name."),
    samples: int = typer.Option(
        100_000, "--samples", "-n", min=1, max=MAX_SAMPLES, help="Number of sampled scenarios."
    ),
    seed: int = typer.Option(
        0, "--seed", min=0, help="Random seed (same seed, same result, in-process or on Dask)."
    ),
    chunk_size: int = typer.Option(
        DEFAULT_CHUNK, "--chunk-size", min=1, help="Samples per chunk / Dask task."
    ),
    dask_scheduler: str | None = typer.Option(
        None, "--dask-scheduler", help="tcp://host:port of a Dask scheduler."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """Sample correlated disruptions (Gaussian copula) and report mean, VaR95, CVaR95 and P(target breached)."""
    scenario = load_scenario(scenario_file)
    executor: Executor | None = None
    client = None
    if dask_scheduler:
        from dask.distributed import Client

        client = Client(dask_scheduler)
        executor = client
    try:
        with Progress(
            TextColumn("[bold]sampling"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}% {task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as bar:
            job = bar.add_task("", total=1.0)
            result = service.montecarlo(
                scenario,
                scenario_file,
                samples=samples,
                seed=seed,
                chunk_size=chunk_size,
                executor=executor,
                progress=lambda done, message: bar.update(job, completed=done, description=message),
            )
    finally:
        if client is not None:
            client.close()
    if fmt is Format.json:
        _json(result)
        return
    emit(pl.DataFrame(result["members"]), fmt, title=f"{scenario.name}: {samples:,} samples, seed {seed}")
    if fmt is Format.table:
        _print_assumptions(result)


@app.command("exercise")
def exercise_command(
    script_file: Path = typer.Argument(..., help="Exercise script YAML (scenario, injects, decisions)."),
    out_dir: Path = typer.Option(Path("."), "--out-dir", help="Where to write the after-action report."),
    interactive: bool = typer.Option(
        False,
        "--interactive",
        "-i",
        metavar="",
        help="Play month by month: show injects and status, prompt each participant.",
    ),
) -> None:
    """Play a tabletop exercise and write the after-action report (HTML with charts + JSON)."""
    from lodeline.sim.exercise import parse_script

    check_out_dir(out_dir)
    data = read_yaml(script_file, "exercise script")
    stem = script_file.stem
    if interactive:
        script, scenario = parse_script(data, str(script_file))
        script = _play(_network(scenario, str(script_file)), script, scenario, str(script_file))
        recorded = out_dir / f"{stem}-recorded.yaml"
        data = script.model_dump(exclude_none=True)
        recorded.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
        console.print(f"decisions recorded in {recorded}")
    aar = service.exercise(data, str(script_file))
    (out_dir / f"{stem}-aar.json").write_text(json.dumps(aar, indent=2), encoding="utf-8")
    (out_dir / f"{stem}-aar.html").write_text(service.report_html("exercise", aar), encoding="utf-8")
    for finding in aar["findings"]:
        console.print(f"• {finding}")
    console.print(
        f"after-action report: {out_dir / (stem + '-aar.html')} and {out_dir / (stem + '-aar.json')}"
    )


def _play(network: SupplyNetwork, script: Any, scenario: Scenario, where: str) -> Any:
    """Month by month: injects, each member's situation, then one decision line per participant."""
    from lodeline.sim.exercise import month_status, parse_decision

    members = [c for c, m in zip(network.consumers, network.members, strict=True) if m]
    participants = script.participants or members
    decisions: list[Any] = []  # the recorded script starts empty: decisions are taken live
    for month in range(1, scenario.horizon_months + 1):
        console.rule(f"month {month}")
        for inject in script.injects:
            if inject.month == month:
                console.print(f"[bold yellow]inject[/]: {inject.text}")
        current = script.model_copy(update={"decisions": decisions})
        status = month_status(network, current, scenario, month, where)
        emit(pl.DataFrame(status), Format.table, title=f"month {month} if nobody acts")
        for who in participants:
            while True:
                line = typer.prompt(
                    f"{who} decision (release T | ration F | reroute F | pass)", default="pass"
                )
                if line.strip() == "pass":
                    break
                try:
                    decisions.append(parse_decision(line.strip(), month, who))
                    break
                except ValueError as exc:
                    console.print(f"[red]{exc}[/]")
    return script.model_copy(update={"decisions": decisions})


@app.command("scenarios")
def scenarios_command(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
) -> None:
    """List the shipped scenario library with each scenario's source note."""
    rows = [
        {k: r[k] for k in ("name", "mineral", "title", "disruptions", "source")}
        for r in service.list_scenarios()
    ]
    emit(pl.DataFrame(rows), fmt, title="Scenario library (run with `lodeline sim run NAME`)")
