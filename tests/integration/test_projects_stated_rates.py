"""User-stated exchange rates on the bundled commitments ledger, through the CLI (``--rates FILE [--to]``) and the
API (``POST /api/v1/projects/commitments/convert``), on SQLite and PostgreSQL.

The rates here are test values, not market figures (the file says so in its source column); what is checked is
the arithmetic on the bundled rows and that nothing is guessed."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app, main
from lodeline.server import create_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

runner = CliRunner()
RATES = [
    {"currency": "USD", "per_eur": 1.25, "date": "2026-01-02", "source": "test rate - not a market figure"},
    {"currency": "JPY", "per_eur": 160, "date": "2026-01-02", "source": "test rate - not a market figure"},
    {"currency": "GBP", "per_eur": 0.8, "date": "2026-01-02", "source": "test rate - not a market figure"},
]


def _csv(tmp_path: Path, rates: list[dict[str, object]]) -> Path:
    path = tmp_path / "rates.csv"
    lines = ["currency,per_eur,date,source"] + [
        f"{r['currency']},{r['per_eur']},{r['date']},{r['source']}" for r in rates
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_cli_summary_converts_every_counted_amount_and_compares_with_the_g7_headline(tmp_path: Path) -> None:
    """public_financing_commitments_partial.csv, counted rows first announced since 2026-01-01: USD 4,535 m (five
    rows), JPY 17,500 m (JOGMEC / Shin-Etsu), GBP 71 m (NWF / Tungsten West). At USD 1.25, JPY 160, GBP 0.8 per EUR:
    4,535 / 1.25 = 3,628 m; 17,500 / 160 = 109.375 m; 71 / 0.8 = 88.75 m; total EUR 3,826.125 m = 3.826125 bn.
    The G7 headline (EUR 64 bn) minus it = 60.173875 -> 60.174."""
    result = runner.invoke(
        app, ["projects", "commitments", "--summary", "--rates", str(_csv(tmp_path, RATES))]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    since = summary["converted"]["since_2026"]
    assert since["currency"] == "EUR" and since["complete"] and since["commitments"] == 7
    assert since["amount"] == pytest.approx(3_826.125e6)
    assert summary["difference"]["investment_eur_bn"] == pytest.approx(60.174)
    assert summary["difference"]["investment_why"] is None


def test_cli_without_a_gbp_rate_leaves_it_out_and_says_why(tmp_path: Path) -> None:
    """Without GBP: 3,628 + 109.375 = EUR 3,737.375 m converted; GBP 71 m named as left out; no G7 difference."""
    path = _csv(tmp_path, RATES[:2])
    summary = json.loads(
        runner.invoke(app, ["projects", "commitments", "--summary", "--rates", str(path)]).stdout
    )
    since = summary["converted"]["since_2026"]
    assert since["amount"] == pytest.approx(3_737.375e6) and not since["complete"]
    assert [x["currency"] for x in since["left_out"]] == ["GBP"]
    assert summary["difference"]["investment_eur_bn"] is None
    assert "no rate stated for GBP" in summary["difference"]["investment_why"]
    rows = json.loads(
        runner.invoke(
            app, ["projects", "commitments", "--rates", str(path), "--to", "USD", "-f", "json"]
        ).stdout
    )
    jogmec = next(r for r in rows if r["currency"] == "JPY" and r["counted"])
    assert jogmec["converted_amount"] == pytest.approx(17_500e6 / 160 * 1.25)  # USD 136.71875 m
    assert jogmec["converted_currency"] == "USD" and "160 JPY/EUR on 2026-01-02" in jogmec["rate_used"]


def test_cli_bad_rates_file_names_row_and_field(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _csv(tmp_path, [{**RATES[0], "per_eur": "-2"}])
    for args, words in (
        (["--rates", str(path)], ("rates.csv: row 2, field per_eur", "above 0")),
        (["--to", "USD"], ("--to needs --rates",)),
    ):
        monkeypatch.setattr(sys, "argv", ["lodeline", "projects", "commitments", *args])
        with pytest.raises(SystemExit) as exited:
            main()
        assert exited.value.code == 2
        err = " ".join(capsys.readouterr().err.split())
        assert all(w in err for w in words) and "Traceback" not in err, err


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, ApiSettings()), base_url="https://testserver") as c:  # type: ignore[arg-type]
        yield c


def test_api_converts_with_a_body_and_refuses_bad_rates(client: TestClient) -> None:
    """Same arithmetic as the CLI test: EUR 3,826.125 m since 2026 and a G7 difference of 60.174 bn."""
    url = "/api/v1/projects/commitments/convert"
    summary = client.post(url, json={"rates": RATES, "summary": True}).json()
    assert summary["converted"]["since_2026"]["amount"] == pytest.approx(3_826.125e6)
    assert summary["difference"]["investment_eur_bn"] == pytest.approx(60.174)
    ledger = client.post(url, json={"rates": RATES[:1]})
    assert ledger.status_code == 200
    rows = ledger.json()["data"]
    assert len(rows) == 70 and all(r["converted_amount"] is None for r in rows if r["currency"] == "GBP")
    bad = client.post(url, json={"rates": [RATES[0], {**RATES[0], "per_eur": 2}]})
    assert bad.status_code == 400 and "rates: row 2, field currency" in bad.json()["message"]
    assert client.post(url, json={"rates": [{**RATES[0], "per_eur": 0}]}).status_code == 400
    assert (
        client.post(url, json={"rates": [{**RATES[0], "per_eur": 1e-300}], "summary": True}).status_code
        == 400
    )
    assert client.post(url, json={"rates": RATES, "to": "CHF"}).status_code == 400
    assert client.post(url, json={"rates": [{**RATES[0], "extra": 1}]}).status_code == 422
    assert client.post(url, json={"rates": RATES * 200}).status_code == 422
