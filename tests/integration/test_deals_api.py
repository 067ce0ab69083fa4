"""The deals register's API on SQLite and PostgreSQL: public reads, the role matrix of adding and amending rows
(member and secretariat may; public 401; participant, auditor, admin 403), versions and history, bad rows refused
naming the field with nothing written, and the routes in the OpenAPI document."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store import deals as deals_db
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ROLES = {"member": "DEU", "secretariat": None, "participant": "acme-mining", "auditor": None, "admin": None}
NEW = {
    "agreement_id": "test-deu-chl-2026",
    "parties": "DEU;CHL",
    "type": "MoU",
    "title": "Test MoU",
    "signed_date": "2026-05-02",
    "minerals": "lithium;copper",
    "stages": "processing",
    "binding": "no",
    "source_url": "https://example.org/release",
    "source_type": "primary",
}


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, ApiSettings())  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver") as c:
        yield c


@pytest.fixture
def headers(engine: Engine) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {"public": {}}
    for role, org in ROLES.items():
        out[role] = {"Authorization": f"Bearer {create_token(engine, f'{role}-1', role, org)[1]}"}
    return out


def test_public_reads_the_register(client: TestClient) -> None:
    """51 bundled agreements; eu-ukr-2021 shown with its EU27 expansion; disputes 16; measures 31."""
    got = client.get("/api/v1/deals/registers/agreements", params={"limit": 100})
    assert got.status_code == 200 and len(got.json()["data"]) == 51
    assert (
        client.get("/api/v1/deals/registers/disputes", params={"limit": 100}).json()["data"].__len__() == 16
    )
    assert len(client.get("/api/v1/deals/registers/measures", params={"limit": 100}).json()["data"]) == 31
    one = client.get("/api/v1/deals/entries/eu-ukr-2021").json()
    assert (
        one["register"] == "agreements"
        and "UKR" in one["countries"]
        and one["financing_nature"] == "technical assistance"
    )
    assert client.get("/api/v1/deals/entries/no-such-deal").status_code == 404
    assert client.get("/api/v1/deals/registers/treaties").status_code == 422


def test_role_matrix_for_adding(
    client: TestClient, headers: dict[str, dict[str, str]], engine: Engine
) -> None:
    body = {"cells": NEW, "reason": "new MoU"}
    assert (
        client.post("/api/v1/deals/registers/agreements", json=body, headers=headers["public"]).status_code
        == 401
    )
    for role in ("participant", "auditor", "admin"):
        got = client.post("/api/v1/deals/registers/agreements", json=body, headers=headers[role])
        assert got.status_code == 403, role
    assert deals_db.all_versions(engine) == []
    made = client.post("/api/v1/deals/registers/agreements", json=body, headers=headers["member"])
    assert made.status_code == 201, made.text
    assert made.json()["version"] == 1 and made.json()["author_role"] == "member"
    again = client.post("/api/v1/deals/registers/agreements", json=body, headers=headers["secretariat"])
    assert again.status_code == 400 and "amend it instead" in again.json()["message"]
    shown = client.get("/api/v1/deals/entries/test-deu-chl-2026").json()
    assert (
        shown["origin"] == "added"
        and shown["minerals"] == ["lithium", "copper"]
        and shown["stages"] == ["refining"]
    )


def test_amend_keeps_history(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    """Amending a bundled row makes version 1 on top of version 0 (the file row); the amendment must state its
    source; a second amendment is version 2 and the history lists all three."""
    url = "/api/v1/deals/registers/agreements/eu-chl-2023/versions"
    no_source = client.post(
        url, json={"cells": {"in_force_date": "2024-01-01"}, "reason": "x"}, headers=headers["member"]
    )
    assert no_source.status_code == 400 and "source_url" in no_source.json()["message"]
    change = {"status": "implemented", "status_date": "2025-06-01", "source_url": "https://example.org/a",
              "source_type": "secondary"}  # fmt: skip
    assert (
        client.post(
            url, json={"cells": change, "reason": "reported"}, headers=headers["secretariat"]
        ).status_code
        == 201
    )
    shown = client.get("/api/v1/deals/entries/eu-chl-2023").json()
    assert shown["status"] == "implemented" and shown["origin"] == "amended" and shown["version"] == 1
    listed = client.get(
        "/api/v1/deals/registers/agreements", params={"limit": 100, "on": "2026-01-01"}
    ).json()["data"]
    assert {r["agreement_id"]: r["status"] for r in listed}["eu-chl-2023"] == "implemented"
    change2 = change | {"source_type": "primary"}
    assert (
        client.post(url, json={"cells": change2, "reason": "checked"}, headers=headers["member"]).status_code
        == 201
    )
    history = client.get("/api/v1/deals/entries/eu-chl-2023/history").json()["data"]
    assert [h["version"] for h in history] == [0, 1, 2] and history[0]["action"] == "bundled"
    assert client.post("/api/v1/deals/registers/agreements/nope/versions", json={"cells": change, "reason": "x"},
                       headers=headers["member"]).status_code == 404  # fmt: skip


@pytest.mark.parametrize(
    ("cells", "field"),
    [
        (NEW | {"parties": "DEU;XYZ"}, "parties"),
        (NEW | {"type": "handshake"}, "type"),
        (NEW | {"in_force_date": "2026-01-01"}, "in_force_date"),
        (NEW | {"source_type": ""}, "source_type"),
        (NEW | {"colour": "red"}, None),
    ],
)
def test_bad_rows_are_refused_naming_the_field(
    client: TestClient,
    headers: dict[str, dict[str, str]],
    engine: Engine,
    cells: dict[str, str],
    field: str | None,
) -> None:
    got = client.post(
        "/api/v1/deals/registers/agreements", json={"cells": cells, "reason": "x"}, headers=headers["member"]
    )
    assert got.status_code == 400, got.text
    if field:
        assert f"column '{field}'" in got.json()["message"]
    assert deals_db.all_versions(engine) == []


def test_routes_are_in_openapi(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/deals/registers/{register}", "/api/v1/deals/coverage", "/api/v1/deals/restrictions",
                 "/api/v1/deals/countries/{country}", "/api/v1/deals/entries/{entry_id}/history",
                 "/api/v1/deals/registers/{register}/{entry_id}/versions", "/api/v1/deals/financing",
                 "/api/v1/deals/timeline", "/api/v1/deals/partners"):  # fmt: skip
        assert path in paths, path


def test_timeline_and_partners_follow_additions(
    client: TestClient, headers: dict[str, dict[str, str]]
) -> None:
    """The Deals page's data through the API: China's 2023 gallium licensing (export_controls_measures.csv row 2:
    announced 2023-07-03, effective 2023-08-01, source MOFCOM announcement 23); BRA's only agreement is the
    EU-Mercosur FTA chapter (a briefing-document row, so secondary only). A member's added MoU appears in both reads
    at once (the cache key holds the register revision), with its own source."""
    params = {"mineral": "gallium", "on": "2025-06-01", "limit": 500}
    rows = client.get("/api/v1/deals/timeline", params=params).json()["data"]
    gage = [r for r in rows if r["entry_id"] == "ctl-cn-gage-2023-export-licensing"]
    assert [(r["event"], r["date"]) for r in gage] == [
        ("announced", "2023-07-03"),
        ("effective", "2023-08-01"),
    ]
    assert gage[0]["source"].startswith("src-mofcom-23") and gage[0]["status"] == "in force"
    partners = {
        r["country"]: r for r in client.get("/api/v1/deals/partners", params={"limit": 500}).json()["data"]
    }
    assert partners["BRA"]["shown_type"] == "FTA chapter" and partners["BRA"]["secondary_only"] is True
    assert "DEU" not in partners and "USA" not in partners  # G7+ members are not partners
    body = {"cells": NEW, "reason": "new MoU"}
    assert (
        client.post("/api/v1/deals/registers/agreements", json=body, headers=headers["member"]).status_code
        == 201
    )
    rows = client.get("/api/v1/deals/timeline", params={"limit": 500}).json()["data"]
    added = [r for r in rows if r["entry_id"] == "test-deu-chl-2026"]
    assert [(r["event"], r["date"], r["source"]) for r in added] == [
        ("signed", "2026-05-02", "https://example.org/release")
    ]
    partners = {
        r["country"]: r for r in client.get("/api/v1/deals/partners", params={"limit": 500}).json()["data"]
    }
    assert "test-deu-chl-2026" in partners["CHL"]["agreements"].split(";")
