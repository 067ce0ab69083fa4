"""MCS 2025 US salient files: statistic and unit decoding, cross-checked against the labelled MCS 2026 release."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import usgs_mcs2025_salient as sal25
from lodeline.data.sources import usgs_mcs2026
from lodeline.data.validate import validate_frame
from lodeline.errors import DataFormatError


@pytest.fixture(scope="module")
def salient25() -> pl.DataFrame:
    return pl.DataFrame(sal25.parse(RAW_DATA_DIR / "usgs_mcs2025")["salient"])


@pytest.fixture(scope="module")
def salient26() -> pl.DataFrame:
    return pl.DataFrame(usgs_mcs2026.parse(RAW_DATA_DIR / "usgs_mcs2026")["salient"])


def _value(frame: pl.DataFrame, **where: object) -> tuple[float | None, str, str | None]:
    rows = frame.filter(**where)  # type: ignore[arg-type]
    assert rows.height == 1, rows
    return rows["value"][0], rows["unit"][0], rows["flag"][0]


def test_every_bundled_file_is_listed_and_the_frame_validates(salient25: pl.DataFrame) -> None:
    present = {p.name for p in (RAW_DATA_DIR / "usgs_mcs2025" / "salient_commodity").glob("*_salient.csv")}
    assert present == {sal25.file_name(code) for code in sal25.FILES}
    validate_frame("salient", salient25, dataset=sal25.SOURCE)
    assert set(salient25["year"]) == {2020, 2021, 2022, 2023, 2024}
    assert (salient25["country"] == "USA").all()


# (mineral, detail in MCS 2025, year, value, unit) — the same figure appears, labelled, in MCS 2026.
CROSS_CHECKS = [
    ("cobalt", "NIR_pct", 2021, 73.0, "percent"),
    ("cobalt", "Price_Spot_dlb", 2022, 30.78, "dollars per pound"),
    ("alumina", "Alumina_Price_kt", 2021, 462.0, "dollars per metric ton"),
    (
        "titanium",
        "Titanium Mineral Concentrates: Price_Rutile_FOB_Australia_dt",
        2021,
        1300.0,
        "dollars per metric ton",
    ),
    (
        "titanium",
        "Titanium Mineral Concentrates: Price_Slag_import_unit_value_dt",
        2022,
        867.0,
        "dollars per metric ton",
    ),
    ("germanium", "Consump_g", 2021, 30000.0, "kilograms"),
    ("hafnium", "Price_Hf_unwrought_t", 2021, 781.0, "dollars per kilogram"),
]


@pytest.mark.parametrize(("mineral", "detail", "year", "value", "unit"), CROSS_CHECKS)
def test_decoded_units_agree_with_the_labelled_2026_release(
    salient25: pl.DataFrame,
    salient26: pl.DataFrame,
    mineral: str,
    detail: str,
    year: int,
    value: float,
    unit: str,
) -> None:
    got, got_unit, _ = _value(salient25, mineral=mineral, detail=detail, year=year)
    assert (got, got_unit) == (value, unit)
    same = salient26.filter(pl.col("mineral") == mineral, pl.col("year") == year, pl.col("value") == value)
    assert unit in same["unit"].to_list()


def test_flags(salient25: pl.DataFrame) -> None:
    assert _value(salient25, mineral="lithium", detail="NIR_pct", year=2020) == (50.0, "percent", ">")
    assert _value(salient25, mineral="lithium", detail="USprod_t", year=2020) == (None, "metric tons", "W")
    assert _value(salient25, mineral="helium", detail="NIR_pct", year=2020) == (None, "percent", "E")
    # U+2212 minus: stockpile shipments may be negative (an increase in inventory), production may not.
    assert _value(salient25, mineral="niobium", detail="Shipments_Gov_t", year=2020)[0] == -88.0
    assert salient25.filter(pl.col("statistic") != "other", pl.col("value") < 0).height == 0
    rare = salient25.filter(pl.col("mineral") == "rare-earths", pl.col("statistic") == "net_import_reliance")
    assert set(rare["unit"]) == {"percent"}  # "NIR_…_t" in the file is a percentage
    # Two files feed rare-earths (rare earths, yttrium) and titanium: the detail names the commodity table.
    assert (
        rare["detail"].str.starts_with("Rare Earths: ").any()
        and rare["detail"].str.starts_with("Yttrium: ").any()
    )
    key = ["mineral", "year", "statistic", "detail"]
    assert salient25.select(key).is_duplicated().sum() == 0


def test_statistics_come_from_the_first_token(salient25: pl.DataFrame) -> None:
    stats = dict(salient25.select("detail", "statistic").unique().iter_rows())
    assert stats["Employment_Mine_num"] == "other"
    assert stats["Bauxite_Mine_kt"] == "production"
    assert stats["Alumina_Apparent_kt"] == "consumption"
    assert stats["Extracted_mcm"] == "production"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "usgs_mcs2025"
    shutil.copytree(RAW_DATA_DIR / "usgs_mcs2025" / "salient_commodity", folder / "salient_commodity")
    return folder


def test_unknown_unit_code_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "salient_commodity" / sal25.file_name("cobal")
    path.write_text(path.read_text(encoding="utf-8").replace("Imports_t", "Imports_lbs"), encoding="utf-8")
    with pytest.raises(DataFormatError, match="unknown unit code 'lbs'") as info:
        sal25.parse(folder)
    assert (info.value.row, info.value.column) == (1, "Imports_lbs")


def test_negative_import_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "salient_commodity" / sal25.file_name("lithium")
    path.write_text(path.read_text(encoding="utf-8").replace(",2460,", ",-2460,"), encoding="utf-8")
    with pytest.raises(DataFormatError, match="negative") as info:
        sal25.parse(folder)
    assert (info.value.file, info.value.row, info.value.column) == (
        "usgs_mcs2025/salient_commodity/mcs2025-lithium_salient.csv",
        2,
        "Imports_t",
    )


def test_unlisted_file_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    shutil.copyfile(
        folder / "salient_commodity" / sal25.file_name("cobal"),
        folder / "salient_commodity" / "mcs2025-newmi_salient.csv",
    )
    with pytest.raises(DataFormatError, match="not listed"):
        sal25.parse(folder)


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    path = folder / "salient_commodity" / sal25.file_name("rareee")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 20])
    with pytest.raises(DataFormatError, match="truncated") as info:
        sal25.parse(folder)
    assert info.value.row == 6
