"""``lodeline witness key|add-log|list|serve``: run a C2SP tlog-witness for the registry (a member runs one).

The witness has its own Ed25519 key and its own state database, in ``--dir`` (``LODELINE_WITNESS_DIR``, default
``<data_dir>/witness``), separate from any registry store. See docs/trace-log.md ("Witnesses").
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.output import Format, emit
from lodeline.trace.checkpoint import parse_vkey
from lodeline.witness import service, state

app = typer.Typer(no_args_is_help=True)
console = Console(stderr=True)

DIR = typer.Option(
    None,
    "--dir",
    envvar=service.DIR_ENV,
    help="The witness's folder (key, state); default <data_dir>/witness.",
)
DATABASE = typer.Option(
    None,
    "--database-url",
    envvar=service.DATABASE_ENV,
    help="The witness's state database (SQLAlchemy URL); default SQLite <dir>/witness.sqlite.",
)


@app.command("key")
def key(
    folder: Path | None = DIR,
    database_url: str | None = DATABASE,
    name: str | None = typer.Option(
        None,
        "--name",
        help="The witness's key name, fixed when it is first created (default: a random name).",
    ),
) -> None:
    """Print the witness's cosignature/v1 verifier key (creates its key and name on first use)."""
    typer.echo(service.open_witness(folder, url=database_url, name=name).vkey)


@app.command("add-log")
def add_log(
    origin: str = typer.Option(..., "--origin", help="The log's origin (first line of its checkpoints)."),
    vkey: str = typer.Option(..., "--vkey", help="The log's verifier key (`lodeline trace vkey` prints it)."),
    folder: Path | None = DIR,
    database_url: str | None = DATABASE,
) -> None:
    """Follow a log: cosign its checkpoints when they extend the last one cosigned."""
    verifier = parse_vkey(vkey)
    if verifier.name != origin:
        console.print(
            f"[yellow]note[/]: the key is named {verifier.name!r}, the origin is {origin!r}; checkpoints must "
            "carry a signature by that key name"
        )
    witness = service.open_witness(folder, url=database_url)
    new = state.add_log(witness.engine, origin, vkey.strip())
    console.print(f"[green]{'following' if new else 'updated the key of'}[/] {origin}")


@app.command("list")
def list_logs(
    folder: Path | None = DIR,
    database_url: str | None = DATABASE,
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
) -> None:
    """The logs this witness follows, with the size and root it last cosigned."""
    witness = service.open_witness(folder, url=database_url)
    rows = state.logs(witness.engine)
    if not rows:
        console.print("this witness follows no log yet: `lodeline witness add-log --origin O --vkey V`")
        return
    frame = pl.DataFrame(
        [
            {
                "origin": r["origin"],
                "tree_size": int(r["tree_size"]),
                "root_hash": r["root_hash"].hex() if r["root_hash"] else None,
                "updated_at": r["updated_at"].isoformat() if r["updated_at"] else None,
                "vkey": r["vkey"],
            }
            for r in rows
        ],
        schema={
            "origin": pl.String,
            "tree_size": pl.Int64,
            "root_hash": pl.String,
            "updated_at": pl.String,
            "vkey": pl.String,
        },
    )
    emit(frame, fmt, title=f"Witness {witness.name}")


@app.command("serve")
def serve(
    folder: Path | None = DIR,
    database_url: str | None = DATABASE,
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (0.0.0.0 for every interface)"),
    port: int = typer.Option(7380, "--port", min=1, max=65535, help="TCP port to listen on"),
) -> None:
    """Serve the witness over HTTP: POST /add-checkpoint (C2SP tlog-witness), GET / (its name and key)."""
    import uvicorn

    from lodeline.witness.app import create_witness_app

    witness = service.open_witness(folder, url=database_url)
    console.print(f"witness {witness.name} on http://{host}:{port}  (vkey {witness.vkey})", highlight=False)
    uvicorn.run(create_witness_app(witness), host=host, port=port, server_header=False, log_level="warning")
