"""``lodeline alerts scan|backtest`` and ``GET /api/v1/alerts/scan|backtest`` on the bundled data: the same answer
from the CLI and the API, provenance and CSV, the contract of the envelope, bad input as a 4xx with a code, and the
role matrix (the scan is built from public data: every role reads it, like the dependency analyses)."""

from __future__ import annotations

import datetime as dt
import json
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app as cli_app
from lodeline.config import get_settings
from lodeline.errors import LodelineError
from lodeline.server import create_app
from lodeline.services import alerts as service
from lodeline.store.accounts import create_token
from lodeline.store.engine import make_engine, upgrade
from webstore import copy_built_sqlite  # tests/webstore.py

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    with TestClient(
        create_app(built_sqlite[1], ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        yield c


@pytest.fixture
def cli(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return CliRunner()


def test_scan_gallium_after_the_2023_controls(client: TestClient, cli: CliRunner) -> None:
    """As of 2023-08-15, gallium is at `alert`: MOFCOM 2023 No.23 took effect on 2023-08-01 and China's share of
    refined gallium in the latest year published by then is 97 % (USGS Minerals Yearbook gallium table, year 2021,
    read as published on 2023-06-30 by the publication table's two-year lag): >= 60 % at the effective date is
    `alert` (thresholds.yaml)."""
    result = cli.invoke(cli_app, ["alerts", "scan", "--as-of", "2023-08-15", "-m", "gallium", "-f", "json"])
    assert result.exit_code == 0, result.output
    (alert,) = json.loads(result.stdout)
    assert alert["level"] == "alert" and alert["as_of"] == "2023-08-15"
    top = alert["readings"][0]
    assert top["indicator"] == "export-control" and "ctl-cn-gage-2023-export-licensing" in top["explanation"]
    assert top["published"] <= "2023-08-15" and top["value"] >= 0.6
    body = client.get("/api/v1/alerts/scan?as_of=2023-08-15&mineral=Ga").json()
    assert {r["level"] for r in body["data"]} == {"alert"}
    assert {r["indicator"] for r in body["data"]} >= {"export-control"}
    assert body["provenance"]["method"] == "docs/methods/early-warning.md"
    assert any("as of 2023-08-15" in n for n in body["provenance"]["notes"])


def test_scan_before_the_controls_is_lower(cli: CliRunner) -> None:
    result = cli.invoke(cli_app, ["alerts", "scan", "--as-of", "2023-07-02", "-m", "gallium", "-f", "csv"])
    assert result.exit_code == 0, result.output
    assert "gallium,normal" in result.stdout or "gallium,watch" in result.stdout


def test_scan_csv_and_every_mineral(client: TestClient) -> None:
    response = client.get("/api/v1/alerts/scan?as_of=2026-06-30&format=csv&limit=1000")
    assert response.status_code == 200 and response.text.startswith("mineral,level,as_of,indicator")
    minerals = {line.split(",")[0] for line in response.text.splitlines()[1:] if line}
    assert {"copper", "nickel", "rare-earths", "gallium"} <= minerals


def test_backtest_route_and_cli_agree(client: TestClient, cli: CliRunner) -> None:
    result = cli.invoke(cli_app, ["alerts", "backtest", "-f", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    body = client.get("/api/v1/alerts/backtest").json()
    assert [r["episode"] for r in body["data"]] == [r["episode"] for r in payload["episodes"]]
    assert len(payload["episodes"]) == 10
    assert {r["set"] for r in payload["episodes"]} == {"tuning", "held-out"}
    s = payload["summary"]
    assert s["episodes"] == 10 and 0 <= s["recall"] <= 1 and 0 <= s["precision"] <= 1
    assert any("held-out" in n for n in body["provenance"]["notes"])


@pytest.mark.parametrize(
    ("path", "status", "code"),
    [
        ("/api/v1/alerts/scan?as_of=2023-13-01", 422, "invalid-request"),
        ("/api/v1/alerts/scan?as_of=1990-01-01", 400, "invalid-argument"),
        ("/api/v1/alerts/scan?mineral=unobtainium", 404, "unknown-mineral"),
        ("/api/v1/alerts/scan?alliance=NOPE", 404, "unknown-group"),
        ("/api/v1/alerts/backtest?start=2020-01-01&end=2019-01-01", 400, "invalid-argument"),
    ],
)
def test_bad_input_is_4xx(client: TestClient, path: str, status: int, code: str) -> None:
    response = client.get(path)
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_cli_bad_date(cli: CliRunner) -> None:
    result = cli.invoke(cli_app, ["alerts", "scan", "--as-of", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output


def test_scan_under_a_second(built_sqlite: tuple[str, Engine]) -> None:
    service.timelines(built_sqlite[1])  # the timelines are built once per data build
    start = time.perf_counter()
    service.scan(built_sqlite[1], dt.date(2025, 4, 30))
    assert time.perf_counter() - start < 1.0


def test_role_matrix(built_sqlite: tuple[str, Engine], tmp_path: Path) -> None:
    engine = make_engine(copy_built_sqlite(built_sqlite[0], tmp_path))
    upgrade(engine)
    orgs: dict[str, str | None] = {
        "member": "DEU",
        "participant": "acme-mining",
        "auditor": None,
        "admin": None,
    }
    callers = {"public": {}} | {
        role: {"Authorization": f"Bearer {create_token(engine, f'{role}-alerts', role, org)[1]}"}
        for role, org in orgs.items()
    }
    failures = []
    with TestClient(
        create_app(engine, ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        for path in ("/api/v1/alerts/scan?as_of=2025-01-31", "/api/v1/alerts/backtest?start=2024-01-01"):
            for role, headers in callers.items():
                status = c.get(path, headers=headers).status_code
                if status != 200:
                    failures.append(f"{role} {path}: {status}")
            if c.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code != 401:
                failures.append(f"bad token {path}")
    engine.dispose()
    assert not failures, failures


HOSTILE = ["", "\x00", "é" * 5_000, "-1", "99999999999999999999", "0001-01-01", "../../etc/passwd"]


@pytest.mark.parametrize(
    "args",
    [
        ["alerts", "scan", "--as-of", "{}"],
        ["alerts", "scan", "--mineral", "{}"],
        ["alerts", "scan", "--alliance", "{}"],
        ["alerts", "backtest", "--start", "{}"],
        ["alerts", "backtest", "--end", "{}"],
    ],
)
def test_cli_hostile_arguments(cli: CliRunner, args: list[str]) -> None:
    """Every hostile value is a usage error (exit 2) or a typed Lodeline error (which the entry point prints as one
    line with its code), never another exception."""
    for value in HOSTILE:
        result = cli.invoke(cli_app, [value if a == "{}" else a for a in args])
        assert result.exit_code in (1, 2), (value[:20], result.exit_code, result.output[-300:])
        assert result.exception is None or isinstance(result.exception, (SystemExit, LodelineError)), repr(
            result.exception
        )
        assert "Traceback" not in result.output


def test_scan_same_on_every_backend(
    built_store: tuple[str, Engine], built_sqlite: tuple[str, Engine]
) -> None:
    """The service reads the canonical tables through the store only: the same scan on SQLite and PostgreSQL."""
    day = dt.date(2025, 4, 30)
    got = [a.to_dict() for a in service.scan(built_store[1], day)]
    want = [a.to_dict() for a in service.scan(built_sqlite[1], day)]
    assert got == want and len(got) > 20
