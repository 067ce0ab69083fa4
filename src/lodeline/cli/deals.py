"""``lodeline deals list|show|coverage|restrictions|country|financing|timeline|partners|add|amend|history``: the deals register
(docs/deals.md) on the local store. ``add`` and ``amend`` act as the operator (author ``cli``, role
``secretariat``); through the API members and the secretariat act for themselves."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console

from lodeline.cli.inputs import read_json
from lodeline.cli.output import Format
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError
from lodeline.services import deals as service
from lodeline.services.results import MarketResult
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
err = Console(stderr=True)

FormatOpt = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx")
OutOpt = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout")
OnOpt = typer.Option(None, "--on", help="Status on this date, YYYY-MM-DD (default: today)")
AllianceOpt = typer.Option(None, "--alliance", "-a", help="Country group (G7+, G7, EU27 …) or ISO3 list")
RegisterOpt = typer.Option("agreements", "--register", "-r", help="agreements, measures or disputes")


def _on(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidArgumentError(f"--on: not a date {value!r} (YYYY-MM-DD)") from None


def _show(
    result: MarketResult, fmt: Format, out: Path | None, title: str, columns: tuple[str, ...] = ()
) -> None:
    from lodeline.cli.output import emit

    frame, caption = result.frame, result.provenance.source_line()
    if fmt is Format.table and columns:
        frame = frame.select([c for c in columns if c in frame.columns])
        caption += " · every column: -f csv | json | parquet"
    emit(frame, fmt, out=out, title=title, caption=caption, provenance=result.provenance)


@app.command("list")
def list_command(
    register: str = RegisterOpt,
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Only rows naming this mineral"),
    on: str | None = OnOpt,
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """The register's rows with their status on a date (agreements: announced, signed, in force …)."""
    result = service.list_entries(get_engine(), register, mineral=mineral, on=_on(on))
    cols = {
        "agreements": ("agreement_id", "parties", "type", "status", "signed_date", "minerals", "general", "binding",
                       "shown_source_type"),
        "measures": ("measure_id", "jurisdiction", "kind", "status", "effective_date", "minerals"),
        "disputes": ("case_id", "host_country", "type", "date", "status", "shown_source_type"),
    }.get(register, ())  # fmt: skip
    _show(result, fmt, out, f"deals: {register}", cols)


@app.command("show")
def show_command(
    entry_id: str = typer.Argument(
        ..., help="agreement_id, measure_id, case_id or a financing commitment id"
    ),
) -> None:
    """One entry as it stands (JSON)."""
    typer.echo(json.dumps(service.show(get_engine(), entry_id), indent=2, default=str))


@app.command("coverage")
def coverage_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Default: every mineral"),
    stage: str | None = typer.Option(None, "--stage", "-s", help="mining, refining, component or recycling"),
    alliance: str | None = AllianceOpt,
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Partner countries with an agreement covering the alliance's single-supplier gap, their share of world supply
    and the share of the dependency they could in principle replace."""
    result = service.coverage(get_engine(), mineral, stage, alliance or get_settings().alliance)
    cols = ("mineral", "stage", "year", "top_external_supplier", "top_external_share", "partner", "partner_share",
            "mineral_specific", "replaceable_specific", "replaceable_all", "flag")  # fmt: skip
    _show(result, fmt, out, "deals coverage", cols)


@app.command("timeline")
def timeline_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Only entries naming this mineral"),
    on: str | None = OnOpt,
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Agreements and restrictive measures as dated events on one time axis (the Deals page's timeline)."""
    result = service.timeline(get_engine(), mineral, on=_on(on))
    cols = ("date_stated", "event", "register", "entry_id", "who", "type", "status", "shown_source_type")
    _show(result, fmt, out, "deals timeline", cols)


@app.command("partners")
def partners_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Only agreements naming this mineral"),
    alliance: str | None = AllianceOpt,
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Countries outside the alliance party to an agreement, by agreement type (the Deals page's map)."""
    result = service.partners(get_engine(), mineral, alliance or get_settings().alliance)
    _show(result, fmt, out, "deals partners")


@app.command("restrictions")
def restrictions_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Default: every mineral"),
    on: str | None = OnOpt,
    alliance: str | None = AllianceOpt,
    all_: bool = typer.Option(False, "--all", help="Also announced and suspended measures"),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """Restrictive measures in force on a date, by supplier, with the affected share of alliance imports."""
    result = service.restrictions(
        get_engine(), mineral, on=_on(on), alliance=alliance or get_settings().alliance, include_inactive=all_
    )
    cols = ("measure_id", "jurisdiction", "kind", "status", "effective_date", "minerals", "trade_year",
            "affected_share", "hs6_without_trade_data")  # fmt: skip
    _show(result, fmt, out, "deals restrictions", cols)


COUNTRY_COLUMNS = {
    "agreements": (
        "agreement_id",
        "parties",
        "type",
        "status",
        "signed_date",
        "minerals",
        "general",
        "binding",
    ),
    "value_creation": ("mineral", "year", "refined_to_mined", "comparable", "comparable_note"),
    "governance": ("indicator", "year", "estimate", "scaled_0_10_worse"),
    "measures": ("measure_id", "kind", "status", "effective_date", "minerals"),
    "disputes": ("case_id", "type", "date", "status", "shown_source_type"),
}


@app.command("country")
def country_command(
    country: str = typer.Argument(..., help="Country name or ISO3 code"),
    on: str | None = OnOpt,
    fmt: Format = FormatOpt,
    out_dir: Path | None = typer.Option(None, "--out-dir", help="Write one file per part into this folder"),
) -> None:
    """The producer-country view: agreements, local value created, WGI governance, export measures, disputes."""
    from lodeline.cli.output import check_out_dir

    view = service.country(get_engine(), country, on=_on(on))
    if out_dir is not None:
        check_out_dir(out_dir)
    for part, result in view["parts"].items():
        target = out_dir / f"{view['country']}-{part}.{fmt.value}" if out_dir is not None else None
        if fmt is not Format.table and target is None and part != "agreements":
            continue  # one part on stdout for machine formats without --out-dir
        _show(result, fmt, target, f"{view['name']} ({view['country']}): {part}", COUNTRY_COLUMNS[part])


@app.command("financing")
def financing_command(fmt: Format = FormatOpt, out: Path | None = OutOpt) -> None:
    """Each stated financing figure with its currency and nature (pledge, pipeline value …); never totalled."""
    _show(service.financing(get_engine()), fmt, out, "deals financing")


def _cells(file: Path) -> dict[str, object]:
    value = read_json(file, "row")
    if not isinstance(value, dict):
        raise InvalidArgumentError(f"{file}: expected a JSON object of column -> value")
    return value


@app.command("add")
def add_command(
    register: str = typer.Argument(..., help="agreements, measures or disputes"),
    file: Path = typer.Argument(..., help="JSON object: the row's columns (incl. source_url, source_type)"),
    reason: str = typer.Option(..., "--reason", help="Why the row is added"),
) -> None:
    """Add an entry, validated like a bundled row; stored as version 1."""
    row = service.add(get_engine(), register, _cells(file), reason=reason, author="cli", role="secretariat")
    typer.echo(json.dumps(row, default=str))


@app.command("amend")
def amend_command(
    register: str = typer.Argument(..., help="agreements, measures or disputes"),
    entry_id: str = typer.Argument(..., help="The entry's id"),
    file: Path = typer.Argument(..., help="JSON object: the changed columns plus source_url and source_type"),
    reason: str = typer.Option(..., "--reason", help="Why the row changes"),
) -> None:
    """Amend an entry: a new version on top of the current one (history kept)."""
    row = service.amend(get_engine(), register, entry_id, _cells(file), reason=reason, author="cli",
                        role="secretariat")  # fmt: skip
    typer.echo(json.dumps(row, default=str))


@app.command("history")
def history_command(
    entry_id: str = typer.Argument(..., help="The entry's id"),
    fmt: Format = FormatOpt,
    out: Path | None = OutOpt,
) -> None:
    """An entry's versions: the bundled row (0) and every added or amended version."""
    _show(service.history(get_engine(), entry_id), fmt, out, f"history of {entry_id}")
