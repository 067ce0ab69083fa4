"""``lodeline trace capture``: capture one signed EPCIS document, or many through the parallel pipeline."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from lodeline.cli.inputs import is_file, read_bytes
from lodeline.cli.output import Format, emit
from lodeline.errors import InvalidArgumentError

console = Console(stderr=True)


def _signature_file(file: Path, given: Path | None) -> Path:
    if given is not None:
        return given
    candidate = file.with_name(file.name + ".sig")
    if not is_file(candidate):
        raise InvalidArgumentError(
            f"{file}: no signature; pass --signature SIG (one file) or put it in {candidate.name} next to it"
        )
    return candidate


def _first_problem(error: Exception | None) -> str:
    """One line for the summary: the first issue of a rejected document and how many more there are."""
    issues = getattr(error, "issues", None)
    if isinstance(issues, list) and issues:
        more = f" (+{len(issues) - 1} more)" if len(issues) > 1 else ""
        return f"{issues[0]}{more}"
    return f"{getattr(error, 'code', 'error')}: {getattr(error, 'message', error)}"


def capture_command(
    files: list[Path] = typer.Argument(..., help="EPCIS 2.0 documents (each captured atomically, in order)"),
    signature: Path | None = typer.Option(
        None,
        "--signature",
        help="file with the base64 Ed25519 signature (one document); default: FILE.sig next to each document",
    ),
    participant: str = typer.Option(..., "--participant", help="submitting participant id"),
    workers: int | None = typer.Option(
        None,
        "--workers",
        help="processes preparing documents (validation, hashing) while one writer commits; "
        "0 = none; default: cores - 1 for several documents",
    ),
    fmt: Format = typer.Option(Format.json, "--format", help="report format for several documents"),
) -> None:
    """Capture signed documents atomically (all events of a document or none).

    One document prints its JSON report and fails with its error. Several documents go through the capture
    pipeline: each is still all-or-nothing and committed in the order given; a rejected one is reported and the
    others go on. The summary has one row per document; the exit status is 2 if any was rejected.
    """
    from lodeline.store.engine import get_engine
    from lodeline.trace.capture import capture

    if signature is not None and len(files) > 1:
        raise InvalidArgumentError(
            "--signature names one document's signature; for several, use FILE.sig files"
        )
    engine = get_engine()
    if len(files) == 1 and not workers:
        file = files[0]
        document = read_bytes(file, "document")  # first: a document that cannot be read is named as such
        sig = read_bytes(_signature_file(file, signature), "signature").decode("ascii", errors="replace")
        report = capture(engine, document, participant=participant, signature=sig, file=str(file))
        typer.echo(json.dumps(report.to_dict(), indent=2, default=str))
        return
    rows = _capture_stream(engine, files, signature, participant, workers)
    emit(pl.DataFrame(rows, infer_schema_length=None), fmt, title="capture")
    rejected = sum(1 for r in rows if r["status"] == "rejected")
    if rejected:
        console.print(
            f"[bold red]{rejected} of {len(rows)} document(s) rejected[/] (nothing of them was stored)"
        )
        raise typer.Exit(2)


def _capture_stream(
    engine: Any, files: list[Path], signature: Path | None, participant: str, workers: int | None
) -> list[dict[str, Any]]:
    from lodeline.trace.capture_pipeline import Submission, capture_many

    def submissions() -> Iterator[Submission]:
        for file in files:
            document = read_bytes(file, "document")
            sig = read_bytes(_signature_file(file, signature), "signature").decode("ascii", errors="replace")
            yield Submission(document, participant, sig, str(file))

    rows: list[dict[str, Any]] = []
    with Progress(
        TextColumn("[bold]capturing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[events]:,} events"),
        TimeElapsedColumn(),
        console=console,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("capture", total=len(files), events=0)
        events = 0
        for outcome in capture_many(engine, submissions(), workers=workers):
            row: dict[str, Any] = {"file": outcome.submission.file}
            if outcome.report is not None:
                report = outcome.report.to_dict()
                events += report["accepted"]
                row |= {
                    "status": "captured",
                    "accepted": report["accepted"],
                    "duplicates": len(report["duplicates"]),
                    "first_leaf": report["first_leaf"],
                    "last_leaf": report["last_leaf"],
                    "document_sha256": report["document_sha256"],
                    "error": None,
                }
            else:
                error = outcome.error
                row |= {"status": "rejected", "accepted": 0, "duplicates": 0, "first_leaf": None}
                row |= {"last_leaf": None, "document_sha256": None}
                row["error"] = _first_problem(error)
                console.print(f"[red]rejected[/] {getattr(error, 'message', error)}", highlight=False)
            rows.append(row)
            bar.update(task, advance=1, events=events)
    return rows
