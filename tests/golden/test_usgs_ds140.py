"""USGS Data Series 140 workbooks: long-run world production and U.S. statistics."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import usgs_ds140 as ds
from lodeline.data.validate import validate_frame
from lodeline.errors import DataFormatError

RAW = RAW_DATA_DIR / ds.FOLDER


@pytest.fixture(scope="module")
def frames() -> dict[str, pl.DataFrame]:
    return dict(ds.parse(RAW))


def _one(frame: pl.DataFrame, **where: object) -> dict[str, object]:
    rows = frame.filter(**where)  # type: ignore[arg-type]
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_frames_validate_and_span_the_century(frames: dict[str, pl.DataFrame]) -> None:
    for table, frame in frames.items():
        validate_frame(table, frame, dataset=ds.SOURCE)
    ree = frames["production"].filter(pl.col("mineral") == "rare-earths", pl.col("country") == "WLD")
    assert (ree["year"].min(), ree["year"].max(), ree.height) == (1900, 2020, 121)
    primary = frames["production"].filter(pl.col("is_primary"))
    assert (primary.group_by("mineral").agg(pl.col("series").n_unique())["series"] == 1).all()
    # Only world totals are primary: a USA-only "breakdown" would make the U.S. every year's top supplier.
    assert set(primary["country"]) == {"WLD"}


def test_published_world_production(frames: dict[str, pl.DataFrame]) -> None:
    p = frames["production"].filter(pl.col("is_primary"))
    row = _one(p, mineral="rare-earths", country="WLD", year=2020)
    assert (row["quantity"], row["_row"]) == (243_000, 126)
    us = _one(frames["production"], mineral="rare-earths", country="USA", year=2020)["quantity"]
    assert us == 39_000 and us / 243_000 == pytest.approx(0.1605, abs=5e-4)
    assert _one(p, mineral="lithium", country="WLD", year=2021)["quantity"] == 107_000
    gross = _one(
        frames["production"], mineral="lithium", country="WLD", year=2021, is_primary=False, basis="gross"
    )
    assert gross["quantity"] == 2_400_000


def test_flags_and_prices(frames: dict[str, pl.DataFrame]) -> None:
    p = frames["production"]
    row = _one(p, mineral="lithium", country="USA", year=2020)
    assert (row["quantity"], row["flag"]) == (None, "W")
    s = frames["salient"]
    price = _one(s, mineral="lithium", year=2021, detail="Unit value ($/t)")
    assert (price["value"], price["unit"], price["statistic"]) == (6200, "dollars per metric ton", "price")
    assert _one(s, mineral="rare-earths", year=1900, detail="Imports")["flag"] == "NA"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / ds.FOLDER
    shutil.copytree(RAW, folder)
    return folder


def _edit(path: Path, cell: str, value: object) -> None:
    book = openpyxl.load_workbook(path)
    book.worksheets[0][cell] = value
    book.save(path)


def _patch_cached_value(path: Path, cell: str, old: str, new: str) -> None:
    """Change one cell's stored value in the sheet XML (openpyxl's save would drop the formulas' cached values)."""
    with zipfile.ZipFile(path) as src:
        items = {name: src.read(name) for name in src.namelist()}
    sheet = next(n for n in items if n.startswith("xl/worksheets/sheet"))
    xml = items[sheet].decode("utf-8")
    start = xml.index(f'<c r="{cell}"')
    end = xml.index("</c>", start)
    patched = xml[start:end].replace(f"<v>{old}</v>", f"<v>{new}</v>")
    assert patched != xml[start:end]
    items[sheet] = (xml[:start] + patched + xml[end:]).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, data in items.items():
            dst.writestr(name, data)


def test_negative_world_production(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _patch_cached_value(folder / "ds140-rare-earths-2020.xlsx", "H126", "243000", "-243000")
    with pytest.raises(DataFormatError, match="negative") as info:
        ds.parse(folder)
    assert (info.value.file, info.value.row, info.value.column) == (
        "usgs_ds140/ds140-rare-earths-2020.xlsx",
        126,
        "H",
    )


def test_year_gap(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "ds140-lithium-2021.xlsx", "A60", 1960)
    with pytest.raises(DataFormatError, match="gap") as info:
        ds.parse(folder)
    assert info.value.row == 60


def test_truncated_table_and_workbook(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _edit(folder / "ds140-lithium-2021.xlsx", "A40", "NA Not available.")
    with pytest.raises(DataFormatError, match="truncated"):
        ds.parse(folder)
    path = folder / "ds140-rare-earths-2020.xlsx"
    path.write_bytes(path.read_bytes()[:10_000])
    with pytest.raises(DataFormatError, match="truncated or corrupted"):
        ds.parse(folder)
