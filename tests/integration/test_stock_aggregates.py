"""Published stockpile aggregates: the members' latest submissions summed into mineral × holder type × form with
margins, disclosure-controlled and audited before anything is shown, the same through the service, the CLI and the
public API route.

Hand-worked table (period 2026-Q3, tonnes gross, one form each):
- cobalt / public_strategic: DEU 100, FRA 110, ITA 90 → 3 contributors, largest 110 of 300 (37 %, under the 85 %
  dominance line); p %: the second largest (100) plus the rest (90) estimate the largest within 190 ≫ 10 % of 110 →
  publishable, 300 t.
- cobalt / obligated_industry: JPN 500 alone → fewer than 3 contributors: primary ``:c``.
- The cobalt margin over holder types (ALL) is 800 t from 4 contributors and publishable; with it published, the
  single-contributor cell would be recovered as 800 − 300. So secondary suppression hides the 300 t cell too (the
  only other cell in that line): an intruder then knows only that the two cells sum to 800, and the audit shows
  each suppressed cell's feasible interval is [0, 800], wider than its protection.
"""

from __future__ import annotations

import warnings

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.cli.main import app as cli
from lodeline.config import get_settings
from lodeline.errors import NotFoundError
from lodeline.server import create_app
from lodeline.services import stock_aggregates
from lodeline.services import stocks as service
from lodeline.stockpiles.submission import EXAMPLE_ROW

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

PERIOD = "2026-Q3"
HOLDINGS = (
    ("DEU", "public_strategic", "100"),
    ("FRA", "public_strategic", "110"),
    ("ITA", "public_strategic", "90"),
    ("JPN", "obligated_industry", "500"),
)


def _row(member: str, holder: str, tonnes: str) -> dict[str, str]:
    return {
        **EXAMPLE_ROW,
        "period": PERIOD,
        "member": member,
        "location_country": member,
        "holder_type": holder,
        "quantity_gross_t": tonnes,
        "quantity_contained_t": tonnes,
        "form": "cobalt metal cathode",
    }


@pytest.fixture
def submitted(engine: Engine) -> Engine:
    for member, holder, tonnes in HOLDINGS:
        service.submit_rows(engine, [(1, _row(member, holder, tonnes))], member=member, period=PERIOD)
    return engine


def test_published_cells_hide_the_single_contributor_and_pass_the_audit(submitted: Engine) -> None:
    result = stock_aggregates.published(submitted, PERIOD)
    frame = result.frame
    assert frame.columns == [
        "mineral",
        "holder_type",
        "form",
        "tonnes",
        "flag",
    ]  # no statuses, no contributors
    cell = frame.filter(
        (pl.col("holder_type") == "public_strategic") & (pl.col("form") == "cobalt metal cathode")
    ).row(0, named=True)
    assert cell["tonnes"] is None and cell["flag"] == ":c"  # complementary: it would give JPN away
    alone = frame.filter(
        (pl.col("holder_type") == "obligated_industry") & (pl.col("form") == "cobalt metal cathode")
    ).row(0, named=True)
    assert alone["tonnes"] is None and alone["flag"] == ":c"
    total = frame.filter((pl.col("holder_type") == "ALL") & (pl.col("mineral") == "cobalt")).row(
        0, named=True
    )
    assert total["tonnes"] == pytest.approx(800.0) and total["flag"] is None
    # JPN's 500 t (and the 300 t) are nowhere in the published table, neither as a cell nor as a difference
    published = [v for v in frame["tonnes"].to_list() if v is not None]
    assert 500.0 not in published and 300.0 not in published
    assert all(abs((a - b) - 500.0) > 1e-6 for a in published for b in published)
    report = stock_aggregates.audit_report(submitted, PERIOD)
    assert report.passed and report.cells.height >= 2  # the primary cell and at least one complementary cell
    lower, upper = report.cells.select(pl.col("lower").min(), pl.col("upper").max()).row(0)
    assert lower == pytest.approx(0.0, abs=1e-6) and upper == pytest.approx(800.0)


def test_public_route_and_cli_show_the_same_table(submitted: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = stock_aggregates.published(submitted, PERIOD).frame
    with TestClient(create_app(submitted), base_url="https://testserver") as client:
        body = client.get("/api/v1/stocks/aggregates", params={"period": PERIOD, "limit": 1000}).json()
        assert (
            pl.DataFrame(body["data"])
            .select(expected.columns)
            .sort(expected.columns[:3])
            .equals(expected.sort(expected.columns[:3]))
        )
        assert client.get("/api/v1/stocks/aggregates", params={"period": "2026-Q9"}).status_code in (400, 422)
        old = client.get("/api/v1/stocks/aggregates", params={"period": "0000-Q1"})
        assert old.status_code == 400 and "year 0000 is outside 2000–2100" in old.text
        missing = client.get("/api/v1/stocks/aggregates", params={"period": "2025-Q1"})
        assert missing.status_code == 404 and "no stockpile submission for 2025-Q1" in missing.text
    monkeypatch.setenv("LODELINE_DATABASE_URL", str(submitted.url.render_as_string(hide_password=False)))
    get_settings.cache_clear()
    runner = CliRunner()
    shown = runner.invoke(cli, ["stocks", "aggregates", "--period", PERIOD, "-f", "csv"])
    assert shown.exit_code == 0, shown.output
    assert pl.read_csv(shown.stdout.encode()).height == expected.height
    audited = runner.invoke(cli, ["stocks", "audit", "--period", PERIOD])
    assert audited.exit_code == 0 and "disclosure audit PASSED" in audited.stderr


def test_no_submission_is_not_found(engine: Engine) -> None:
    with pytest.raises(NotFoundError, match="no stockpile submission for 2026-Q1"):
        stock_aggregates.published(engine, "2026-Q1")
