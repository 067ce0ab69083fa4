"""The alert indicators' timelines persisted between processes (docs/alerts.md, "Cache").

Building the timelines reads the canonical tables and computes every indicator over the whole history (1-5 s);
slicing them for one scan takes ~10 ms. The service keeps them in memory per data build, but every
``lodeline alerts scan`` CLI run is a new process, so they are also written to the user cache directory as one
Parquet file per key: the data build (``store.canonical.last_build_sha256``), the alliance (id and members), the
bundled files the indicators read at run time that are not in the store (the export-control measures, the
thresholds and publication lags) and :data:`FORMAT_VERSION`, bumped whenever the indicator code or the frame
changes, and a digest of the indicator code itself. A new build, alliance, measures file or version gives a new key, so a stale file is never read.

Writes go to a temporary file in the same directory and are moved into place with ``os.replace``: concurrent
writers each publish a whole file and readers never see a torn one. A file that cannot be read or has the wrong
columns is ignored (and replaced by the next write). Only the :data:`KEEP` most recent files are kept. Any I/O
error is swallowed: the cache only ever saves time, it never fails a scan.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from lodeline.alerts import timeline

FORMAT_VERSION = "alerts-timelines/1"
KEEP = 8
_PREFIX = "timelines-"
_PACKAGE = Path(__file__).resolve().parents[1]
# the code the timelines are computed by, besides lodeline/alerts/ (hashed into the key: an edit invalidates)
_CODE = ("services/alerts.py", "market/concentration.py", "market/series.py", "domain/groups.py")


def cache_dir() -> Path:
    """``LODELINE_CACHE_DIR`` if set, else the platform's user cache directory for ``lodeline``; ``alerts/`` in it."""
    base = os.environ.get("LODELINE_CACHE_DIR")
    if not base:
        from platformdirs import user_cache_dir

        base = user_cache_dir("lodeline", appauthor=False)
    return Path(base) / "alerts"


def cache_key(build_sha256: str, alliance: str, members: Iterable[str], files: Iterable[Path]) -> str:
    """One hex digest over everything the timelines depend on besides the code (that is FORMAT_VERSION)."""
    h = hashlib.sha256()
    for part in (FORMAT_VERSION, build_sha256, alliance, ",".join(sorted(members))):
        h.update(part.encode() + b"\0")
    for path in sorted(files, key=str):
        try:
            h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
        except OSError:
            h.update(str(path).encode() + b"\0missing\0")
    return h.hexdigest()[:32]


def dependency_files(measures: Path) -> list[Path]:
    """The files outside the store the timelines depend on: the export-control measures, the alert package's
    code and data (thresholds, publication lags) and the code that prepares its inputs."""
    alerts = _PACKAGE / "alerts"
    return [measures, *sorted(alerts.glob("*.py")), *sorted((alerts / "data").glob("*.yaml"))] + [
        _PACKAGE / rel for rel in _CODE
    ]


def _path(key: str, directory: Path | None) -> Path:
    return (directory or cache_dir()) / f"{_PREFIX}{key}.parquet"


def load(key: str, directory: Path | None = None) -> pl.DataFrame | None:
    """The cached timeline frame, or None when absent, unreadable or not of the expected shape."""
    path = _path(key, directory)
    try:
        frame = pl.read_parquet(path)
    except Exception:  # absent, torn, not Parquet: a miss, rebuilt by the caller
        return None
    if dict(frame.schema) != timeline.SCHEMA:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept by the pruning below
    return frame


def store(key: str, frame: pl.DataFrame, directory: Path | None = None) -> Path | None:
    """Write ``frame`` atomically under ``key`` and prune to the KEEP newest files. None if it could not."""
    path = _path(key, directory)
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as out:
            frame.write_parquet(out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        tmp = None
    except Exception:
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    prune(path.parent)
    return path


def prune(directory: Path, keep: int = KEEP) -> None:
    """Delete all but the ``keep`` most recently used cache files (other processes' races are harmless)."""
    try:
        files = sorted(directory.glob(f"{_PREFIX}*.parquet"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in files[keep:]:
        with contextlib.suppress(OSError):
            old.unlink()
    with contextlib.suppress(OSError):
        for tmp in directory.glob(f".{_PREFIX}*.tmp"):  # left by a writer that died before os.replace
            if time.time() - tmp.stat().st_mtime > 3600:
                tmp.unlink()
