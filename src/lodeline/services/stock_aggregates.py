"""Published stockpile aggregates: the members' latest submissions for a period, summed into mineral × group × form
with margins (group = holder type, or member group from ``stockpiles/groups/member-groups.yaml``), in two measures
(tonnes gross as held, tonnes contained), protected by statistical disclosure control (``stockpiles/disclosure.py``)
and audited before anything is shown. The CLI, the API and the dashboard call these alike.

Both measures are protected together (``protect_measures``): each gets its own primary suppression, the two
measures of a grouping share one complementary pattern when they have the same cells, all then suppress the union of the two patterns and are re-audited, and a cell's interval is also
narrowed by the other measure's (contained ≤ gross) before the check; either audit failing refuses publication of
both. The published frame keeps ``mineral, <group>, form, tonnes, flag`` only: which cells are primary or
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
from lodeline.stockpiles.disclosure import ProtectedTable, protect_measures
from lodeline.stockpiles.disclosure_rules import DisclosureRules
from lodeline.stockpiles.member_groups import BY, MemberGroups, bundled_groups
from lodeline.stockpiles.submission import check_period
from lodeline.store import stocks as db

METHOD = "docs/methods/disclosure-control.md"
#: measure name -> the submission column it sums. Gross is the default and bounds contained row by row.
MEASURES = {"gross": "quantity_gross_t", "contained": "quantity_contained_t"}
#: The measure a published cell sums by default: gross tonnes as held.
MEASURE = MEASURES["gross"]
#: The group column of the published frame, per ``by``.
GROUP_COLUMN = {"holder-type": "holder_type", "member-group": "member_group"}
#: What the public frame keeps (for the default ``by``); everything else of a ProtectedTable stays with the secretariat.
PUBLIC_COLUMNS = ("mineral", "holder_type", "form", "tonnes", "flag")


class PublicationRefusedError(LodelineError):
    """The intruder audit failed: nothing is published (the message names the first cells under-protected)."""

    code = "disclosure-audit-failed"
    http_status = 503


@dataclass(frozen=True)
class Aggregates:
    tables: dict[
        str, ProtectedTable
    ]  # "measure/by" -> protected table (gross/holder-type, contained/member-group…)
    withheld: dict[str, int]  # measure -> quantity items withheld on security grounds or not given
    members: int

    @property
    def table(self) -> ProtectedTable:
        """The default table: gross tonnes by holder type."""
        return self.tables["gross/holder-type"]


def check_by(by: str) -> str:
    if by not in BY:
        raise InvalidArgumentError(f"by: {by!r} is not one of {', '.join(BY)}", by=by)
    return by


def check_measure(measure: str) -> str:
    if measure not in MEASURES:
        raise InvalidArgumentError(
            f"measure: {measure!r} is not one of {', '.join(MEASURES)}", measure=measure
        )
    return measure


def _check_period(period: str) -> str:
    try:
        return check_period(period)
    except ValueError as exc:
        raise InvalidArgumentError(f"period: {exc}", period=period) from exc


def _previous_period(period: str) -> str:
    year, quarter = int(period[:4]), int(period[-1])
    return f"{year - 1}-Q4" if quarter == 1 else f"{year}-Q{quarter - 1}"


def _rows_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(
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


def _with_group(frame: pl.DataFrame, by: str, groups: MemberGroups) -> pl.DataFrame:
    if by == "holder-type":
        return frame.with_columns(pl.col("holder_type").alias("group"))
    mapping = {m: groups.group_of(m) for m in frame["member"].unique().to_list()}
    return frame.with_columns(pl.col("member").replace_strict(mapping, return_dtype=pl.Utf8).alias("group"))


def contributions(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """One row per mineral × group × form × member: the member's tonnes of ``column`` (null items left out)."""
    return (
        frame.filter(pl.col(column).is_not_null())
        .group_by("mineral", "group", "form", "member")
        .agg(pl.col(column).sum().alias("tonnes"))
        .select("mineral", "group", "form", "member", "tonnes")
        .sort("mineral", "group", "form", "member")
    )


def _protect(
    engine: Engine, period: str, rules: DisclosureRules, depth: int, groups: MemberGroups
) -> Aggregates | None:
    rows = _rows_frame(db.latest_rows(engine, period))
    if rows.is_empty():
        return None
    parts: dict[str, pl.DataFrame] = {}
    for by in BY:
        frame = _with_group(rows, by, groups)
        for measure, column in MEASURES.items():
            part = contributions(frame, column)
            if not part.is_empty():
                parts[f"{measure}/{by}"] = part
    if not parts:
        return None
    previous = None
    if depth > 0:
        # consistency across periods: last quarter's suppression patterns constrain this one's
        before = _protect(engine, _previous_period(period), rules, depth - 1, groups)
        previous = None if before is None else {k: t.frame for k, t in before.tables.items()}
    try:
        tables = protect_measures(
            parts, rules, previous, bounded_by={f"contained/{by}": f"gross/{by}" for by in BY}
        )
    except DisclosureAuditError as exc:
        raise PublicationRefusedError(
            f"{period}: the disclosure audit failed, nothing is published ({exc})", period=period
        ) from exc
    withheld = {m: rows.filter(pl.col(c).is_null()).height for m, c in MEASURES.items()}
    return Aggregates(tables, withheld, rows["member"].n_unique())


def protected(engine: Engine, period: str, rules: DisclosureRules | None = None) -> Aggregates:
    """Every protected table for ``period`` (both measures, both groupings; secretariat view: statuses,
    contributors, audit). Not found when no member has submitted for the period."""
    period = _check_period(period)
    found = _protect(engine, period, rules or DisclosureRules(), 1, bundled_groups())
    if found is None:
        raise NotFoundError(f"no stockpile submission for {period}", period=period)
    return found


def published(
    engine: Engine,
    period: str,
    rules: DisclosureRules | None = None,
    *,
    measure: str = "gross",
    by: str = "holder-type",
) -> MarketResult:
    """What anyone may see for ``period``: cells in tonnes (gross or contained), suppressed ones null and flagged
    ``:c``; grouped by holder type or member group."""
    measure, by = check_measure(measure), check_by(by)
    found = protected(engine, period, rules)
    table = found.tables.get(f"{measure}/{by}")
    group = GROUP_COLUMN[by]
    columns = {"mineral": pl.Utf8, group: pl.Utf8, "form": pl.Utf8, "tonnes": pl.Float64, "flag": pl.Utf8}
    if table is None:  # every item of the measure withheld or not given: an empty table, said so
        frame = pl.DataFrame(schema=columns)
        extent = f"no member gave {measure} tonnes for {period}: nothing to publish in this measure"
    else:
        frame = table.frame.rename({"group": group}).select(*columns).sort("mineral", group, "form")
        loss = table.information_loss
        extent = f"{loss.cells} of {loss.total_cells} cells suppressed (:c), including margins ('ALL')"
    notes = [
        f"{period}: {found.members} member(s) submitted; cells sum tonnes {measure}"
        + (" as held" if measure == "gross" else " (metal content)"),
        extent,
        "primary rules: fewer than 3 contributors, (2, 85%) dominance, p% rule with p = 10; complementary cells "
        "chosen by LP and the table audited as an intruder would attack it before publication",
        "gross and contained tonnes, by holder type and by member group, are protected together: a cell "
        "suppressed in one of these tables is suppressed in every one that has it, and all passed the audit",
    ]
    if by == "member-group":
        notes.append(bundled_groups().describe())
    if found.withheld[measure]:
        notes.append(
            f"{found.withheld[measure]} {measure} quantity item(s) withheld by members on security grounds or not "
            "given: not in any cell"
        )
    provenance = Provenance(sources=[], flags=[], method=METHOD, unit=f"t {measure}", notes=notes)
    return MarketResult(frame, provenance)


def own_vs_aggregate(
    engine: Engine, period: str, member: str, *, measure: str = "gross", by: str = "holder-type"
) -> MarketResult:
    """The published table with the caller's own figure beside each cell (``own_tonnes``: the member's own tonnes
    in that cell, margins included; null where the member has nothing in the cell). ``member`` must be the caller
    itself (the access layer's ``stocks_member``): no other member's figure is read."""
    result = published(engine, period, measure=measure, by=by)
    group = GROUP_COLUMN[by]
    mine = [r for r in db.latest_rows(engine, _check_period(period)) if r["member"] == member]
    frame = _with_group(_rows_frame(mine), by, bundled_groups())
    own = contributions(frame, MEASURES[measure])
    dims = ("mineral", "group", "form")
    cells = [pl.DataFrame(schema={**dict.fromkeys(dims, pl.Utf8), "own_tonnes": pl.Float64})]
    if own.height:
        for pattern in range(8):  # every margin: each subset of the dimensions replaced by ALL
            keys = [k for d, k in enumerate(dims) if not pattern >> d & 1]
            total = pl.col("tonnes").sum().cast(pl.Float64).alias("own_tonnes")
            summed = own.group_by(keys).agg(total) if keys else own.select(total)
            summed = summed.with_columns(pl.lit("ALL").alias(k) for k in dims if k not in keys)
            cells.append(summed.select(*dims, "own_tonnes"))
    own_cells = pl.concat(cells).rename({"group": group})
    frame_out = result.frame.join(own_cells, on=["mineral", group, "form"], how="left")
    notes = [
        *result.provenance.notes,
        f"own_tonnes: {member}'s own {measure} tonnes in each cell (its latest submission); visible to {member} only",
    ]
    provenance = Provenance(sources=[], flags=[], method=METHOD, unit=f"t {measure}", notes=notes)
    return MarketResult(frame_out, provenance)


def audit_reports(
    engine: Engine, period: str, rules: DisclosureRules | None = None
) -> dict[str, AuditReport]:
    """The intruder audit of every published table for ``period`` ("gross/holder-type", …), passed or failed
    (secretariat: it names cells and the intervals an intruder can infer, not members' contributions). When an
    audit fails the failing report is the only one (key "failed")."""
    try:
        return {k: t.audit for k, t in protected(engine, period, rules).tables.items()}
    except PublicationRefusedError as exc:
        cause = exc.__cause__
        if isinstance(cause, DisclosureAuditError):
            return {"failed": cause.report}
        raise


def audit_report(engine: Engine, period: str, rules: DisclosureRules | None = None) -> AuditReport:
    """The default table's audit (or the failing one); :func:`audit_reports` has every table's."""
    reports = audit_reports(engine, period, rules)
    return reports.get("failed") or reports.get("gross/holder-type") or next(iter(reports.values()))
