"""``lodeline data build|sources``."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from lodeline.cli.output import Format, emit
from lodeline.config import get_settings
from lodeline.data.build import build
from lodeline.store.canonical import catalog
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


@app.command("build")
def build_command(
    force: bool = typer.Option(
        False, "--force", metavar="", help="Rebuild even when the inputs' sha256 are unchanged."
    ),
    raw_dir: Path | None = typer.Option(
        None, "--raw-dir", help="Raw data folder (default: the bundled data)."
    ),
) -> None:
    """Parse every bundled source and load the canonical tables in one transaction."""
    settings = get_settings()
    engine = get_engine()
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("building", total=None)

        def progress(what: str, done: int, total: int) -> None:
            bar.update(task, description=what, completed=done, total=total)

        report = build(engine, raw_dir or settings.raw_dir, force=force, progress=progress)
    if report.skipped:
        console.print(
            f"[green]up to date[/]: inputs unchanged (sha256 {report.inputs_sha256[:16]}…); nothing to do"
        )
    else:
        console.print(
            f"[green]built[/] {report.rows:,} rows from {len(report.datasets)} datasets in {report.seconds:.1f} s "
            f"into {settings.resolved_database_url()}"
        )


@app.command("sources")
def sources_command(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """List every dataset with its licence, edition, row count and hash."""
    rows = [
        {
            "id": d["id"],
            "publisher": d["publisher"],
            "edition": d["edition"],
            "licence": d["licence"],
            "rows": d["rows"],
            "sha256": d["sha256"] if fmt is not Format.table else d["sha256"][:16] + "…",
            "tables": json.dumps(d["tables"]) if fmt is not Format.json else d["tables"],
        }
        for d in catalog(get_engine())
    ]
    if not rows:
        console.print("[yellow]the store is empty[/]: run `lodeline data build`")
        raise typer.Exit(1)
    frame = pl.DataFrame(rows) if fmt is not Format.json else None
    if fmt is Format.json:
        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    assert frame is not None
    emit(frame, fmt, out=out, title="Bundled datasets")
