"""``lodeline trace checkpoint|prove|verify|consistency|verify-consistency|audit|vkey``: the verifiable log.

These commands belong to the shared ``trace`` group. They are registered on :data:`log_app` and, through
:func:`register_log_commands`, on any other Typer app (``lodeline.cli.trace.app``), so the group's module only
needs one call to include them.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.inputs import read_text
from lodeline.cli.output import Format, emit
from lodeline.errors import InvalidArgumentError
from lodeline.store.engine import get_engine, write_transaction
from lodeline.trace import log
from lodeline.trace.audit import LEAF_SOURCE_HOOK, LeafSource, run_audit
from lodeline.trace.checkpoint import Verifier, parse_vkey
from lodeline.trace.proof_verify import verify_consistency_document, verify_inclusion_document
from lodeline.trace.registry_key import RegistryKeyError, load_registry_key

console = Console(stderr=True)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        doc: Any = json.loads(read_text(path, "proof"))
    except json.JSONDecodeError as exc:
        raise InvalidArgumentError(f"{path}: not JSON: {exc}", file=str(path)) from exc
    if not isinstance(doc, dict):
        raise InvalidArgumentError(f"{path}: the proof must be a JSON object", file=str(path))
    return doc


def _write_or_print(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _current_checkpoint() -> log.StoredCheckpoint:
    """The latest checkpoint, issuing one first if the tree has grown since (or none exists)."""
    key = load_registry_key()
    with write_transaction(get_engine()) as conn:
        return log.issue_checkpoint(conn, key)


def checkpoint_command(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the signed checkpoint to this file."),
) -> None:
    """Print the latest signed checkpoint (C2SP signed note), signing a new one if the log has grown."""
    cp = _current_checkpoint()
    _write_or_print(cp.note, out)
    console.print(f"checkpoint {cp.checkpoint_id}: size {cp.tree_size}, key {cp.key_name}+{cp.key_id}")


def prove_command(
    event_hash: str = typer.Argument(..., help="The event's EPCIS hash ID, ni:///sha-256;…?ver=CBV2.0"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the proof JSON to this file."),
    checkpoint_out: Path | None = typer.Option(
        None, "--checkpoint-out", help="Also write the checkpoint the proof is against to this file."
    ),
    size: int | None = typer.Option(
        None, "--size", help="Prove against the checkpoint issued at this tree size (one you already hold)."
    ),
) -> None:
    """Print an inclusion proof (JSON) for an event against the latest signed checkpoint (or --size's)."""
    data = log.event_leaf_data(event_hash.strip())
    if size is None:
        cp = _current_checkpoint()
    else:
        with get_engine().connect() as conn:
            cp = log.checkpoint_at_size(conn, size)
    with get_engine().connect() as conn:
        doc = log.prove_event(conn, data, cp)
    doc["checkpoint"] = cp.note
    _write_or_print(json.dumps(doc, indent=2) + "\n", out)
    if checkpoint_out is not None:
        checkpoint_out.write_text(cp.note, encoding="utf-8")


def _verifiers(vkey: str | None) -> list[Verifier]:
    if vkey is None:
        key = load_registry_key(create=False)
        return [key.verifier()]
    path = Path(vkey)
    text = read_text(path, "verifier key") if path.exists() else vkey
    return [parse_vkey(line) for line in text.splitlines() if line.strip()]


def verify_command(
    checkpoint: Path = typer.Option(..., "--checkpoint", "-c", help="Signed checkpoint file (C2SP note)."),
    proof: Path = typer.Option(..., "--proof", "-p", help="Proof JSON printed by `lodeline trace prove`."),
    vkey: str | None = typer.Option(
        None,
        "--vkey",
        "-k",
        help="Registry verifier key (<name>+<id>+<key>) or a file holding one per line. "
        "Default: the public half of this machine's registry key.",
    ),
) -> None:
    """Verify an inclusion proof and the checkpoint's signature offline (no store). Exit 0 if valid."""
    doc = _read_json(proof)
    result = verify_inclusion_document(doc, read_text(checkpoint, "checkpoint"), _verifiers(vkey))
    typer.echo(
        f"verified: leaf {result.leaf_index} ({(result.leaf_data or b'').decode('utf-8', 'replace')}) is in "
        f"{result.origin} at tree size {result.tree_size}, root {result.root_hash.hex()}"
    )


def consistency_command(
    old_size: int = typer.Argument(..., help="Tree size of an earlier checkpoint you hold."),
    new_size: int | None = typer.Option(
        None, "--new", help="Tree size of a later checkpoint (default: the latest, signed now if needed)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the proof JSON to this file."),
    checkpoint_out: Path | None = typer.Option(
        None, "--checkpoint-out", help="Also write the newer checkpoint to this file."
    ),
) -> None:
    """Print a consistency proof (JSON) that the newer checkpoint's tree extends the older one's."""
    latest = _current_checkpoint()
    with get_engine().connect() as conn:
        old = log.checkpoint_at_size(conn, old_size)
        new = latest if new_size is None else log.checkpoint_at_size(conn, new_size)
        doc = log.prove_consistency(conn, old, new)
    doc["checkpoint"] = new.note
    _write_or_print(json.dumps(doc, indent=2) + "\n", out)
    if checkpoint_out is not None:
        checkpoint_out.write_text(new.note, encoding="utf-8")


def verify_consistency_command(
    old: Path = typer.Option(..., "--old", help="The earlier signed checkpoint (C2SP note)."),
    new: Path = typer.Option(..., "--new", help="The later signed checkpoint (C2SP note)."),
    proof: Path = typer.Option(
        ..., "--proof", "-p", help="Proof JSON printed by `lodeline trace consistency`."
    ),
    vkey: str | None = typer.Option(None, "--vkey", "-k", help="Registry verifier key or a file of them."),
) -> None:
    """Verify offline (no store) that the later checkpoint's log extends the earlier one's: no fork, no rewrite."""
    doc = _read_json(proof)
    verifiers = _verifiers(vkey)
    result = verify_consistency_document(
        doc, read_text(old, "old checkpoint"), read_text(new, "new checkpoint"), verifiers
    )
    typer.echo(
        f"consistent: {result.origin} at size {result.new_size} (root {result.new_root.hex()}) extends "
        f"size {result.old_size} (root {result.old_root.hex()})"
    )


def _leaf_source_hook() -> LeafSource | None:
    module_name, _, function = LEAF_SOURCE_HOOK.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    hook = getattr(module, function, None)
    return hook if callable(hook) else None


def audit_command(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json or parquet"),
    events: bool = typer.Option(
        True,
        "--events/--no-events",
        help="Also recompute leaves from stored events (when capture provides it).",
    ),
) -> None:
    """Recompute the log from stored leaves (and events) and check every subtree hash and checkpoint."""
    try:
        verifiers = [load_registry_key(create=False).verifier()]
    except RegistryKeyError:
        # No key yet means no checkpoint was ever signed here; any stored checkpoint will then be reported as
        # unverifiable rather than silently trusted.
        verifiers = []
    engine = get_engine()
    hook = _leaf_source_hook() if events else None
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for the whole audit while appends go on
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            report = run_audit(conn, verifiers, leaf_source=hook)
    summary = (
        f"{report.leaves_checked:,} leaves, {report.subtrees_checked:,} subtree hashes, "
        f"{report.checkpoints_checked} checkpoints, {report.events_checked:,} events checked"
    )
    if fmt is Format.json:
        sys.stdout.write(json.dumps(report.to_dict(), indent=2) + "\n")
    elif report.findings:
        frame = pl.DataFrame(
            [{"kind": f.kind, "message": f.message} for f in report.findings],
            schema={"kind": pl.String, "message": pl.String},
        )
        emit(frame, fmt, title="trace audit: findings")
    if report.ok:
        console.print(f"[green]audit passed[/]: {summary}")
        return
    console.print(f"[bold red]audit failed[/]: {len(report.findings)} finding(s); {summary}")
    raise typer.Exit(1)


def vkey_command() -> None:
    """Print the registry's public verifier key (C2SP vkey: <name>+<hex key id>+<base64 key>)."""
    typer.echo(load_registry_key().vkey)


def register_log_commands(app: typer.Typer) -> None:
    """Add the log commands to a Typer app (the shared ``trace`` group)."""
    app.command("checkpoint")(checkpoint_command)
    app.command("prove")(prove_command)
    app.command("verify")(verify_command)
    app.command("consistency")(consistency_command)
    app.command("verify-consistency")(verify_consistency_command)
    app.command("audit")(audit_command)
    app.command("vkey")(vkey_command)


log_app = typer.Typer(no_args_is_help=True)
register_log_commands(log_app)
