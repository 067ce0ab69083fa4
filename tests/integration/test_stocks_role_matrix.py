"""Role matrix over EVERY ``/api/v1/stocks*`` route (each export format) and the ``/stocks`` page, SQLite and
PostgreSQL: member A's marker figure (USA, gallium held alone as obligated industry stock: 4321.5 t gross, 4321.25 t
contained) never appears in any response, export, chart data or error message that member B (JPN), the public, a
participant, an auditor or an admin gets; it does appear where A reads its own figures, and where the secretariat
reads submissions (each such read written to the audit log).

Why the marker is never published: A is the only contributor to its gallium cell (fewer than 3 contributors:
primary suppression), so every cell that equals or reveals it is ``:c`` in every published table."""

from __future__ import annotations

import io
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.services import stocks as service
from lodeline.stockpiles.submission import EXAMPLE_ROW
from lodeline.store.accounts import create_token, read_audit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PERIOD = "2026-Q3"
DATA = Path(__file__).resolve().parents[1] / "data" / "release"
#: Every way the marker could be written: as submitted, rounded by the page, with thousands separators.
MARKERS = ("4321.5", "4,321.5", "4321.25", "4,321.2", "4,321.3", "4,322", "4322")
ROLES = ("A", "B", "public", "participant", "auditor", "admin", "secretariat")
CALLERS = {
    "A": ("member", "USA"),
    "B": ("member", "JPN"),
    "participant": ("participant", "acme-mining"),
    "auditor": ("auditor", None),
    "admin": ("admin", None),
    "secretariat": ("secretariat", None),
}


@dataclass(frozen=True)
class Call:
    name: str
    method: str
    path: str
    params: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    sees: frozenset[str] = frozenset()  # roles that must see the marker
    audited: bool = False  # the secretariat's call is written to the audit log


def _plan_body() -> dict[str, Any]:
    return {
        "scenario_yaml": (DATA / "two-member.yaml").read_text(encoding="utf-8"),
        "rules_yaml": (DATA / "two-member-rules.yaml").read_text(encoding="utf-8"),
        "period": PERIOD,
    }


def _calls() -> list[Call]:
    calls = [
        Call("list", "GET", "/api/v1/stocks/submissions"),
        Call(
            "show",
            "GET",
            "/api/v1/stocks/submissions/{a}",
            sees=frozenset({"A", "secretariat"}),
            audited=True,
        ),
        Call(
            "show-v1",
            "GET",
            "/api/v1/stocks/submissions/{a}",
            {"version": "1"},
            sees=frozenset({"A", "secretariat"}),
        ),
        Call("history", "GET", "/api/v1/stocks/submissions/{a}/history", audited=True),
        Call(
            "submit-bad",
            "POST",
            "/api/v1/stocks/submissions",
            body={"period": PERIOD, "rows": [{"mineral": "x"}]},
        ),
        Call("template-csv", "GET", "/api/v1/stocks/template", {"format": "csv"}),
        Call("template-xlsx", "GET", "/api/v1/stocks/template", {"format": "xlsx"}),
        Call("cover", "GET", "/api/v1/stocks/cover", {"period": PERIOD}),
        Call("cover-csv", "GET", "/api/v1/stocks/cover", {"period": PERIOD, "format": "csv"}),
        Call("missing-period", "GET", "/api/v1/stocks/aggregates", {"period": "2025-Q1"}),
        Call(
            "release-plan",
            "POST",
            "/api/v1/stocks/release-plan",
            body=_plan_body(),
            sees=frozenset({"secretariat"}),
        ),
        Call("page", "GET", "/stocks", {"period": PERIOD}, sees=frozenset({"A"})),
        Call(
            "page-groups", "GET", "/stocks", {"period": PERIOD, "by": "member-group"}, sees=frozenset({"A"})
        ),
    ]
    for fmt in ("json", "csv", "xlsx"):
        for measure in ("gross", "contained"):
            for by in ("holder-type", "member-group"):
                params = {"period": PERIOD, "format": fmt, "measure": measure, "by": by, "limit": "1000"}
                calls.append(
                    Call(f"aggregates-{fmt}-{measure}-{by}", "GET", "/api/v1/stocks/aggregates", params)
                )
        params = {"period": PERIOD, "format": fmt, "limit": "1000"}
        calls.append(
            Call(f"own-{fmt}", "GET", "/api/v1/stocks/own-vs-aggregate", params, sees=frozenset({"A"}))
        )
        calls.append(
            Call(
                f"own-contained-{fmt}",
                "GET",
                "/api/v1/stocks/own-vs-aggregate",
                {**params, "measure": "contained"},
                sees=frozenset({"A"}),
            )
        )
    return calls


CALLS = _calls()


def _row(member: str, mineral: str, holder: str, gross: str, contained: str) -> dict[str, str]:
    return {**EXAMPLE_ROW, "period": PERIOD, "member": member, "location_country": member, "mineral": mineral,
            "form": f"{mineral} metal", "holder_type": holder, "quantity_gross_t": gross,
            "quantity_contained_t": contained}  # fmt: skip


@pytest.fixture
def world(engine: Engine) -> Iterator[tuple[TestClient, dict[str, dict[str, str]], int]]:
    holdings = {
        "USA": [
            ("cobalt", "public_strategic", "100", "99"),
            ("gallium", "obligated_industry", "4321.5", "4321.25"),
        ],
        "JPN": [("cobalt", "public_strategic", "110", "109"), ("gallium", "public_strategic", "20", "20")],
        "GBR": [("cobalt", "public_strategic", "90", "89")],
    }
    ids = {}
    for member, items in holdings.items():
        rows = [(i + 1, _row(member, *item)) for i, item in enumerate(items)]
        ids[member] = service.submit_rows(engine, rows, member=member, period=PERIOD).submission_id
    headers: dict[str, dict[str, str]] = {"public": {}}
    for name, (role, org) in CALLERS.items():
        headers[name] = {"Authorization": f"Bearer {create_token(engine, f'{name}-1', role, org)[1]}"}
    settings = ApiSettings(rate_per_second=0, anonymous_rate_per_second=0)  # type: ignore[call-arg]
    with TestClient(create_app(engine, settings), base_url="https://testserver") as client:
        yield client, headers, ids["USA"]


def _text(response: Any) -> str:
    """Everything a caller receives: the body (every XML part of an xlsx workbook) and the headers."""
    head = " ".join(f"{k}: {v}" for k, v in response.headers.items())
    if response.content[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(response.content)) as book:
            return head + " ".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    return head + response.text


def test_every_stocks_route_is_in_the_matrix(engine: Engine) -> None:
    paths = {p for p in create_app(engine).openapi()["paths"] if p.startswith("/api/v1/stocks")}
    covered = {c.path.replace("{a}", "{submission_id}") for c in CALLS}
    assert paths <= covered, f"routes missing from the role matrix: {sorted(paths - covered)}"


@pytest.mark.parametrize("call", CALLS, ids=[c.name for c in CALLS])
def test_marker_only_where_allowed(
    call: Call, engine: Engine, world: tuple[TestClient, dict[str, dict[str, str]], int]
) -> None:
    client, headers, a_id = world
    path = call.path.replace("{a}", str(a_id))
    for role in ROLES:
        before = len(read_audit(engine, event="stocks:secretariat-read"))
        response = client.request(
            call.method, path, params=call.params, json=call.body, headers=headers[role]
        )
        assert response.status_code < 500, (role, response.text)
        text = _text(response)
        leaked = [m for m in MARKERS if m in text]
        if role in call.sees:
            assert response.status_code == 200, (role, response.text)
            assert leaked, f"{call.name}: {role} should see its marker"
        else:
            assert not leaked, (
                f"{call.name}: {role} got member A's figure {leaked} (status {response.status_code})"
            )
        if role == "secretariat" and (call.audited or role in call.sees) and response.status_code == 200:
            assert len(read_audit(engine, event="stocks:secretariat-read")) > before, call.name
