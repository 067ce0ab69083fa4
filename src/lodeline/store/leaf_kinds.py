"""The kinds of log leaf that are not registry events: each names its prefix and how to recompute its leaves.

The registry's RFC 9162 log holds EPCIS event hashes, directory changes (``lodeline-directory/v1``, audited by
``trace/audit_directory``) and the leaves of other capabilities that append a digest of their own rows in the same
transaction as the row (a stock submission version, …). For each such capability this table says:

- ``prefix``: the bytes every leaf of that kind starts with (``lodeline-stocks/v1:``);
- ``stored``: given a connection, leaf index → the leaf data its stored row yields *now* (recomputed from the row,
  not read from the log), so the audit (``trace/audit.py``) catches a row edited after it was logged;
- ``mismatch``: the finding code the audit reports for a leaf of that prefix that no stored row accounts for.

A capability that appends leaves adds one entry here (and nothing to the audit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lodeline.store import alerts, comply, passports, stocks


@dataclass(frozen=True)
class LeafKind:
    name: str
    prefix: bytes
    stored: Callable[[Any], dict[int, bytes]]
    mismatch: str


LEAF_KINDS: tuple[LeafKind, ...] = (
    LeafKind("stocks", stocks.STOCK_LEAF_PREFIX, stocks.stock_leaves, "stock-leaf-mismatch"),
    LeafKind("alerts", alerts.ALERT_LEAF_PREFIX, alerts.alert_leaves, "alert-leaf-mismatch"),
    LeafKind("verdicts", comply.VERDICT_LEAF_PREFIX, comply.verdict_leaves, "verdict-leaf-mismatch"),
    LeafKind(
        "passports", passports.PASSPORT_LEAF_PREFIX, passports.passport_leaves, "passport-leaf-mismatch"
    ),
)


def kind_of(leaf_data: bytes) -> LeafKind | None:
    """The kind whose prefix ``leaf_data`` starts with, or None (an event or a directory leaf)."""
    for kind in LEAF_KINDS:
        if leaf_data.startswith(kind.prefix):
            return kind
    return None
