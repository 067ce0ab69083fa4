"""Country groups (G7, EU27, OECD, G7+, MSP …), held as data in ``data/country_groups.csv``.

An *alliance* is either one of these groups or a custom list of ISO 3166 alpha-3 codes (``USA,JPN,DEU``):
:func:`resolve_alliance` is the one place that turns what a user typed (CLI option, API query, dashboard form)
into a member set, so every surface accepts and rejects the same things: market's alliance and importer options,
the geopolitical-risk importer (``services.risk.resolve_importer``, which also takes one country by name) and a
stress-test scenario's ``alliance`` (``sim.scenario``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lodeline.domain._text import normalise_name
from lodeline.domain.countries import AGGREGATE_CODES, _read_csv, countries
from lodeline.errors import InvalidArgumentError, UnknownGroupError

#: The longest alliance text accepted (a custom list of every country, ``AAA,BBB,…``, fits with room to spare).
MAX_ALLIANCE_LENGTH = 1_200
#: The most members a custom list may name (there are fewer than 260 ISO 3166 codes).
MAX_CUSTOM_MEMBERS = 260


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


def resolve_alliance(value: str) -> CountryGroup:
    """A named group (``G7+``, ``G7``, ``EU27``, ``MSP`` …, looked up first) or a custom comma-separated list of
    ISO 3166 alpha-3 codes (``USA,JPN,DEU``; order, case, spaces and repeats do not matter).

    A custom list's id is its sorted codes joined by commas, so two spellings of one list share cache entries.
    Bad input raises :class:`InvalidArgumentError` (HTTP 400, CLI exit 2) naming the offending code.
    """
    text = value.strip()
    if not text:
        raise InvalidArgumentError("alliance is empty: give a group (G7+, G7, EU27, MSP …) or ISO3 codes")
    if len(text) > MAX_ALLIANCE_LENGTH:
        raise InvalidArgumentError(
            f"alliance is {len(text):,} characters long; at most {MAX_ALLIANCE_LENGTH:,} are accepted"
        )
    if "," not in text:
        try:
            return get_group(text)
        except UnknownGroupError:
            if text.upper() not in countries() or text.upper() in AGGREGATE_CODES:
                raise InvalidArgumentError(
                    f"alliance {text!r} is neither a country group ({', '.join(sorted(country_groups()))}) "
                    "nor a comma-separated list of ISO 3166 alpha-3 codes (e.g. USA,JPN,DEU)",
                    alliance=text,
                ) from None
    parts = [p.strip().upper() for p in text.split(",")]
    if any(not p for p in parts):
        raise InvalidArgumentError(f"alliance {text!r}: an empty entry in the list (two commas in a row?)")
    if len(parts) > MAX_CUSTOM_MEMBERS:
        raise InvalidArgumentError(
            f"alliance lists {len(parts)} codes; at most {MAX_CUSTOM_MEMBERS} are accepted"
        )
    known = countries()
    for position, code in enumerate(parts, start=1):
        if code not in known or code in AGGREGATE_CODES:
            raise InvalidArgumentError(
                f"alliance: entry {position} {code!r} is not an ISO 3166 alpha-3 country code",
                alliance=text,
                entry=code,
            )
    members = sorted(set(parts))
    name = ",".join(members)
    return CountryGroup(
        name, f"custom alliance of {len(members)} countries: {', '.join(members)}", frozenset(members)
    )


def is_group(group: CountryGroup, group_id: str) -> bool:
    """Whether ``group`` has exactly the members of the named group (a custom list that spells out the EU27 is
    the EU27)."""
    return group.members == get_group(group_id).members
