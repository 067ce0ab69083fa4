"""Results of read-only computations, cached per data build.

The canonical tables change only when ``lodeline data build`` replaces them, which bumps the build marker.
The cache re-reads the marker at most every ``check_seconds`` and drops everything when it changes, so a
rebuild is visible within that delay and the read path does not recompute indicators on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Engine

from lodeline.store.accounts import data_version

T = TypeVar("T")
_MAX_ENTRIES = 2048


class ResultCache:
    def __init__(self, engine: Engine, check_seconds: float = 2.0) -> None:
        self.engine = engine
        self.check_seconds = check_seconds
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._version = ""
        self._checked = -1e9
        self._lock = threading.Lock()

    def version(self) -> str:
        """The current data-build marker (re-read at most every ``check_seconds``)."""
        now = time.monotonic()
        if now - self._checked >= self.check_seconds:
            current = data_version(self.engine)
            with self._lock:
                if current != self._version:
                    self._entries.clear()
                    self._version = current
                self._checked = now
        return self._version

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()`` once per key and data build. Errors are not cached (they are cheap and may pass)."""
        # The version is part of the key so a result computed across a rebuild is never served after it.
        full_key = (self.version(), key)
        with self._lock:
            if full_key in self._entries:
                self._entries.move_to_end(full_key)
                return self._entries[full_key]  # type: ignore[no-any-return,unused-ignore]
        value = compute()
        with self._lock:
            self._entries[full_key] = value
            while len(self._entries) > _MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value
