"""The financing ledger: pledged → committed → disbursed, never a parent and its parts together.

Amounts stay in the currency the source states: the platform holds no exchange rate it can cite, so the tally
sums only within one currency (one row per stage and currency) and never adds USD to CAD.

Input: the parsed commitments frame (``data.sources.policy_commitments``) or any frame with its columns. A row
``part_of`` another (``parent_id``) is a slice of it: the tally counts the top-most row with an amount in each
family and never adds the parts to it. ``drawn_from`` names an envelope or lending authority, not a parent: the
envelope itself (value roles in ``ENVELOPE_ROLES``) is never counted as money committed to projects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

#: a status word of the file → the ledger stage
STATUS_STAGE: dict[str, str] = {
    "announced": "pledged",
    "indication": "pledged",
    "decided": "committed",
    "authorized": "committed",
    "allocated": "committed",
    "contracted": "committed",
    "partially_disbursed": "disbursed",
    "disbursed": "disbursed",
    "lapsed": "lapsed",
}
STAGE_ORDER = ("pledged", "committed", "disbursed", "lapsed")
#: value roles that are money for projects (the others are envelopes, authorities, pipelines or own funds)
COUNTED_ROLES = frozenset({"commitment"})
ENVELOPE_ROLES = frozenset(
    {"program_envelope", "budget_appropriation", "lending_authority", "total_project_cost"}
)


def stage_of(status: str | None) -> str | None:
    return STATUS_STAGE.get(status) if status else None


def counted_ids(frame: pl.DataFrame) -> set[str]:
    """Ids of the rows the tally sums: commitments with an amount whose ancestors (via ``parent_id``) include
    no counted commitment with an amount. A family is summed once, at its top-most amount."""
    rows = {r["commitment_id"]: r for r in frame.iter_rows(named=True)}

    def money(r: Mapping[str, Any]) -> bool:
        return r["value_role"] in COUNTED_ROLES and r["amount"] is not None

    out = set()
    for cid, r in rows.items():
        if not money(r):
            continue
        parent, seen = r["parent_id"], {cid}
        covered = False
        while parent is not None and parent in rows and parent not in seen:
            seen.add(parent)
            if money(rows[parent]):
                covered = True
                break
            parent = rows[parent]["parent_id"]
        if not covered:
            out.add(cid)
    return out


def ledger(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per commitment: its stage now, the amount in its stated currency, whether the tally counts it
    and, when not, why."""
    counted = counted_ids(frame)
    rows = []
    for r in frame.iter_rows(named=True):
        cid = r["commitment_id"]
        if cid in counted:
            why = None
        elif r["amount"] is None:
            why = "no amount stated"
        elif r["value_role"] in ENVELOPE_ROLES:
            why = f"{r['value_role']}: an envelope, not money committed to a project"
        elif r["value_role"] not in COUNTED_ROLES:
            why = f"{r['value_role']}: not a public commitment"
        else:
            why = f"part of {r['parent_id']} (counted there)"
        rows.append(
            {
                "commitment_id": cid,
                "provider": r["provider"],
                "jurisdiction": r["provider_jurisdiction"],
                "instrument": r["instrument"],
                "value_role": r["value_role"],
                "recipient": r["recipient"],
                "project": r["project"],
                "amount": r["amount"],
                "currency": r["currency"],
                "qualifier": r["amount_qualifier"],
                "first_stage": stage_of(r["first_status"]),
                "first_date": r["first_status_date"],
                "stage": stage_of(r["latest_status"]),
                "stage_date": r["latest_status_date"],
                "parent_id": r["parent_id"],
                "counted": cid in counted,
                "not_counted_because": why,
            }
        )
    schema = {
        "amount": pl.Float64,
        "stage_date": pl.String,
        "first_date": pl.String,
    }
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)


def tally(ledger_frame: pl.DataFrame, *, since: str | None = None) -> pl.DataFrame:
    """Amount and count of counted commitments per ledger stage and currency (optionally first announced on/after
    ``since``): amounts are summed only within one currency; a counted row without a currency is its own group
    (``currency`` null) and never added to another."""
    rows = ledger_frame.filter(pl.col("counted"))
    if since is not None:
        rows = rows.filter(pl.col("first_date").is_not_null() & (pl.col("first_date") >= since))
    return (
        rows.group_by(pl.col("stage").fill_null("not stated"), "currency")
        .agg(
            commitments=pl.len(),
            projects=pl.col("project").n_unique(),
            amount=pl.col("amount").sum(),
        )
        .sort("stage", "currency", nulls_last=True)
    )
