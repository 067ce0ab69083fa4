"""Per-caller rate limiting: a token bucket per API token (or per client address for anonymous callers).

Buckets live in the worker process; with ``--workers N`` each worker enforces the limit on its own share
of the traffic (documented in docs/web.md).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from lodeline.errors import LodelineError

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
