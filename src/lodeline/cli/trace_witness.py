"""``lodeline trace signer status|reset``, ``lodeline trace witness add|list|remove`` and ``lodeline trace cosign``.

The signer commands show and (deliberately) reset what the checkpoint signer remembers having signed; the witness
commands configure the witnesses the registry asks to cosign its checkpoints; ``cosign`` asks them now.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.output import Format, check_out_path, emit
from lodeline.store.engine import get_engine
from lodeline.trace import cosign, signer

console = Console(stderr=True)
signer_app = typer.Typer(
    no_args_is_help=True, help="What the checkpoint signer signed, per origin (its state)."
)
witness_app = typer.Typer(
    no_args_is_help=True, help="The witnesses asked to cosign the registry's checkpoints."
)


@signer_app.command("status")
def signer_status(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table or json"),
) -> None:
    """The store's origin and tree, the head the signer signed for it, and whether the store extends it.
    Exit 0 if it does (or nothing was signed yet), 1 if the signer would refuse."""
    report = signer.status(get_engine())
    if fmt is Format.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        signed = report["signed"]
        store = report["store"]
        lines = [
            f"origin       {report['origin']}" + (" (pinned)" if report["pinned_origin"] else ""),
            f"log ID       {report['log_id']}",
            f"key          {report['vkey'] or 'none yet'}",
            f"state file   {report['state_file']}",
            f"store        size {store['tree_size']}, root {store['root_hash']}",
            "signed       "
            + (
                "nothing yet for this origin"
                if signed is None
                else f"size {signed['tree_size']}, root {signed['root_hash']} at {signed['signed_at']}"
            ),
        ]
        lines += [f"other origin {o}: size {h['tree_size']}" for o, h in report["other_origins"].items()]
        typer.echo("\n".join(lines))
    if report["extends"]:
        console.print("[green]the store extends what the signer signed[/]")
        return
    console.print(f"[bold red]the signer refuses this store[/]: {report['reason']}")
    raise typer.Exit(1)


@signer_app.command("reset")
def signer_reset(
    confirm: str = typer.Option(
        ...,
        "--confirm",
        help="The origin whose signed head to forget, typed out in full (see `signer status`).",
    ),
) -> None:
    """Forget the head signed for an origin, so the signer accepts the store it is given next. Recorded in the
    audit log. Only for a store that was replaced deliberately: to verifiers, the next checkpoint may be a fork."""
    gone = signer.reset(get_engine(), confirm)
    console.print(
        f"[yellow]forgot[/] the head signed for {gone.origin}: size {gone.tree_size}, root {gone.root_hash.hex()} "
        f"(signed {gone.signed_at}); recorded in the audit log as signer.reset"
    )


@witness_app.command("add")
def witness_add(
    url: str = typer.Argument(
        ..., help="The witness's submission URL prefix (it is sent <URL>/add-checkpoint)."
    ),
    vkey: str = typer.Argument(
        ..., help="The witness's cosignature/v1 key, as `lodeline witness key` prints it."
    ),
) -> None:
    """Ask this witness to cosign every new checkpoint (stored in the registry's database)."""
    witness, new = cosign.add_witness(get_engine(), url, vkey)
    console.print(f"[green]{'added' if new else 'updated'}[/] witness {witness.name} ({url})")


@witness_app.command("list")
def witness_list(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
) -> None:
    """The configured witnesses: name, URL, key, the size each last cosigned and its last error."""
    rows = cosign.list_witnesses(get_engine())
    if not rows:
        console.print("no witnesses yet: `lodeline trace witness add URL VKEY`")
        return
    frame = pl.DataFrame(
        [
            {
                "name": r["name"],
                "url": r["url"],
                "vkey": r["vkey"],
                "known_size": int(r["known_size"]),
                "last_contact": r["last_contact"].isoformat() if r["last_contact"] else None,
                "last_error": r["last_error"],
            }
            for r in rows
        ],
        schema={
            "name": pl.String,
            "url": pl.String,
            "vkey": pl.String,
            "known_size": pl.Int64,
            "last_contact": pl.String,
            "last_error": pl.String,
        },
    )
    emit(frame, fmt, title="Witnesses")


@witness_app.command("remove")
def witness_remove(
    name: str = typer.Argument(..., help="The witness's key name (see `trace witness list`)."),
) -> None:
    """Stop asking a witness (its past cosignatures are kept)."""
    cosign.remove_witness(get_engine(), name)
    console.print(f"[green]removed[/] witness {name}")


def cosign_command(
    out: Path | None = typer.Option(None, "--out", "-o", help="Write the cosigned checkpoint to this file."),
    timeout: float | None = typer.Option(
        None,
        "--timeout",
        min=0.1,
        max=60,
        help="Seconds per witness round (default: LODELINE_WITNESS_TIMEOUT or 3).",
    ),
) -> None:
    """Ask every configured witness that has not cosigned the latest checkpoint (signed first if the log grew);
    print the cosigned checkpoint. Exit 0 if every witness cosigned it, 1 otherwise."""
    check_out_path(out)
    engine = get_engine()
    cp = signer.issue(engine).checkpoint
    outcomes = cosign.collect(engine, cp, timeout=timeout)
    with engine.connect() as conn:
        note = cosign.cosigned_note(conn, cp)
        total = len(cosign.cosignature_rows(conn, cp))
    if out is None:
        sys.stdout.write(note)
    else:
        out.write_text(note, encoding="utf-8")
    for outcome in outcomes:
        mark = "[green]cosigned[/]" if outcome.cosigned else "[red]not cosigned[/]"
        console.print(f"{outcome.name}: {mark}: {outcome.detail}", highlight=False)
    witnesses = len(cosign.list_witnesses(engine))
    console.print(f"checkpoint size {cp.tree_size}: {total} of {witnesses} witness(es) cosigned")
    if total < witnesses:
        raise typer.Exit(1)


def register_witness_commands(app: typer.Typer) -> None:
    """Add ``signer``, ``witness`` and ``cosign`` to the ``trace`` group."""
    app.add_typer(signer_app, name="signer")
    app.add_typer(witness_app, name="witness")
    app.command("cosign")(cosign_command)
