"""Member stockpile submissions: submit, list, history, show, template, prove (CLI and API call these alike).

Who may see what is decided by the caller (the API's access layer, ``api/access.py``; the CLI is the operator's
tool acting as the member it is given): every function here takes the ``member`` scope it is allowed (None =
every member) and answers "not found" for a submission outside it, never "forbidden" (that would tell a caller
another member's submission exists).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.export import xlsx_bytes
from lodeline.stockpiles import readers
from lodeline.stockpiles.submission import (
    COLUMNS,
    EXAMPLE_ROW,
    StockRecord,
    canonical_document,
    check_member,
    check_period,
    leaf_data,
    validate_rows,
)
from lodeline.store import stocks as db
from lodeline.trace import cosign, log, registry_service

TEMPLATE_FORMATS = ("csv", "xlsx")


@dataclass(frozen=True)
class Accepted:
    submission_id: int
    member: str
    period: str
    version: int
    rows: int
    leaf_index: int
    leaf_data: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def _row_values(record: StockRecord) -> dict[str, Any]:
    return {
        "mineral": record.mineral,
        "form": record.form,
        "holder_type": record.holder_type,
        "purity_pct": _float(record.purity_pct),
        "quantity_gross_t": _float(record.quantity_gross_t),
        "quantity_contained_t": _float(record.quantity_contained_t),
        "location_country": record.location_country,
        "consumption_share": _float(record.consumption_share),
        "days_of_cover": _float(record.days_of_cover),
        "trend_5y": record.trend_5y,
        "release_rule": record.release_rule,
        "withheld": json.dumps(dict(sorted(record.withheld.items())), ensure_ascii=False),
    }


def submit_rows(
    engine: Engine,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    *,
    member: str,
    period: str,
    submitted_by: str | None = None,
    source: str = "submission",
) -> Accepted:
    """Validate every row (all or nothing) and store them as a new version with its log leaf."""
    records = validate_rows(rows, member=member, period=period, source=source)
    member, period = check_member(member), check_period(period)
    salt = secrets.token_hex(16)
    document = canonical_document(member, period, records, salt)
    stored = db.insert_version(
        engine,
        member=member,
        period=period,
        document=document.decode("utf-8"),
        rows=[_row_values(r) for r in sorted(records, key=lambda r: (r.mineral, r.form))],
        submitted_by=submitted_by,
    )
    if stored["leaf_data"].encode("ascii") != leaf_data(
        document
    ):  # one digest rule in two layers: keep them one
        raise AssertionError("store and stockpiles disagree on the stock leaf format")
    return Accepted(
        submission_id=stored["submission_id"],
        member=member,
        period=period,
        version=stored["version"],
        rows=len(records),
        leaf_index=stored["leaf_index"],
        leaf_data=stored["leaf_data"],
    )


def submit_file(
    engine: Engine, data: bytes, fmt: str, *, member: str, period: str, submitted_by: str | None, source: str
) -> Accepted:
    """A CSV, xlsx or JSON file (bytes) read within bounds, then :func:`submit_rows`."""
    return submit_rows(
        engine,
        readers.read_rows(data, fmt, source),
        member=member,
        period=period,
        submitted_by=submitted_by,
        source=source,
    )


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def list_submissions(engine: Engine, scope: str | None) -> list[dict[str, Any]]:
    """The submissions in ``scope`` (a member, or None for every member), without their figures."""
    return [
        {
            "id": r["id"],
            "member": r["member"],
            "period": r["period"],
            "latest_version": r["latest_version"],
            "created_at": _iso(r["created_at"]),
        }
        for r in db.list_submissions(engine, scope)
    ]


def _visible(engine: Engine, submission_id: int, scope: str | None) -> str:
    owner = db.submission_owner(engine, submission_id)
    if owner is None or (scope is not None and owner != scope):
        raise NotFoundError(f"no stock submission {submission_id} visible to this account")
    return owner


def owner_of(engine: Engine, submission_id: int, scope: str | None) -> str:
    """The member a submission belongs to, if ``scope`` may see it (else not found)."""
    return _visible(engine, submission_id, scope)


def history(engine: Engine, submission_id: int, scope: str | None) -> dict[str, Any]:
    """Every version of a submission, oldest first, with its log leaf index."""
    owner = _visible(engine, submission_id, scope)
    rows = db.versions(engine, submission_id)
    return {
        "id": submission_id,
        "member": owner,
        "versions": [
            {
                "version": v["version"],
                "submitted_at": _iso(v["submitted_at"]),
                "submitted_by": v["submitted_by"],
                "rows": v["row_count"],
                "leaf_index": v["leaf_index"],
            }
            for v in rows
        ],
    }


def show(engine: Engine, submission_id: int, scope: str | None, version: int | None = None) -> dict[str, Any]:
    """One version (default the latest) in full: its rows as the canonical document holds them."""
    _visible(engine, submission_id, scope)
    detail = db.version_detail(engine, submission_id, version)
    if detail is None:
        raise NotFoundError(f"stock submission {submission_id} has no version {version}")
    document = json.loads(detail["document"])
    return {
        "id": submission_id,
        "member": detail["member"],
        "period": detail["period"],
        "version": detail["version"],
        "latest_version": detail["latest_version"],
        "submitted_at": _iso(detail["submitted_at"]),
        "leaf_index": detail["leaf_index"],
        "rows": document["rows"],
    }


def rows_frame(shown: Mapping[str, Any]) -> pl.DataFrame:
    """A shown version's rows as a frame (text cells: decimals stay exact), withholdings as ``field: reason``."""
    columns = [*COLUMNS, "days_of_cover", "withheld"]
    records = [
        {
            **{c: (None if r.get(c) is None else str(r[c])) for c in columns[:-1]},
            "withheld": "; ".join(f"{k}: {v}" for k, v in r["withheld"].items()) or None,
        }
        for r in shown["rows"]
    ]
    return pl.DataFrame(records, schema=dict.fromkeys(columns, pl.String))


def template(fmt: str) -> bytes:
    """The downloadable template (header and one example row) as CSV or xlsx."""
    if fmt == "csv":
        return readers.template_csv()
    if fmt == "xlsx":
        frame = pl.DataFrame([EXAMPLE_ROW], schema=dict.fromkeys(COLUMNS, pl.String))
        provenance = {
            "sources": [],
            "flags": [],
            "method": "docs/stocks.md",
            "unit": "tonnes",
            "notes": "Template for `lodeline stocks submit` / POST /api/v1/stocks/submissions: one row per "
            "mineral and form; write 'withheld: <reason>' in a cell to withhold that item. The example row "
            "is illustrative, not a real holding.",
        }
        return xlsx_bytes(frame, provenance, title="Stockpile submission template (example row, not real)")
    raise InvalidArgumentError(f"unknown template format {fmt!r}: one of {', '.join(TEMPLATE_FORMATS)}")


def prove(
    engine: Engine, submission_id: int, scope: str | None, version: int | None = None
) -> dict[str, Any]:
    """The inclusion proof of a version's leaf against the latest signed checkpoint (signing one if the log grew),
    in the format ``lodeline trace verify`` checks, with the canonical document so the member can recompute the
    leaf: ``lodeline-stocks/v1:`` + SHA-256(document)."""
    _visible(engine, submission_id, scope)
    detail = db.version_detail(engine, submission_id, version)
    if detail is None:
        raise NotFoundError(f"stock submission {submission_id} has no version {version}")
    data = db.leaf_of(detail["document"])
    index = int(detail["leaf_index"])
    checkpoint = registry_service.current_checkpoint(engine)
    with engine.connect() as conn:
        path = log.inclusion_proof(conn, index, checkpoint.tree_size)
        note = cosign.cosigned_note(conn, checkpoint)
    doc = log.proof_document(data, index, checkpoint.tree_size, path, origin=checkpoint.origin)
    doc["checkpoint"] = note
    doc["submission"] = {
        "id": submission_id,
        "member": detail["member"],
        "period": detail["period"],
        "version": detail["version"],
        "document": detail["document"],
    }
    return doc
