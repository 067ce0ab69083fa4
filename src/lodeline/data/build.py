"""``lodeline data build``: parse every bundled source, validate, and load the canonical tables atomically.

Parsing and validation happen entirely before the store is touched, and the load is one transaction, so a
malformed file leaves the previous build intact. The build is skipped when the inputs' sha256 are unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.data.catalog import DatasetSpec, combined_sha256, file_sha256
from lodeline.data.sources import all_datasets
from lodeline.data.validate import LOCATION_COLUMNS, validate_frame
from lodeline.errors import DataFormatError, LodelineError
from lodeline.store.canonical import last_build_sha256, replace_canonical

#: progress(step description, done, total)
Progress = Callable[[str, int, int], None]


@dataclass
class BuildReport:
    skipped: bool
    inputs_sha256: str
    seconds: float
    datasets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(int(d["rows"]) for d in self.datasets)


def _check_raw_dir(raw_dir: Path) -> None:
    """The raw data folder must be a readable folder; a name the OS cannot look up (too long, a NUL byte) is a
    clear error rather than a traceback from the first file under it."""
    try:
        is_dir = raw_dir.is_dir()
    except OSError as exc:
        raise DataFormatError(
            str(raw_dir), f"cannot open the raw data folder ({exc.strerror or exc})"
        ) from None
    except ValueError as exc:
        raise DataFormatError(repr(str(raw_dir))[:200], f"not a valid folder name ({exc})") from None
    if not is_dir:
        raise DataFormatError(str(raw_dir), "the raw data folder does not exist or is not a folder")


def _hash_dataset(spec: DatasetSpec, raw_dir: Path) -> list[dict[str, Any]]:
    files = []
    for path in spec.paths(raw_dir):
        if not path.is_file():
            raise DataFormatError(str(path), f"file of dataset {spec.id!r} is missing")
        files.append({"path": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size})
    return files


_CODE_DIRS = ("data", "domain")


def code_fingerprint() -> str:
    """sha256 over the parser and reference-data code and the canonical schema: a parser fix must rebuild
    even when the raw files are unchanged."""
    package = Path(__file__).resolve().parents[1]
    files = sorted(
        p
        for d in _CODE_DIRS
        for p in (package / d).rglob("*")
        if p.is_file() and p.suffix in {".py", ".yaml", ".csv"} and "raw" not in p.relative_to(package).parts
    )
    files.append(package / "store" / "schema.py")
    return combined_sha256([f"{f.relative_to(package)}:{file_sha256(f)}" for f in files])


def _parse_dataset(spec: DatasetSpec, raw_dir: Path) -> dict[str, pl.DataFrame]:
    try:
        frames = dict(spec.parse((raw_dir / spec.folder).resolve()))
    except LodelineError:
        raise
    except (pl.exceptions.PolarsError, UnicodeDecodeError, ValueError, KeyError) as exc:
        raise DataFormatError(f"{spec.folder}", f"cannot parse dataset {spec.id!r}: {exc}") from exc
    return {name: validate_frame(name, frame, dataset=spec.id) for name, frame in frames.items()}


def build(
    engine: Engine,
    raw_dir: Path,
    *,
    force: bool = False,
    progress: Progress | None = None,
    datasets: list[DatasetSpec] | None = None,
) -> BuildReport:
    started = time.perf_counter()
    started_at = dt.datetime.now(dt.UTC)
    specs = datasets if datasets is not None else all_datasets()
    total_steps = len(specs) * 2 + 1
    step = 0

    def tick(what: str) -> None:
        nonlocal step
        step += 1
        if progress:
            progress(what, step, total_steps)

    _check_raw_dir(raw_dir)
    hashed = {}
    for spec in specs:
        hashed[spec.id] = _hash_dataset(spec, raw_dir)
        tick(f"hashed {spec.id}")
    inputs_sha256 = combined_sha256(
        [code_fingerprint(), *(f["sha256"] for sid in sorted(hashed) for f in hashed[sid])]
    )
    if not force and last_build_sha256(engine) == inputs_sha256:
        return BuildReport(True, inputs_sha256, time.perf_counter() - started)

    frames: dict[str, list[pl.DataFrame]] = {}
    catalog_rows = []
    for spec in specs:
        parsed = _parse_dataset(spec, raw_dir)
        tables = {name: frame.height for name, frame in parsed.items()}
        for name, frame in parsed.items():
            frames.setdefault(name, []).append(
                frame.drop([c for c in LOCATION_COLUMNS if c in frame.columns])
            )
        files = hashed[spec.id]
        catalog_rows.append(
            {
                "id": spec.id,
                "title": spec.title,
                "publisher": spec.publisher,
                "edition": spec.edition,
                "licence": spec.licence,
                "files": json.dumps(files),
                "sha256": combined_sha256([f["sha256"] for f in files]),
                "rows": sum(tables.values()),
                "tables": json.dumps(tables),
                "built_at": started_at,
            }
        )
        tick(f"parsed {spec.id} ({sum(tables.values()):,} rows)")
    replace_canonical(engine, frames, catalog_rows, inputs_sha256, started_at)
    tick("loaded store")
    return BuildReport(False, inputs_sha256, time.perf_counter() - started, catalog_rows)
