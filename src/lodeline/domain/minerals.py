"""Minerals, their aliases, HS codes and supply-chain stages (``data/minerals.yaml``)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import yaml

from lodeline.domain._text import normalise_name
from lodeline.errors import InvalidArgumentError, UnknownMineralError


class Stage(StrEnum):
    MINING = "mining"
    REFINING = "refining"
    COMPONENT = "component"
    RECYCLING = "recycling"


class Basis(StrEnum):
    GROSS = "gross"
    CONTAINED = "contained"


@dataclass(frozen=True, slots=True)
class Mineral:
    id: str
    name: str
    aliases: tuple[str, ...]
    hs: dict[str, Stage] = field(default_factory=dict)
    basis: str = ""
    eu_crm_2023: bool = False


@lru_cache(maxsize=1)
def minerals() -> dict[str, Mineral]:
    text = resources.files("lodeline.domain").joinpath("data", "minerals.yaml").read_text(encoding="utf-8")
    out: dict[str, Mineral] = {}
    for item in yaml.safe_load(text):
        hs = {str(code): Stage(stage) for code, stage in (item.get("hs") or {}).items()}
        out[item["id"]] = Mineral(
            id=item["id"],
            name=item["name"],
            aliases=tuple(item.get("aliases") or ()),
            hs=hs,
            basis=item.get("basis", ""),
            eu_crm_2023=bool(item.get("eu_crm_2023", False)),
        )
    return out


@lru_cache(maxsize=1)
def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for m in minerals().values():
        for key in (m.id, m.name, *m.aliases):
            index.setdefault(normalise_name(key), m.id)
    return index


def resolve_mineral(name: str) -> str:
    """Map a name or alias (``REE``, ``rare earths``, ``graphite``) to the mineral id, or raise with suggestions."""
    key = normalise_name(name)
    found = _alias_index().get(key)
    if found is not None:
        return found
    close = difflib.get_close_matches(key, list(_alias_index()), n=5, cutoff=0.6)
    suggestions = list(dict.fromkeys(_alias_index()[c] for c in close)) or sorted(minerals())[:10]
    raise UnknownMineralError(name, suggestions)


def resolve_stage(name: str) -> Stage:
    try:
        return Stage(name.strip().lower())
    except ValueError:
        raise InvalidArgumentError(
            f"unknown stage {name!r}; expected one of: {', '.join(s.value for s in Stage)}"
        ) from None


@lru_cache(maxsize=1)
def hs_index() -> dict[str, list[tuple[str, Stage]]]:
    """HS code → [(mineral id, stage)]; one code can cover several minerals (e.g. 811292)."""
    index: dict[str, list[tuple[str, Stage]]] = {}
    for m in minerals().values():
        for code, stage in m.hs.items():
            index.setdefault(code, []).append((m.id, stage))
    return index
