"""Member stockpile submissions: tables and queries (SQLAlchemy Core, both backends). Created by ``stocks_0001``.

- ``stock_submissions``: one row per member and reporting period (``latest_version`` is the current one).
- ``stock_versions``: every accepted version (an amendment is a new version; none is ever changed or deleted),
  with the canonical document it was accepted as and the index of its leaf in the registry's Merkle log.
- ``stock_rows``: the rows of each version as typed columns (what aggregation reads); the document is the
  authority (exact decimals, withholdings).

:func:`insert_version` writes a whole version (its rows and its log leaf) in ONE write transaction: the log append
comes first, so its head-row UPDATE serialises concurrent submitters (module doc of :mod:`lodeline.store.tracelog`)
before the version number is chosen. A failure anywhere rolls everything back: the version is whole or absent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    insert,
    select,
    update,
)

from lodeline.store import tracelog
from lodeline.store.engine import write_transaction
from lodeline.store.schema import metadata
from lodeline.tlog import merkle

#: Leaf data prefix of a stock submission version (the same as lodeline.stockpiles.submission.LEAF_PREFIX).
STOCK_LEAF_PREFIX = b"lodeline-stocks/v1:"

stock_submissions = Table(
    "stock_submissions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member", String(3), nullable=False),
    Column("period", String(7), nullable=False),
    Column("latest_version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("member", "period", name="uq_stock_submissions_member_period"),
)

stock_versions = Table(
    "stock_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", Integer, ForeignKey("stock_submissions.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("submitted_by", String(120)),
    Column("row_count", Integer, nullable=False),
    # the canonical document (UTF-8 JSON) whose SHA-256 the log leaf holds
    Column("document", Text, nullable=False),
    Column("leaf_index", BigInteger, nullable=False),
    UniqueConstraint("submission_id", "version", name="uq_stock_versions_submission_version"),
)

stock_rows = Table(
    "stock_rows",
    metadata,
    Column("version_id", Integer, ForeignKey("stock_versions.id"), primary_key=True, autoincrement=False),
    Column("position", Integer, primary_key=True, autoincrement=False),
    Column("mineral", String(64), nullable=False),
    Column("form", String(120), nullable=False),
    Column("holder_type", String(32), nullable=False),
    Column("purity_pct", Float),
    Column("quantity_gross_t", Float),
    Column("quantity_contained_t", Float),
    Column("location_country", String(3)),
    Column("consumption_share", Float),
    Column("days_of_cover", Float),
    Column("trend_5y", String(16)),
    Column("release_rule", String(120)),
    # {"field": "reason", …} of the items withheld on security grounds
    Column("withheld", Text, nullable=False),
)

STOCK_TABLES = (stock_submissions, stock_versions, stock_rows)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def leaf_of(document: str) -> bytes:
    return STOCK_LEAF_PREFIX + hashlib.sha256(document.encode("utf-8")).hexdigest().encode("ascii")


def insert_version(
    engine: Engine,
    *,
    member: str,
    period: str,
    document: str,
    rows: Sequence[Mapping[str, Any]],
    submitted_by: str | None,
) -> dict[str, Any]:
    """Store a new version of ``member``'s ``period`` submission, its rows and its log leaf, all or nothing.

    ``rows``: mappings with the columns of ``stock_rows`` but ``version_id`` and ``position``."""
    data = leaf_of(document)
    with write_transaction(engine) as conn:
        leaf_index = tracelog.append_hashes(conn, [data], [merkle.leaf_hash(data)])
        now = _now()
        found = conn.execute(
            select(stock_submissions.c.id, stock_submissions.c.latest_version).where(
                stock_submissions.c.member == member, stock_submissions.c.period == period
            )
        ).first()
        if found is None:
            version = 1
            submission_id = int(
                conn.execute(
                    insert(stock_submissions).values(
                        member=member, period=period, latest_version=1, created_at=now
                    )
                ).inserted_primary_key[0]  # type: ignore[index]
            )
        else:
            submission_id, version = int(found[0]), int(found[1]) + 1
            conn.execute(
                update(stock_submissions)
                .where(stock_submissions.c.id == submission_id)
                .values(latest_version=version)
            )
        version_id = int(
            conn.execute(
                insert(stock_versions).values(
                    submission_id=submission_id,
                    version=version,
                    submitted_at=now,
                    submitted_by=submitted_by,
                    row_count=len(rows),
                    document=document,
                    leaf_index=leaf_index,
                )
            ).inserted_primary_key[0]  # type: ignore[index]
        )
        conn.execute(
            insert(stock_rows),
            [{**row, "version_id": version_id, "position": i} for i, row in enumerate(rows, start=1)],
        )
    return {
        "submission_id": submission_id,
        "version": version,
        "version_id": version_id,
        "leaf_index": leaf_index,
        "leaf_data": data.decode("ascii"),
        "submitted_at": now,
    }


def _submission_columns() -> list[Any]:
    return [
        stock_submissions.c.id,
        stock_submissions.c.member,
        stock_submissions.c.period,
        stock_submissions.c.latest_version,
        stock_submissions.c.created_at,
    ]


def list_submissions(engine: Engine, member: str | None) -> list[dict[str, Any]]:
    """Submissions of ``member`` (None = every member: only the access layer decides to pass None)."""
    query = select(*_submission_columns()).order_by(stock_submissions.c.period, stock_submissions.c.member)
    if member is not None:
        query = query.where(stock_submissions.c.member == member)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def submission_owner(engine: Engine, submission_id: int) -> str | None:
    with engine.connect() as conn:
        found = conn.execute(
            select(stock_submissions.c.member).where(stock_submissions.c.id == submission_id)
        ).scalar()
    return None if found is None else str(found)


def find_submission(engine: Engine, member: str, period: str) -> int | None:
    with engine.connect() as conn:
        found = conn.execute(
            select(stock_submissions.c.id).where(
                stock_submissions.c.member == member, stock_submissions.c.period == period
            )
        ).scalar()
    return None if found is None else int(found)


def versions(engine: Engine, submission_id: int) -> list[dict[str, Any]]:
    """Every version of a submission, oldest first (without the documents)."""
    query = (
        select(
            stock_versions.c.id,
            stock_versions.c.version,
            stock_versions.c.submitted_at,
            stock_versions.c.submitted_by,
            stock_versions.c.row_count,
            stock_versions.c.leaf_index,
        )
        .where(stock_versions.c.submission_id == submission_id)
        .order_by(stock_versions.c.version)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def version_detail(engine: Engine, submission_id: int, version: int | None = None) -> dict[str, Any] | None:
    """One version (default: the latest) with its submission's member and period, document and rows."""
    query = (
        select(
            stock_versions,
            stock_submissions.c.member,
            stock_submissions.c.period,
            stock_submissions.c.latest_version,
        )
        .join(stock_submissions, stock_submissions.c.id == stock_versions.c.submission_id)
        .where(stock_versions.c.submission_id == submission_id)
    )
    if version is None:
        query = query.where(stock_versions.c.version == stock_submissions.c.latest_version)
    else:
        query = query.where(stock_versions.c.version == version)
    with engine.connect() as conn:
        found = conn.execute(query).mappings().first()
        if found is None:
            return None
        detail = dict(found)
        rows = conn.execute(
            select(stock_rows).where(stock_rows.c.version_id == detail["id"]).order_by(stock_rows.c.position)
        ).mappings()
        detail["rows"] = [{**dict(r), "withheld": json.loads(r["withheld"])} for r in rows]
    return detail


def stock_leaves(conn: Any) -> dict[int, bytes]:
    """Leaf index -> the leaf data its stored document yields, for every stored version (the log audit's check
    that each stock leaf is accounted for by a stored version whose document still hashes to it)."""
    rows = conn.execute(select(stock_versions.c.leaf_index, stock_versions.c.document))
    return {int(index): leaf_of(document) for index, document in rows}


def count_versions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(stock_versions)).scalar_one())


def latest_rows(engine: Engine, period: str) -> list[dict[str, Any]]:
    """Every row of the latest version of each member's submission for ``period`` (the figures aggregates are built
    from; confidential: only the disclosure-control service reads them)."""
    latest = (
        select(stock_versions.c.id)
        .join(stock_submissions, stock_submissions.c.id == stock_versions.c.submission_id)
        .where(
            stock_submissions.c.period == period,
            stock_versions.c.version == stock_submissions.c.latest_version,
        )
    )
    query = (
        select(
            stock_submissions.c.member,
            stock_rows.c.mineral,
            stock_rows.c.form,
            stock_rows.c.holder_type,
            stock_rows.c.quantity_gross_t,
            stock_rows.c.quantity_contained_t,
        )
        .join(stock_versions, stock_versions.c.id == stock_rows.c.version_id)
        .join(stock_submissions, stock_submissions.c.id == stock_versions.c.submission_id)
        .where(stock_rows.c.version_id.in_(latest))
        .order_by(stock_submissions.c.member, stock_rows.c.position)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]
