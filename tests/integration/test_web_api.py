"""Read endpoints on the bundled data: provenance envelope, CSV negotiation, stable cursors, ETags, and the
API contract (schemathesis against the app's own OpenAPI: no 500s, no schema violations)."""

from __future__ import annotations

import base64
import csv
import io
import json
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from webstore import WebStore, build_web_store, run_operation  # tests/webstore.py

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    engine = built_sqlite[1]
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


def _forge(cursor: str, **fields: object) -> str:
    raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    return base64.urlsafe_b64encode(json.dumps({**raw, **fields}).encode()).decode().rstrip("=")


def test_forged_or_malformed_cursors_are_400_with_a_reason(client: TestClient) -> None:
    genuine = client.get("/api/v1/minerals?limit=7").json()["page"]["next_cursor"]
    forged = {
        "huge offset": (_forge(genuine, o=10**30), "out-of-range"),
        "offset past the end": (_forge(genuine, o=10**6), "out-of-range"),
        "64-bit overflow": (_forge(genuine, o=2**63), "out-of-range"),
        "negative offset": (_forge(genuine, o=-1), "out-of-range"),
        "fractional offset": (_forge(genuine, o=1.5), "malformed"),
        "boolean offset": (_forge(genuine, o=True), "malformed"),
        "string offset": (_forge(genuine, o="7"), "malformed"),
        "not JSON": ("bm90IGpzb24", "malformed"),
        "not base64": ("%%%", "malformed"),
        "a JSON list": (base64.urlsafe_b64encode(b"[1,2,3]").decode().rstrip("="), "malformed"),
        "too long": ("A" * 600, "malformed"),
        "other query": (_forge(genuine, q="0" * 12), "other-query"),
    }
    for what, (cursor, reason) in forged.items():
        response = client.get("/api/v1/minerals", params={"limit": 7, "cursor": cursor})
        assert response.status_code == 400, (what, response.status_code, response.text[:200])
        body = response.json()
        assert body["code"] == "invalid-cursor" and body["reason"] == reason, (what, body)
    expired = client.get("/api/v1/minerals", params={"limit": 7, "cursor": _forge(genuine, v="0-0")})
    assert expired.status_code == 410 and expired.json()["code"] == "cursor-expired"


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
    assert {r["yardstick"] for r in ree} == {"G7 target"}
    assert {r["yardstick"] for r in rows if r["mineral"] != "rare-earths"} == {
        "same yardstick, comparison only"
    }
    for r in ree:
        assert r["target_gap_pp"] == pytest.approx(100 * (r["dependency"] - r["target"]))


def test_imports_resolve_groups_and_refuse_unknown_importers(client: TestClient) -> None:
    """The default importer G7+ is a group (its imports are not empty); an unknown one is a 400 naming it."""
    rows = client.get("/api/v1/minerals/rare-earths/imports?limit=1000").json()["data"]
    assert rows and not {r["origin"] for r in rows} & {"DEU", "USA", "JPN"}
    assert client.get("/api/v1/minerals/cobalt/imports?importer=MSP").json()["data"]
    bad = client.get("/api/v1/minerals/cobalt/imports?importer=XYZ")
    assert bad.status_code == 400 and "importer 'XYZ'" in bad.text


@pytest.fixture(scope="module")
def contract_store(
    built_sqlite: tuple[str, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebStore]:
    store = build_web_store(built_sqlite[0], tmp_path_factory.mktemp("contract"))
    yield store
    store.engine.dispose()


#: Generated examples per operation (and role); a second pass per operation sends known-good values.
EXAMPLES = 8
#: Statuses that mean the request never reached the operation (refused before it, or not routed).
NOT_REACHED = frozenset({401, 403, 405, 429})
ROLE_PREFERENCE = ("admin", "participant", "member", "auditor")


def _role_for(operation: Any) -> str | None:
    """A role the operation's security requirement allows (None: the operation is public)."""
    allowed: set[str] = set()
    for requirement in operation.definition.raw.get("security", []):
        for roles in requirement.values():
            allowed.update(roles)
    return next((r for r in ROLE_PREFERENCE if r in allowed), None)


def _known_values(
    store: WebStore, sizes: tuple[int, int], method: str, path: str, sim_job: str = ""
) -> dict[str, Any] | None:
    """Values that make the operation succeed, for its second pass (None: generated values only)."""
    if method == "POST" and path == "/epcis/capture":
        pid, data, signature = store.pending[1]
        headers = {**store.headers(pid), "Lodeline-Signature": signature, "Content-Type": "application/json"}
        return {
            "headers": headers,
            "body": json.loads(data),
            "call": {"data": data},
        }  # the signed bytes as they are
    known: dict[str, dict[str, Any]] = {
        "/api/v1/minerals/{mineral}/shares": {
            "path_parameters": {"mineral": "lithium"},
            "query": {"stage": "mining"},
        },
        "/api/v1/minerals/{mineral}/concentration": {"path_parameters": {"mineral": "lithium"}, "query": {}},
        "/api/v1/minerals/{mineral}/trend": {
            "path_parameters": {"mineral": "copper"},
            "query": {"stage": "refining"},
        },
        "/api/v1/minerals/{mineral}/dependency": {"path_parameters": {"mineral": "rare-earths"}, "query": {}},
        "/api/v1/minerals/{mineral}/trade-flows": {"path_parameters": {"mineral": "lithium"}, "query": {}},
        "/api/v1/minerals/{mineral}/imports": {"path_parameters": {"mineral": "cobalt"}, "query": {}},
        "/api/v1/minerals/{mineral}/prices": {"path_parameters": {"mineral": "copper"}, "query": {}},
        "/api/v1/risk/sensitivity": {"query": {"draws": 100, "material": ["Cobalt"]}},
        "/api/v1/risk/tornado": {"query": {"material": ["Cobalt"]}},
        "/api/v1/outlook": {"query": {"mineral": "rare-earths", "draws": 100}},
        "/api/v1/risk/geopolitical": {"query": {"importer": "G7+", "mineral": "cobalt"}},
        "/api/v1/submissions/{submission_id}": {"path_parameters": {"submission_id": store.submission_id}},
        "/epcis/capture/{capture_id}": {"path_parameters": {"capture_id": store.capture_id}},
        "/api/v1/registry/lots/{lot}/origin": {"path_parameters": {"lot": store.lot}, "query": {}},
        "/api/v1/registry/events": {"query": {"lot": store.lot}},
        "/api/v1/registry/proofs/inclusion": {"query": {"event_hash": store.event_hash}},
        "/api/v1/registry/proofs/consistency": {"query": {"old": sizes[0], "new": sizes[1]}},
        "/api/v1/sim/scenarios/{name}": {"path_parameters": {"name": "cn-graphite-2023"}},
        "/api/v1/sim/jobs/{job_id}": {"path_parameters": {"job_id": sim_job}},
        "/api/v1/sim/jobs/{job_id}/result": {"path_parameters": {"job_id": sim_job}, "query": {}},
        "/api/v1/sim/jobs/{job_id}/report": {"path_parameters": {"job_id": sim_job}},
        "/api/v1/comply/rulesets/{ruleset}": {"path_parameters": {"ruleset": "oecd-annex-ii-red-flags"}},
        "/api/v1/comply/check": {"query": {"lot": store.lot, "rules": "eu-battery-recycled-content"}},
        "/api/v1/comply/screen": {"query": {"lot": store.lot}},
        "/api/v1/deals/entries/{entry_id}": {"path_parameters": {"entry_id": "wto-ds592"}},
        "/api/v1/deals/entries/{entry_id}/history": {
            "path_parameters": {"entry_id": "wto-ds592"},
            "query": {},
        },
        "/api/v1/deals/countries/{country}": {"path_parameters": {"country": "IDN"}, "query": {}},
        "/api/v1/projects/{project_id}": {"path_parameters": {"project_id": "dsg-eu-crma-jadar"}},
        "/api/v1/projects/{project_id}/returns": {
            "path_parameters": {"project_id": "dsg-eu-crma-jadar"},
            "query": {"price": 20000, "opex": 1e8},
        },
    }
    if method == "POST" and path == "/api/v1/submissions":
        return {"body": SUBMISSION}
    if method == "POST" and path == "/api/v1/stocks/submissions":
        return {"body": STOCK_SUBMISSION, "media_type": "application/json"}
    if method == "GET" and path in (
        "/api/v1/stocks/aggregates",
        "/api/v1/stocks/own-vs-aggregate",
        "/api/v1/stocks/cover",
    ):
        _stock_submission(store)  # a period with a submission: the published (here wholly suppressed) table
        return {"query": {"period": "2026-Q3"}}
    if method == "GET" and path.startswith("/api/v1/stocks/submissions/{submission_id}"):
        return {"path_parameters": {"submission_id": _stock_submission(store)}, "query": {}}
    if method == "GET" and path == "/api/v1/alerts/{alert_id}":
        return {"path_parameters": {"alert_id": _recorded_alert(store)}}
    if method == "POST" and path == "/api/v1/projects":
        return {"body": {"project_id": "contract-1", "name": "Contract project", "minerals": ["lithium"]}}
    if method == "POST" and path == "/api/v1/sim/jobs":
        return {"body": {"kind": "run", "scenario": "cn-graphite-2023"}}
    if path.startswith(("/api/v1/passports", "/01/")):
        return _passport_values(store, method, path)
    if method == "GET":
        return known.get(path, {"query": {}})
    return None


def _passport_values(store: WebStore, method: str, path: str) -> dict[str, Any] | None:
    """Known values of the passport routes: the participant's lot, its key (the chain's deterministic demo key)
    and a passport of that lot, issued through the service the first time it is asked."""
    from lodeline.passport import proof
    from lodeline.services import passports as passport_service
    from lodeline.trace import keys
    from lodeline.trace.chain_setup import demo_key
    from lodeline.trace.generator import lithium_chain

    key = demo_key([p[0] for p in lithium_chain().participants].index(store.participant))
    stored = passport_service.of_lot(store.engine, store.lot)
    doc = (
        passport_service.fetch(store.engine, stored[0]["id"])
        if stored
        else passport_service.issue(store.engine, store.lot, participant=store.participant, private_key=key)
    )
    product = doc["credentialSubject"]["product"]
    if method == "POST" and path == "/api/v1/passports/draft":
        return {"body": {"lot": store.lot, "public_key": keys.public_b64(key)}}
    if method == "POST" and path == "/api/v1/passports":
        draft = passport_service.draft(
            store.engine, store.lot, participant=store.participant, public_key=proof.public_bytes(key)
        )
        return {"body": proof.add_proof(draft, key, draft["validFrom"])}
    if method == "POST" and path == "/api/v1/passports/verify":
        return {"body": doc}
    if path == "/api/v1/passports":
        return {"query": {"lot": store.lot}}
    if path == "/01/{gtin}/10/{lot}":
        return {
            "path_parameters": {"gtin": product["registeredId"], "lot": product["batchNumber"]},
            "query": {"linkType": "untp:dpp"},
        }
    return {"path_parameters": {"passport_id": doc["id"]}, "query": {}}


SUBMISSION = {"mineral": "REE", "year": 2025, "metric": "stockpile_t", "value": 1200.0, "unit": "t"}
#: A stock submission the contract's member (DEU) may make: one row, figures as in the template's example row.
STOCK_SUBMISSION = {
    "period": "2026-Q3",
    "rows": [
        {"mineral": "cobalt", "form": "metal", "holder_type": "public_strategic", "quantity_gross_t": "10"}
    ],
}


def _stock_submission(store: WebStore) -> int:
    """The member's (DEU) stock submission for 2026-Q3, submitted through the service the first time it is asked."""
    from lodeline.services import stocks as stocks_service
    from lodeline.store import stocks as stocks_db

    found = stocks_db.find_submission(store.engine, "DEU", "2026-Q3")
    if found is None:
        rows = [(1, {**STOCK_SUBMISSION["rows"][0], "member": "DEU", "period": "2026-Q3"})]  # type: ignore[index]
        found = stocks_service.submit_rows(store.engine, rows, member="DEU", period="2026-Q3").submission_id
    return found


def _recorded_alert(store: WebStore) -> int:
    """A recorded cobalt warning (the lifecycle's own record path), for the alert read; recorded once."""
    import datetime as dt

    from lodeline.alerts.model import Alert, Level
    from lodeline.services import alert_lifecycle

    found = alert_lifecycle.list_alerts(store.engine, mineral="cobalt", state=None)
    if found:
        return int(found[0]["id"])
    alert = Alert("cobalt", Level.WARNING, dt.date(2026, 11, 3), "contract test", ())
    recorded = alert_lifecycle.record(store.engine, [alert], "contract")[0]
    assert recorded.alert_id is not None
    return recorded.alert_id


def _two_checkpoints(app: Any, store: WebStore) -> tuple[int, int]:
    """Sign a checkpoint, capture one more document, sign again: two sizes a consistency proof can join."""
    with TestClient(app, base_url="https://testserver") as client:
        old = client.get("/api/v1/registry/checkpoint?format=json").json()["tree_size"]
        pid, data, signature = store.pending[0]
        headers = {**store.headers(pid), "Lodeline-Signature": signature, "Content-Type": "application/json"}
        assert client.post("/epcis/capture", content=data, headers=headers).status_code == 202
        new = client.get("/api/v1/registry/checkpoint?format=json").json()["tree_size"]
    assert new > old
    return old, new


def _finished_sim_job(app: Any, store: WebStore) -> str:
    """A stress-test job run to the end (as admin, the role the contract pass uses), for the job reads."""
    with TestClient(app, base_url="https://testserver") as client:
        body = {"kind": "run", "scenario": "cn-graphite-2023"}
        job_id: str = client.post("/api/v1/sim/jobs", json=body, headers=store.headers("admin")).json()["id"]
        for _ in range(600):
            job = client.get(f"/api/v1/sim/jobs/{job_id}", headers=store.headers("admin")).json()
            if job["status"] != "queued" and job["status"] != "running":
                break
            time.sleep(0.05)
    assert job["status"] == "done", job
    return job_id


def test_openapi_contract(contract_store: WebStore) -> None:
    """schemathesis over every operation of the app's own OpenAPI, with the credentials of a role each operation
    allows: no 5xx, responses match their documented schemas, and every operation is exercised — it fails if one
    was skipped, never reached past authentication, or (for reads) never answered 2xx."""
    import schemathesis

    # alerts_public: the alliance publishes its alerts, so the public alert reads are reached too (their
    # unpublished refusal is tests/integration/test_alerts_api.py's)
    settings_ = ApiSettings(
        rate_per_second=0, anonymous_rate_per_second=0, auth_failures_per_address=10**6, alerts_public=True
    )
    app = create_app(contract_store.engine, settings_)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    checks = [schemathesis.checks.not_a_server_error, schemathesis.checks.response_schema_conformance]
    sizes = _two_checkpoints(app, contract_store)
    sim_job = _finished_sim_job(app, contract_store)
    documented = {(method.upper(), path) for path, ops in app.openapi()["paths"].items() for method in ops}
    statuses: dict[tuple[str, str], list[int]] = {}
    failures: list[str] = []
    for result in schema.get_all_operations():
        op = result.ok()
        key = (op.method.upper(), op.path)
        role = _role_for(op)
        seen = statuses.setdefault(key, [])
        passes: list[dict[str, Any]] = [{"headers": contract_store.headers(role) if role else {}}]
        known = _known_values(contract_store, sizes, *key, sim_job=sim_job)
        if known is not None:
            headers = known.pop("headers", passes[0]["headers"])
            passes.append({"headers": headers, **known})
        for arguments in passes:
            call = arguments.pop("call", None)
            error = run_operation(
                op, arguments, EXAMPLES, checks, lambda r, seen=seen: seen.append(r.status_code), call=call
            )
            if error:
                failures.append(f"{key[0]} {key[1]} as {role or 'public'}: {error}")
    assert not failures, "\n".join(failures)
    assert len(documented) >= 22 and set(statuses) == documented, documented ^ set(statuses)
    unreached = {k: sorted(set(v)) for k, v in statuses.items() if not any(s not in NOT_REACHED for s in v)}
    assert not unreached, f"operations never reached past authentication: {unreached}"
    never_ok = {
        k: sorted(set(v)) for k, v in statuses.items() if k[0] == "GET" and not any(200 <= s < 300 for s in v)
    }
    assert not never_ok, f"reads that never answered 2xx: {never_ok}"
    assert any(s == 202 for s in statuses[("POST", "/epcis/capture")]), statuses[("POST", "/epcis/capture")]
    assert any(s == 201 for s in statuses[("POST", "/api/v1/submissions")])
