"""``lodeline alerts list|show|ack|escalate|close|subscribe|unsubscribe|subscriptions|outbox|deliver``.

The alert lifecycle and delivery on the local store (docs/alerts-delivery.md). The CLI is the operator's tool:
``--actor`` names who acts (recorded with the time in the alert's events and the audit log); members act for
themselves through the API, scoped by their token. The ``alerts`` group (``cli/alerts.py``) includes these
commands next to ``scan`` and ``backtest``.
"""

from __future__ import annotations

import importlib
import json
import logging
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import typer
from rich.console import Console

from lodeline.cli.output import Format, emit
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
#: The largest id the API accepts too (api/routes/alerts.py): larger ones are refused before the store sees them.
MAX_ID = 2**31 - 1
console = Console(stderr=True)

ACTOR_HELP = "Who acts (a name or e-mail), recorded with the time in the alert's events and the audit log."
_LIST_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "id": pl.Int64,
    "mineral": pl.String,
    "level": pl.String,
    "current_level": pl.String,
    "state": pl.String,
    "as_of": pl.Date,
    "opened_at": pl.Datetime("us", "UTC"),
    "explanation": pl.String,
}


def _lifecycle() -> ModuleType:
    """Imported on use: ``lodeline alerts scan`` (same group) should not pay for the store and SMTP modules."""
    return importlib.import_module("lodeline.services.alert_lifecycle")


def _delivery() -> ModuleType:
    return importlib.import_module("lodeline.services.alert_delivery")


def _json(value: Any) -> None:
    typer.echo(json.dumps(value, default=str, indent=2, ensure_ascii=False))


@app.command("list")
def list_command(
    mineral: str | None = typer.Option(None, "--mineral", "-m", help="Only this mineral (name or alias)."),
    state: str | None = typer.Option(None, "--state", help="open, acknowledged, escalated or closed."),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Recorded alerts, newest first."""
    rows = _lifecycle().list_alerts(get_engine(), mineral=mineral, state=state)
    frame = pl.DataFrame([{k: r[k] for k in _LIST_SCHEMA} for r in rows], schema=_LIST_SCHEMA)
    emit(frame, fmt, out=out, title="Alerts", caption="level: highest while open; current_level: latest scan")


@app.command("show")
def show_command(
    alert_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The alert id (see `alerts list`)."),
) -> None:
    """One alert with its readings and its events (who did what when), as JSON."""
    _json(_lifecycle().show(get_engine(), alert_id))


def _transition(action: str, alert_id: int, actor: str, note: str | None) -> None:
    shown = _lifecycle().transition(get_engine(), alert_id, action, actor, note)
    console.print(f"alert {alert_id} ({shown['mineral']}) is now [bold]{shown['state']}[/]")


@app.command("ack")
def ack_command(
    alert_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The alert id (see `alerts list`)."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
    note: str | None = typer.Option(None, "--note", help="Why (kept with the event)."),
) -> None:
    """Acknowledge an open alert."""
    _transition("acknowledge", alert_id, actor, note)


@app.command("escalate")
def escalate_command(
    alert_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The alert id (see `alerts list`)."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
    note: str | None = typer.Option(None, "--note", help="Why (kept with the event)."),
) -> None:
    """Escalate an open or acknowledged alert."""
    _transition("escalate", alert_id, actor, note)


@app.command("close")
def close_command(
    alert_id: int = typer.Argument(..., min=1, max=MAX_ID, help="The alert id (see `alerts list`)."),
    actor: str = typer.Option(..., "--actor", help=ACTOR_HELP),
    note: str | None = typer.Option(None, "--note", help="Why (kept with the event)."),
) -> None:
    """Close an alert (a mineral back to normal is never closed automatically)."""
    _transition("close", alert_id, actor, note)


@app.command("subscribe")
def subscribe_command(
    member: str = typer.Option(..., "--member", help="The member (delegation) the subscription belongs to."),
    mineral: str = typer.Option("*", "--mineral", "-m", help="A mineral (name or alias) or * for every one."),
    level: str = typer.Option("warning", "--level", help="Minimum level: watch, warning or alert."),
    webhook: str | None = typer.Option(None, "--webhook", help="Deliver by signed webhook to this URL."),
    email: str | None = typer.Option(None, "--email", help="Deliver by e-mail to this address."),
    actor: str = typer.Option("cli", "--actor", help=ACTOR_HELP),
) -> None:
    """Subscribe a member to alerts; a webhook subscription's secret is printed ONCE (keep it for verifying)."""
    if (webhook is None) == (email is None):
        raise typer.BadParameter("give exactly one of --webhook URL or --email ADDRESS")
    channel, target = ("webhook", webhook) if webhook is not None else ("email", email)
    made = _lifecycle().subscribe(
        get_engine(), member=member, mineral=mineral, min_level=level, channel=channel,
        target=str(target), created_by=actor,
    )  # fmt: skip
    _json(made)


@app.command("unsubscribe")
def unsubscribe_command(
    subscription_id: int = typer.Argument(
        ..., min=1, max=MAX_ID, help="The subscription id (see `alerts subscriptions`)."
    ),
) -> None:
    """Remove a subscription (messages already in the outbox for it are given up)."""
    _lifecycle().unsubscribe(get_engine(), subscription_id, None)
    console.print(f"subscription {subscription_id} removed")


@app.command("subscriptions")
def subscriptions_command(
    member: str | None = typer.Option(None, "--member", help="Only this member's."),
) -> None:
    """Active subscriptions (without their secrets), as JSON."""
    _json(_lifecycle().subscriptions(get_engine(), member))


@app.command("outbox")
def outbox_command(
    alert_id: int | None = typer.Option(
        None, "--alert", min=1, max=MAX_ID, help="Only this alert's messages."
    ),
) -> None:
    """The outbox: every message with its attempts, next attempt, sent time and last error, as JSON."""
    _json(_delivery().outbox(get_engine(), alert_id))


@app.command("deliver")
def deliver_command(
    once: bool = typer.Option(False, "--once", help="One pass over the due messages, then exit."),
    loop: bool = typer.Option(False, "--loop", help="Keep delivering until stopped."),
    interval: float = typer.Option(
        5.0, "--interval", min=0.05, help="Seconds between passes when idle (--loop)."
    ),
) -> None:
    """Send the outbox's due messages (signed webhooks, SMTP) with retries and exponential backoff. Settings:
    LODELINE_ALERTS_SMTP_HOST, _SMTP_PORT, _SMTP_FROM, _LEASE_SECONDS, _MAX_ATTEMPTS, _BACKOFF_BASE_SECONDS, …"""
    if once == loop:
        raise typer.BadParameter("give exactly one of --once or --loop")
    engine = get_engine()
    if once:
        _json(_delivery().deliver_once(engine).to_dict())
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        _delivery().deliver_loop(engine, interval=interval)
    except KeyboardInterrupt:
        console.print("stopped")
