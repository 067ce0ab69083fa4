"""``lodeline risk criticality|chart|sensitivity|geopol``: the EU criticality method and import risk."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.output import Format, check_out_path, check_out_paths, emit
from lodeline.errors import InvalidArgumentError
from lodeline.risk.chart import criticality_chart, tornado_chart
from lodeline.services import risk
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)


class Method(StrEnum):
    eu2017 = "eu2017"


class StageChoice(StrEnum):
    all = "all"
    extraction = "extraction"
    processing = "processing"


END_USES_HELP = "CSV [material, sector, share] of EU end-use shares (fractions) for EI"
VALUE_ADDED_HELP = "CSV [sector, value_added] of EU NACE 2-digit value added for EI"


def _read_csv(path: Path, what: str) -> pl.DataFrame:
    try:
        return pl.read_csv(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InvalidArgumentError(f"{path}: cannot read the {what} CSV: {exc}") from exc


def _ei_files(end_uses: Path | None, value_added: Path | None) -> risk.EIFiles:
    return risk.EIFiles(
        end_uses=None if end_uses is None else _read_csv(end_uses, "end-use shares"),
        value_added=None if value_added is None else _read_csv(value_added, "value added"),
    )


@app.command("criticality")
def criticality_command(
    method: Method = typer.Option(Method.eu2017, "--method", help="Assessment method (eu2017)."),
    stage: StageChoice = typer.Option(StageChoice.all, "--stage", help="all, extraction or processing."),
    years: int = typer.Option(5, "--years", min=1, help="Most recent supply years averaged."),
    wgi_year: int | None = typer.Option(None, "--wgi-year", help="WGI reference year (default: latest)."),
    end_uses: Path | None = typer.Option(None, "--end-uses", help=END_USES_HELP),
    value_added: Path | None = typer.Option(None, "--value-added", help=VALUE_ADDED_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """Supply risk (SR), economic importance (EI) and criticality of every EU-assessed material."""
    check_out_path(out)
    result = risk.criticality(
        get_engine(),
        stage=None if stage is StageChoice.all else stage.value,
        years=years,
        wgi_year=wgi_year,
        ei_files=_ei_files(end_uses, value_added),
    )
    table = result.frame
    if fmt is Format.table:
        # The terminal view keeps the verdict; the full reasons, inputs and provenance are in csv/json/parquet.
        table = table.select(
            "material",
            "sr",
            pl.col("sr_stage").str.extract(r"^(\w+)").alias("stage"),
            "sr_extraction",
            "sr_processing",
            "ei",
            "critical",
            pl.when(pl.col("status") == "ok")
            .then(pl.col("status"))
            .otherwise(pl.col("reason"))
            .alias("status"),
        )
    emit(
        table,
        fmt,
        out=out,
        title=f"Criticality, {method.value} method",
        caption=(
            "SR computed by Lodeline (not the EC's published SR) at the EU bottleneck stage unless --stage; "
            "EI published (EC 2023) unless computed; critical = SR >= 1 and EI >= 2.8; flags and sources in "
            "csv/json (docs/methods/criticality.md)"
        ),
        provenance=result.provenance,
    )


@app.command("chart")
def chart_command(
    out: Path = typer.Option(Path("crit.html"), "--out", "-o", help="HTML file to write"),
    years: int = typer.Option(5, "--years", min=1, help="Most recent supply years averaged."),
    end_uses: Path | None = typer.Option(None, "--end-uses", help=END_USES_HELP),
    value_added: Path | None = typer.Option(None, "--value-added", help=VALUE_ADDED_HELP),
) -> None:
    """Draw the SR vs EI scatter with the thresholds (self-contained HTML, works offline)."""
    check_out_path(out)
    result = risk.criticality(get_engine(), years=years, ei_files=_ei_files(end_uses, value_added))
    table = result.frame
    out.write_text(criticality_chart(table, source_line=result.source_line), encoding="utf-8")
    console.print(f"[green]wrote[/] {out} ({table.filter(pl.col('sr').is_not_null()).height} materials)")


@app.command("sensitivity")
def sensitivity_command(
    draws: int = typer.Option(1000, "--draws", min=1, help="Monte Carlo draws."),
    seed: int = typer.Option(0, "--seed", help="Random seed (results are reproducible)."),
    material: list[str] = typer.Option([], "--material", "-m", help="Only these EU materials (repeatable)."),
    years: int = typer.Option(5, "--years", min=1, help="Supply years the draws choose from."),
    end_uses: Path | None = typer.Option(None, "--end-uses", help=END_USES_HELP),
    value_added: Path | None = typer.Option(None, "--value-added", help=VALUE_ADDED_HELP),
    tornado_out: Path | None = typer.Option(
        None, "--out", help="Write the tornado chart(s) to this HTML file"
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    table_out: Path | None = typer.Option(None, "--table-out", help="Write the summary table to a file"),
) -> None:
    """SR distribution, P(SR >= 1), P(critical) and a one-at-a-time tornado per material."""
    check_out_paths({"--out": tornado_out, "--table-out": table_out})
    with console.status(f"{draws} draws…"):
        result = risk.sensitivity(
            get_engine(),
            draws=draws,
            seed=seed,
            materials=material,
            years=years,
            ei_files=_ei_files(end_uses, value_added),
        )
    if tornado_out is not None:
        tornado_out.write_text(
            tornado_chart(result.tornado.frame, source_line=result.tornado.source_line), encoding="utf-8"
        )
        console.print(f"[green]wrote[/] {tornado_out}")
    emit(
        result.summary.frame,
        fmt,
        out=table_out,
        title=f"Supply-risk sensitivity ({draws} draws)",
        provenance=result.summary.provenance,
    )


@app.command("geopol")
def geopol_command(
    importer: str = typer.Option(..., "--importer", "-i", help="Group (G7+, EU27 …), country or ISO3 list."),
    mineral: str | None = typer.Option(None, "--mineral", help="Only this mineral."),
    year: int | None = typer.Option(None, "--year", help="Only this trade year."),
    dimensions: str = typer.Option(
        "pv", "--wgi", help="WGI dimensions for g_j, comma-separated (default pv)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """Governance-weighted import risk (GeoPolRisk-style) of an importer or alliance per mineral and stage."""
    check_out_path(out)
    try:
        result = risk.geopolitical(get_engine(), importer, mineral=mineral, year=year, dimensions=dimensions)
    except risk.NoTradeRowsError as exc:
        console.print(f"[yellow]{exc}[/]")
        raise typer.Exit(1) from exc
    result_frame, importer_id = result.frame, result.frame["importer"][0]
    caption = None
    if fmt is Format.table:
        caption = "notes (normalisation, HHI year) are in the csv/json output"
        result_frame = result_frame.drop("note", "importer")
    emit(
        result_frame,
        fmt,
        out=out,
        title=f"GeoPolRisk-style supply risk for {importer_id}",
        caption=caption,
        provenance=result.provenance,
    )
