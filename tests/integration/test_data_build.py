"""The build step on both backends: atomic, idempotent, and bad input leaves the previous build intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.data.sources.policy_targets import DATASET as TARGETS
from lodeline.data.sources.reference import DATASET as REFERENCE
from lodeline.errors import DataFormatError
from lodeline.store import schema
from lodeline.store.canonical import catalog, last_build_sha256, read_table

TARGETS_CSV = RAW_DATA_DIR / "policy_facts" / "targets_and_commitments.csv"


def small_raw(tmp_path: Path) -> Path:
    """A copy of the raw folders used by the small dataset list below (so tests can corrupt them)."""
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DATA_DIR / "policy_facts", raw / "policy_facts")
    shutil.copytree(RAW_DATA_DIR.parent.parent / "domain" / "data", raw / "domain_data")
    return raw


def specs(raw: Path) -> list:
    # reference data lives in the package; point its folder at the copy
    from dataclasses import replace

    return [replace(REFERENCE, folder="domain_data"), TARGETS]


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (*schema.CANONICAL_TABLES, schema.datasets, schema.build_runs)
        }


def test_build_is_idempotent(engine: Engine, tmp_path: Path) -> None:
    raw = small_raw(tmp_path)
    first = build(engine, raw, datasets=specs(raw))
    assert not first.skipped and first.rows > 0
    before = counts(engine)
    second = build(engine, raw, datasets=specs(raw))
    assert second.skipped and second.inputs_sha256 == first.inputs_sha256
    assert counts(engine) == before
    forced = build(engine, raw, datasets=specs(raw), force=True)
    assert not forced.skipped
    assert counts(engine)["targets"] == before["targets"]
    assert {d["id"] for d in catalog(engine)} == {"lodeline_reference", "policy_facts_targets"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda text: text[: len(text) * 2 // 3], "fields, the header has"),
        (lambda text: text.replace("rare earths;permanent magnets", "unobtainium"), "unknown mineral"),
        (lambda text: text.replace(",<,60,", ",<,-60,"), "negative quantity"),
    ],
    ids=["truncated", "unknown-mineral", "negative"],
)
def test_bad_input_is_rejected_and_previous_build_survives(
    engine: Engine, tmp_path: Path, mutate, expected: str
) -> None:
    raw = small_raw(tmp_path)
    build(engine, raw, datasets=specs(raw))
    before, sha = counts(engine), last_build_sha256(engine)
    target = raw / "policy_facts" / TARGETS_CSV.name
    target.write_text(mutate(TARGETS_CSV.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        build(engine, raw, datasets=specs(raw))
    assert "targets_and_commitments.csv" in info.value.message
    assert expected in info.value.message
    assert info.value.row is not None
    assert counts(engine) == before and last_build_sha256(engine) == sha


def test_wrong_encoding_is_named(engine: Engine, tmp_path: Path) -> None:
    raw = small_raw(tmp_path)
    target = raw / "policy_facts" / TARGETS_CSV.name
    target.write_bytes(
        TARGETS_CSV.read_text(encoding="utf-8").replace("Declaration", "Déclaration").encode("cp1252")
    )
    with pytest.raises(DataFormatError, match="not valid utf-8"):
        build(engine, raw, datasets=specs(raw))
    assert counts(engine)["targets"] == 0


def test_missing_file_is_named(engine: Engine, tmp_path: Path) -> None:
    raw = small_raw(tmp_path)
    (raw / "policy_facts" / TARGETS_CSV.name).unlink()
    with pytest.raises(DataFormatError, match="missing"):
        build(engine, raw, datasets=specs(raw))


def test_failure_inside_the_load_transaction_rolls_back(engine: Engine, tmp_path: Path, monkeypatch) -> None:
    """A crash half-way through the load (after some tables were replaced) leaves the old build."""
    raw = small_raw(tmp_path)
    build(engine, raw, datasets=specs(raw))
    before = counts(engine)
    from lodeline.store import canonical

    calls = {"n": 0}
    original = canonical._insert_frame

    def exploding(conn, table, frame):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash during load")
        return original(conn, table, frame)

    monkeypatch.setattr(canonical, "_insert_frame", exploding)
    with pytest.raises(RuntimeError):
        build(engine, raw, datasets=specs(raw), force=True)
    assert counts(engine) == before


def test_reference_tables_round_trip(engine: Engine, tmp_path: Path) -> None:
    raw = small_raw(tmp_path)
    build(engine, raw, datasets=specs(raw))
    groups = read_table(engine, "country_groups", group_id="G7+")
    assert groups.height == 32
    targets = read_table(engine, "targets", target_id="g7-2026-ree-magnets-single-supplier").row(
        0, named=True
    )
    assert targets["value"] == 60 and targets["ambition_value"] == 50 and targets["deadline"] == 2030


def test_parser_code_change_triggers_rebuild(engine: Engine, tmp_path: Path, monkeypatch) -> None:
    raw = small_raw(tmp_path)
    assert not build(engine, raw, datasets=specs(raw)).skipped
    from lodeline.data import build as build_module

    monkeypatch.setattr(build_module, "code_fingerprint", lambda: "a-different-parser-version")
    assert not build(engine, raw, datasets=specs(raw)).skipped


def test_raw_dir_that_is_not_a_folder_is_named(engine: Engine, tmp_path: Path) -> None:
    raw = small_raw(tmp_path)
    too_long = tmp_path / ("é" * 5_000)
    with pytest.raises(DataFormatError, match=r"cannot open the raw data folder \(File name too long\)"):
        build(engine, too_long, datasets=specs(raw))
    with pytest.raises(DataFormatError, match="does not exist or is not a folder"):
        build(engine, tmp_path / "missing", datasets=specs(raw))
    with pytest.raises(DataFormatError, match="does not exist or is not a folder"):
        build(engine, raw / "policy_facts" / TARGETS_CSV.name, datasets=specs(raw))
    assert counts(engine)["targets"] == 0
