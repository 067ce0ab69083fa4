"""A store for the service's contract and fuzz tests: a writable copy of the bundled data built once per session,
the lithium test chain registered and captured (all but its last document, kept for a capture), and one API token
per role. Imported by tests as ``webstore`` (the tests folder is on sys.path, as for conftest)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from lodeline.store import trace as db
from lodeline.store.accounts import authenticate_token, create_token, insert_submission
from lodeline.store.engine import make_engine, upgrade
from lodeline.trace import keys
from lodeline.trace.chain_setup import capture_all, document_bytes, register
from lodeline.trace.generator import lithium_chain

ROLES = ("member", "participant", "auditor", "admin", "secretariat")


def copy_built_sqlite(built_url: str, folder: Path) -> str:
    """A consistent copy (SQLite's backup API) of the session's built store, which tests must not write."""
    target = folder / "store.sqlite"
    with sqlite3.connect(built_url.removeprefix("sqlite:///")) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return f"sqlite:///{target}"


@dataclass
class WebStore:
    url: str
    engine: Engine
    tokens: dict[str, str]  # role -> token ("public": none)
    participant: str  # the participant account's company
    lot: str  # the lot number of a lot the participant's facilities produced
    capture_id: str  # a capture of the participant's
    event_hash: str  # an event in the log
    submission_id: int  # the member's confidential row
    pending: tuple[str, bytes, str] = field(
        default=("", b"", "")
    )  # (participant, document, signature) not captured

    def headers(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role in self.tokens else {}


def build_web_store(built_url: str, folder: Path) -> WebStore:
    url = copy_built_sqlite(built_url, folder)
    engine = make_engine(url)
    upgrade(engine)
    chain = lithium_chain()
    private = register(engine, chain)
    *captured, before_last, last = chain.documents
    chain.documents = captured
    reports = capture_all(engine, chain, private)
    participant = chain.participants[0][0]
    orgs: dict[str, Any] = {
        "member": "DEU",
        "participant": participant,
        "auditor": None,
        "admin": None,
        "secretariat": None,
    }
    tokens = {role: create_token(engine, f"{role}-fuzz", role, orgs[role])[1] for role in ROLES}
    for pid, _ in (before_last, last):
        tokens[pid] = create_token(engine, f"{pid}-fuzz", "participant", pid)[1]
    own = next(r for r, (pid, _) in zip(reports, captured, strict=True) if pid == participant)
    member = authenticate_token(engine, tokens["member"])
    assert member is not None
    row = insert_submission(
        engine,
        member,
        {"mineral": "lithium", "year": 2024, "metric": "stockpile_t", "value": 1.0, "unit": "t"},
    )
    lot = _own_lot(engine, participant).rsplit("/10/", 1)[-1]  # the bare lot number: ids hold slashes
    pending = [
        (pid, document_bytes(doc), keys.sign(private[pid], document_bytes(doc)))
        for pid, doc in (before_last, last)
    ]
    return WebStore(
        url=url,
        engine=engine,
        tokens=tokens,
        participant=participant,
        lot=lot,
        capture_id=own.document_sha256,
        event_hash=own.accepted[0],
        submission_id=int(row["id"]),
        pending=pending,
    )


def _own_lot(engine: Engine, participant: str) -> str:
    query = (
        select(db.lots.c.id)
        .join(db.facilities, db.facilities.c.id == db.lots.c.facility_id)
        .where(db.facilities.c.operator_id == participant)
        .order_by(db.lots.c.id)
        .limit(1)
    )
    with engine.connect() as conn:
        return str(conn.execute(query).scalar_one())


def run_operation(
    operation: Any,
    arguments: dict[str, Any],
    examples: int,
    checks: list[Any],
    on_response: Callable[[Any], Any],
    mode: Any = None,
    call: dict[str, Any] | None = None,
) -> str | None:
    """Run schemathesis ``checks`` on ``examples`` generated cases of ``operation`` (derandomised: the same cases
    on every run), passing each response to ``on_response`` (which may raise); the first failure as text, else None.

    ``call`` goes to the transport as is (e.g. ``{"data": b"…"}`` sends exactly those bytes as the body).
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from schemathesis import GenerationMode

    strategy = operation.as_strategy(mode or GenerationMode.POSITIVE, **arguments)

    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])  # fmt: skip
    @given(case=strategy)
    def run(case: Any) -> None:
        on_response(case.call_and_validate(checks=checks, **(call or {})))

    try:
        run()
    except Exception as exc:
        return str(exc)[:800]
    return None
