"""The ``lodeline`` command. Command groups live in their own modules and are listed in ``COMMAND_GROUPS``.

The root is a lazy group (:class:`LazyCommandGroup`): a group's module, and everything it imports (polars, the
store, FastAPI, …), is imported only when that group runs, so ``lodeline --help`` and ``lodeline version`` start
in a fraction of a second (``benchmarks/bench_startup.py`` measures it).
"""

from __future__ import annotations

import difflib
import importlib
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from typer import _click as click  # Typer's vendored click: the classes its groups are built on
from typer.core import TyperGroup, TyperOption

from lodeline import __version__

#: (module under lodeline.cli, command name, help). Each module exposes a Typer ``app``; it is imported only when
#: its group runs (or its own help is asked for).
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
    (
        "stocks",
        "stocks",
        "Stockpile exchange: member submissions (submit, list, history, show, template, prove) and the release plan.",
    ),
    (
        "alerts",
        "alerts",
        "Joint alert mechanism: scan (as of a date, no look-ahead), backtest; list, ack, escalate, close, subscribe, deliver.",
    ),
    (
        "comply",
        "comply",
        "Compliance: rule-set checks of lots (verdicts logged), TVPRA and entity screening.",
    ),
    (
        "deals",
        "deals",
        "Deals register: agreements, export restrictions, disputes, coverage, producer-country view.",
    ),
    (
        "projects",
        "projects",
        "Project register: add, import, list, show, compare, returns, commitments, recycling.",
    ),
    (
        "outlook",
        "outlook",
        "The 2030 outlook: will the project pipeline bring single-supplier dependency below 60 %?",
    ),
    ("passport", "passport", "Digital product passports: issue, verify (offline), traceability events."),
    ("admin", "admin", "API tokens and the audit log."),
    ("witness", "witness", "Run a witness that cosigns the registry's checkpoints (C2SP tlog-witness)."),
)

#: (module under lodeline.cli, command name, help) of the top-level commands (not groups); each module adds its
#: command through ``register(app)``, imported only when the command runs (building a command's options imports
#: pydantic through Typer, so even a light module is not imported for the root's help).
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("serve", "serve", "Serve the API (OpenAPI at /openapi.json, docs at /docs) and the dashboard."),
)


def _load(module_name: str, command: str, help_text: str) -> click.Command:
    """Import ``lodeline.cli.<module_name>`` and build its click command: a group from its Typer ``app`` (with the
    name and help ``add_typer(app, name=…, help=…)`` would give it), or the top-level command it registers."""
    module = importlib.import_module(f"lodeline.cli.{module_name}")
    if any(entry[0] == module_name for entry in COMMANDS):
        holder = typer.Typer()
        module.register(holder)
        loaded = typer.main.get_group(holder).commands[command]
    else:
        loaded = typer.main.get_group(module.app)
        loaded.help = help_text
    loaded.name = command
    return loaded


class LazyCommandGroup(TyperGroup):
    """The root group: lists every command of ``COMMANDS`` and group of ``COMMAND_GROUPS`` by name and help, and
    imports a module only when click asks for its command to run it (``get_command`` outside the root's help)."""

    _listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Top-level commands first (as Typer orders them), then the groups in ``COMMAND_GROUPS`` order."""
        lazy = [command for _, command, _ in (*COMMANDS, *COMMAND_GROUPS)]
        return (
            lazy[: len(COMMANDS)]
            + [name for name in self.commands if name not in lazy]
            + lazy[len(COMMANDS) :]
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command ``cmd_name``: loaded (and kept) on first use; while the root's help is written, a lazy
        command is only its name and help, so listing them imports none of their modules."""
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = next((e for e in (*COMMANDS, *COMMAND_GROUPS) if e[1] == cmd_name), None)
        if entry is None:
            return None
        if self._listing:
            return TyperGroup(name=entry[1], help=entry[2])  # a name and a help line, nothing to run
        self.commands[cmd_name] = loaded = _load(*entry)
        return loaded

    @contextmanager
    def _listing_only(self) -> Iterator[None]:
        self._listing = True
        try:
            yield
        finally:
            self._listing = False

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with self._listing_only():
            super().format_help(ctx, formatter)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        # the help text above must never be what runs: resolving a command to run always loads it
        self._listing = False
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.UsageError as exc:
            # Typer suggests only among loaded commands; suggest among all of them ("markt" -> "market")
            matches = difflib.get_close_matches(args[0], self.list_commands(ctx)) if args else []
            if self.suggest_commands and matches and "Did you mean" not in exc.message:
                exc.message = f"{exc.message.rstrip('.')}. Did you mean {', '.join(map(repr, matches))}?"
            raise


def _flags_take_no_placeholder() -> None:
    """Typer 0.29 prints a flag's type as if the flag took a value (``--help <bool>``, ``--install-completion
    <bool>``); a flag takes none, so the help shows none (an explicit ``metavar`` still wins)."""
    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: click.Context) -> str | None:
        return None if self.is_flag and self.metavar is None else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_take_no_placeholder()

app = typer.Typer(
    name="lodeline",
    help="Lodeline: critical-mineral supply chains — market intelligence, dependency targets, risk, stress tests, traceability.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=LazyCommandGroup,
)


@app.callback()
def root() -> None:
    """The root group (a callback, so Typer keeps a group even though every other command is registered lazily)."""


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
    from rich.console import Console

    from lodeline.errors import LodelineError

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
