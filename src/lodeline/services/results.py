"""Result types that carry provenance with every frame the platform shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl


@dataclass(frozen=True)
class Provenance:
    sources: list[dict[str, Any]]  # id, title, edition, licence
    flags: list[str] = field(default_factory=list)
    method: str = ""  # docs/methods/… path
    unit: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": self.sources,
            "flags": self.flags,
            "method": self.method,
            "unit": self.unit,
            "notes": self.notes,
        }

    def source_line(self) -> str:
        """One human line: "Source: USGS MCS 2026 (public domain); …"."""
        parts = [f"{s['title']} — {s['edition']} ({s['licence']})" for s in self.sources]
        text = "Source: " + "; ".join(parts) if parts else "Source: none"
        if self.method:
            text += f". Method: {self.method}"
        return text


@dataclass(frozen=True)
class MarketResult:
    frame: pl.DataFrame
    provenance: Provenance
