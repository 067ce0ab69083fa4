"""The submission API also takes a form upload (multipart/form-data: ``file`` + ``period``), as the dashboard's upload
form sends it, through the same validation and service as the JSON and raw-file bodies; a bad file is refused naming
row and field and writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.stockpiles import readers
from lodeline.store import stocks as stocks_db
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings())  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def member(engine: Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(engine, 'deu-1', 'member', 'DEU')[1]}"}


def test_form_upload_csv_then_amendment(client: TestClient, engine: Engine, member: dict[str, str]) -> None:
    csv = readers.template_csv()
    first = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.csv", csv, "text/csv")},
        data={"period": "2026-Q3"},
        headers=member,
    )
    assert first.status_code == 201, first.text
    assert (first.json()["member"], first.json()["period"], first.json()["version"]) == ("DEU", "2026-Q3", 1)
    assert isinstance(first.json()["leaf_index"], int)
    again = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.csv", csv, "text/csv")},
        data={"period": "2026-Q3"},
        headers=member,
    )
    assert again.status_code == 201 and again.json()["version"] == 2
    assert again.json()["leaf_index"] == first.json()["leaf_index"] + 1


def test_form_upload_bad_file_names_row_and_field_and_writes_nothing(
    client: TestClient, engine: Engine, member: dict[str, str]
) -> None:
    bad = readers.template_csv().decode().replace(",1200,", ",-5,").encode()
    assert bad != readers.template_csv()
    response = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.csv", bad, "text/csv")},
        data={"period": "2026-Q3"},
        headers=member,
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["row"] == 2
    assert response.json()["errors"][0]["field"] == "quantity_gross_t"
    no_file = client.post("/api/v1/stocks/submissions", data={"period": "2026-Q3"}, headers=member)
    assert no_file.status_code in (400, 415), no_file.text
    wrong_type = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.txt", b"x", "text/plain")},
        data={"period": "2026-Q3"},
        headers=member,
    )
    assert wrong_type.status_code == 422 and "unknown file type" in wrong_type.json()["message"]
    no_period = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.csv", readers.template_csv(), "text/csv")},
        headers=member,
    )
    assert no_period.status_code == 400 and "period" in no_period.json()["message"]
    assert stocks_db.count_versions(engine) == 0


def test_form_upload_needs_a_member(client: TestClient, engine: Engine) -> None:
    response = client.post(
        "/api/v1/stocks/submissions",
        files={"file": ("stocks.csv", readers.template_csv(), "text/csv")},
        data={"period": "2026-Q3"},
    )
    assert response.status_code == 401
    assert stocks_db.count_versions(engine) == 0


def test_session_upload_needs_the_csrf_token(client: TestClient, engine: Engine) -> None:
    """The dashboard's form posts with the browser session: without the page's CSRF token (X-CSRF-Token, as every
    dashboard write) the upload is refused and nothing is written; with it, the version is stored."""
    _, token = create_token(engine, "deu-web", "member", "DEU")
    form = client.get("/login")
    csrf = form.text.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post("/login", data={"token": token, "csrf_token": csrf}, follow_redirects=False).status_code
        == 303
    )
    page = client.get("/stocks")
    assert 'id="upload-form"' in page.text and 'href="/api/v1/stocks/template?format=xlsx"' in page.text
    session_csrf = page.text.split('name="csrf-token" content="')[1].split('"')[0]
    upload = {
        "files": {"file": ("stocks.csv", readers.template_csv(), "text/csv")},
        "data": {"period": "2026-Q3"},
    }
    refused = client.post("/api/v1/stocks/submissions", **upload)  # type: ignore[arg-type]
    assert refused.status_code == 403 and refused.json()["code"] == "csrf-failed"
    assert stocks_db.count_versions(engine) == 0
    ok = client.post(
        "/api/v1/stocks/submissions",
        headers={"X-CSRF-Token": session_csrf},
        **upload,  # type: ignore[arg-type]
    )
    assert ok.status_code == 201, ok.text
    assert stocks_db.count_versions(engine) == 1
