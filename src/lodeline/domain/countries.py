"""Countries (ISO 3166-1 alpha-3) and name resolution.

The code list is ``data/countries.csv`` (ISO 3166-1 as listed by Debian iso-codes 4.15) plus the few
non-ISO codes that the sources need (Kosovo, world total, "other countries"). Source spellings live in
``data/country_aliases*.csv``; a name that resolves nowhere raises :class:`UnknownCountryError` with
suggestions, it is never guessed.
"""

from __future__ import annotations

import csv
import difflib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from lodeline.domain._text import normalise_name
from lodeline.errors import UnknownCountryError

WORLD = "WLD"
OTHER_COUNTRIES = "ROW"
#: Codes that are not countries but appear as rows in the sources.
AGGREGATE_CODES = frozenset({WORLD, OTHER_COUNTRIES})


@dataclass(frozen=True, slots=True)
class Country:
    iso3: str
    iso2: str
    name: str


_EXTRA = (
    Country("XKX", "XK", "Kosovo"),
    Country(WORLD, "", "World total"),
    Country(OTHER_COUNTRIES, "", "Other countries"),
)


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files("lodeline.domain").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


def alias_files() -> list[str]:
    """Every ``country_aliases*.csv`` (one per source family keeps additions from colliding)."""
    folder = resources.files("lodeline.domain").joinpath("data")
    return sorted(
        p.name for p in folder.iterdir() if p.name.startswith("country_aliases") and p.name.endswith(".csv")
    )


@lru_cache(maxsize=1)
def countries() -> dict[str, Country]:
    """All known codes, keyed by alpha-3."""
    table = {r["iso3"]: Country(r["iso3"], r["iso2"], r["name"]) for r in _read_csv("countries.csv")}
    table.update({c.iso3: c for c in _EXTRA})
    return table


@lru_cache(maxsize=1)
def _name_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for row in _read_csv("countries.csv"):
        for key in (row["name"], row["official_name"], row["iso3"]):
            if key:
                index[normalise_name(key)] = row["iso3"]
    for c in _EXTRA:
        index[normalise_name(c.name)] = c.iso3
        index[normalise_name(c.iso3)] = c.iso3
    for alias_file in alias_files():
        for row in _read_csv(alias_file):
            index[normalise_name(row["alias"])] = row["iso3"]
    return index


@lru_cache(maxsize=1)
def _iso2_index() -> dict[str, str]:
    return {c.iso2: c.iso3 for c in countries().values() if c.iso2}


def is_known(code: str) -> bool:
    return code in countries()


def resolve_country(name: str) -> str:
    """Map a country name, alias or ISO3 code to ISO3, or raise with suggestions."""
    key = normalise_name(name)
    found = _name_index().get(key)
    if found is not None:
        return found
    suggestions = difflib.get_close_matches(key, list(_name_index()), n=3, cutoff=0.75)
    raise UnknownCountryError(name, [f"{s} ({_name_index()[s]})" for s in suggestions])


def iso2_to_iso3(code: str) -> str:
    """ISO 3166-1 alpha-2 → alpha-3 (``"CN"`` → ``"CHN"``)."""
    try:
        return _iso2_index()[code.strip().upper()]
    except KeyError:
        raise UnknownCountryError(code) from None


def country_name(iso3: str) -> str:
    c = countries().get(iso3)
    return c.name if c else iso3
