"""The project register API on SQLite and PostgreSQL: members add projects (one transaction, bad documents refused
naming the field), and the role matrix for confidential project fields: only the owner and the secretariat read
them; public, another member, a participant, the auditor and the admin get the field emptied with the reason."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.server import create_app
from lodeline.store import projects as projects_db
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

ORGS = {"member": "DEU", "member_b": "FRA", "secretariat": None, "participant": "acme-mining", "auditor": None,
        "admin": None}  # fmt: skip
#: capex only DEU states, confidential: must appear in no response another caller gets
SECRET = 987654321.0
DOC = {
    "project_id": "deu-graphite-anode-1",
    "name": "Lusatia anode graphite plant",
    "promoters": ["Example Anode GmbH"],
    "countries": ["DE"],
    "latitude": 51.5,
    "longitude": 14.6,
    "minerals": ["graphite"],
    "stages": ["processing"],
    "capex": {"value": SECRET, "currency": "EUR"},
    "capacity": {"value": 20000, "product": "spherical graphite"},
    "expected_start_year": 2029,
    "confidential": ["capex", "coordinates"],
}


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


def test_add_and_role_matrix_for_confidential_fields(
    client: TestClient, headers: dict[str, dict[str, str]], engine: Engine
) -> None:
    created = client.post("/api/v1/projects", json=DOC, headers=headers["member"])
    assert created.status_code == 201, created.text
    assert created.json()[0] == created.json()[0] | {
        "project_id": DOC["project_id"],
        "owner": "DEU",
        "version": 1,
    }
    for role, sees in [("member", True), ("secretariat", True), ("public", False), ("member_b", False),
                       ("participant", False), ("auditor", False), ("admin", False)]:  # fmt: skip
        shown = client.get(f"/api/v1/projects/{DOC['project_id']}", headers=headers[role])
        assert shown.status_code == 200, (role, shown.text)
        body = shown.json()
        listed = client.get("/api/v1/projects?country=DE&limit=500", headers=headers[role])
        compared = client.get(f"/api/v1/projects/compare?ids={DOC['project_id']}", headers=headers[role])
        csv = client.get("/api/v1/projects?format=csv&limit=500", headers=headers[role])
        texts = [shown.text, listed.text, compared.text, csv.text]
        if sees:
            assert body["capex"]["value"] == SECRET and body["latitude"] == 51.5, role
            assert any(str(int(SECRET)) in t for t in texts[1:]), role
        else:
            assert body["capex"] is None and body["latitude"] is None, role
            assert body["gaps"]["capex"].startswith("confidential"), role
            assert not any(str(int(SECRET)) in t for t in texts), role
        assert body["name"] == DOC["name"]  # the rest of the record is published


def test_who_may_submit(client: TestClient, headers: dict[str, dict[str, str]]) -> None:
    expected = {
        "public": 401,
        "auditor": 403,
        "admin": 403,
        "secretariat": 403,
        "participant": 201,
        "member": 201,
    }
    for role, status in expected.items():
        got = client.post("/api/v1/projects", json={**DOC, "project_id": f"p-{role}"}, headers=headers[role])
        assert got.status_code == status, (role, got.text)


def test_bad_documents_are_refused_whole_naming_the_field(
    client: TestClient, headers: dict[str, dict[str, str]], engine: Engine
) -> None:
    good = {**DOC, "project_id": "good-one"}
    bad = {**DOC, "project_id": "bad-one", "capacity": {"value": -5, "product": "x"}}
    got = client.post("/api/v1/projects", json=[good, bad], headers=headers["member"])
    assert got.status_code == 400, got.text
    assert "[1]" in got.json()["message"] and "capacity.value" in got.json()["message"]
    assert projects_db.list_projects(engine) == []  # all or nothing
    for body, word in [({**DOC, "minerals": ["unobtainium"]}, "minerals"), ({**DOC, "surprise": 1}, "surprise"),
                       ({**DOC, "confidential": ["name"]}, "confidential"), ([], "no project"),
                       ({**DOC, "countries": ["Germany"]}, "countries")]:  # fmt: skip
        got = client.post("/api/v1/projects", json=body, headers=headers["member"])
        assert got.status_code == 400 and word in got.json()["message"], got.text
    raw = client.post("/api/v1/projects", content=b"{not json", headers={**headers["member"],
                      "Content-Type": "application/json"})  # fmt: skip
    assert raw.status_code == 400


def test_member_update_of_a_public_project_is_merged_and_versioned(
    client: TestClient, headers: dict[str, dict[str, str]], engine: Engine
) -> None:
    """DEU records a capex for the public Keliber designation: the register shows one Keliber with the member's
    figure, the merge note says so, and the store keeps both versions."""
    doc = {"project_id": "dsg-eu-crma-keliber", "name": "Keliber project (lithium)", "countries": ["FI"],
           "minerals": ["lithium"], "capex": {"value": 6.6e8, "currency": "EUR"}}  # fmt: skip
    for _ in range(2):
        assert client.post("/api/v1/projects", json=doc, headers=headers["member"]).status_code == 201
    assert [v["version"] for v in projects_db.versions(engine, "DEU", "dsg-eu-crma-keliber")] == [1, 2]
    shown = client.get("/api/v1/projects/dsg-eu-crma-keliber").json()
    assert shown["capex"]["value"] == 6.6e8 and shown["owner_org"] == "DEU"
    assert "same project id" in shown["merge_note"]
    assert any(s["list_name"] == "EU CRMA strategic projects" for s in shown["sources"])
    listed = client.get("/api/v1/projects?mineral=lithium&limit=500").json()["data"]
    assert sum(1 for r in listed if "keliber" in r["project_id"]) == 1


def test_reads_and_unknowns(client: TestClient) -> None:
    assert client.get("/api/v1/projects/no-such-project").status_code == 404
    assert client.get("/api/v1/projects?stage=smelting").status_code == 400
    assert client.get("/api/v1/projects?mineral=unobtainium").status_code == 404
    summary = client.get("/api/v1/projects/commitments/summary").json()
    assert summary["headline"] == {
        "source": "g7-2026-projects-announced",
        "projects": 195.0,
        "investment_eur_bn": 64.0,
    }
    assert summary["difference"]["projects"] == 195 - summary["bottom_up_since_2026"]["projects"]
    # the ledger's 2026 amounts are in USD, CAD, ...: not converted, so no EUR difference is claimed
    assert summary["difference"]["investment_eur_bn"] is None
    assert "not converted" in summary["difference"]["investment_why"]
    currencies = {r["currency"] for r in summary["bottom_up_since_2026"]["amount_bn_by_currency"]}
    assert "EUR" not in currencies and "USD" in currencies
    ledger = client.get("/api/v1/projects/commitments?limit=500").json()
    assert ledger["page"]["total"] == 70
    ret = client.get("/api/v1/projects/dsg-eu-crma-jadar/returns?price=20000&opex=1e8")
    assert ret.status_code == 200, ret.text
    assert ret.json()["social_why"] == "no documented, monetised local benefits"
    assert ret.json()["currency"] == "USD"  # the deck is read in the capex currency, nothing converted
    missing = client.get("/api/v1/projects/dsg-eu-crma-bam4ever/returns?price=20000&opex=1")
    assert missing.status_code == 400 and "capex" in missing.json()["message"]


def test_projects_and_deals_link_both_ways(client: TestClient) -> None:
    """Hand-checked pair (public_financing_commitments_partial.csv, partnerships_agreements.csv): the Nolans record
    is financed by fin-au-arafura-nolans-2025-equity (USD 100 m, its project column names Nolans) and covered by
    us-aus-2025 (AUS a party, rare earths named); the deals API shows the same pair from the deal's side."""
    shown = client.get("/api/v1/projects/fin-nolans-rare-earths-project").json()
    money = {m["id"]: m for m in shown["links"]["commitments"]}
    assert money["fin-au-arafura-nolans-2025-equity"]["match"] == "finances the project"
    agreements = {a["id"]: a["match"] for a in shown["links"]["agreements"]}
    assert agreements["us-aus-2025"] == "country+mineral"
    deal = client.get("/api/v1/deals/entries/us-aus-2025").json()
    assert deal["register"] == "agreements"
    assert {"fin-nolans-rare-earths-project": "country+mineral"}.items() <= {
        p["project_id"]: p["match"] for p in deal["projects"]
    }.items()
    commitment = client.get("/api/v1/deals/entries/fin-au-arafura-nolans-2025-equity").json()
    assert commitment["register"] == "financing commitments" and commitment["currency"] == "USD"
    assert [p["project_id"] for p in commitment["projects"]] == ["fin-nolans-rare-earths-project"]
    assert client.get("/api/v1/deals/entries/no-such-entry").status_code == 404
