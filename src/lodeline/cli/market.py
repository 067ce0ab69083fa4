"""``lodeline market …``: shares, concentration, dependency, targets, trend, prices, value creation, report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli import market_trend
from lodeline.cli.output import Format, check_out_path, emit
from lodeline.config import get_settings
from lodeline.services import market as svc
from lodeline.services.results import MarketResult
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
market_trend.register(app)
err = Console(stderr=True)

MINERAL_HELP = "Mineral id or alias (e.g. rare-earths, REE, lithium)"

FormatOpt = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx")
OutOpt = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout")
#: The most rows per price series `market prices --last` shows (monthly series: over 800 years).
MAX_LAST = 10_000


#: Every --alliance option: a group or a custom list, resolved by domain.groups.resolve_alliance.
ALLIANCE_HELP = (
    "Country group (G7+, G7, EU27, MSP …) or comma-separated ISO3 codes, e.g. USA,JPN,DEU "
    "(default: LODELINE_ALLIANCE or G7+)"
)


def _alliance(value: str | None) -> str:
    """The --alliance given (an empty one is an error, not the default), or the configured default."""
    return get_settings().alliance if value is None else value


def _show(
    result: MarketResult, fmt: Format, out: Path | None, title: str, table_columns: Sequence[str] = ()
) -> None:
    """Print or write ``result``. ``table_columns`` narrows the terminal table only (csv, json and parquet keep
    every column); the caption then says so."""
    frame, caption = result.frame, result.provenance.source_line()
    if fmt is Format.table and table_columns:
        frame = frame.select([c for c in table_columns if c in frame.columns])
        caption += " · every column (units, basis, flags, sources): -f csv | json | parquet"
    emit(frame, fmt, out=out, title=title, caption=caption, provenance=result.provenance)
    if fmt is not Format.table and out is not None:
        err.print(f"wrote {out}")


@app.command("shares")
def shares_command(
    mineral: str = typer.Option(
        ..., "--mineral", "-m", help="Mineral id or alias (e.g. rare-earths, REE, lithium)"
    ),
    stage: str = typer.Option("mining", "--stage", "-s", help="mining, refining, component or recycling"),
    year: int | None = typer.Option(None, "--year", "-y", help="Default: the latest year with data"),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Each country's share of a mineral's production at one stage in one year."""
    result = svc.shares(get_engine(), mineral, stage, year)
    _show(result, fmt, out, f"{mineral} {stage} shares")


@app.command("concentration")
def concentration_command(
    mineral: str = typer.Option(..., "--mineral", "-m", help=MINERAL_HELP),
    stage: str | None = typer.Option(None, "--stage", "-s", help="Default: every stage with data"),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """HHI (0–10,000), top-1 and top-3 shares and the top supplier, by year."""
    result = svc.concentration(get_engine(), mineral, stage)
    _show(result, fmt, out, f"{mineral} supply concentration")


@app.command("dependency")
def dependency_command(
    mineral: str = typer.Option(..., "--mineral", "-m", help=MINERAL_HELP),
    alliance: str | None = typer.Option(None, "--alliance", "-a", help=ALLIANCE_HELP),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Per year, stage and basis: the largest supplier outside the alliance, its share (of world production,
    of imports from outside the alliance, or of apparent consumption), the target and the gap."""
    alliance = _alliance(alliance)
    result = svc.dependency(get_engine(), mineral, alliance)
    frame = result.frame
    if fmt is Format.table:
        frame = frame.select(
            "stage",
            "year",
            "basis",
            "share_of",
            "top_external_supplier",
            "top_external_share",
            "alliance_share",
            "target",
            "ambition",
            "target_year",
            "gap",
            # one column for the table: the row's flag and, where set, why alliance_share is a bound or unknown
            pl.when(pl.col("flag").is_not_null() | pl.col("alliance_share_flag").is_not_null())
            .then(pl.concat_str(["flag", "alliance_share_flag"], separator="; ", ignore_nulls=True))
            .alias("flag"),
        )
    emit(
        frame,
        fmt,
        out=out,
        title=f"{mineral}: dependency of {alliance} on a single supplier",
        caption=result.provenance.source_line(),
        provenance=result.provenance,
    )


def _targets_view(frame: pl.DataFrame) -> pl.DataFrame:
    """The terminal table of targets, compact: what misses, by how much and since when. Dependency in %, gaps in
    signed percentage points, ``since`` a year (``≥`` when the earliest year with data already misses). Every
    column, unrounded: -f csv | json | parquet | xlsx."""

    def gap(column: str) -> pl.Expr:
        value = pl.col(column)
        return (
            pl.when(value.is_null())
            .then(pl.lit("–"))
            .otherwise(
                pl.format(
                    "{} pp",
                    pl.when(value >= 0).then(pl.lit("+")).otherwise(pl.lit(""))
                    + value.round(1).cast(pl.Utf8),
                )
            )
        )

    def since(prefix: str) -> pl.Expr:
        year, note = pl.col(f"{prefix}_since"), pl.col(f"{prefix}_since_note")
        at_least = note.str.starts_with("since at least").fill_null(False)
        return (
            pl.when(year.is_null())
            .then(pl.lit("–"))
            .otherwise(pl.when(at_least).then(pl.lit("≥")).otherwise(pl.lit("")) + year.cast(pl.Utf8))
        )

    columns = [
        pl.col("mineral"),
        pl.col("stage"),
        pl.col("basis"),
        pl.col("year"),
        pl.col("top_external_supplier").alias("supplier"),
        pl.format("{}%", (pl.col("dependency") * 100).round(1)).alias("dependency"),
        pl.when(pl.col("yardstick").str.starts_with("G7"))
        .then(pl.lit("G7 target"))
        .otherwise(pl.lit("comparison"))
        .alias("yardstick"),
        gap("target_gap_pp").alias("vs 60%"),
        since("target").alias("since"),
        gap("ambition_gap_pp").alias("vs 50%"),
    ]
    if frame["crma_verdict"].drop_nulls().len():
        columns += [gap("crma_gap_pp").alias("vs CRMA 65%"), since("crma").alias("CRMA since")]
    return frame.select(columns)


#: What the terminal table's gaps mean (printed under it).
_TARGETS_LEGEND = (
    "gap = dependency − line, in percentage points: + misses by that much, − headroom; the 60% test is strict "
    "(exactly 60% misses); since = first year of the unbroken run of misses up to the latest year (≥: the earliest "
    "year with data already misses); 'comparison' = the G7 yardstick applied to a mineral the target does not name"
)


@app.command("targets")
def targets_command(
    alliance: str | None = typer.Option(None, "--alliance", "-a", help=ALLIANCE_HELP),
    misses_only: bool = typer.Option(
        False, "--misses-only", metavar="", help="Only the lines that miss the 60% test (default: every line)"
    ),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """For every mineral, stage and basis: the alliance's latest single-supplier dependency against the G7 60% test
    and 50% ambition (a G7 target for rare earths and magnets, the same yardstick as a comparison elsewhere) and,
    for the EU27, the CRMA 65% benchmark. Gaps in percentage points (positive = misses by that much); since when."""
    check_out_path(out)
    alliance = _alliance(alliance)
    result = svc.targets(get_engine(), alliance)
    if misses_only:
        result = MarketResult(result.frame.filter(pl.col("target_verdict") == "misses"), result.provenance)
    title = f"{alliance}: single-supplier dependency against the targets"
    if fmt is not Format.table:
        _show(result, fmt, out, title)
        return
    caption = result.provenance.source_line() + " · every column, unrounded: -f csv | json | parquet | xlsx"
    emit(_targets_view(result.frame), fmt, title=title, caption=caption)
    err.print(f"[dim]{_TARGETS_LEGEND}[/]")


@app.command("imports")
def imports_command(
    mineral: str = typer.Option(..., "--mineral", "-m", help=MINERAL_HELP),
    importer: str = typer.Option(
        "G7+",
        "--importer",
        "-i",
        help="Country group (G7+, EU27, MSP …; looked up first), one country (ISO3 or name) or ISO3 codes, e.g. USA,JPN",
    ),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Import shares by origin for a country or a group (intra-group trade excluded), from BACI."""
    _show(
        svc.imports_by_origin(get_engine(), mineral, importer), fmt, out, f"{importer} imports of {mineral}"
    )


#: The terminal table of value-creation: the ratio, both inputs in tonnes and why a ratio is missing.
_VALUE_CREATION_TABLE = (
    "mineral",
    "country",
    "year",
    "refined_to_mined",
    "mined_t",
    "refined_t",
    "comparable",
    "comparable_note",
)


@app.command("value-creation")
def value_creation_command(
    mineral: str | None = typer.Option(
        None, "--mineral", "-m", help="Only this mineral (id or alias; default: every mineral)"
    ),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Refined ÷ mined output in tonnes per producing country, with both inputs (unit, basis, source); no ratio
    where the two stages do not measure the same material."""
    _show(svc.value_creation(get_engine(), mineral), fmt, out, "Local value creation", _VALUE_CREATION_TABLE)


@app.command("prices")
def prices_command(
    mineral: str = typer.Option(..., "--mineral", "-m", help=MINERAL_HELP),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
    last: int = typer.Option(
        24, "--last", min=1, max=MAX_LAST, help=f"Rows per series in the table view (1–{MAX_LAST:,})"
    ),
) -> None:
    """Monthly prices with year-on-year change and 12-month rolling volatility."""
    result = svc.prices(get_engine(), mineral)
    frame = result.frame
    if fmt is Format.table:
        frame = frame.group_by("series_id", maintain_order=True).tail(last)
    emit(
        frame,
        fmt,
        out=out,
        title=f"{mineral} prices",
        caption=result.provenance.source_line(),
        provenance=result.provenance,
    )


#: The terminal table of the overview: what each line measures (stage, year) and its figures.
_OVERVIEW_TABLE = (
    "name",
    "stage",
    "year",
    "hhi",
    "top_supplier",
    "top1_share",
    "alliance_dependency",
    "top_external_supplier",
    "alliance_share",
    "hhi_change",
    "since",
)


@app.command("overview")
def overview_command(
    alliance: str | None = typer.Option(None, "--alliance", "-a", help=ALLIANCE_HELP),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """One line per mineral: concentration, top supplier and the alliance's single-supplier dependency, all from
    the stage and year the line names."""
    result = svc.minerals_overview(get_engine(), _alliance(alliance))
    _show(result, fmt, out, "Market overview", _OVERVIEW_TABLE)


@app.command("report")
def report_command(
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write"),
    alliance: str | None = typer.Option(None, "--alliance", "-a", help=ALLIANCE_HELP),
) -> None:
    """Write a self-contained HTML overview (maps, concentration trends, dependency vs target); works offline."""
    from lodeline.reports.market_report import write_market_report

    check_out_path(out)

    with err.status("building the market report…"):
        path = write_market_report(get_engine(), out, _alliance(alliance))
    err.print(f"[green]wrote[/] {path} ({path.stat().st_size / 1e6:.1f} MB)")
