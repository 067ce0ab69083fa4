"""SQLite and PostgreSQL give the same indicator results: each equals the same computation on the parsed
frames held in memory (no database), so the store round-trip changes nothing on either backend."""

from __future__ import annotations

from functools import cache

import polars as pl
from polars.testing import assert_frame_equal
from sqlalchemy import Engine

from lodeline.config import RAW_DATA_DIR
from lodeline.data.build import _parse_dataset
from lodeline.data.sources import all_datasets
from lodeline.data.validate import LOCATION_COLUMNS
from lodeline.domain.groups import get_group
from lodeline.market.indicators import AllIndicators, compute_all
from lodeline.store.canonical import read_table
from lodeline.store.frames import table_schema
from lodeline.store.schema import CANONICAL_TABLES

TABLES = ("production", "trade", "prices", "targets")


@cache
def in_memory() -> AllIndicators:
    frames: dict[str, list[pl.DataFrame]] = {}
    for spec in all_datasets():
        for name, frame in _parse_dataset(spec, RAW_DATA_DIR).items():
            frames.setdefault(name, []).append(
                frame.drop([c for c in LOCATION_COLUMNS if c in frame.columns])
            )
    schemas = {t.name: table_schema(t) for t in CANONICAL_TABLES}
    tables = {
        n: pl.concat(frames[n], how="vertical_relaxed") if n in frames else pl.DataFrame(schema=schemas[n])
        for n in TABLES
    }
    return compute_all(*(tables[n] for n in TABLES), get_group("G7+").members)


def test_store_round_trip_preserves_indicators(built_store: tuple[str, Engine]) -> None:
    engine = built_store[1]
    stored = compute_all(*(read_table(engine, n) for n in TABLES), get_group("G7+").members)
    reference = in_memory()
    for name in ("shares", "concentration", "dependency", "value_creation", "prices"):
        left, right = getattr(stored, name), getattr(reference, name)
        keys = [
            c
            for c in ("mineral", "stage", "year", "country", "basis", "series_id", "period")
            if c in left.columns
        ]
        assert left.height == right.height, name
        assert_frame_equal(
            left.sort(keys), right.sort(keys), check_exact=False, rel_tol=1e-9, check_dtypes=False
        )
