"""``lodeline trace checkpoint|prove|verify|consistency|verify-consistency|audit|vkey``: the verifiable log
(the signer and witness commands are in :mod:`lodeline.cli.trace_witness`, registered here too).

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

from lodeline.cli.inputs import is_file, read_json, read_text
from lodeline.cli.output import Format, check_out_path, check_out_paths, emit
from lodeline.cli.trace_witness import register_witness_commands
from lodeline.errors import InvalidArgumentError
from lodeline.store.engine import get_engine
from lodeline.trace import cosign, log, registry_service, signer
from lodeline.trace.audit import LEAF_SOURCE_HOOK, LeafSource, run_audit
from lodeline.trace.checkpoint import Verifier, parse_vkey
from lodeline.trace.cosignature import Cosigner, parse_cosigner_vkey, require_quorum
from lodeline.trace.proof_verify import verify_consistency_document, verify_inclusion_document

console = Console(stderr=True)
#: The largest tree size the store can hold (a signed 64-bit integer column).
MAX_TREE_SIZE = 2**63 - 1


def _read_json(path: Path) -> dict[str, Any]:
    doc = read_json(path, "proof")
    if not isinstance(doc, dict):
        raise InvalidArgumentError(f"{path}: the proof must be a JSON object", file=str(path))
    return doc


def _write_or_print(text: str, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text, encoding="utf-8")


def _current_checkpoint() -> log.StoredCheckpoint:
    """The latest checkpoint, issuing one first if the tree has grown since (or none exists); a new one is sent
    to the configured witnesses."""
    return registry_service.current_checkpoint(get_engine())


def _served_note(cp: log.StoredCheckpoint) -> str:
    """The checkpoint's note with its witness cosignature lines."""
    with get_engine().connect() as conn:
        return cosign.cosigned_note(conn, cp)


def checkpoint_command(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the signed checkpoint to this file."),
) -> None:
    """Print the latest signed checkpoint (C2SP signed note), signing a new one if the log has grown."""
    check_out_path(out)
    cp = _current_checkpoint()
    with get_engine().connect() as conn:
        note = cosign.cosigned_note(conn, cp)
        cosigned = len(cosign.cosignature_rows(conn, cp))
    _write_or_print(note, out)
    console.print(
        f"checkpoint {cp.checkpoint_id}: size {cp.tree_size}, key {cp.key_name}+{cp.key_id}, "
        f"{cosigned} witness cosignature(s)"
    )


def prove_command(
    event_hash: str | None = typer.Argument(
        None,
        help="The event's EPCIS hash ID, ni:///sha-256;…?ver=CBV2.0 (or name a directory record instead).",
    ),
    facility: str | None = typer.Option(
        None, "--facility", help="Prove a facility's record (GLN, SGLN or URI)."
    ),
    participant: str | None = typer.Option(None, "--participant", help="Prove a participant's registration."),
    key: str | None = typer.Option(None, "--key", help="Prove a participant key's record (key id)."),
    prefix: str | None = typer.Option(None, "--prefix", help="Prove a GS1 company prefix's binding."),
    certification: str | None = typer.Option(None, "--certification", help="Prove a certification (its id)."),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the proof JSON to this file."),
    checkpoint_out: Path | None = typer.Option(
        None, "--checkpoint-out", help="Also write the checkpoint the proof is against to this file."
    ),
    size: int | None = typer.Option(
        None,
        "--size",
        min=0,
        max=MAX_TREE_SIZE,
        help="Prove against the checkpoint issued at this tree size (one you already hold).",
    ),
) -> None:
    """Print an inclusion proof (JSON) for an event, or for the last directory leaf recording a facility,
    participant, key, company prefix or certification, against the latest signed checkpoint (or --size's)."""
    check_out_paths({"--out": out, "--checkpoint-out": checkpoint_out})
    named = {
        kind: value
        for kind, value in (
            ("facility", facility),
            ("participant", participant),
            ("key", key),
            ("prefix", prefix),
            ("certification", certification),
        )
        if value is not None
    }
    if len(named) + (event_hash is not None) != 1:
        raise InvalidArgumentError(
            "name exactly one thing to prove: an event hash ID, or one of --facility, --participant, --key, "
            "--prefix, --certification"
        )
    engine = get_engine()
    if named:
        ((kind, value),) = named.items()
        doc = registry_service.directory_inclusion(engine, kind, value, size)
    else:
        data = log.event_leaf_data(str(event_hash).strip())
        if size is None:
            cp = _current_checkpoint()
        else:
            with engine.connect() as conn:
                cp = log.checkpoint_at_size(conn, size)
        with engine.connect() as conn:
            doc = log.prove_event(conn, data, cp)
        doc["checkpoint"] = _served_note(cp)
    _write_or_print(json.dumps(doc, indent=2) + "\n", out)
    if checkpoint_out is not None:
        checkpoint_out.write_text(doc["checkpoint"], encoding="utf-8")


def _key_lines(value: str, what: str) -> list[str]:
    """A key given inline, or a file holding one per line."""
    path = Path(value)
    text = read_text(path, what) if is_file(path) else value
    return [line.strip() for line in text.splitlines() if line.strip()]


def _verifiers(vkey: str | None) -> list[Verifier]:
    if vkey is None:
        return [parse_vkey(signer.verifier_key(get_engine()))]
    return [parse_vkey(line) for line in _key_lines(vkey, "verifier key")]


def _witnesses(values: list[str]) -> list[Cosigner]:
    return [parse_cosigner_vkey(line) for value in values for line in _key_lines(value, "witness key")]


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
    witness: list[str] = typer.Option(
        [],
        "--witness",
        "-w",
        help="A witness's cosignature/v1 key (<name>+<id>+<key>) or a file of them; repeatable.",
    ),
    quorum: int | None = typer.Option(
        None, "--quorum", "-q", help="Valid witness cosignatures required (default: every --witness given)."
    ),
) -> None:
    """Verify an inclusion proof and the checkpoint's signature offline (no store), and with --witness, that
    enough of those witnesses cosigned that checkpoint. Exit 0 if valid."""
    doc = _read_json(proof)
    note = read_text(checkpoint, "checkpoint")
    witnesses = _witnesses(witness)
    if quorum is not None and not witnesses:
        raise InvalidArgumentError("--quorum needs the witnesses' keys (--witness)")
    result = verify_inclusion_document(doc, note, _verifiers(vkey))
    typer.echo(
        f"verified: leaf {result.leaf_index} ({(result.leaf_data or b'').decode('utf-8', 'replace')}) is in "
        f"{result.origin} at tree size {result.tree_size}, root {result.root_hash.hex()}"
    )
    if witnesses:
        needed = len({w.public_key for w in witnesses}) if quorum is None else quorum
        verdict = require_quorum(note, witnesses, needed)
        names = ", ".join(f"{c.name} (time {c.timestamp})" for c in verdict.verified)
        typer.echo(
            f"cosigned by {len(verdict.verified)} of {len(witnesses)} witnesses (quorum {needed}): {names}"
        )
        if verdict.missing:
            typer.echo(f"no valid cosignature from: {', '.join(verdict.missing)}")


def consistency_command(
    old_size: int = typer.Argument(
        ..., min=0, max=MAX_TREE_SIZE, help="Tree size of an earlier checkpoint you hold."
    ),
    new_size: int | None = typer.Option(
        None,
        "--new",
        min=0,
        max=MAX_TREE_SIZE,
        help="Tree size of a later checkpoint (default: the latest, signed now if needed).",
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the proof JSON to this file."),
    checkpoint_out: Path | None = typer.Option(
        None, "--checkpoint-out", help="Also write the newer checkpoint to this file."
    ),
) -> None:
    """Print a consistency proof (JSON) that the newer checkpoint's tree extends the older one's."""
    check_out_paths({"--out": out, "--checkpoint-out": checkpoint_out})
    latest = _current_checkpoint()
    with get_engine().connect() as conn:
        old = log.checkpoint_at_size(conn, old_size)
        new = latest if new_size is None else log.checkpoint_at_size(conn, new_size)
        doc = log.prove_consistency(conn, old, new)
        doc["checkpoint"] = cosign.cosigned_note(conn, new)
    _write_or_print(json.dumps(doc, indent=2) + "\n", out)
    if checkpoint_out is not None:
        checkpoint_out.write_text(doc["checkpoint"], encoding="utf-8")


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
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    events: bool = typer.Option(
        True,
        "--events/--no-events",
        metavar="",
        help="Also recompute leaves from stored events (when capture provides it).",
    ),
    derived: bool = typer.Option(
        True,
        "--derived/--no-derived",
        metavar="",
        help="Also compare the directory tables with the directory the log records, replay the logged events "
        "and compare every derived table (lots, origin edges, balances, claims, credits, custody journal, EPC "
        "index, event columns, documents).",
    ),
    full: bool = typer.Option(
        False,
        "--full",
        metavar="",
        help="Re-prepare every document's signed bytes, not a sample (exhaustive; slower).",
    ),
    sample: int | None = typer.Option(
        None, "--sample", min=0, help="Documents re-prepared when not --full (default 32, and the newest)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed of the document sample (default: random)."),
) -> None:
    """Recompute the log from stored leaves (and events) and check every subtree hash and checkpoint; replay the
    events and compare the derived tables with them."""
    # imported here: the replay needs capture's code, which the other commands of this group do not load
    from lodeline.trace.audit_derived import DEFAULT_SAMPLE_DOCUMENTS, audit_derived

    engine = get_engine()
    # The key under every origin the store's checkpoints name; none without a key (then any stored checkpoint is
    # reported as unverifiable rather than silently trusted).
    verifiers = signer.audit_verifiers(engine)
    hook = _leaf_source_hook() if events else None
    count = DEFAULT_SAMPLE_DOCUMENTS if sample is None else sample
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":  # one snapshot for the whole audit while appends go on
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            report = run_audit(conn, verifiers, leaf_source=hook)
            replay = audit_derived(conn, full=full, sample=count, seed=seed) if derived else None
    ok = report.ok and (replay is None or replay.ok)
    summary = (
        f"{report.leaves_checked:,} leaves, {report.subtrees_checked:,} subtree hashes, "
        f"{report.checkpoints_checked} checkpoints, {report.events_checked:,} events and "
        f"{report.directory_leaves:,} directory changes checked"
    )
    if report.kind_leaves:
        summary += (
            " (other leaves: " + ", ".join(f"{n:,} {k}" for k, n in sorted(report.kind_leaves.items())) + ")"
        )

    if replay is not None:
        summary += (
            f"; {replay.events_replayed:,} events replayed ({replay.mode}), "
            f"{sum(replay.rows_compared.values()):,} derived rows compared, {replay.documents_verified:,} of "
            f"{replay.documents:,} documents' signatures checked, {replay.documents_reprepared:,} re-prepared"
        )
        if replay.legacy_events:
            summary += (
                f"; {replay.legacy_events:,} events captured before trace_0004 replayed under its older rules"
            )
        legacy = sum(1 for w in replay.warnings if w.kind == "document-bytes-legacy")
        if legacy:
            summary += f"; {legacy:,} documents captured before their signed bytes were kept"
        if replay.snapshot_events:
            summary += (
                f"; {replay.snapshot_events:,} events replayed against the directory snapshot of trace_0006"
            )
        rebased = sum(1 for w in replay.warnings if w.kind == "directory-snapshot-rebased")
        if rebased:
            summary += f"; {rebased:,} directory rows replaced by a later snapshot (warnings)"
    findings = [{"kind": f.kind, "message": f.message} for f in report.findings]
    if replay is not None:
        findings += [{"kind": f.kind, "message": f.message} for f in replay.findings + replay.warnings]
    if fmt is Format.json:
        body = report.to_dict() | {"ok": ok}
        if replay is not None:
            body["derived"] = replay.to_dict()
        sys.stdout.write(json.dumps(body, indent=2, default=str) + "\n")
    elif findings:
        frame = pl.DataFrame(findings, schema={"kind": pl.String, "message": pl.String})
        emit(frame, fmt, title="trace audit: findings")
    if ok:
        console.print(f"[green]audit passed[/]: {summary}")
        return
    failed = len(report.findings) + (len(replay.findings) if replay is not None else 0)
    console.print(f"[bold red]audit failed[/]: {failed} finding(s); {summary}")
    raise typer.Exit(1)


def vkey_command() -> None:
    """Print the registry's public verifier key (C2SP vkey: <name>+<hex key id>+<base64 key>)."""
    typer.echo(signer.verifier_key(get_engine()))


def register_log_commands(app: typer.Typer) -> None:
    """Add the log commands to a Typer app (the shared ``trace`` group)."""
    app.command("checkpoint")(checkpoint_command)
    app.command("prove")(prove_command)
    app.command("verify")(verify_command)
    app.command("consistency")(consistency_command)
    app.command("verify-consistency")(verify_consistency_command)
    app.command("audit")(audit_command)
    app.command("vkey")(vkey_command)
    register_witness_commands(app)


log_app = typer.Typer(no_args_is_help=True)
register_log_commands(log_app)
