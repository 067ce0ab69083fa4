"""Settings, read from the environment (prefix ``LODELINE_``) once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent
RAW_DATA_DIR = PACKAGE_DIR / "data" / "raw"


def default_data_dir() -> Path:
    return Path(user_data_dir("lodeline", appauthor=False))


class Settings(BaseSettings):
    """Runtime configuration. Every field can be set as ``LODELINE_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="LODELINE_", extra="ignore")

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the embedded store and reports live"
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL. Unset: SQLite file <data_dir>/lodeline.sqlite (WAL). "
        "postgresql+psycopg://… selects PostgreSQL.",
    )
    raw_dir: Path = Field(
        default=RAW_DATA_DIR, description="Bundled raw data (parsed by `lodeline data build`)"
    )
    alliance: str = Field(default="G7+", description="Default alliance (a country group id)")
    trace_clock_skew_seconds: float = Field(
        default=300.0, ge=0, description="How far past the capture time an EPCIS eventTime may be (registry)"
    )

    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{self.data_dir / 'lodeline.sqlite'}"


def normalise_database_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and route them to the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
