"""``lodeline admin token create|revoke|list``, ``lodeline admin audit`` and ``lodeline admin throttle list|reset``."""

from __future__ import annotations

import time

import polars as pl
import typer
from rich.console import Console

from lodeline.api.settings import ApiSettings
from lodeline.cli.output import Format, emit
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import throttle
from lodeline.store.accounts import ROLES, create_token, list_tokens, read_audit, revoke_token
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
token_app = typer.Typer(no_args_is_help=True, help="API tokens (stored hashed; shown once at creation).")
app.add_typer(token_app, name="token")
throttle_app = typer.Typer(
    no_args_is_help=True, help="The failed sign-in throttle: blocked client addresses and accounts."
)
app.add_typer(throttle_app, name="throttle")
console = Console(stderr=True)


@token_app.command("create")
def token_create(
    account: str = typer.Option(..., "--account", "-a", help="Account name (created on first use)"),
    role: str = typer.Option(..., "--role", "-r", help=f"One of {', '.join(ROLES[1:])}"),
    org: str | None = typer.Option(
        None,
        "--org",
        help="Organisation the account acts for: ISO3 for a member, company id for a participant",
    ),
    label: str = typer.Option("", "--label", help="What the token is for"),
) -> None:
    """Issue a token. The token is printed once on stdout; only its SHA-256 is stored."""
    token_id, token = create_token(get_engine(), account, role, org, label)
    console.print(f"[green]created[/] token [bold]{token_id}[/] for {account} ({role}); store it now:")
    typer.echo(token)


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="Token id (see `lodeline admin token list`)"),
) -> None:
    """Revoke a token and end its browser sessions."""
    revoke_token(get_engine(), token_id)
    console.print(f"[green]revoked[/] token {token_id}")


@token_app.command("list")
def token_list(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
) -> None:
    """Every token with its account, role, organisation and state (never the secret)."""
    rows = list_tokens(get_engine())
    if not rows:
        console.print("no tokens yet: `lodeline admin token create --account NAME --role ROLE`")
        return
    frame = pl.DataFrame(
        [{**r, **{k: r[k].isoformat() if r[k] else None for k in ("created_at", "revoked_at")}} for r in rows]
    )
    emit(frame, fmt, title="API tokens")


@app.command("audit")
def audit(
    limit: int = typer.Option(50, "--limit", "-n", min=1, max=10_000, help="newest entries to show"),
    event: str | None = typer.Option(None, "--event", help="e.g. login.failed, write, token.create"),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
) -> None:
    """The newest audit-log entries: failed logins, token changes and every write."""
    rows = read_audit(get_engine(), limit=limit, event=event)
    if not rows:
        console.print("the audit log is empty")
        return
    frame = pl.DataFrame(
        [{**r, **{k: r[k].isoformat() if r[k] else None for k in ("at", "last_at")}} for r in rows]
    )
    emit(frame, fmt, title="Audit log")


@throttle_app.command("list")
def throttle_list(
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
) -> None:
    """Keys (client:ADDRESS, token:ID) with failed sign-ins in their open window, and until when each is blocked."""
    rows = throttle.list_keys(get_engine(), time.time(), ApiSettings().auth_failure_window_seconds)
    if not rows:
        console.print("no failed sign-ins in the current window")
        return
    frame = pl.DataFrame(
        [
            {**r, **{k: r[k].isoformat() if r[k] else None for k in ("window_start", "blocked_until")}}
            for r in rows
        ]
    )
    emit(frame, fmt, title="Sign-in throttle")


@throttle_app.command("reset")
def throttle_reset(
    key: str | None = typer.Argument(
        None, help="A key from `lodeline admin throttle list`, e.g. token:3dff1d222f93"
    ),
    all_keys: bool = typer.Option(False, "--all", metavar="", help="Reset every key"),
) -> None:
    """Unblock a key (or every key with --all); running servers see it within 5 s. The reset is audited."""
    if (key is None) == (not all_keys):
        raise InvalidArgumentError("give one KEY or --all")
    count = throttle.reset(get_engine(), None if all_keys else key)
    if key is not None and not count:
        shown = f"{key[:80]!r}{'…' if len(key) > 80 else ''}"
        raise NotFoundError(f"no throttled key {shown} (see `lodeline admin throttle list`)")
    console.print(f"[green]reset[/] {count} key(s)")
