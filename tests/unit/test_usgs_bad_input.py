"""Copies of the real USGS files, damaged on purpose: each damage raises DataFormatError naming the place."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import usgs_mcs2025, usgs_mcs2026
from lodeline.errors import DataFormatError

Parser = Callable[[Path], object]
CASES = {
    "2026": (usgs_mcs2026, "cp1252"),
    "2025": (usgs_mcs2025, "utf-8-sig"),
}


def _copy(tmp_path: Path, edition: str) -> tuple[Path, Path]:
    module, _ = CASES[edition]
    folder = tmp_path / module.FOLDER
    folder.mkdir()
    target = folder / module.FILE
    shutil.copyfile(RAW_DATA_DIR / module.FOLDER / module.FILE, target)
    return folder, target


def _lines(path: Path, encoding: str) -> list[str]:
    return path.read_bytes().decode(encoding).splitlines(keepends=True)


def _write(path: Path, lines: list[str], encoding: str) -> None:
    path.write_bytes("".join(lines).encode(encoding))


def _line_of(lines: list[str], *needles: str) -> int:
    """0-based index of the first line containing every needle."""
    return next(i for i, line in enumerate(lines) if all(n in line for n in needles))


@pytest.mark.parametrize("edition", ["2026", "2025"])
def test_truncated_mid_row(tmp_path: Path, edition: str) -> None:
    module, encoding = CASES[edition]
    folder, target = _copy(tmp_path, edition)
    lines = _lines(target, encoding)
    keep = len(lines) // 2
    cut = [*lines[:keep], lines[keep][: len(lines[keep]) // 2]]
    _write(target, cut, encoding)
    with pytest.raises(DataFormatError) as info:
        module.parse(folder)
    assert info.value.file == f"{module.FOLDER}/{module.FILE}"
    assert info.value.row == keep + 1
    assert "truncated" in info.value.reason


def test_truncated_inside_a_quoted_field_with_a_final_newline(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    lines = _lines(target, "cp1252")
    i = _line_of(lines[1000:], '"(Data') + 1000
    cut = [*lines[:i], lines[i][: lines[i].index('"(Data') + 10] + "\r\n"]
    _write(target, cut, "cp1252")
    with pytest.raises(DataFormatError, match="truncated") as info:
        usgs_mcs2026.parse(folder)
    assert info.value.row == i + 1


def test_mcs2026_reencoded_as_utf8_is_rejected(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    lines = _lines(target, "cp1252")
    _write(target, lines, "utf-8")
    first_non_ascii = next(i for i, line in enumerate(lines) if not line.isascii())
    with pytest.raises(DataFormatError, match="wrong encoding") as info:
        usgs_mcs2026.parse(folder)
    assert info.value.row == first_non_ascii + 1
    assert info.value.file == "usgs_mcs2026/MCS2026_Commodities_Data.csv"


def test_mcs2025_reencoded_as_cp1252_is_rejected(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2025")
    lines = _lines(target, "utf-8-sig")
    _write(target, lines, "cp1252")
    first_non_ascii = next(i for i, line in enumerate(lines) if not line.isascii())
    with pytest.raises(DataFormatError, match="not valid UTF-8") as info:
        usgs_mcs2025.parse(folder)
    assert info.value.row == first_non_ascii + 1


def test_byte_that_is_not_cp1252_is_rejected(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    data = bytearray(target.read_bytes())
    at = data.index(b"\n", len(data) // 3) + 1
    data[at] = 0x81  # undefined in Windows-1252
    target.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="not cp1252") as info:
        usgs_mcs2026.parse(folder)
    assert info.value.row == data[:at].count(b"\n") + 1


def test_unknown_country(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    lines = _lines(target, "cp1252")
    i = _line_of(lines, "RARE EARTHS,World Mine Production", ",Australia,Production")
    lines[i] = lines[i].replace(",Australia,", ",Atlantis,")
    _write(target, lines, "cp1252")
    with pytest.raises(DataFormatError, match="Atlantis") as info:
        usgs_mcs2026.parse(folder)
    assert (info.value.row, info.value.column) == (i + 1, "Country")


def test_unknown_country_mcs2025(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2025")
    lines = _lines(target, "utf-8-sig")
    i = _line_of(lines, "Rare earths,China,")
    lines[i] = lines[i].replace(",China,", ",Cathay,")
    _write(target, lines, "utf-8-sig")
    with pytest.raises(DataFormatError, match="Cathay") as info:
        usgs_mcs2025.parse(folder)
    assert (info.value.row, info.value.column) == (i + 1, "COUNTRY")


def test_negative_quantity(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    lines = _lines(target, "cp1252")
    i = _line_of(lines, "RARE EARTHS,World Mine Production", ",China,Production", ',2024,"270,000"')
    lines[i] = lines[i].replace('"270,000"', '"-270,000"')
    _write(target, lines, "cp1252")
    with pytest.raises(DataFormatError, match="negative") as info:
        usgs_mcs2026.parse(folder)
    assert (info.value.row, info.value.column) == (i + 1, "Value")


def test_negative_quantity_mcs2025(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2025")
    lines = _lines(target, "utf-8-sig")
    i = _line_of(lines, "Cobalt,Congo (Kinshasa),")
    lines[i] = lines[i].replace(",220000,", ",-220000,")
    _write(target, lines, "utf-8-sig")
    with pytest.raises(DataFormatError, match="negative") as info:
        usgs_mcs2025.parse(folder)
    assert (info.value.row, info.value.column) == (i + 1, "PROD_EST_ 2024")


def test_unmapped_series_is_not_dropped_silently(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2026")
    lines = _lines(target, "cp1252")
    i = _line_of(lines, "COBALT,World Mine Production", ",China,Production")
    lines[i] = lines[i].replace(",Mine production,", ",Mine production: new USGS split,")
    _write(target, lines, "cp1252")
    with pytest.raises(DataFormatError, match="unmapped USGS series") as info:
        usgs_mcs2026.parse(folder)
    assert (info.value.row, info.value.column) == (i + 1, "Statistics_detail")


def test_unknown_chapter_is_not_dropped_silently(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2025")
    lines = _lines(target, "utf-8-sig")
    i = _line_of(lines, "MCS2025,Cobalt,Australia")
    lines[i] = lines[i].replace("MCS2025,Cobalt,", "MCS2025,Unobtainium,")
    _write(target, lines, "utf-8-sig")
    with pytest.raises(DataFormatError, match="Unobtainium") as info:
        usgs_mcs2025.parse(folder)
    assert info.value.row == i + 1


def test_changed_header_is_rejected(tmp_path: Path) -> None:
    folder, target = _copy(tmp_path, "2025")
    lines = _lines(target, "utf-8-sig")
    lines[0] = lines[0].replace("PROD_2023", "PROD_2022")
    _write(target, lines, "utf-8-sig")
    with pytest.raises(DataFormatError, match="unexpected header") as info:
        usgs_mcs2025.parse(folder)
    assert info.value.row == 1
