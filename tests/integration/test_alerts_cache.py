"""The alert timelines persisted in the user cache directory (services/alert_cache.py), on the bundled data: a scan
from the cache equals the computed one; the file is keyed by the data build (a new build is not served the old
file); a corrupt or wrongly shaped file is ignored and rewritten; the directory keeps only the newest files."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from lodeline.alerts import timeline
from lodeline.alerts.engine import Timelines
from lodeline.alerts.policy import MEASURES_FILE
from lodeline.config import get_settings
from lodeline.services import alert_cache
from lodeline.services import alerts as service

AS_OF = dt.date(2025, 4, 30)


@pytest.fixture()
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty cache directory and an empty in-memory cache: every scan below is a fresh process's."""
    monkeypatch.setenv("LODELINE_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(service, "_cache", {})
    return tmp_path / "alerts"


@pytest.fixture(scope="module")
def built(built_sqlite: tuple[str, Engine]) -> Engine:
    return built_sqlite[1]


def _key(engine: Engine, sha: str | None = None) -> str:
    from lodeline.store.canonical import last_build_sha256

    group = service.resolve_alliance("G7+")
    files = alert_cache.dependency_files(get_settings().raw_dir / MEASURES_FILE)
    return alert_cache.cache_key(sha or last_build_sha256(engine) or "", group.id, group.members, files)


def _levels(alerts: list) -> list[tuple[str, str]]:
    return [(a.mineral, a.level.value) for a in alerts]


def test_cached_scan_equals_computed(built: Engine, cache: Path) -> None:
    computed = Timelines.compute(service.load_inputs(built))
    first = service.scan(built, AS_OF)  # computes and writes the file
    files = list(cache.glob("timelines-*.parquet"))
    assert [f.name for f in files] == [f"timelines-{_key(built)}.parquet"]
    service._cache.clear()  # a fresh process: only the file remains
    from_file = service.scan_timelines(built)
    assert from_file.frame.equals(computed.frame)
    second = service.scan(built, AS_OF)
    assert [a.to_dict() for a in second] == [a.to_dict() for a in first]
    assert any(a.level.value != "normal" for a in second)  # the comparison covers real alerts


def test_the_file_is_what_a_fresh_scan_reads(built: Engine, cache: Path) -> None:
    """A planted, well-formed but empty timeline under the build's key is served (the cache is really read)."""
    alert_cache.store(_key(built), timeline.empty())
    assert service.scan(built, AS_OF) == []


def test_new_build_is_not_served_the_old_file(
    built: Engine, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alert_cache.store(_key(built), timeline.empty())  # the "old build's" file: no alerts
    assert service.scan(built, AS_OF) == []
    new_sha = "f" * 64
    monkeypatch.setattr(service, "last_build_sha256", lambda _engine: new_sha)
    service._cache.clear()
    alerts = service.scan(built, AS_OF)
    assert alerts and any(a.level.value != "normal" for a in alerts)
    assert (cache / f"timelines-{_key(built, new_sha)}.parquet").exists()


def test_another_measures_file_or_alliance_is_another_key(tmp_path: Path) -> None:
    measures = tmp_path / "m.csv"
    measures.write_text("a\n")
    base = alert_cache.cache_key("s", "G7+", {"USA", "JPN"}, [measures])
    assert base == alert_cache.cache_key("s", "G7+", {"JPN", "USA"}, [measures])
    assert base != alert_cache.cache_key("t", "G7+", {"USA", "JPN"}, [measures])
    assert base != alert_cache.cache_key("s", "G7+", {"USA"}, [measures])
    measures.write_text("b\n")
    assert base != alert_cache.cache_key("s", "G7+", {"USA", "JPN"}, [measures])


@pytest.mark.parametrize(
    "content",
    [b"", b"not parquet at all", b"PAR1\x00\x00garbage PAR1"],
    ids=["empty", "text", "torn"],
)
def test_corrupt_file_is_ignored_and_rewritten(built: Engine, cache: Path, content: bytes) -> None:
    expected = _levels(service.scan(built, AS_OF))
    path = cache / f"timelines-{_key(built)}.parquet"
    path.write_bytes(content)
    service._cache.clear()
    assert _levels(service.scan(built, AS_OF)) == expected
    assert alert_cache.load(_key(built)) is not None  # replaced by a good file


def test_wrong_columns_are_ignored(built: Engine, cache: Path) -> None:
    expected = _levels(service.scan(built, AS_OF))
    service._cache.clear()
    alert_cache.store(_key(built), pl.DataFrame({"mineral": ["cobalt"], "level": ["alert"]}))
    assert _levels(service.scan(built, AS_OF)) == expected


def test_only_the_newest_files_are_kept(tmp_path: Path) -> None:
    frame = timeline.empty()
    for i in range(alert_cache.KEEP + 3):
        path = alert_cache.store(f"k{i:02d}", frame, tmp_path)
        assert path is not None
        stamp = 1_700_000_000 + i  # distinct, increasing mtimes whatever the clock's resolution
        os.utime(path, (stamp, stamp))
    alert_cache.prune(tmp_path)
    kept = sorted(p.name for p in tmp_path.glob("timelines-*.parquet"))
    assert len(kept) == alert_cache.KEEP
    assert kept[0] == "timelines-k03.parquet" and kept[-1] == f"timelines-k{alert_cache.KEEP + 2:02d}.parquet"
    assert not list(tmp_path.glob(".timelines-*"))  # no temporary file left behind
