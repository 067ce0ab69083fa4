"""The ``lodeline`` command. Command groups live in their own modules and are listed in ``COMMAND_GROUPS``."""

from __future__ import annotations

import importlib
import sys

import typer
from rich.console import Console

from lodeline import __version__
from lodeline.errors import LodelineError

#: (module under lodeline.cli, command name, help). Each module exposes a Typer ``app``.
COMMAND_GROUPS: tuple[tuple[str, str, str], ...] = (
    ("data", "data", "Build the store from the bundled data and list the sources."),
    ("market", "market", "Market intelligence: shares, concentration, alliance dependency, prices, reports."),
    ("trace", "trace", "Traceability registry: EPCIS capture, custody ledger, origin, verifiable log."),
    ("risk", "risk", "Criticality (EU SR/EI), governance-weighted import risk and sensitivity."),
    (
        "sim",
        "sim",
        "Stress tests and emergency exercises: scenarios, Monte Carlo, stockpile release, tabletop.",
    ),
    ("admin", "admin", "API tokens and the audit log."),
    ("witness", "witness", "Run a witness that cosigns the registry's checkpoints (C2SP tlog-witness)."),
)

#: Modules under lodeline.cli that add top-level commands (not groups) through ``register(app)``.
COMMANDS: tuple[str, ...] = ("serve",)

app = typer.Typer(
    name="lodeline",
    help="Lodeline: critical-mineral supply chains — market intelligence, dependency targets, risk, stress tests, traceability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for module_name, command, help_text in COMMAND_GROUPS:
    module = importlib.import_module(f"lodeline.cli.{module_name}")
    app.add_typer(module.app, name=command, help=help_text)

for module_name in COMMANDS:
    importlib.import_module(f"lodeline.cli.{module_name}").register(app)


@app.command()
def version() -> None:
    """Print the Lodeline version."""
    typer.echo(__version__)


def _os_reason(exc: OSError) -> str:
    """What the operating system refused, naming the file (cut to 120 characters) and its reason."""
    # a rename names its target second: that is the file the user gave
    name = next((n for n in (exc.filename2, exc.filename) if isinstance(n, str | bytes)), None)
    shown = (
        (name.decode("utf-8", "replace") if isinstance(name, bytes) else name) if name is not None else None
    )
    if shown is not None and len(shown) > 120:
        shown = shown[:120] + "…"
    reason = exc.strerror or type(exc).__name__
    return (
        f"cannot use {shown!r}: {reason}" if shown is not None else f"the operating system refused: {reason}"
    )


def main() -> None:
    """Entry point: run the app and turn Lodeline errors into a clear message and exit status 2."""
    try:
        # Outside standalone mode click RETURNS the code of a `typer.Exit` instead of exiting with it.
        status = app(standalone_mode=False)
    except LodelineError as exc:
        Console(stderr=True).print(f"[bold red]error[/] [dim]({exc.code})[/]: {exc.message}", highlight=False)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        Console(stderr=True).print("aborted")
        sys.exit(1)
    except (
        OSError
    ) as exc:  # a file the operating system refuses (name too long, a folder, no such folder, full disk)
        Console(stderr=True).print(
            f"[bold red]error[/] [dim](os-error)[/]: {_os_reason(exc)}", highlight=False
        )
        sys.exit(2)
    except Exception as exc:
        # Usage errors from Typer's (vendored) click carry their own formatting and exit code.
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        raise
    if isinstance(status, int) and status:
        sys.exit(status)


if __name__ == "__main__":
    main()
