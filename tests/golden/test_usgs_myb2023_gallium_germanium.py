"""Minerals Yearbook 2023 gallium/germanium workbooks: published figures, flags and damaged copies."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import usgs_myb2023_gallium_germanium as myb
from lodeline.data.validate import validate_frame
from lodeline.errors import DataFormatError

RAW = RAW_DATA_DIR / myb.FOLDER


@pytest.fixture(scope="module")
def production() -> pl.DataFrame:
    return pl.DataFrame(myb.parse(RAW)["production"])


def _get(frame: pl.DataFrame, **where: object) -> tuple[float | None, str | None]:
    rows = frame.filter(**where)  # type: ignore[arg-type]
    assert rows.height == 1, rows
    return rows["quantity"][0], rows["flag"][0]


def test_frame_validates_with_one_primary_series_per_group(production: pl.DataFrame) -> None:
    validate_frame("production", production, dataset=myb.SOURCE)
    groups = production.filter(pl.col("is_primary")).group_by("mineral", "stage", "measure")
    assert (groups.agg(pl.col("series").n_unique())["series"] == 1).all()


def test_china_share_of_primary_gallium_2023(production: pl.DataFrame) -> None:
    # Table 7: China 621,000 kg of 630,000 kg world primary production in 2023 (98.6 %).
    china, _ = _get(production, mineral="gallium", measure="production", country="CHN", year=2023)
    world, _ = _get(production, mineral="gallium", measure="production", country="WLD", year=2023)
    assert (china, world) == (621_000, 630_000)
    assert china / world == pytest.approx(0.9857, abs=5e-4)


def test_flags(production: pl.DataFrame) -> None:
    assert _get(production, mineral="gallium", measure="production", country="UKR", year=2023) == (None, "--")
    assert _get(production, mineral="gallium", measure="production", country="JPN", year=2023) == (3000, "e")
    assert _get(production, mineral="gallium", measure="production", country="CHN", year=2022) == (
        524_000,
        "r",
    )
    assert _get(production, mineral="gallium", measure="production", country="RUS", year=2019) == (8000, "e")
    assert _get(production, mineral="germanium", measure="production", country="CHN", year=2020) == (
        95_000,
        "e",
    )
    assert _get(production, mineral="germanium", measure="production", country="ROW", year=2023) == (
        None,
        "NA",
    )
    assert _get(production, mineral="gallium", measure="capacity", country="WLD", year=2023) == (
        1_120_000,
        None,
    )


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / myb.FOLDER
    shutil.copytree(RAW, folder)
    return folder


def test_truncated_workbook(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / myb.GALLIUM
    path.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(DataFormatError, match="truncated or corrupted") as info:
        myb.parse(folder)
    assert info.value.file == f"{myb.FOLDER}/{myb.GALLIUM}"


def _edit(path: Path, sheet: str, cell: str, value: object) -> None:
    book = openpyxl.load_workbook(path)
    book[sheet][cell] = value
    book.save(path)


def test_unknown_country(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / myb.GALLIUM, "T7", "A8", "Freedonia")
    with pytest.raises(DataFormatError, match="Freedonia") as info:
        myb.parse(folder)
    assert (info.value.file, info.value.row, info.value.column) == (f"{myb.FOLDER}/{myb.GALLIUM}[T7]", 8, "A")


def test_negative_quantity(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / myb.GERMANIUM, "T1", "D25", -85700)
    with pytest.raises(DataFormatError, match="negative") as info:
        myb.parse(folder)
    assert (info.value.row, info.value.column) == (25, "D")


def test_missing_total_row(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / myb.GALLIUM, "T7", "A11", None)
    with pytest.raises(DataFormatError, match="truncated") as info:
        myb.parse(folder)
    assert info.value.row == 11
