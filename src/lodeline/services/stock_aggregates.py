"""Published stockpile aggregates: the members' latest submissions for a period, summed into mineral × holder type ×
form with margins, protected by statistical disclosure control (``stockpiles/disclosure.py``) and audited before
anything is shown. The CLI, the API and the dashboard call these alike.

The published frame keeps ``mineral, holder_type, form, tonnes, flag`` only: which cells are primary or
secondary, the contributor counts and the audit are for the secretariat (``docs/methods/disclosure-control.md``).
A withheld quantity (a member's security exemption) is absent from every cell, and the notes say how many.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import Engine

from lodeline.errors import InvalidArgumentError, LodelineError, NotFoundError
from lodeline.services.results import MarketResult, Provenance
from lodeline.stockpiles.audit import AuditReport, DisclosureAuditError
from lodeline.stockpiles.disclosure import ProtectedTable, protect
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.submission import check_period
from lodeline.store import stocks as db

METHOD = "docs/methods/disclosure-control.md"
#: The measure a published cell sums: gross tonnes as held (contained tonnes are not reported by every member).
MEASURE = "quantity_gross_t"
#: What the public frame keeps; everything else of a ProtectedTable stays with the secretariat.
PUBLIC_COLUMNS = ("mineral", "holder_type", "form", "tonnes", "flag")


class PublicationRefusedError(LodelineError):
    """The intruder audit failed: nothing is published (the message names the first cells under-protected)."""

    code = "disclosure-audit-failed"
    http_status = 503


@dataclass(frozen=True)
class Aggregates:
    table: ProtectedTable
    withheld: int
    members: int


def _previous_period(period: str) -> str:
    year, quarter = int(period[:4]), int(period[-1])
    return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"


def _contributions(engine: Engine, period: str) -> tuple[pl.DataFrame, int]:
    rows = db.latest_rows(engine, period)
    frame = pl.DataFrame(
        rows,
        schema={
            "member": pl.Utf8,
            "mineral": pl.Utf8,
            "form": pl.Utf8,
            "holder_type": pl.Utf8,
            "quantity_gross_t": pl.Float64,
            "quantity_contained_t": pl.Float64,
        },
    )
    withheld = frame.filter(pl.col(MEASURE).is_null()).height
    contributions = (
        frame.filter(pl.col(MEASURE).is_not_null())
        .group_by("mineral", "holder_type", "form", "member")
        .agg(pl.col(MEASURE).sum().alias("tonnes"))
        .rename({"holder_type": "group"})
        .select("mineral", "group", "form", "member", "tonnes")
        .sort("mineral", "group", "form", "member")
    )
    return contributions, withheld


def _protect(engine: Engine, period: str, rules: DisclosureRules, depth: int) -> Aggregates | None:
    contributions, withheld = _contributions(engine, period)
    if contributions.is_empty():
        return None
    previous = None
    if depth > 0:
        # consistency across periods: last quarter's suppression pattern constrains this one
        before = _protect(engine, _previous_period(period), rules, depth - 1)
        previous = None if before is None else before.table.frame
    try:
        table = protect(contributions, rules, previous=previous)
    except DisclosureAuditError as exc:
        raise PublicationRefusedError(
            f"{period}: the disclosure audit failed, nothing is published ({exc})", period=period
        ) from exc
    return Aggregates(table, withheld, contributions["member"].n_unique())


def protected(engine: Engine, period: str, rules: DisclosureRules | None = None) -> Aggregates:
    """The protected table for ``period`` (secretariat view: statuses, contributors, audit). Not found when no
    member has submitted for the period."""
    try:
        period = check_period(period)
    except ValueError as exc:
        raise InvalidArgumentError(f"period: {exc}", period=period) from exc
    found = _protect(engine, period, rules or DisclosureRules(), depth=1)
    if found is None:
        raise NotFoundError(f"no stockpile submission for {period}", period=period)
    return found


def published(engine: Engine, period: str, rules: DisclosureRules | None = None) -> MarketResult:
    """What anyone may see for ``period``: cells in tonnes gross, suppressed ones null and flagged ``:c``."""
    found = protected(engine, period, rules)
    frame = (
        found.table.frame.rename({"group": "holder_type"})
        .select(*PUBLIC_COLUMNS)
        .sort("mineral", "holder_type", "form")
    )
    loss = found.table.information_loss
    notes = [
        f"{period}: {found.members} member(s) submitted; cells sum tonnes gross as held",
        f"{loss.cells} of {loss.total_cells} cells suppressed (:c), including margins ('ALL')",
        "primary rules: fewer than 3 contributors, (2, 85%) dominance, p% rule with p = 10; complementary cells "
        "chosen by LP and the table audited as an intruder would attack it before publication",
    ]
    if found.withheld:
        notes.append(
            f"{found.withheld} quantity item(s) withheld by members on security grounds: not in any cell"
        )
    provenance = Provenance(sources=[], flags=[], method=METHOD, unit="t", notes=notes)
    return MarketResult(frame, provenance)


def audit_report(engine: Engine, period: str, rules: DisclosureRules | None = None) -> AuditReport:
    """The intruder audit of ``period``'s protected table, passed or failed (secretariat: it names cells and the
    intervals an intruder can infer, not members' contributions)."""
    try:
        return protected(engine, period, rules).table.audit
    except PublicationRefusedError as exc:
        cause = exc.__cause__
        if isinstance(cause, DisclosureAuditError):
            return cause.report
        raise
