"""Excel export: ``--format xlsx`` in the CLI and ``?format=xlsx`` in the API write a ``data`` sheet and a
``provenance`` sheet; the files are opened with openpyxl and their cells checked.

The figure checked is China's share of rare-earth refining in 2024, computed by hand from the IEA JSON
(``data/raw/iea_critical_minerals/iea_cm_may2025_barrytho_iea.json``, ``supply["Rare Earth Elements"]["refining"]``:
China ÷ total for 2024 = 73.757 ÷ 80.805 = 0.9128).
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from lodeline import export
from lodeline.api.settings import ApiSettings
from lodeline.cli.main import app
from lodeline.config import get_settings
from lodeline.errors import InvalidArgumentError
from lodeline.server import create_app
from lodeline.store.canonical import catalog

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # starlette's TestClient asks for httpx2; the locked httpx works
    from starlette.testclient import TestClient

RAW = Path(__file__).resolve().parents[2] / "src" / "lodeline" / "data" / "raw"


def _china_refining_share_2024() -> float:
    block = json.loads((RAW / "iea_critical_minerals" / "iea_cm_may2025_barrytho_iea.json").read_text())
    refining = block["supply"]["Rare Earth Elements"]["refining"]
    return float(refining["countries"]["China"]["2024"] / refining["total"]["2024"])


def _sheets(data: bytes | Path) -> tuple[list[dict[str, Any]], dict[str, Any], list[tuple[Any, ...]]]:
    """(data rows as dicts, provenance field → value (notes joined), source rows)."""
    book = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    assert book.sheetnames == ["data", "provenance"]
    rows = list(book["data"].iter_rows(values_only=True))
    records = [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]
    fields: dict[str, Any] = {}
    sources: list[tuple[Any, ...]] = []
    in_sources = False
    for row in book["provenance"].iter_rows(values_only=True):
        if row[0] == "source id":
            in_sources = True
        elif in_sources:
            sources.append(row)
        elif row[0] == "note":
            fields.setdefault("note", []).append(row[1])
        elif row[0] is not None:
            fields[row[0]] = row[1]
    return records, fields, sources


def _editions(engine: Engine) -> dict[str, str]:
    return {d["id"]: d["edition"] for d in catalog(engine)}


def _assert_generated_now(value: str) -> None:
    when = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - when) < timedelta(minutes=10)


@pytest.fixture
def cli_store(built_sqlite: tuple[str, Engine], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LODELINE_DATABASE_URL", built_sqlite[0])
    get_settings.cache_clear()
    return built_sqlite[0]


def test_cli_xlsx_has_the_rows_and_a_provenance_sheet(
    cli_store: str, built_sqlite: tuple[str, Engine], tmp_path: Path
) -> None:
    out = tmp_path / "shares.xlsx"
    args = [
        "market",
        "shares",
        "-m",
        "rare-earths",
        "-s",
        "refining",
        "-y",
        "2024",
        "-f",
        "xlsx",
        "-o",
        str(out),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    records, fields, sources = _sheets(out)
    china = next(r for r in records if r["country"] == "CHN")
    assert china["share"] == pytest.approx(_china_refining_share_2024(), abs=1e-9)
    assert china["year"] == 2024 and china["source"] == "iea_critical_minerals"
    assert fields["title"] == "rare-earths refining shares"
    assert fields["method"] == "docs/methods/market-indicators.md"
    _assert_generated_now(fields["generated_at"])
    editions = _editions(built_sqlite[1])
    assert [s[0] for s in sources] == ["iea_critical_minerals"]
    assert sources[0][2] == editions["iea_critical_minerals"] and "CC BY 4.0" in sources[0][3]


def test_cli_xlsx_of_a_command_without_a_provenance_keeps_its_caption(cli_store: str, tmp_path: Path) -> None:
    out = tmp_path / "sources.xlsx"
    result = CliRunner().invoke(app, ["data", "sources", "-f", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    records, fields, sources = _sheets(out)
    assert {r["id"] for r in records} >= {"iea_critical_minerals", "usgs_mcs2026"}
    assert fields["title"] == "Bundled datasets" and sources == [
        ("(none)", "the rows name no bundled dataset", None, None)
    ]


@pytest.fixture(scope="module")
def client(built_sqlite: tuple[str, Engine]) -> Iterator[TestClient]:
    with TestClient(
        create_app(built_sqlite[1], ApiSettings(anonymous_rate_per_second=0)), base_url="https://testserver"
    ) as c:
        yield c


def test_api_xlsx_page_with_provenance(client: TestClient, built_sqlite: tuple[str, Engine]) -> None:
    url = "/api/v1/minerals/rare-earths/shares?stage=refining&year=2024"
    response = client.get(url + "&format=xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == export.XLSX_MEDIA_TYPE
    assert response.headers["content-disposition"] == (
        'attachment; filename="lodeline-rare-earths-refining-shares.xlsx"'
    )
    assert "iea_critical_minerals" in response.headers["x-lodeline-sources"]
    records, fields, sources = _sheets(response.content)
    china = next(r for r in records if r["country"] == "CHN")
    assert china["share"] == pytest.approx(_china_refining_share_2024(), abs=1e-9)
    body = client.get(url).json()  # the JSON of the same query is still JSON, with the same rows
    assert len(body["data"]) == len(records)
    assert fields["data_version"] == body["data_version"]
    assert (
        fields["next_cursor"] == "none (last page)"
        and fields["rows"] == f"1–{len(records)} of {len(records)}"
    )
    assert fields["method"] == body["provenance"]["method"]
    assert [s[0] for s in sources] == [s["id"] for s in body["provenance"]["sources"]]
    assert sources[0][2] == _editions(built_sqlite[1])["iea_critical_minerals"]
    again = client.get(url + "&format=xlsx", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


def test_api_xlsx_is_paged_like_json(client: TestClient) -> None:
    url = "/api/v1/minerals/lithium/concentration"
    total = client.get(url).json()["page"]["total"]
    assert total > 2
    response = client.get(url + "?format=xlsx&limit=2")
    records, fields, _ = _sheets(response.content)
    assert len(records) == 2 and fields["rows"] == f"1–2 of {total}"
    assert fields["next_cursor"] != "none (last page)" and 'rel="next"' in response.headers["link"]
    following = client.get(f"{url}?format=xlsx&limit=2&cursor={fields['next_cursor']}")
    assert following.status_code == 200
    assert _sheets(following.content)[1]["rows"] == f"3–{min(4, total)} of {total}"


def test_api_refuses_an_unknown_format(client: TestClient) -> None:
    response = client.get("/api/v1/minerals/lithium/concentration?format=xls")
    assert response.status_code in (400, 422) and response.status_code < 500


def test_text_cells_never_become_formulas_and_bad_values_are_cleaned() -> None:
    frame = pl.DataFrame(
        {
            "label": ['=HYPERLINK("http://x","y")', "+1", "bell\x07here", "x" * 40_000],
            "value": [1.5, float("nan"), float("inf"), None],
            "when": [datetime(2024, 1, 1, 12, tzinfo=UTC)] * 4,
            "list": [[1, 2], [], [3], [4]],
        }
    )
    body = export.xlsx_bytes(frame, {"sources": [], "notes": ["=cmd|' /C calc'!A0"]}, title="t")
    records, fields, _ = _sheets(body)
    book = openpyxl.load_workbook(io.BytesIO(body))
    cell = book["data"]["A2"]
    assert cell.data_type == "s" and cell.value == '=HYPERLINK("http://x","y")'
    assert records[2]["label"] == "bell\ufffdhere"
    assert len(records[3]["label"]) == export.MAX_CELL_CHARS and records[3]["label"].endswith("characters]")
    assert [r["value"] for r in records] == [1.5, None, None, None]
    assert records[0]["when"] == datetime(2024, 1, 1, 12)
    assert records[0]["list"] == "[1, 2]"
    assert fields["note"] == ["=cmd|' /C calc'!A0"]
    assert book["provenance"]["A8"].value == "note" and book["provenance"]["B8"].data_type == "s"


def test_a_frame_larger_than_a_sheet_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "MAX_ROWS", 3)
    with pytest.raises(InvalidArgumentError, match="3 rows do not fit one Excel sheet"):
        export.xlsx_bytes(pl.DataFrame({"a": [1, 2, 3]}), {}, title="t")
