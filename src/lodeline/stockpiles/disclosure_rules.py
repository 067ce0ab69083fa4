"""The disclosure-control settings of one published table (docs/methods/disclosure-control.md).

Defaults follow issue 13 and the usual practice of statistical offices (Hundepool et al., *Statistical Disclosure
Control*, Wiley 2012, ch. 4; the τ-Argus manual): a cell is sensitive when it has fewer than 3 contributors, when its
2 largest contributors hold over 85 % of it, or when the second largest could estimate the largest within 10 %."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError


class DisclosureInputError(ValueError):
    """Bad input to disclosure control: the message names the place (row, column, cell or setting) and the reason."""


class DisclosureRules(BaseModel):
    """Primary-suppression rules and the cost used by secondary suppression, for one table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_frequency: int = Field(
        default=3,
        ge=1,
        description="A non-zero cell with fewer contributors than this is sensitive (minimum frequency).",
    )
    frequency_range: float = Field(
        default=10.0,
        ge=0,
        le=100,
        description="Protection demanded of a cell suppressed by the minimum-frequency rule, in % of its value "
        "(τ-Argus' frequency-rule safety range).",
    )
    dominance_n: int = Field(default=2, ge=1, description="n of the (n, k) dominance rule.")
    dominance_k: float = Field(
        default=85.0,
        gt=0,
        le=100,
        description="k of the (n, k) dominance rule: the n largest over k % is sensitive.",
    )
    p_percent: float = Field(
        default=10.0,
        ge=0,
        description="p of the p% rule: the second largest must not estimate the largest within p %.",
    )
    cost: Literal["tonnes", "cells"] = Field(
        default="tonnes",
        description="Information loss minimised by secondary suppression: suppressed tonnes (plus a small charge "
        "per cell) or the number of cells.",
    )

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any] | None, *, where: str = "rules") -> DisclosureRules:
        """Rules from a mapping (missing keys take the defaults); an unknown key or bad value names the setting."""
        if settings is None:
            return cls()
        if not isinstance(settings, Mapping):
            raise DisclosureInputError(
                f"{where}: expected a mapping of settings, got {type(settings).__name__}"
            )
        try:
            return cls.model_validate(dict(settings))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(root)'}: {err['msg']}" for err in exc.errors()
            )
            raise DisclosureInputError(f"{where}: {problems}") from None

    @classmethod
    def from_yaml(cls, text: str, *, table: str | None = None) -> DisclosureRules:
        """Rules from YAML text: either the settings themselves, or ``tables: {NAME: {...}}`` with ``table`` chosen
        (a table absent from ``tables`` takes the top-level ``default:`` mapping, or the built-in defaults)."""
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise DisclosureInputError(f"rules YAML: not valid YAML ({exc})") from None
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise DisclosureInputError("rules YAML: the document must be a mapping")
        if table is None:
            return cls.from_mapping(data, where="rules YAML")
        tables = data.get("tables", {})
        if not isinstance(tables, Mapping):
            raise DisclosureInputError("rules YAML: 'tables' must be a mapping of table name to settings")
        if table in tables:
            return cls.from_mapping(tables[table], where=f"rules YAML, tables.{table}")
        return cls.from_mapping(data.get("default"), where="rules YAML, default")
