"""Bad input to the source parsers: every rejection is a DataFormatError naming file, row and column."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import (
    bgs_refined_shares,
    cepii_baci,
    eu_crm_2023,
    iea_critical_minerals,
    unep_recycling,
    wgi,
    worldbank_pinksheet,
)
from lodeline.errors import DataFormatError

BACI_FILE = cepii_baci.COMPLETE_FILE


def copy_source(tmp_path: Path, folder: str) -> Path:
    target = tmp_path / folder
    shutil.copytree(RAW_DATA_DIR / folder, target)
    return target


def edit_lines(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    path.write_text("\n".join(change(lines)), encoding="utf-8")


def set_line(n: int, text: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        lines[n - 1] = text
        return lines

    return change


def test_truncated_csv_names_last_row(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    path = folder / BACI_FILE
    data = path.read_bytes().rstrip(b"\n")
    path.write_bytes(data[: data.rfind(b",")])  # cut the last row inside its final field
    last_line = data.count(b"\n") + 1
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert err.value.file == f"cepii_baci/{BACI_FILE}"
    assert err.value.row == last_line
    assert err.value.column == "qty_t"
    assert "fields" in err.value.reason


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    path = folder / BACI_FILE
    lines = path.read_bytes().split(b"\n")
    lines[9] = lines[9].replace(b"Germany", "Germäny".encode("cp1252"))
    assert b"\xe4" in lines[9]
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert err.value.row == 10 and "utf-8" in err.value.reason
    assert err.value.file == f"cepii_baci/{BACI_FILE}"


def test_unknown_country_code(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    edit_lines(
        folder / BACI_FILE, set_line(5, "2024,XYZ,Atlantis,CAN,Canada,250490,graphite,2183.844,633.395")
    )
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert (err.value.row, err.value.column) == (5, "exporter")
    assert "XYZ" in err.value.reason


def test_negative_value(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    edit_lines(folder / BACI_FILE, set_line(3, "2024,CHN,China,JPN,Japan,250490,graphite,-7876.414,14457.0"))
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert (err.value.row, err.value.column) == (3, "value_kusd")
    assert "negative" in err.value.reason


def test_material_inconsistent_with_hs6(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    edit_lines(folder / BACI_FILE, set_line(4, "2024,CHN,China,USA,USA,250490,lithium,4986.671,8444.383"))
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert (err.value.row, err.value.column) == (4, "material")


def test_top6_811292_copies_must_agree(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    path = folder / cepii_baci.TOP6_FILE

    def change(lines: list[str]) -> list[str]:
        i = next(i for i, line in enumerate(lines) if line.startswith("2024,hafnium,"))
        parts = lines[i].split(",")
        parts[-1] = str(int(parts[-1]) + 1)
        lines[i] = ",".join(parts)
        return lines

    edit_lines(path, change)
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert err.value.column == "material" and "hafnium" in err.value.reason


def test_top6_unknown_iso2(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "cepii_baci")
    edit_lines(folder / cepii_baci.TOP6_FILE, set_line(2, "2018,magnets,QQ,DE,294866936"))
    with pytest.raises(DataFormatError) as err:
        cepii_baci.parse(folder)
    assert (err.value.row, err.value.column) == (2, "exporter_iso2")


def test_wgi_unknown_code_and_na_marker(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "wgi")
    path = folder / wgi.FILE
    edit_lines(path, set_line(2, "AFGcc1996,AFG,Afghanistan,1996,cc,#N/A,0.34,2,#N/A,0.0,27.4"))
    gov = wgi.parse(folder)["governance"]
    row = gov.filter(pl.col("_row") == 2).row(0, named=True)
    assert row["estimate"] is None and row["pct_rank"] is None and row["flag"] == "NA"
    edit_lines(path, set_line(3, "XXXcc1996,XXX,Nowhere,1996,cc,-0.89,0.32,3,19.4,2.7,43.0"))
    with pytest.raises(DataFormatError) as err:
        wgi.parse(folder)
    assert (err.value.file, err.value.row, err.value.column) == ("wgi/wgidataset.csv", 3, "code")


def test_wgi_percentile_out_of_range(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "wgi")
    edit_lines(folder / wgi.FILE, set_line(4, "DZAcc1996,DZA,Algeria,1996,cc,-0.57,0.26,4,133.3,16.7,52.7"))
    with pytest.raises(DataFormatError) as err:
        wgi.parse(folder)
    assert (err.value.row, err.value.column) == (4, "pctrank")


def test_eu_crm_unknown_country_and_shifted_column(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "eu_crm_2023")
    tc = folder / eu_crm_2023.TC_FILE
    edit_lines(tc, set_line(2, "Aluminium,Atlantis,1.1,extraction,global,EUREPORT,2023"))
    with pytest.raises(DataFormatError) as err:
        eu_crm_2023.parse(folder)
    assert (err.value.row, err.value.column) == (2, "country_name") and "Atlantis" in err.value.reason
    shutil.copy(RAW_DATA_DIR / "eu_crm_2023" / eu_crm_2023.TC_FILE, tc)
    edit_lines(
        folder / eu_crm_2023.INPUTS_FILE,
        set_line(3, "Aluminium,,Extraction,E+P,GS+EU,GS+EU,82,0.86,89,58,32"),
    )
    with pytest.raises(DataFormatError) as err:
        eu_crm_2023.parse(folder)
    assert (err.value.row, err.value.column) == (3, "SI_EI")


def test_eu_crm_published_ei_out_of_scale_unknown_or_repeated(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "eu_crm_2023")
    ei = folder / eu_crm_2023.EI_FILE
    for line, reason, column in (
        ("Aluminium,58", "outside the EC's 0-10 scale", "EI_published"),
        ("Unobtainium,3.0", "not in eu_crm_2023_inputs.csv", "material"),
        ("Aggregates,3.2", "repeats row 2", "material"),
        ("Aluminium,", "", "EI_published"),
    ):
        shutil.copy(RAW_DATA_DIR / "eu_crm_2023" / eu_crm_2023.EI_FILE, ei)
        edit_lines(ei, set_line(3, line))
        with pytest.raises(DataFormatError) as err:
            eu_crm_2023.parse(folder)
        assert (err.value.row, err.value.column) == (3, column) and reason in err.value.reason


def test_bgs_share_over_100_and_unknown_material(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "bgs_refined_shares")
    path = folder / bgs_refined_shares.FILE
    edit_lines(path, set_line(2, "magnesium,2000,CN,132"))
    with pytest.raises(DataFormatError) as err:
        bgs_refined_shares.parse(folder)
    assert (err.value.row, err.value.column) == (2, "share_pct_rounded")
    edit_lines(path, set_line(2, "unobtainium,2000,CN,32"))
    with pytest.raises(DataFormatError) as err:
        bgs_refined_shares.parse(folder)
    assert (err.value.row, err.value.column) == (2, "material")


def test_unep_bad_cell_and_unknown_footnote(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "recycling_unep2011")
    path = folder / unep_recycling.RATES_FILE
    edit_lines(path, set_line(2, "C1,p. 30,V,,,about one"))
    with pytest.raises(DataFormatError) as err:
        unep_recycling.parse(folder)
    assert (err.value.row, err.value.column) == (2, "eol_recycling_rate_pct_raw")
    edit_lines(path, set_line(2, "C1,p. 30,V,,,<1z"))
    with pytest.raises(DataFormatError) as err:
        unep_recycling.parse(folder)
    assert "footnote" in err.value.reason


def _pinksheet(tmp_path: Path, rows: list[list[object]]) -> Path:
    folder = tmp_path / "worldbank_pinksheet"
    folder.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = worldbank_pinksheet.SHEET
    names = list(worldbank_pinksheet.SERIES)
    grid: list[list[object]] = [["World Bank Commodity Price Data (The Pink Sheet)"], [], [], ["Updated"]]
    grid.append([None, *names])
    grid.append([None, *["($/mt)"] * len(names)])
    grid += rows
    for row in grid:
        sheet.append(row)
    book.save(folder / worldbank_pinksheet.FILE)
    return folder


def test_pinksheet_no_quote_marker_is_flagged_and_negative_rejected(tmp_path: Path) -> None:
    n = len(worldbank_pinksheet.SERIES)
    folder = _pinksheet(tmp_path, [["2020M01", "…", *[100.0] * (n - 1)], ["2020M02", *[101.0] * n]])
    prices = worldbank_pinksheet.parse(folder)["prices"]
    first = prices.filter((pl.col("_row") == 7) & (pl.col("description") == "Aluminum")).row(0, named=True)
    assert first["value"] is None and first["flag"] == "NA"
    assert prices.height == 2 * n
    shutil.rmtree(folder)
    folder = _pinksheet(tmp_path, [["2020M01", *[100.0] * (n - 1), -5.0]])
    with pytest.raises(DataFormatError) as err:
        worldbank_pinksheet.parse(folder)
    assert err.value.row == 7 and "Phosphate rock" in str(err.value.column)


def test_pinksheet_bad_period(tmp_path: Path) -> None:
    n = len(worldbank_pinksheet.SERIES)
    folder = _pinksheet(tmp_path, [["2020-01", *[100.0] * n]])
    with pytest.raises(DataFormatError) as err:
        worldbank_pinksheet.parse(folder)
    assert (err.value.row, err.value.column) == (7, "A")


def test_iea_json_block_that_does_not_add_up(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "iea_critical_minerals")
    path = folder / iea_critical_minerals.JSON_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["supply"]["Cobalt"]["mining"]["countries"]["Indonesia"]["2024"] = 50.0
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        iea_critical_minerals.parse(folder)
    assert err.value.file == f"iea_critical_minerals/{iea_critical_minerals.JSON_FILE}"
    assert "Cobalt - Mining" in err.value.reason and err.value.row is not None


def test_iea_unknown_country(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "iea_critical_minerals")
    path = folder / iea_critical_minerals.JSON_FILE
    text = path.read_text(encoding="utf-8").replace('"Zimbabwe"', '"Zimbabwia"')
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataFormatError) as err:
        iea_critical_minerals.parse(folder)
    assert "Zimbabwia" in err.value.reason and err.value.column == "Lithium - Mining"
    line = text.split("\n")[err.value.row - 1]
    assert '"Zimbabwia"' in line


def test_damaged_workbook(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "worldbank_pinksheet")
    path = folder / worldbank_pinksheet.FILE
    path.write_bytes(path.read_bytes()[:50_000])  # a download cut short
    with pytest.raises(DataFormatError) as err:
        worldbank_pinksheet.parse(folder)
    assert err.value.file == f"worldbank_pinksheet/{worldbank_pinksheet.FILE}"
    assert "xlsx" in err.value.reason


def test_iea_workbook_projection_columns_are_not_loaded(tmp_path: Path) -> None:
    folder = copy_source(tmp_path, "iea_critical_minerals")
    path = folder / iea_critical_minerals.WORKBOOK_FILE
    book = openpyxl.load_workbook(path)
    sheet = book[iea_critical_minerals.SHEET]
    sheet["C7"] = -1.0  # Chile copper mining 2030 projection: never read
    book.save(path)
    rows = iea_critical_minerals.parse(folder)["production"]
    assert set(rows["year"]) == {2023, 2024}
    sheet["B7"] = -1.0  # the observed 2023 value: read and rejected
    book.save(path)
    with pytest.raises(DataFormatError) as err:
        iea_critical_minerals.parse(folder)
    assert err.value.row == 7
