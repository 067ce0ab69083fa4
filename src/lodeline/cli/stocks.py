"""``lodeline stocks submit|list|history|show|template|prove``: member stockpile submissions on the local store.

The CLI is the operator's tool: it acts on the local store as the member given by ``--member`` (the API is where
members act for themselves, scoped by their token; docs/stocks.md). Reading commands take ``--member`` too and
show only that member's submissions.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli import stocks_release
from lodeline.cli.inputs import read_bytes
from lodeline.cli.output import Format, check_out_path, emit
from lodeline.services import stocks as service
from lodeline.stockpiles import readers
from lodeline.stockpiles.submission import check_member
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
stocks_release.register(app)
console = Console(stderr=True)

MEMBER_HELP = "The member (ISO3 country delegation) the operator acts for."


def _member(value: str) -> str:
    try:
        return check_member(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--member") from None


@app.command("submit")
def submit_command(
    file: Path = typer.Argument(
        ..., help="The submission: a .csv, .xlsx or .json file (see `stocks template`)."
    ),
    member: str = typer.Option(..., "--member", "-m", help=MEMBER_HELP),
    period: str = typer.Option(..., "--period", "-p", help="Reporting period, e.g. 2026-Q3."),
) -> None:
    """Validate every row and store the file as a new version of the member's submission for the period (a bad
    row refuses the whole file, naming row, field and reason); its digest becomes a leaf of the registry's log."""
    fmt = readers.format_of(file.name)
    data = read_bytes(file, "submission", limit=readers.MAX_BYTES)
    accepted = service.submit_file(
        get_engine(),
        data,
        fmt,
        member=_member(member),
        period=period,
        submitted_by="cli",
        source=str(file),
    )
    console.print(
        f"[green]accepted[/] submission {accepted.submission_id} ({accepted.member} {accepted.period}) "
        f"version {accepted.version}: {accepted.rows} row(s); log leaf {accepted.leaf_index}"
    )
    typer.echo(json.dumps(accepted.to_dict()))


@app.command("list")
def list_command(
    member: str = typer.Option(..., "--member", "-m", help=MEMBER_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """The member's submissions (period and latest version)."""
    rows = service.list_submissions(get_engine(), _member(member))
    schema = {"id": pl.Int64, "member": pl.String, "period": pl.String, "latest_version": pl.Int64}
    frame = pl.DataFrame([{k: r[k] for k in schema} for r in rows], schema=schema)
    emit(frame, fmt, out=out, title="Stock submissions", caption="confidential: the member's own submissions")


@app.command("history")
def history_command(
    submission: int = typer.Option(
        ..., "--submission", "-s", min=1, help="Submission id (see `stocks list`)."
    ),
    member: str = typer.Option(..., "--member", "-m", help=MEMBER_HELP),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Every version of a submission with its time and log leaf index."""
    found = service.history(get_engine(), submission, _member(member))
    schema = {
        "version": pl.Int64,
        "submitted_at": pl.String,
        "submitted_by": pl.String,
        "rows": pl.Int64,
        "leaf_index": pl.Int64,
    }
    frame = pl.DataFrame(found["versions"], schema=schema)
    emit(frame, fmt, out=out, title=f"Stock submission {submission} ({found['member']})")


@app.command("show")
def show_command(
    submission: int = typer.Option(
        ..., "--submission", "-s", min=1, help="Submission id (see `stocks list`)."
    ),
    member: str = typer.Option(..., "--member", "-m", help=MEMBER_HELP),
    version: int | None = typer.Option(
        None, "--version", "-v", min=1, help="A version (default: the latest)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """One version's rows in full (withheld items as `field: reason`)."""
    shown = service.show(get_engine(), submission, _member(member), version)
    emit(
        service.rows_frame(shown),
        fmt,
        out=out,
        title=f"Stock submission {submission} ({shown['member']} {shown['period']}) version {shown['version']}",
        caption="confidential: the member's own submission",
    )


@app.command("template")
def template_command(
    fmt: str = typer.Option("csv", "--format", "-f", help="csv or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the template to this file."),
) -> None:
    """The submission template: the columns and one illustrative example row."""
    check_out_path(out)
    data = service.template(fmt)
    if out is not None:
        out.write_bytes(data)
    elif fmt == "xlsx" and sys.stdout.isatty():
        raise typer.BadParameter(
            "xlsx is binary: pass --out FILE.xlsx or redirect stdout", param_hint="--out"
        )
    else:
        sys.stdout.buffer.write(data)


@app.command("prove")
def prove_command(
    submission: int = typer.Option(
        ..., "--submission", "-s", min=1, help="Submission id (see `stocks list`)."
    ),
    member: str = typer.Option(..., "--member", "-m", help=MEMBER_HELP),
    version: int | None = typer.Option(
        None, "--version", "-v", min=1, help="A version (default: the latest)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the proof JSON to this file."),
    checkpoint_out: Path | None = typer.Option(
        None, "--checkpoint-out", help="Also write the checkpoint the proof is against to this file."
    ),
) -> None:
    """The version's log leaf, its hash and an inclusion proof against the latest signed checkpoint (check it with
    `lodeline trace verify --proof FILE --checkpoint CP`), with the canonical document the leaf digests."""
    check_out_path(out)
    check_out_path(checkpoint_out, "--checkpoint-out")
    doc = service.prove(get_engine(), submission, _member(member), version)
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")
    if checkpoint_out is not None:
        checkpoint_out.write_text(doc["checkpoint"], encoding="utf-8")


@app.command("aggregates")
def aggregates_command(
    period: str = typer.Option(..., "--period", "-p", help="Reporting period, e.g. 2026-Q3."),
    measure: str = typer.Option(
        "gross", "--measure", help="gross (tonnes as held) or contained (metal content)."
    ),
    by: str = typer.Option(
        "holder-type", "--by", help="Group dimension: holder-type (default) or member-group."
    ),
    own: str | None = typer.Option(
        None, "--with-own", help="Add this member's own tonnes beside each cell (the member's view)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """The published aggregates of a period: tonnes by mineral, holder type (or member group) and form with
    margins ('ALL'), suppressed cells empty and flagged ':c' (disclosure control, audited before anything is
    shown)."""
    from lodeline.services import stock_aggregates

    check_out_path(out)
    if own is not None:
        result = stock_aggregates.own_vs_aggregate(get_engine(), period, _member(own), measure=measure, by=by)
    else:
        result = stock_aggregates.published(get_engine(), period, measure=measure, by=by)
    emit(
        result.frame,
        fmt,
        out=out,
        title=f"Published stockpile aggregates, {period} (t {measure} by {by}; :c = confidential)",
        caption=" · ".join(result.provenance.notes),
        provenance=result.provenance,
    )


@app.command("cover")
def cover_command(
    period: str = typer.Option(..., "--period", "-p", help="Reporting period, e.g. 2026-Q3."),
    alliance: str = typer.Option("G7+", "--alliance", help="Alliance: G7+, G7, EU27 … or ISO3 codes."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Days of cover per mineral: pooled contained tonnes as published (or ':c') against the alliance's annual
    apparent consumption (refined metal, latest year); days = contained / consumption x 365. Gaps stay gaps."""
    from lodeline.services import stock_cover

    check_out_path(out)
    result = stock_cover.cover(get_engine(), period, alliance)
    emit(
        result.frame,
        fmt,
        out=out,
        title=f"Days of cover of pooled stocks, {period} (alliance {alliance})",
        caption=" · ".join(result.provenance.notes),
        provenance=result.provenance,
    )


@app.command("audit")
def audit_command(
    period: str = typer.Option(..., "--period", "-p", help="Reporting period, e.g. 2026-Q3."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the per-cell report to this file."),
) -> None:
    """The intruder audit of a period's published tables (the secretariat's check; gross and contained tonnes, by
    holder type and by member group): for every suppressed cell the interval an intruder can infer from the
    published cells against the protection its rule demands. Exit 1 when one fails (publication is refused)."""
    from lodeline.services import stock_aggregates

    check_out_path(out)
    reports = stock_aggregates.audit_reports(get_engine(), period)
    frame = pl.concat(
        [r.cells.with_columns(pl.lit(name).alias("table")) for name, r in reports.items()],
        how="diagonal_relaxed",
    )
    emit(frame, fmt, out=out, title=f"Disclosure audit, {period}")
    for name, report in reports.items():
        console.print(f"{name}: {report.summary()}")
    if not all(r.passed for r in reports.values()):
        raise typer.Exit(1)


@app.command("demo")
def demo_command(
    period: str = typer.Option("2026-Q3", "--period", "-p", help="Reporting period to fill, e.g. 2026-Q3."),
    members: int = typer.Option(
        5, "--members", "-n", min=3, max=10, help="How many synthetic members (3-10)."
    ),
    seed: int = typer.Option(0, "--seed", help="Random seed: the same seed gives the same figures."),
) -> None:
    """Submit SYNTHETIC demonstration data for a period (seeded, every row labelled 'SYNTHETIC DEMO') through the
    ordinary submission path, so that the Stocks page and the aggregates can be tried. Not real holdings."""
    from lodeline.stockpiles.demo import demo_rows

    engine = get_engine()
    for member, rows in demo_rows(period, members=members, seed=seed).items():
        accepted = service.submit_rows(
            engine, rows, member=member, period=period, submitted_by="demo", source=f"demo:{member}"
        )
        console.print(
            f"[yellow]SYNTHETIC DEMO[/] submission {accepted.submission_id} ({accepted.member} {accepted.period}) "
            f"version {accepted.version}: {accepted.rows} row(s); log leaf {accepted.leaf_index}"
        )
