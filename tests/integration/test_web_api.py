"""Read endpoints on the bundled data: provenance envelope, CSV negotiation, stable cursors, ETags, and the
API contract (schemathesis against the app's own OpenAPI: no 500s, no schema violations)."""

from __future__ import annotations

import csv
import io
import time
import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api import create_app
from lodeline.api.settings import ApiSettings
from lodeline.errors import LodelineError
from lodeline.services import market

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    engine = built_sqlite[1]
    try:
        market.shares(engine, "lithium", "mining")
    except LodelineError as exc:
        pytest.skip(f"the bundled data in this checkout has no lithium production yet ({exc.code})")
    settings = ApiSettings(anonymous_rate_per_second=0)
    with TestClient(create_app(engine, settings), base_url="https://testserver") as c:
        yield c


def test_envelope_carries_provenance(client: TestClient) -> None:
    body = client.get("/api/v1/minerals/lithium/shares?stage=mining").json()
    assert body["data"] and {"country", "share", "source", "edition"} <= set(body["data"][0])
    provenance = body["provenance"]
    assert provenance["sources"] and all(s["licence"] and s["edition"] for s in provenance["sources"])
    assert (
        provenance["editions"] and provenance["licences"] and provenance["method"].startswith("docs/methods/")
    )
    assert body["page"]["total"] == len(body["data"]) and body["page"]["next_cursor"] is None
    shares = sum(r["share"] for r in body["data"] if r["share"] is not None and r["country"] not in ("WLD",))
    assert 0.95 < shares < 1.05


def test_csv_by_accept_header_and_by_query(client: TestClient) -> None:
    json_rows = client.get("/api/v1/minerals/lithium/concentration").json()["data"]
    for response in (
        client.get("/api/v1/minerals/lithium/concentration?format=csv"),
        client.get("/api/v1/minerals/lithium/concentration", headers={"Accept": "text/csv"}),
    ):
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert "usgs" in response.headers["x-lodeline-sources"]
        rows = list(csv.DictReader(io.StringIO(response.text)))
        assert len(rows) == len(json_rows) and float(rows[0]["hhi"]) == pytest.approx(json_rows[0]["hhi"])


def test_cursor_pages_cover_every_row_once(client: TestClient) -> None:
    full = client.get("/api/v1/minerals?limit=1000").json()
    seen, url = [], "/api/v1/minerals?limit=7"
    while url:
        page = client.get(url).json()
        seen.extend(r["mineral"] for r in page["data"])
        cursor = page["page"]["next_cursor"]
        url = f"/api/v1/minerals?limit=7&cursor={cursor}" if cursor else ""
    assert seen == [r["mineral"] for r in full["data"]] and len(set(seen)) == len(seen)
    first = client.get("/api/v1/minerals?limit=7").json()["page"]["next_cursor"]
    # the same cursor always returns the same page; a cursor is bound to its query
    assert (
        client.get(f"/api/v1/minerals?limit=7&cursor={first}").json()
        == client.get(f"/api/v1/minerals?limit=7&cursor={first}").json()
    )
    assert client.get(f"/api/v1/sources?cursor={first}").status_code == 400
    assert client.get("/api/v1/minerals?limit=100000").status_code == 400


def test_etag_and_conditional_get(client: TestClient) -> None:
    response = client.get("/api/v1/minerals/lithium/dependency")
    etag = response.headers["etag"]
    again = client.get("/api/v1/minerals/lithium/dependency", headers={"If-None-Match": etag})
    assert again.status_code == 304 and not again.content
    assert client.get("/api/v1/minerals/lithium/dependency?format=csv").headers["etag"] != etag


def test_reads_are_fast_once_cached(client: TestClient) -> None:
    client.get("/api/v1/targets")
    start = time.perf_counter()
    for _ in range(20):
        assert client.get("/api/v1/targets").status_code == 200
    assert (time.perf_counter() - start) / 20 < 0.1


def test_targets_compare_rare_earth_magnets_with_60_percent(client: TestClient) -> None:
    rows = client.get("/api/v1/targets?limit=1000").json()["data"]
    ree = [r for r in rows if r["mineral"] == "rare-earths"]
    assert ree and {r["target"] for r in ree} == {0.6} and {r["target_year"] for r in ree} == {2030}
    for r in ree:
        assert r["gap"] == pytest.approx(r["top_external_share"] - r["target"])


def test_openapi_contract(client: TestClient) -> None:
    """schemathesis over the app's own OpenAPI: no 500s, responses match the documented schemas."""
    import schemathesis
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
    checks = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]
    deadline = time.monotonic() + 60
    failures: list[str] = []
    for operation in schema.get_all_operations():
        op = operation.ok()
        if time.monotonic() > deadline:
            break

        @settings(
            max_examples=8,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def run(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=checks)

        try:
            run()
        except Exception as exc:
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:400]}")
    assert not failures, "\n".join(failures)
