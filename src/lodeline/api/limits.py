"""Request-rate limits and the failed sign-in throttle.

*Request rate*: a token bucket per API token (or per client address for anonymous callers). Buckets live in the
worker process; with ``--workers N`` each worker enforces the limit on its own share of the traffic.

*Failed sign-ins* (a bad bearer token, a bad token or CSRF check at /login, a write without credentials): counted
per client address and per account in the store (:mod:`lodeline.store.throttle`), so the limit holds across
workers, processes and hosts. Only failures write; a blocked key is refused with 429 before its credential is
looked at. See docs/security.md.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass

from sqlalchemy import Engine

from lodeline.api.settings import ApiSettings
from lodeline.errors import LodelineError
from lodeline.store import throttle as throttle_store

_MAX_KEYS = 50_000


class RateLimitedError(LodelineError):
    code = "rate-limited"
    http_status = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__(
            f"too many requests; retry in {retry_after:.1f} s", retry_after_seconds=round(retry_after, 1)
        )
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def hit(self, key: str) -> None:
        """Take one token from ``key``'s bucket or raise :class:`RateLimitedError` with the wait."""
        if not self.enabled:
            return
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= _MAX_KEYS:  # bound memory under many distinct callers
                    self._buckets.clear()
                bucket = self._buckets[key] = _Bucket(self.burst, now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens < 1.0:
                raise RateLimitedError((1.0 - bucket.tokens) / self.rate)
            bucket.tokens -= 1.0


# ------------------------------------------------------------------------------- failed sign-in throttle
class AuthThrottledError(RateLimitedError):
    code = "auth-throttled"

    def __init__(self, retry_after: float) -> None:
        LodelineError.__init__(
            self,
            f"too many failed sign-in attempts; retry in {max(1, round(retry_after))} s",
            retry_after_seconds=max(1, round(retry_after)),
        )
        self.retry_after = retry_after


#: How long a worker trusts its own memory that a key is blocked before asking the store again (so an
#: `lodeline admin throttle reset` reaches every worker within this delay).
_BLOCK_MEMORY_SECONDS = 5.0


def client_key(host: str | None) -> str:
    """The throttle key of a client address: IPv4 as is, IPv6 by its /64 (one subscriber's usual allocation)."""
    if not host:
        return "client:unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"client:{host[:64]}"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return f"client:{address.ipv4_mapped}"
        return f"client:{ipaddress.IPv6Network((address, 64), strict=False)}"
    return f"client:{address}"


def account_key(token_id: str) -> str:
    return f"token:{token_id}"


class AuthThrottle:
    """Failed sign-ins per client address and per account, counted in the store (shared by every worker).

    ``check`` refuses a blocked key with :class:`AuthThrottledError` (429) before any credential is looked at and
    without writing; ``record`` counts a failure (one transaction) and aggregates it into the audit log.
    """

    def __init__(self, engine: Engine, settings: ApiSettings) -> None:
        self.engine = engine
        self.window = settings.auth_failure_window_seconds
        self.per_client = settings.auth_failures_per_address
        self.per_account = settings.auth_failures_per_account
        self._blocked: dict[str, tuple[float, float]] = {}  # key -> (blocked until, remembered at)
        self._lock = threading.Lock()

    def _remember(self, blocked: dict[str, int], now: float) -> None:
        with self._lock:
            if len(self._blocked) + len(blocked) > _MAX_KEYS:
                self._blocked = {k: v for k, v in self._blocked.items() if v[0] > now}
                if len(self._blocked) + len(blocked) > _MAX_KEYS:
                    self._blocked.clear()
            for key, until in blocked.items():
                self._blocked[key] = (until, now)

    def _remembered(self, keys: list[str], now: float) -> float:
        with self._lock:
            found = [self._blocked.get(k) for k in keys]
        return max(
            (u for u, at in filter(None, found) if u > now and now - at < _BLOCK_MEMORY_SECONDS), default=0
        )

    def check(self, keys: list[str]) -> None:
        """Raise :class:`AuthThrottledError` when any of ``keys`` is blocked (memory first, then the store)."""
        now = time.time()
        until = self._remembered(keys, now)
        if not until:
            found = throttle_store.blocked(self.engine, keys, now)
            self._remember(found, now)
            until = max(found.values(), default=0)
        if until > now:
            raise AuthThrottledError(until - now)

    def record(self, client: str | None, token_id: str | None, failure: throttle_store.Failure) -> None:
        """Count a failure of ``client`` (and of the account ``token_id``, an existing token's id).

        Raises :class:`AuthThrottledError` when this attempt was beyond a limit (it passed ``check`` while
        other workers' failures were filling the window): exactly the limit's worth of failures is answered
        with their own error, the rest with 429.
        """
        limits = [(client_key(client), self.per_client)]
        if token_id:
            limits.append((account_key(token_id), self.per_account))
        now = time.time()
        outcome = throttle_store.record_failure(self.engine, limits, failure, window=self.window, now=now)
        self._remember(outcome.blocked, now)
        if outcome.over_limit:
            raise AuthThrottledError(max([1.0, *(until - now for until in outcome.blocked.values())]))
