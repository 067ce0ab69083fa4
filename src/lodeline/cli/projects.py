"""``lodeline projects add|import|list|show|compare|returns|commitments|recycling``: the project register.

The CLI is the operator's tool on the local store: ``add``/``import`` record projects for the organisation given
by ``--org``; reading commands show the public view, or with ``--org`` that organisation's confidential fields
too (``--secretariat`` shows every organisation's). The API is where members act for themselves (docs/projects.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli import outlook as outlook_cli
from lodeline.cli.inputs import read_json, read_yaml
from lodeline.cli.output import Format, emit
from lodeline.services import project_links
from lodeline.services import projects as service
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)

FMT_HELP = "table, csv, json, parquet or xlsx"
TABLE_COLUMNS = ("project_id", "countries", "minerals", "stages", "contained_t_per_year", "capex", "capex_currency",
                 "expected_start_year", "source_type")  # fmt: skip
COMPARE_COLUMNS = ("project_id", "minerals", "capacity_contained_t_per_year", "capex", "capex_currency",
                   "capital_intensity_per_t_yr", "years_to_production", "permit_months", "diversification_pp")  # fmt: skip
LEDGER_COLUMNS = ("commitment_id", "amount", "currency", "stage", "stage_date", "counted")
ORG_HELP = "Show this organisation's confidential fields (the operator acting for it)."


def _viewer(org: str | None, secretariat: bool) -> service.Viewer:
    if org is not None:
        service.check_org(org)
    return service.Viewer(org=org, all_orgs=secretariat)


def _read(file: Path) -> object:
    if file.suffix.lower() in (".yaml", ".yml"):
        return read_yaml(file, "project file")
    return read_json(file, "project file")


def _caption(result: service.MarketResult) -> str:
    return result.provenance.source_line()


@app.command("add")
def add_command(
    file: Path = typer.Argument(..., help="One project document (.json or .yaml); see docs/projects.md."),
    org: str = typer.Option(..., "--org", help="The organisation that owns the record."),
) -> None:
    """Validate and store one project for ``--org`` (a new version if it exists; a public project's id makes it
    the organisation's update of that record)."""
    accepted = service.add_projects(get_engine(), _read(file), owner_org=org, by="cli", where=str(file))
    for a in accepted:
        console.print(f"[green]stored[/] {a['project_id']} version {a['version']} for {a['owner']}")
    typer.echo(json.dumps(accepted[0], default=str))


@app.command("import")
def import_command(
    file: Path = typer.Argument(..., help="A list of project documents (.json or .yaml)."),
    org: str = typer.Option(..., "--org", help="The organisation that owns the records."),
) -> None:
    """Validate every document and store them all in one transaction (one bad document refuses the file)."""
    accepted = service.add_projects(get_engine(), _read(file), owner_org=org, by="cli", where=str(file))
    console.print(f"[green]stored[/] {len(accepted)} project(s) for {org}")
    typer.echo(json.dumps(accepted, default=str))


@app.command("list")
def list_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Only projects covering this mineral."),
    stage: str | None = typer.Option(None, "--stage", "-s", help="extraction, processing, recycling, …"),
    country: str | None = typer.Option(None, "--country", "-c", help="ISO 3166 alpha-2 code, e.g. FI."),
    org: str | None = typer.Option(None, "--org", help=ORG_HELP),
    secretariat: bool = typer.Option(False, "--secretariat", help="Show every organisation's fields."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FMT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """The register: bundled EU CRMA designations and financed projects, plus member records, de-duplicated."""
    projects = service.load_projects(get_engine(), viewer=_viewer(org, secretariat))
    frame = service.projects_frame(service.select(projects, mineral=mineral, stage=stage, country=country))
    if fmt is Format.table:  # the terminal gets the key columns; the file formats every column
        frame = frame.select(TABLE_COLUMNS)
    prov = service.provenance()
    emit(frame, fmt, out=out, title="Project register", caption=prov.source_line(), provenance=prov)


@app.command("show")
def show_command(
    project_id: str = typer.Argument(..., help="A project id (see `projects list`)."),
    org: str | None = typer.Option(None, "--org", help=ORG_HELP),
    secretariat: bool = typer.Option(False, "--secretariat", help="Show every organisation's fields."),
) -> None:
    """Every field of one project as JSON: gaps with their reasons, sources, designations and the merge note."""
    p = service.get_project(project_id, get_engine(), viewer=_viewer(org, secretariat))
    typer.echo(json.dumps(project_links.project_detail(p, get_engine()), default=str, indent=2))


@app.command("compare")
def compare_command(
    project_ids: list[str] = typer.Argument(None, help="Project ids; none compares the whole register."),
    alliance: str = typer.Option("G7+", "--alliance", help="Alliance for the diversification figure."),
    org: str | None = typer.Option(None, "--org", help=ORG_HELP),
    secretariat: bool = typer.Option(False, "--secretariat", help="Show every organisation's fields."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FMT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Capital intensity (capex currency per t/yr contained; not converted), time to production, permitting against the CRMA caps and the
    diversification contribution, each with its source or why it is missing."""
    result = service.compare(
        project_ids or [], get_engine(), viewer=_viewer(org, secretariat), alliance=alliance
    )
    frame = result.frame
    if fmt is Format.table:
        frame = frame.select(COMPARE_COLUMNS)
    emit(frame, fmt, out=out, title="Project comparison", caption=_caption(result),
         provenance=result.provenance)  # fmt: skip


@app.command("returns")
def returns_command(
    project_id: str = typer.Argument(..., help="A project with capex and a convertible capacity."),
    price: float = typer.Option(
        ..., "--price", help="Price deck per tonne of contained metal, in the project's capex currency."
    ),
    opex: float | None = typer.Option(
        None, "--opex", help="Per year at full capacity, capex currency (else the project's)."
    ),
    rate: float = typer.Option(service.FINANCIAL_RATE, "--rate", help="Real discount rate (0.08 = 8 %)."),
    social_rate: float = typer.Option(service.SOCIAL_RATE, "--social-rate", help="Social discount rate."),
    org: str | None = typer.Option(None, "--org", help=ORG_HELP),
) -> None:
    """NPV and IRR on the common deck, and the social-dividend-adjusted return where benefits are documented."""
    service.check_deck(price=price, opex=opex, rate=rate, social_rate=social_rate)  # as the API's bounds
    out = service.project_returns(
        project_id, price_per_t=price, opex_per_year=opex, rate=rate, social_rate=social_rate,
        engine=get_engine(), viewer=_viewer(org, False),
    )  # fmt: skip
    typer.echo(json.dumps(out, default=str, indent=2))


@app.command("commitments")
def commitments_command(
    summary: bool = typer.Option(
        False, "--summary", help="The G7 headline beside the bottom-up tally (JSON)."
    ),
    rates: Path | None = typer.Option(
        None, "--rates", help="A CSV of stated rates: currency,per_eur,date,source (docs/projects.md)."
    ),
    to: str = typer.Option(
        "EUR", "--to", help="Convert to this currency (needs --rates; EUR or a stated one)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FMT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """The financing ledger (pledged → committed → disbursed, amounts in their stated currency; with ``--rates``
    also converted at the rates you state, each with its date and source; parents and parts never summed
    together); ``--summary`` compares the G7's 195 projects / EUR 64 bn with the bottom-up tally."""
    table = service.read_rates(rates, to) if rates is not None else None
    if table is None and to.strip().upper() != "EUR":
        raise typer.BadParameter("--to needs --rates (no exchange rate is bundled)", param_hint="--to")
    if summary:
        typer.echo(json.dumps(service.commitments_summary(rates=table), default=str, indent=2))
        return
    result = service.commitments(rates=table)
    columns = LEDGER_COLUMNS if table is None else (*LEDGER_COLUMNS, "converted_amount", "converted_currency")
    frame = result.frame.select(columns) if fmt is Format.table else result.frame
    emit(frame, fmt, out=out, title="Financing ledger", caption=_caption(result),
         provenance=result.provenance)  # fmt: skip


@app.command("recycling")
def recycling_command(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help=FMT_HELP),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Per mineral: EoL recycling rates, recycled content, pipeline recycling capacity against 25 % of EU
    consumption, and the Battery Regulation recycled-content minimums (needs `lodeline data build`)."""
    result = service.recycling(get_engine())
    frame = result.frame if not result.frame.is_empty() else pl.DataFrame({"mineral": []})
    emit(
        frame, fmt, out=out, title="Recycling monitor", caption=_caption(result), provenance=result.provenance
    )


# `lodeline projects outlook`: the 2030 outlook over this register (the same command as `lodeline outlook show`)
outlook_cli.register(app)
