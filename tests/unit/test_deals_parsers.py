"""The deals register's parsers (issue 17) on the bundled policy_facts files and on constructed bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lodeline.config import RAW_DATA_DIR
from lodeline.data.sources import policy_deals as pd
from lodeline.data.sources import policy_deals_measures as pm
from lodeline.errors import DataFormatError

FOLDER = RAW_DATA_DIR / "policy_facts"


def test_agreements_parse_with_counts_and_hand_checked_rows() -> None:
    """51 rows (PROVENANCE section 2). eu-ukr-2021 (row 3): EU;UKR MoU signed 2021-07-13, EUR 750,000 whose note
    says 'technical assistance'; us-jpn-cma-2023 is one of three rows with binding=yes."""
    rows = {r["agreement_id"]: r for r in pd.read_agreements(FOLDER)}
    assert len(rows) == 51
    ukr = rows["eu-ukr-2021"]
    assert ukr["_row"] == 3 and ukr["type"] == "MoU" and ukr["signed_date"] == "2021-07-13"
    assert "UKR" in ukr["countries"] and "DEU" in ukr["countries"] and ukr["groups"] == ["EU27"]
    assert (ukr["financing_amount"], ukr["financing_currency"]) == (750000.0, "EUR")
    assert ukr["financing_nature"] == "technical assistance"
    assert ukr["general"] is True and ukr["clause_isds"] is None  # empty = not stated, never False
    assert sum(r["binding"] == "yes" for r in rows.values()) == 3
    assert rows["rise-2023"]["financing_nature"] == "pledge"
    assert rows["g7-cmpa-2025"]["financing_nature"] == "pipeline value"
    assert rows["tesla-idn-2022"]["named"] == ["Tesla"]


def test_briefing_document_rows_are_shown_as_secondary() -> None:
    """g7-cmrpa-2026 is recorded primary but cites 'briefing document (declaration text)': shown secondary. Rows
    whose source_url is 'briefing document: …' are secondary in the file and stay so."""
    rows = {r["agreement_id"]: r for r in pd.read_agreements(FOLDER)}
    row = rows["g7-cmrpa-2026"]
    assert row["source_type"] == "primary" and row["shown_source_type"] == "secondary"
    briefing = [
        r for r in rows.values() if "briefing document" in (r["source_detail"] or "") + r["source_url"]
    ]
    assert briefing and all(r["shown_source_type"] == "secondary" for r in briefing)
    assert sum(r["shown_source_type"] == "primary" for r in rows.values()) == 4


def test_disputes_and_measures_parse() -> None:
    """16 disputes; 31 measures (PROVENANCE); the gallium/germanium licensing measure has 36 customs codes in the
    long file whose HS6 include 811292; the antimony licensing measure's jurisdiction CN becomes CHN."""
    disputes = {r["case_id"]: r for r in pd.read_disputes(FOLDER)}
    assert len(disputes) == 16
    assert (
        disputes["wto-ds592"]["host_country"] == "IDN"
        and disputes["wto-ds592"]["shown_source_type"] == "primary"
    )
    measures = {r["measure_id"]: r for r in pm.read_measures(FOLDER)}
    assert len(measures) == 31
    gage = measures["ctl-cn-gage-2023-export-licensing"]
    assert gage["jurisdiction"] == "CHN" and gage["kind"] == "licence" and "811292" in gage["hs6"]
    assert gage["minerals"] == ["gallium", "germanium"] and gage["hs6_from_customs_file"]
    assert measures["ctl-cn-us-2024-military-end-use-ban"]["kind"] == "ban"


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "policy_facts"
    shutil.copytree(FOLDER, folder)
    return folder


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("eu-ukr-2021,EU;UKR,MoU", "eu-ukr-2021,EU;XYZ,MoU", "parties"),  # unknown country code
        ("eu-ukr-2021,EU;UKR,MoU", "eu-ukr-2021,EU;UKR,handshake", "type"),  # unknown type
        ("2023-03-28,2023-03-28", "2023-03-28,2023-03-01", "in_force_date"),  # end before start
    ],
)
def test_bad_agreement_rows_name_file_row_and_field(tmp_path: Path, old: str, new: str, column: str) -> None:
    folder = _copy(tmp_path)
    _replace(folder / pd.AGREEMENTS_FILE, old, new)
    with pytest.raises(DataFormatError) as info:
        pd.read_agreements(folder)
    assert info.value.file == f"policy_facts/{pd.AGREEMENTS_FILE}" and info.value.column == column
    assert info.value.row is not None and info.value.row > 1


def test_bad_measure_and_dispute_rows(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _replace(
        folder / pm.MEASURES_FILE, "ctl-cn-graphite-2023-decontrol,CN,", "ctl-cn-graphite-2023-decontrol,QQ,"
    )
    with pytest.raises(DataFormatError) as info:
        pm.read_measures(folder)
    assert info.value.column == "jurisdiction" and info.value.row == 4
    _replace(
        folder / pm.MEASURES_FILE, "ctl-cn-graphite-2023-decontrol,QQ,", "ctl-cn-graphite-2023-decontrol,CN,"
    )
    _replace(folder / pm.MEASURES_FILE, "2023-10-20,2023-12-01", "2023-10-20,2023-09-01")
    with pytest.raises(DataFormatError) as info:
        pm.read_measures(folder)
    assert info.value.column == "effective_date"
    _replace(folder / pd.DISPUTES_FILE, "WTO dispute,WTO DS592", "duel,WTO DS592")
    with pytest.raises(DataFormatError) as info:
        pd.read_disputes(folder)
    assert (info.value.row, info.value.column) == (2, "type")
    _replace(folder / pd.DISPUTES_FILE, "duel,WTO DS592", "WTO dispute,WTO DS592")
    _replace(
        folder / pd.DISPUTES_FILE, "EU request for consultations,IDN", "EU request for consultations,IDX"
    )
    with pytest.raises(DataFormatError) as info:
        pd.read_disputes(folder)
    assert info.value.column == "host_country_iso3"


def test_dates_keep_their_precision() -> None:
    month = pd.parse_date("2024-03", file="f", row=2, column="c")
    assert month is not None and month.precision == "month" and month.end.day == 31
    scheduled = pd.parse_date("2025-12-01 (scheduled)", file="f", row=2, column="c")
    assert scheduled is not None and scheduled.qualifier == "scheduled"
    period = pd.parse_date("2012-2023", file="f", row=2, column="c")
    assert period is not None and period.precision == "period"
    with pytest.raises(DataFormatError):
        pd.parse_date("2024-13-01", file="f", row=2, column="c")
