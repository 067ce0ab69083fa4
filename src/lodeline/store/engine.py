"""Engine creation for both backends and schema upgrade (Alembic, all branches)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

from lodeline.config import get_settings, normalise_database_url
from lodeline.errors import LodelineError, MigrationError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
WAL_AUTOCHECKPOINT_PAGES = 10_000
log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: every commit fsyncs the WAL before it returns, so a 202/201/CLI success survives power loss, not
    # only a process crash (NORMAL would lose the last commits on power loss). See docs/durability.md.
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    # Checkpoint the WAL every ~40 MB instead of SQLite's 4 MB: registry captures rewrite the same index
    # pages document after document, and a longer interval copies each page into the database once, not
    # once per capture (measured: commit cost per event roughly halved at 200k events, see BENCHMARKS.md).
    cur.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    cur.close()


def _postgresql_durable(dbapi_conn, _record) -> None:
    """Never run a session with ``synchronous_commit=off`` (a role or database default could set it): a commit
    must be flushed to the server's WAL before we acknowledge it. Stronger settings (remote_apply …) are kept."""
    cur = dbapi_conn.cursor()
    cur.execute("SELECT current_setting('synchronous_commit'), current_setting('fsync')")
    synchronous_commit, fsync = cur.fetchone()
    if synchronous_commit == "off":
        cur.execute("SET SESSION synchronous_commit TO on")
    if fsync == "off":
        log.warning("the PostgreSQL server runs with fsync=off: acknowledged writes can be lost on a crash")
    cur.close()
    dbapi_conn.commit()


def _sqlite_begin(conn: Connection) -> None:
    # Writers that must serialise (log appends, the data build) ask for an immediate write lock up front,
    # so two writers queue on busy_timeout instead of failing on lock upgrade.
    if conn.get_execution_options().get("write_lock"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def make_engine(url: str | None = None) -> Engine:
    """Create an engine for ``url`` (default: the configured store). SQLite gets WAL mode and its folder."""
    url = normalise_database_url(url) if url else get_settings().resolved_database_url()
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # Let SQLAlchemy-managed transactions be real BEGIN … COMMIT (pysqlite's legacy mode defers BEGIN).
        event.listen(engine, "begin", _sqlite_begin)

        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        return engine
    engine = create_engine(url, pool_pre_ping=True)
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _postgresql_durable)
    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest revision of every branch (``alembic upgrade heads``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "heads")
    except Exception as exc:
        # Frozen migration code imports only frozen modules, so it raises plain exceptions that carry a Lodeline
        # ``code`` and ``message`` (e.g. trace_0007's RehashError): give them the CLI's and API's clear error.
        code, message = getattr(exc, "code", None), getattr(exc, "message", None)
        if isinstance(exc, LodelineError) or not (isinstance(code, str) and isinstance(message, str)):
            raise
        raise MigrationError(f"the store's schema upgrade stopped: {message}", code=code) from exc


@lru_cache(maxsize=4)
def _cached_engine(url: str) -> Engine:
    engine = make_engine(url)
    upgrade(engine)
    return engine


def get_engine(url: str | None = None) -> Engine:
    """The process-wide engine for ``url`` (default: configured store), migrated to the newest schema."""
    return _cached_engine(normalise_database_url(url) if url else get_settings().resolved_database_url())


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that takes the backend's write lock at BEGIN (SQLite ``BEGIN IMMEDIATE``).

    On PostgreSQL, callers that need serialisation take their own row/advisory locks inside it.
    """
    with engine.connect().execution_options(write_lock=True) as conn, conn.begin():
        yield conn
