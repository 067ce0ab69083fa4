"""The member's own figure beside each published cell, and the member-group table (SQLite and PostgreSQL).

Hand-worked (2026-Q3, cobalt, one form, tonnes gross = contained):
- by holder type: public_strategic DEU 100, FRA 110, ITA 90, NLD 40; obligated_industry JPN 500.
- by member group (stockpiles/groups/member-groups.yaml, first match wins): G7 = DEU 100 + FRA 110 + ITA 90 + JPN 500
  = 800 (4 contributors; the two largest 610 of 800 = 76 % < 85 %; the others estimate JPN within 800 − 500 − 110 =
  190 ≥ 10 % of 500): publishable on its own. EU27 = NLD 40 alone → fewer than 3 contributors: primary ``:c``. The
  cobalt total 840 (5 contributors) is published, so G7 (= 840 − 40) must be hidden too: complementary ``:c``.
- DEU's own column: 100 t in (cobalt, public_strategic), in (cobalt, ALL) and every margin it contributes to; null
  in (cobalt, obligated_industry), where it holds nothing.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.server import create_app
from lodeline.services import stocks as service
from lodeline.stockpiles.submission import EXAMPLE_ROW
from lodeline.store.accounts import create_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PERIOD = "2026-Q3"
HOLDINGS = (
    ("DEU", "public_strategic", "100"),
    ("FRA", "public_strategic", "110"),
    ("ITA", "public_strategic", "90"),
    ("NLD", "public_strategic", "40"),
    ("JPN", "obligated_industry", "500"),
)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    for member, holder, tonnes in HOLDINGS:
        row = {
            **EXAMPLE_ROW,
            "period": PERIOD,
            "member": member,
            "location_country": member,
            "holder_type": holder,
            "quantity_gross_t": tonnes,
            "quantity_contained_t": tonnes,
            "form": "cobalt metal cathode",
        }
        service.submit_rows(engine, [(1, row)], member=member, period=PERIOD)
    with TestClient(create_app(engine), base_url="https://testserver") as c:
        yield c


def _auth(engine: Engine, role: str, org: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_token(engine, f'{role}-{org}', role, org)[1]}"}


def test_member_group_table(client: TestClient) -> None:
    body = client.get(
        "/api/v1/stocks/aggregates", params={"period": PERIOD, "by": "member-group", "limit": 1000}
    )
    assert body.status_code == 200, body.text
    frame = pl.DataFrame(body.json()["data"])
    assert frame.columns == ["mineral", "member_group", "form", "tonnes", "flag"]
    cell = {
        g: r
        for g, r in (
            (r["member_group"], r)
            for r in frame.filter((pl.col("mineral") == "cobalt") & (pl.col("form") == "ALL")).iter_rows(
                named=True
            )
        )
    }
    assert cell["EU27"]["tonnes"] is None and cell["EU27"]["flag"] == ":c"
    assert cell["G7"]["tonnes"] is None and cell["G7"]["flag"] == ":c"
    assert cell["ALL"]["tonnes"] == pytest.approx(840.0)
    assert "other partners" not in cell  # no member outside G7 and EU27 submitted
    contained = client.get(
        "/api/v1/stocks/aggregates", params={"period": PERIOD, "measure": "contained", "by": "member-group"}
    )
    assert contained.status_code == 200
    bad = client.get("/api/v1/stocks/aggregates", params={"period": PERIOD, "by": "country"})
    assert bad.status_code in (400, 422)


def test_own_figures_beside_the_aggregate(client: TestClient, engine: Engine) -> None:
    deu = _auth(engine, "member", "DEU")
    response = client.get(
        "/api/v1/stocks/own-vs-aggregate", params={"period": PERIOD, "limit": 1000}, headers=deu
    )
    assert response.status_code == 200, response.text
    frame = pl.DataFrame(response.json()["data"])
    own = {
        (r["holder_type"], r["form"]): r["own_tonnes"]
        for r in frame.filter(pl.col("mineral") == "cobalt").iter_rows(named=True)
    }
    assert own[("public_strategic", "cobalt metal cathode")] == pytest.approx(100.0)
    assert own[("ALL", "ALL")] == pytest.approx(100.0)
    assert own[("obligated_industry", "cobalt metal cathode")] is None
    # only DEU's figure is in the own column; no other member's holding appears anywhere in the response
    assert {v for v in frame["own_tonnes"].to_list() if v is not None} == {100.0}
    for secret in ("110", "90", "40"):
        assert f'"tonnes":{secret}' not in response.text and f'"own_tonnes":{secret}' not in response.text
    csv = client.get(
        "/api/v1/stocks/own-vs-aggregate",
        params={"period": PERIOD, "format": "csv", "limit": 1000},
        headers=deu,
    )
    assert csv.status_code == 200 and "own_tonnes" in csv.text
    # not a member: no own column to give
    assert client.get("/api/v1/stocks/own-vs-aggregate", params={"period": PERIOD}).status_code == 401
    for role, org in (("participant", "acme"), ("auditor", None), ("secretariat", None)):
        refused = client.get(
            "/api/v1/stocks/own-vs-aggregate", params={"period": PERIOD}, headers=_auth(engine, role, org)
        )
        assert refused.status_code == 403, role
