"""Country groups (G7, EU27, OECD, G7+ …), held as data in ``data/country_groups.csv``."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lodeline.domain._text import normalise_name
from lodeline.domain.countries import _read_csv
from lodeline.errors import UnknownGroupError


@dataclass(frozen=True, slots=True)
class CountryGroup:
    id: str
    description: str
    members: frozenset[str]


@lru_cache(maxsize=1)
def country_groups() -> dict[str, CountryGroup]:
    members: dict[str, set[str]] = {}
    descriptions: dict[str, str] = {}
    for row in _read_csv("country_groups.csv"):
        members.setdefault(row["group"], set()).add(row["iso3"])
        descriptions[row["group"]] = row["description"]
    return {g: CountryGroup(g, descriptions[g], frozenset(m)) for g, m in members.items()}


def get_group(name: str) -> CountryGroup:
    """Look a group up by id, case- and punctuation-insensitively (``g7+`` → ``G7+``)."""
    groups = country_groups()
    if name in groups:
        return groups[name]
    wanted = normalise_name(name.replace("+", " plus"))
    for gid, group in groups.items():
        if normalise_name(gid.replace("+", " plus")) == wanted:
            return group
    raise UnknownGroupError(name, sorted(groups))


def custom_group(name: str, members: list[str]) -> CountryGroup:
    """An ad-hoc alliance from ISO3 codes (validated by the caller)."""
    return CountryGroup(name, f"custom alliance {name}", frozenset(members))
