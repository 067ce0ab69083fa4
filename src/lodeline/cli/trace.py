"""``lodeline trace``: validate, hash and capture EPCIS 2.0 documents; participants, facilities, origin shares."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from lodeline.trace.epcis import load_and_validate
from lodeline.trace.event_hash import document_hash_ids

app = typer.Typer(no_args_is_help=True)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        from lodeline.errors import InvalidArgumentError

        raise InvalidArgumentError(f"{path}: cannot read ({exc.strerror})") from exc


@app.command()
def validate(file: Path = typer.Argument(..., help="EPCIS 2.0 JSON/JSON-LD document")) -> None:
    """Validate a document against the GS1 EPCIS 2.0 JSON Schema (no store). Exit 0 if valid."""
    doc = load_and_validate(_read(file), file=str(file))
    n = len(doc["epcisBody"]["eventList"])
    typer.echo(f"{file}: valid EPCIS 2.0 document, {n} event(s)")


@app.command("hash")
def hash_cmd(
    file: Path = typer.Argument(..., help="EPCIS 2.0 JSON/JSON-LD document"),
    prehash: bool = typer.Option(False, "--prehash", help="print the canonical pre-hash strings instead"),
) -> None:
    """Print each event's EPCIS Event Hash ID (CBV 2.0 §8.9), one per line."""
    from lodeline.trace.epcis import parse_document
    from lodeline.trace.event_hash import context_namespaces, prehash_string

    doc = parse_document(_read(file), file=str(file))
    if prehash:
        ns = context_namespaces(doc.get("@context"))
        for ev in doc.get("epcisBody", {}).get("eventList", []):
            typer.echo(prehash_string(ev, ns))
        return
    for hid in document_hash_ids(doc):
        typer.echo(hid)


def _json(obj: object) -> None:
    typer.echo(json.dumps(obj, indent=2, default=str))
