"""The stockpile submission API and its role matrix on SQLite and PostgreSQL: a member submits and reads its own; the
secretariat reads every member's, each read written to the audit log; other members get 404 (never 403) and no
route, list, error or template ever shows another member's figure; public, participant, auditor and admin see none.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.export import XLSX_MEDIA_TYPE
from lodeline.server import create_app
from lodeline.stockpiles import readers
from lodeline.stockpiles.submission import EXAMPLE_ROW
from lodeline.store.accounts import create_token, read_audit

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ORGS = {
    "member": "DEU",
    "member_b": "FRA",
    "secretariat": None,
    "participant": "acme-mining",
    "auditor": None,
    "admin": None,
}
#: A figure only member DEU submits (tonnes gross); it must appear in no response another caller gets.
SECRET = "4321.5"


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings())  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def headers(engine: Engine) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"public": {}}
    for name, org in ORGS.items():
        role = "member" if name.startswith("member") else name
        token = create_token(engine, f"{name}-1", role, org)[1]
        out[name] = {"Authorization": f"Bearer {token}"}
    return out


def _body(gross: str) -> dict[str, object]:
    row = {k: v for k, v in EXAMPLE_ROW.items() if v and k not in ("member", "period")}
    row["quantity_gross_t"] = gross
    row["quantity_contained_t"] = "1"
    return {"period": "2026-Q3", "rows": [row]}


def test_submit_json_and_csv_and_read_back(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    created = client.post("/api/v1/stocks/submissions", json=_body(SECRET), headers=headers["member"])
    assert created.status_code == 201, created.text
    assert (created.json()["member"], created.json()["version"]) == ("DEU", 1)
    csv = readers.template_csv()
    amended = client.post(
        "/api/v1/stocks/submissions?period=2026-Q3",
        content=csv,
        headers={**headers["member"], "Content-Type": "text/csv"},
    )
    assert amended.status_code == 201, amended.text
    assert amended.json()["version"] == 2
    shown = client.get("/api/v1/stocks/submissions/1", headers=headers["member"]).json()
    assert shown["rows"][0]["quantity_gross_t"] == "1200"
    first = client.get("/api/v1/stocks/submissions/1?version=1", headers=headers["member"]).json()
    assert first["rows"][0]["quantity_gross_t"] == SECRET
    history = client.get("/api/v1/stocks/submissions/1/history", headers=headers["member"]).json()
    assert [v["version"] for v in history["versions"]] == [1, 2]


def test_bad_submission_names_row_and_field_and_writes_nothing(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    body = _body("-3")
    response = client.post("/api/v1/stocks/submissions", json=body, headers=headers["member"])
    assert response.status_code == 422
    error = response.json()
    assert error["code"] == "stocks-submission-rejected"
    assert error["errors"] == [{"row": 1, "field": "quantity_gross_t", "reason": "quantity -3 is negative"}]
    # a row claiming another member is refused: a member submits only for itself
    body = _body("10")
    body["rows"][0]["member"] = "FRA"  # type: ignore[index]
    response = client.post("/api/v1/stocks/submissions", json=body, headers=headers["member"])
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "member"
    missing = client.post("/api/v1/stocks/submissions", json={"rows": []}, headers=headers["member"])
    assert missing.status_code == 400 and "period" in missing.json()["message"]
    assert client.get("/api/v1/stocks/submissions", headers=headers["member"]).json() == []
    xlsx = client.post(
        "/api/v1/stocks/submissions?period=2026-Q3",
        content=b"not a workbook",
        headers={**headers["member"], "Content-Type": XLSX_MEDIA_TYPE},
    )
    assert xlsx.status_code == 422


def test_role_matrix_and_no_leak(
    client: TestClient, engine: Engine, headers: dict[str, dict[str, str]]
) -> None:
    assert (
        client.post("/api/v1/stocks/submissions", json=_body(SECRET), headers=headers["member"]).status_code
        == 201
    )
    assert (
        client.post("/api/v1/stocks/submissions", json=_body("77"), headers=headers["member_b"]).status_code
        == 201
    )
    expected: dict[str, dict[str, int]] = {
        "GET /api/v1/stocks/submissions": {
            "public": 401, "member": 200, "member_b": 200, "secretariat": 200,
            "participant": 403, "auditor": 403, "admin": 403,
        },
        "GET /api/v1/stocks/submissions/1": {
            "public": 401, "member": 200, "member_b": 404, "secretariat": 200,
            "participant": 403, "auditor": 403, "admin": 403,
        },
        "GET /api/v1/stocks/submissions/1/history": {
            "public": 401, "member": 200, "member_b": 404, "secretariat": 200,
            "participant": 403, "auditor": 403, "admin": 403,
        },
        "GET /api/v1/stocks/submissions/999": {
            "public": 401, "member": 404, "member_b": 404, "secretariat": 404,
            "participant": 403, "auditor": 403, "admin": 403,
        },
        "POST /api/v1/stocks/submissions": {
            "public": 401, "member": 201, "member_b": 201, "secretariat": 403,
            "participant": 403, "auditor": 403, "admin": 403,
        },
        "GET /api/v1/stocks/template?format=csv": dict.fromkeys(headers, 200),
        "GET /api/v1/stocks/template?format=xlsx": dict.fromkeys(headers, 200),
    }  # fmt: skip
    failures = []
    for route, statuses in expected.items():
        method, path = route.split(" ")
        for caller, status in statuses.items():
            body = _body("5") if method == "POST" else None
            response = client.request(method, path, headers=headers[caller], json=body)
            if response.status_code != status:
                failures.append(f"{caller} {route}: {response.status_code} != {status}")
            # only DEU (and the secretariat, verifying) may ever see DEU's figure, in any body or error
            if caller not in ("member", "secretariat"):
                assert SECRET not in response.text, (caller, route)
    assert not failures, failures
    b_list = client.get("/api/v1/stocks/submissions", headers=headers["member_b"]).json()
    assert {s["member"] for s in b_list} == {"FRA"}
    all_list = client.get("/api/v1/stocks/submissions", headers=headers["secretariat"]).json()
    assert {s["member"] for s in all_list} == {"DEU", "FRA"}
    # 404 for another member's row says nothing about it
    not_found = client.get("/api/v1/stocks/submissions/1", headers=headers["member_b"]).json()
    assert "DEU" not in str(not_found) and not_found["code"] == "not-found"


def test_secretariat_reads_are_audited(
    client: TestClient, engine: Engine, headers: dict[str, dict[str, str]]
) -> None:
    client.post("/api/v1/stocks/submissions", json=_body(SECRET), headers=headers["member"])
    before = len(read_audit(engine, event="stocks:secretariat-read"))
    assert before == 0
    assert client.get("/api/v1/stocks/submissions/1", headers=headers["secretariat"]).status_code == 200
    assert (
        client.get("/api/v1/stocks/submissions/1/history", headers=headers["secretariat"]).status_code == 200
    )
    # the member reading its own row is not a secretariat read
    assert client.get("/api/v1/stocks/submissions/1", headers=headers["member"]).status_code == 200
    assert client.get("/api/v1/stocks/submissions", headers=headers["secretariat"]).status_code == 200
    assert client.get("/api/v1/stocks/submissions", headers=headers["member"]).status_code == 200
    rows = read_audit(engine, event="stocks:secretariat-read")
    assert len(rows) == 3
    assert {r["detail"] for r in rows} == {
        "version 1 of stock submission 1 (member DEU)",
        "history of stock submission 1 (member DEU)",
        "list of 1 stock submission(s) (members DEU)",
    }
    assert all(r["path"].startswith("/api/v1/stocks/submissions") for r in rows)


def test_template_download(client: TestClient) -> None:
    csv = client.get("/api/v1/stocks/template?format=csv")
    assert csv.status_code == 200 and csv.content == readers.template_csv()
    xlsx = client.get("/api/v1/stocks/template?format=xlsx")
    assert xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    assert next(r for _, r in readers.read_rows(xlsx.content, "xlsx"))["mineral"] == "cobalt"
    assert client.get("/api/v1/stocks/template?format=pdf").status_code == 422
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/v1/stocks/submissions", "/api/v1/stocks/template"} <= set(paths)
