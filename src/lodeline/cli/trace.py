"""``lodeline trace``: the traceability registry (the log commands live in :mod:`lodeline.cli.trace_log`)."""

from __future__ import annotations

import typer

from lodeline.cli.trace_log import register_log_commands

app = typer.Typer(no_args_is_help=True)
register_log_commands(app)
