"""Service settings (environment prefix ``LODELINE_API_``), apart from the store settings in lodeline.config."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LODELINE_API_", extra="ignore")

    max_body_bytes: int = Field(
        default=1_048_576, ge=1, description="Largest request body accepted (413 above)"
    )
    passport_max_body_bytes: int = Field(
        default=8 * 1_048_576,
        ge=1,
        description="Largest body of POST /api/v1/passports and /api/v1/passports/verify (a passport grows with "
        "its lot's upstream events, ~0.6 MB per 1,000; docs/passports.md)",
    )
    rate_per_second: float = Field(
        default=20.0, ge=0, description="Sustained requests/s per API token (0 disables rate limiting)"
    )
    rate_burst: int = Field(default=100, ge=1, description="Burst allowance per API token")
    anonymous_rate_per_second: float = Field(
        default=50.0, ge=0, description="Sustained requests/s per client address without a token (0 disables)"
    )
    anonymous_rate_burst: int = Field(default=200, ge=1)
    auth_failure_window_seconds: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="Failed sign-ins are counted for this long from a key's first failure",
    )
    auth_failures_per_address: int = Field(
        default=30,
        ge=1,
        description="Failed sign-ins per client address (IPv6: per /64) and window before 429",
    )
    auth_failures_per_account: int = Field(
        default=10, ge=1, description="Failed sign-ins naming one existing token id per window before 429"
    )
    session_hours: float = Field(default=8.0, gt=0, description="Browser session lifetime")
    page_limit_default: int = Field(default=100, ge=1)
    page_limit_max: int = Field(default=1000, ge=1)
    unavailable_retry_after_seconds: int = Field(
        default=5,
        ge=1,
        le=3600,
        description="Retry-After of a 503 when the database is unreachable or locked",
    )
    cache_check_seconds: float = Field(
        default=2.0, ge=0, description="How often cached results re-check the store's data version"
    )
    alerts_public: bool = Field(
        default=False,
        validation_alias=AliasChoices(
            "alerts_public", "LODELINE_ALERTS_PUBLIC", "LODELINE_API_ALERTS_PUBLIC"
        ),
        description="The alliance publishes its alerts: anonymous callers may read them (LODELINE_ALERTS_PUBLIC)",
    )
