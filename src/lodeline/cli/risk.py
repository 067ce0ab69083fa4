"""``lodeline risk criticality|chart|sensitivity|geopol``: the EU criticality method and import risk."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.output import Format, check_out_path, check_out_paths, emit
from lodeline.domain.countries import resolve_country
from lodeline.domain.groups import CountryGroup, custom_group, get_group
from lodeline.domain.minerals import resolve_mineral
from lodeline.errors import InvalidArgumentError, UnknownGroupError
from lodeline.risk import EU_STAGES
from lodeline.risk.assessment import CompiledAssessment, assessment_table, compile_assessment
from lodeline.risk.chart import criticality_chart, tornado_chart
from lodeline.risk.economic_importance import economic_importance, merge_ei
from lodeline.risk.geopol import geopolitical_supply_risk
from lodeline.risk.governance import WGI_DIMENSIONS, governance_matrix
from lodeline.risk.loader import RiskInputs, domestic_production_tonnes, load_risk_inputs
from lodeline.risk.sensitivity import sensitivity_summary, tornado
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


def _compile(inputs: RiskInputs, stage: StageChoice, wgi_year: int | None) -> CompiledAssessment:
    """``stage`` all = each material at the EC's bottleneck stage; extraction/processing = that stage only."""
    return compile_assessment(
        inputs.params,
        inputs.shares,
        inputs.trade_factors,
        inputs.governance,
        wgi_year=wgi_year,
        extra_provenance=inputs.provenance,
        stage=None if stage is StageChoice.all else stage.value,
    )


def _ei(inputs: RiskInputs, end_uses: Path | None, value_added: Path | None) -> pl.DataFrame:
    """The published EC 2023 EI, replaced material by material by EI computed from supplied end uses."""
    if end_uses is None and value_added is None:
        return inputs.ei_published
    if end_uses is None or value_added is None:
        raise InvalidArgumentError("EI needs both --end-uses and --value-added")
    si_ei = inputs.params.select("material", "si_ei").unique("material")
    computed = economic_importance(
        _read_csv(end_uses, "end-use shares"), _read_csv(value_added, "value added"), si_ei
    )
    return merge_ei(inputs.ei_published, computed)


def _source_line(inputs: RiskInputs) -> str:
    return (
        "EC (2017) CRM method; "
        + "; ".join(inputs.provenance)
        + "; shares: bundled production, BGS refined shares and BACI trade"
        + "; SR computed by Lodeline (not the EC's published SR); EI published (EC 2023) unless computed"
    )


@app.command("criticality")
def criticality_command(
    method: Method = typer.Option(Method.eu2017, "--method", help="Assessment method (eu2017)."),
    stage: StageChoice = typer.Option(StageChoice.all, "--stage", help="all, extraction or processing."),
    years: int = typer.Option(5, "--years", min=1, help="Most recent supply years averaged."),
    wgi_year: int | None = typer.Option(None, "--wgi-year", help="WGI reference year (default: latest)."),
    end_uses: Path | None = typer.Option(None, "--end-uses", help=END_USES_HELP),
    value_added: Path | None = typer.Option(None, "--value-added", help=VALUE_ADDED_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """Supply risk (SR), economic importance (EI) and criticality of every EU-assessed material."""
    check_out_path(out)
    inputs = load_risk_inputs(get_engine(), years=years)
    table = assessment_table(_compile(inputs, stage, wgi_year), _ei(inputs, end_uses, value_added))
    table = table.sort("sr", descending=True, nulls_last=True)
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
    inputs = load_risk_inputs(get_engine(), years=years)
    table = assessment_table(_compile(inputs, StageChoice.all, None), _ei(inputs, end_uses, value_added))
    out.write_text(criticality_chart(table, source_line=_source_line(inputs)), encoding="utf-8")
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
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet"),
    table_out: Path | None = typer.Option(None, "--table-out", help="Write the summary table to a file"),
) -> None:
    """SR distribution, P(SR >= 1), P(critical) and a one-at-a-time tornado per material."""
    check_out_paths({"--out": tornado_out, "--table-out": table_out})
    inputs = load_risk_inputs(get_engine(), years=years)
    if material:
        known = {m.casefold(): m for m in inputs.params["material"].unique().to_list()}
        missing = [m for m in material if m.casefold() not in known]
        if missing:
            raise InvalidArgumentError(f"unknown EU material(s) {missing}; see `lodeline risk criticality`")
        inputs = RiskInputs(
            **{
                **inputs.__dict__,
                "params": inputs.params.filter(
                    pl.col("material").is_in([known[m.casefold()] for m in material])
                ),
            }
        )
    compiled = _compile(inputs, StageChoice.all, None)
    ei_frame = _ei(inputs, end_uses, value_added)
    ei = dict(ei_frame.select("material", "ei").iter_rows())
    with console.status(f"{draws} draws…"):
        summary = sensitivity_summary(compiled.model, draws, seed, ei)
        bars = tornado(compiled.model)
    if tornado_out is not None:
        tornado_out.write_text(tornado_chart(bars, source_line=_source_line(inputs)), encoding="utf-8")
        console.print(f"[green]wrote[/] {tornado_out}")
    emit(
        summary.sort("sr_base", descending=True, nulls_last=True),
        fmt,
        out=table_out,
        title=f"Supply-risk sensitivity ({draws} draws)",
    )


def _importer(name: str) -> CountryGroup:
    try:
        return get_group(name)
    except UnknownGroupError:
        codes = [resolve_country(part.strip()) for part in name.split(",") if part.strip()]
        if not codes:
            raise
        return custom_group(name, codes)


@app.command("geopol")
def geopol_command(
    importer: str = typer.Option(..., "--importer", "-i", help="Group (G7+, EU27 …), country or ISO3 list."),
    mineral: str | None = typer.Option(None, "--mineral", help="Only this mineral."),
    year: int | None = typer.Option(None, "--year", help="Only this trade year."),
    dimensions: str = typer.Option(
        "pv", "--wgi", help="WGI dimensions for g_j, comma-separated (default pv)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout"),
) -> None:
    """Governance-weighted import risk (GeoPolRisk-style) of an importer or alliance per mineral and stage."""
    check_out_path(out)
    group = _importer(importer)
    dims = tuple(d.strip().lower() for d in dimensions.split(",") if d.strip())
    if not dims or any(d not in WGI_DIMENSIONS for d in dims):
        raise InvalidArgumentError(f"--wgi must list dimensions from {', '.join(WGI_DIMENSIONS)}")
    inputs = load_risk_inputs(get_engine(), importers=group.members)
    trade = inputs.trade
    if mineral is not None:
        trade = trade.filter(pl.col("mineral") == resolve_mineral(mineral))
    if year is not None:
        trade = trade.filter(pl.col("year") == year)
    to_trade_stage = pl.col("stage").replace(EU_STAGES)
    global_shares = inputs.shares.filter(pl.col("scope") == "global").with_columns(to_trade_stage)
    gov = governance_matrix(
        inputs.governance, None, extra_countries=tuple(trade["exporter"].unique().to_list())
    )
    result = geopolitical_supply_risk(
        trade,
        global_shares,
        gov,
        group.members,
        importer_name=group.id,
        domestic_production=domestic_production_tonnes(inputs.production, group.members),
        dimensions=dims,
    )
    if result.is_empty():
        console.print(f"[yellow]no trade rows[/] for importer {group.id} with these filters")
        raise typer.Exit(1)
    caption = None
    if fmt is Format.table:
        caption = "notes (normalisation, HHI year) are in the csv/json output"
        result = result.drop("note", "importer")
    emit(result, fmt, out=out, title=f"GeoPolRisk-style supply risk for {group.id}", caption=caption)
