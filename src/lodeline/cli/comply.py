"""``lodeline comply``: check a lot against a rule set, screen lots and names, list and show rule sets."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import polars as pl
import typer

from lodeline.cli.output import Format, emit
from lodeline.comply.screening import DEFAULT_THRESHOLD
from lodeline.errors import InvalidArgumentError
from lodeline.services import comply as service
from lodeline.store.engine import get_engine

app = typer.Typer(no_args_is_help=True)

_ENTITIES = typer.Option(
    None,
    "--entities",
    help="Entity list CSV (name,aliases,list,source); repeatable. docs/comply.md, Entity lists.",
)
_TVPRA = typer.Option(None, "--tvpra", help="A newer TVPRA list edition, a CSV in the bundled format.")
_EDITION = typer.Option(
    None, "--tvpra-edition", help="The edition label of --tvpra (default: its file name)."
)
_THRESHOLD = typer.Option(
    DEFAULT_THRESHOLD, "--threshold", min=1.0, max=100.0, help="Fuzzy name-match threshold (0-100]."
)
_FORMAT = typer.Option(Format.table, "--format", "-f", help="table, csv, json, parquet or xlsx")
_OUT = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout.")


def _facts_text(facts: dict[str, Any]) -> str:
    return json.dumps(facts, sort_keys=True, separators=(",", ":"), default=str)


def _screening(
    entities: list[Path] | None, tvpra: Path | None, edition: str | None, threshold: float
) -> service.Screening:
    return service.make_screening(
        tvpra_file=tvpra, tvpra_edition=edition, entity_files=entities or [], threshold=threshold
    )


@app.command("check")
def check_command(
    lot: str = typer.Argument(..., help="Lot (epcClass URN, or the lot number it ends with)."),
    rules: str = typer.Option(
        ..., "--rules", "-r", help="Bundled rule set id (see `comply rules`) or a YAML file."
    ),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date the facts hold for (YYYY-MM-DD; default today)."
    ),
    entities: list[Path] | None = _ENTITIES,
    tvpra: Path | None = _TVPRA,
    tvpra_edition: str | None = _EDITION,
    threshold: float = _THRESHOLD,
    fmt: Format = _FORMAT,
    out: Path | None = _OUT,
) -> None:
    """Check LOT against a rule set: each rule's verdict (pass, fail, insufficient-data) with the facts that
    decided it. Every verdict is recorded and appended to the registry's log (its leaf index is shown)."""
    try:
        when = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise InvalidArgumentError(f"--as-of: not a date (YYYY-MM-DD): {as_of!r}") from None
    records = service.check(
        get_engine(),
        lot,
        rules,
        as_of=when,
        screen_with=_screening(entities, tvpra, tvpra_edition, threshold),
        checked_by="cli",
    )
    frame = pl.DataFrame(
        [
            {
                "rule": r["rule"],
                "verdict": r["verdict"],
                "severity": r["severity"],
                "source": r["source"],
                "facts": _facts_text(r["facts"]),
                "reason": r["reason"] or "",
                "leaf_index": r["leaf_index"],
            }
            for r in records
        ],
        schema={
            "rule": pl.String,
            "verdict": pl.String,
            "severity": pl.String,
            "source": pl.String,
            "facts": pl.String,
            "reason": pl.String,
            "leaf_index": pl.Int64,
        },
    )
    lot_id = records[0]["lot"] if records else lot
    rs = service.get_ruleset(rules)
    emit(
        frame,
        fmt,
        out=out,
        title=f"{rs.title} {rs.version}: {lot_id}",
        caption=f"{len(records)} verdicts recorded; rules out of scope for this lot are not listed",
    )


@app.command("screen")
def screen_command(
    lot: str | None = typer.Argument(
        None, help="Lot to screen; without it, every participant (needs --entities)."
    ),
    entities: list[Path] | None = _ENTITIES,
    tvpra: Path | None = _TVPRA,
    tvpra_edition: str | None = _EDITION,
    threshold: float = _THRESHOLD,
    fmt: Format = _FORMAT,
    out: Path | None = _OUT,
) -> None:
    """Screen a lot against the TVPRA list (goods x countries, showing the edition) and its path's operators
    against entity lists; or, without LOT, every participant in the directory against --entities."""
    screening = _screening(entities, tvpra, tvpra_edition, threshold)
    engine = get_engine()
    rows: list[dict[str, Any]] = []
    if lot is None:
        result = service.screen_directory(engine, screening)
        title = f"Directory against {', '.join(result['entity_lists'])} (threshold {threshold:g})"
        hits = result["hits"]
    else:
        found = service.screen(engine, lot, screen_with=screening)
        title = f"{found['lot']}: TVPRA {found['tvpra_edition']}"
        for h in found["tvpra_hits"]:
            labour = [k for k in ("child_labor", "forced_labor", "forced_child_labor") if h[k]]
            rows.append(
                {
                    "screen": "tvpra",
                    "subject": f"{h['good']} / {h['country']}",
                    "basis": h["basis"] + (f" ({h['share']:.1%} of metal)" if h["share"] is not None else ""),
                    "match": ", ".join(labour) or ("derived from " + str(h["derived_from"])),
                    "score": None,
                    "list": h["edition"],
                }
            )
        hits = found["entity_hits"] or []
    for h in hits:
        rows.append(
            {
                "screen": "entity",
                "subject": f"{h['name']} ({h['party']})",
                "basis": h["party_role"],
                "match": f"{h['matched']} (listed as {h['listed_name']})",
                "score": h["score"],
                "list": h["list"],
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "screen": pl.String,
            "subject": pl.String,
            "basis": pl.String,
            "match": pl.String,
            "score": pl.Float64,
            "list": pl.String,
        },
    )
    caption = None if entities else "no entity list given: entity screening not run (--entities FILE)"
    emit(frame, fmt, out=out, title=title, caption=caption or f"threshold {threshold:g}; no rows = no hits")


@app.command("rules")
def rules_command(
    ruleset: str | None = typer.Argument(
        None, help="Rule set id or YAML file to show; without it, list them."
    ),
    fmt: Format = _FORMAT,
    out: Path | None = _OUT,
) -> None:
    """List the bundled rule sets, or show one rule set's rules (a file is checked as it is loaded)."""
    if ruleset is None:
        emit(pl.DataFrame(service.list_rulesets()), fmt, out=out, title="Bundled rule sets")
        return
    rs = service.get_ruleset(ruleset)
    frame = pl.DataFrame(
        [
            {
                "rule": r.id,
                "severity": r.severity,
                "source": r.source,
                "condition": r.condition,
                "reads": ", ".join(r.reads),
                "scope": json.dumps({k: list(v) for k, v in r.scope.items()}),
            }
            for r in rs.rules
        ]
    )
    emit(frame, fmt, out=out, title=f"{rs.id} {rs.version} (effective {rs.effective})", caption=rs.title)
