"""Every parsed source fits the store's column widths (PostgreSQL rejects over-long strings; SQLite would not)."""

from __future__ import annotations

import pytest
from sqlalchemy import String

from lodeline.config import RAW_DATA_DIR
from lodeline.data.catalog import DatasetSpec
from lodeline.data.sources import all_datasets
from lodeline.store.schema import CANONICAL_TABLES, datasets

TABLES = {t.name: t for t in CANONICAL_TABLES}
SPECS = [s for s in all_datasets() if s.id != "lodeline_reference"]


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
def test_strings_fit_columns(spec: DatasetSpec) -> None:
    for column in ("id", "title", "publisher", "edition", "licence"):
        limit = datasets.c[column].type.length
        assert limit is None or len(getattr(spec, column)) <= limit, (spec.id, column)
    for name, frame in spec.parse((RAW_DATA_DIR / spec.folder).resolve()).items():
        for col in TABLES[name].columns:
            if isinstance(col.type, String) and col.type.length and col.name in frame.columns:
                longest = frame[col.name].cast(str).str.len_chars().max()
                assert longest is None or longest <= col.type.length, (spec.id, name, col.name, longest)
