"""GS1 company prefixes bound to participants: which participant owns a company key.

Pure (no I/O). Used by the registry store (``store.trace``) and by the audit's replay (``trace.audit_replay``), so
it lives below both: the store must not import ``trace``.
"""

from __future__ import annotations

from collections.abc import Iterable


def owners_by_prefix(bound: Iterable[tuple[str, str]], keys: Iterable[str]) -> dict[str, str]:
    """For each company key (:func:`lodeline.trace.identifiers.company_key`), the participant whose bound company prefix it starts with, if
    any. ``bound``: (prefix, participant) pairs; prefixes never nest, so there is at most one."""
    by_length: dict[int, dict[str, str]] = {}
    for prefix, pid in bound:
        by_length.setdefault(len(prefix), {})[prefix] = pid
    out: dict[str, str] = {}
    for key in keys:
        for n, table in by_length.items():
            owner = table.get(key[:n])
            if owner is not None:
                out[key] = owner
                break
    return out
