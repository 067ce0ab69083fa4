"""The USGS datasets load into both store backends, and a damaged USGS file leaves the previous build intact."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import build
from lodeline.data.sources import (
    reference,
    usgs_ds140,
    usgs_mcs2025,
    usgs_mcs2025_salient,
    usgs_mcs2026,
    usgs_myb2023_gallium_germanium,
)
from lodeline.errors import DataFormatError
from lodeline.store import schema

DATASETS = [
    reference.DATASET,
    usgs_mcs2026.DATASET,
    usgs_mcs2025.DATASET,
    usgs_mcs2025_salient.DATASET,
    usgs_myb2023_gallium_germanium.DATASET,
    usgs_ds140.DATASET,
]


def _count(engine: Engine, table: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_usgs_build_and_rejection_on_both_backends(engine: Engine, tmp_path: Path) -> None:
    report = build(engine, RAW_DATA_DIR, datasets=DATASETS)
    tables = {d["id"]: d for d in report.datasets}
    assert {"usgs_mcs2026", "usgs_mcs2025", "usgs_mcs2025_salient", "usgs_myb2023_gallium_germanium"} <= set(
        tables
    )
    production_rows = _count(engine, schema.production)
    salient_rows = _count(engine, schema.salient)
    assert production_rows > 3000 and salient_rows > 5000  # MCS 2026 + MCS 2025 salient

    p = schema.production
    query = select(p.c.quantity, p.c.flag, p.c.unit, p.c.basis).where(
        p.c.source == "usgs_mcs2025",
        p.c.mineral == "rare-earths",
        p.c.country == "CHN",
        p.c.year == 2024,
        p.c.measure == "production",
        p.c.is_primary,
    )
    with engine.connect() as conn:
        assert conn.execute(query).one() == (270_000, "e", "metric tons", "contained")
        withheld = conn.execute(
            select(p.c.quantity).where(p.c.source == "usgs_mcs2026", p.c.flag == "W")
        ).scalars().all()  # fmt: skip
    assert withheld and all(q is None for q in withheld)

    # A copy of the raw folder with one negative quantity: the build fails, naming the place, and the store
    # still holds the previous build.
    raw = tmp_path / "raw"
    shutil.copytree(RAW_DATA_DIR / "usgs_mcs2026", raw / "usgs_mcs2026")
    target = raw / "usgs_mcs2026" / usgs_mcs2026.FILE
    text = target.read_bytes().decode("cp1252")
    bad = text.replace('Rare Earths,China,Production,Mine production,metric tons,2024,"270,000"',
                       'Rare Earths,China,Production,Mine production,metric tons,2024,"-270,000"', 1)  # fmt: skip
    assert bad != text
    target.write_bytes(bad.encode("cp1252"))
    with pytest.raises(DataFormatError, match="negative") as info:
        build(engine, raw, datasets=[usgs_mcs2026.DATASET], force=True)
    assert info.value.file == "usgs_mcs2026/MCS2026_Commodities_Data.csv" and info.value.column == "Value"
    assert _count(engine, schema.production) == production_rows
    assert _count(engine, schema.salient) == salient_rows
