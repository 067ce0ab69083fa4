"""``lodeline market trend``: concentration and alliance dependency over the longest span the bundled data allow."""

from __future__ import annotations

from pathlib import Path

import typer

from lodeline.cli.output import Format, check_out_path, emit

#: The terminal table: the year's source, its figures and where the source changes.
TREND_TABLE = (
    "year",
    "source",
    "top_supplier",
    "top1_share",
    "top3_share",
    "hhi",
    "top_external_supplier",
    "alliance_dependency",
    "world_total",
    "source_change",
)


def trend_command(
    mineral: str = typer.Option(
        ..., "--mineral", "-m", help="Mineral id or alias (e.g. rare-earths, REE, lithium, copper)"
    ),
    stage: str = typer.Option(..., "--stage", "-s", help="mining, refining, component or recycling"),
    alliance: str | None = typer.Option(
        None,
        "--alliance",
        "-a",
        help="Country group whose single-supplier dependency is shown (default: LODELINE_ALLIANCE or G7+)",
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout"),
) -> None:
    """Per year: top supplier and share, top-3 share, HHI and the alliance's single-supplier dependency
    (production basis), stitched from every bundled source with the source of each year and its breaks."""
    import polars as pl
    from rich.console import Console

    from lodeline.config import get_settings
    from lodeline.services.trends import trend
    from lodeline.store.engine import get_engine

    check_out_path(out)
    group = get_settings().alliance if alliance is None else alliance
    result = trend(get_engine(), mineral, stage, group)
    frame, caption = result.frame, result.provenance.source_line()
    if fmt is Format.table:
        frame = frame.with_columns(
            source_change=pl.when(pl.col("break")).then(
                pl.concat_str([pl.col("break_from"), pl.lit(" → "), pl.col("source")])
            )
        ).select(TREND_TABLE)
        caption += (
            " · every column (editions, what each source measures, overlap jumps): -f csv | json | parquet"
        )
    emit(
        frame,
        fmt,
        out=out,
        title=f"{mineral} {stage}: concentration and {group} dependency over time",
        caption=caption,
        provenance=result.provenance,
    )
    if fmt is not Format.table and out is not None:
        Console(stderr=True).print(f"wrote {out}")


def register(app: typer.Typer) -> None:
    """Add ``trend`` to the ``market`` command group."""
    app.command("trend")(trend_command)
