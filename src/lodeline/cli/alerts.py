"""``lodeline alerts scan|backtest``: the alert levels as of a date (no look-ahead) and the replay against known
disruption episodes (docs/alerts.md).

The lifecycle commands (list, show, ack, escalate, close, subscribe) live in ``cli/alerts_lifecycle.py`` and attach
to this same group with one line at the end of this module. ``scan --record`` records today's scan in that
lifecycle.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import typer
from rich.console import Console

from lodeline.cli import alerts_lifecycle
from lodeline.cli.output import Format, emit
from lodeline.services import alerts as service
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)
err = Console(stderr=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"expected a date YYYY-MM-DD, got {value!r}", param_hint=option) from None


@app.command("scan")
def scan_command(
    as_of: str | None = typer.Option(None, "--as-of", help="Scan date YYYY-MM-DD (default: today)."),
    mineral: list[str] | None = typer.Option(
        None, "--mineral", "-m", help="Mineral id or alias; repeatable."
    ),
    alliance: str = typer.Option(
        "G7+", "--alliance", help="Alliance group id or comma-separated ISO3 codes."
    ),
    fmt: Format = typer.Option(
        Format.table, "--format", "-f", help="table, csv or json (json: full readings)"
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    stock_period: str | None = typer.Option(
        None,
        "--stock-period",
        help="Add the stock-cover indicator: days of cover of this period's published pooled stocks (YYYY-Qn).",
    ),
    record: bool = typer.Option(
        False,
        "--record",
        help="Record today's scan in the alert lifecycle (open alerts, escalations, subscribers' messages, log "
        "leaves of warnings); refused with --as-of.",
    ),
    actor: str = typer.Option("scan", "--actor", help="Who records the scan (with --record)."),
) -> None:
    """The fused alert level of every mineral as it stood on --as-of, from the data published by then, with the
    indicators that drove it."""
    day = _date(as_of, "--as-of") or dt.date.today()
    if record:
        if as_of is not None:
            raise typer.BadParameter(
                "--record records today's scan; a past --as-of is a replay", param_hint="--as-of"
            )
        alerts, recorded = service.record_scan(
            get_engine(), actor, mineral, alliance=alliance, stock_period=stock_period
        )
        for r in recorded:
            err.print(f"{r.mineral}: {r.level} ({r.outcome}; alert {r.alert_id}, {r.messages} message(s))")
    else:
        cover = service.published_stock_cover(get_engine(), stock_period, alliance) if stock_period else None
        alerts = service.scan(get_engine(), day, mineral, alliance=alliance, stock_cover=cover)
    if fmt is Format.json and out is None:
        typer.echo(json.dumps([a.to_dict() for a in alerts], indent=1))
        return
    emit(
        service.alerts_frame(alerts),
        fmt,
        out=out,
        title=f"Alerts as of {day}",
        caption="only data published by that date; method docs/methods/early-warning.md",
    )


@app.command("backtest")
def backtest_command(
    start: str = typer.Option("2005-01-01", "--start", help="First month of the replay (YYYY-MM-DD)."),
    end: str | None = typer.Option(
        None, "--end", help="Last day (default: the latest publication in the data)."
    ),
    alliance: str = typer.Option(
        "G7+", "--alliance", help="Alliance group id or comma-separated ISO3 codes."
    ),
    fmt: Format = typer.Option(Format.table, "--format", "-f", help="table, csv or json"),
    out: Path | None = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Replay the scan at every month-end and score it against the episodes in alerts/data/episodes.yaml: lead or
    lag of the first warning, false alarms per mineral-decade, precision and recall (held-out set apart)."""
    first = _date(start, "--start") or service.BACKTEST_START
    report = service.backtest(get_engine(), first, _date(end, "--end"), alliance=alliance)
    frames = service.backtest_frames(report)
    if fmt is Format.json and out is None:
        payload = {"summary": report.summary, "episodes": report.rows, "false_alarms": report.false_alarms}
        typer.echo(json.dumps(payload, indent=1, default=str))
        return
    emit(frames["episodes"], fmt, out=out, title="Backtest: episodes", caption=json.dumps(report.summary))
    if fmt is Format.table:
        emit(frames["false_alarms"], fmt, title="False alarms per mineral-decade")


# The lifecycle commands (list, show, ack, escalate, close, subscribe, subscriptions, unsubscribe, outbox, deliver)
# live in their own module and join this group: one `lodeline alerts` for the scan and the alerts it records.
app.add_typer(alerts_lifecycle.app)
