"""Service settings (environment prefix ``LODELINE_API_``), apart from the store settings in lodeline.config."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LODELINE_API_", extra="ignore")

    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body accepted (413 above)"
    )
    rate_per_second: float = Field(
        default=20.0, ge=0, description="Sustained requests/s per API token (0 disables rate limiting)"
    )
    rate_burst: int = Field(default=100, ge=1, description="Burst allowance per API token")
    anonymous_rate_per_second: float = Field(
        default=50.0, ge=0, description="Sustained requests/s per client address without a token (0 disables)"
    )
    anonymous_rate_burst: int = Field(default=200, ge=1)
    session_hours: float = Field(default=8.0, gt=0, description="Browser session lifetime")
    page_limit_default: int = Field(default=100, ge=1)
    page_limit_max: int = Field(default=1000, ge=1)
    cache_check_seconds: float = Field(
        default=2.0, ge=0, description="How often cached results re-check the store's data version"
    )
