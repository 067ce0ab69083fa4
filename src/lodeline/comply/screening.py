"""Forced-labour and entity screening, pure: the US DOL TVPRA list (goods × countries) and entity lists.

TVPRA: the bundled list (``data/raw/usdol_ilab_tvpra``) or a newer edition in the same CSV format. A lot is
screened by the goods its metal was, or was made into, along its upstream path: a *mined* good (cobalt ore, tin
ore, …) is matched against the countries of the lot's origin facilities with the share of metal from them; a
*manufactured* good (polysilicon, lithium-ion batteries, electronics) against the countries of path facilities of
the type that makes it. Absence from the list is not evidence of absence (PROVENANCE caveat).

Entities: names (facility operators, participants) against entity lists given as CSV (``name, aliases, list,
source``), fuzzy-matched with rapidfuzz's ``token_sort_ratio`` on normalised names (case, punctuation and company
suffixes dropped). A hit names the list, the listed name (or alias) it matched, the score and the threshold.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rapidfuzz import fuzz, process

from lodeline.domain.countries import resolve_country
from lodeline.errors import InvalidArgumentError

#: Columns a TVPRA list file must have (the DOL "Sweat & Toil" export, as bundled).
TVPRA_COLUMNS = ("good", "good_sector", "Country_Name", "Child_Labor", "Forced_Labor", "Forced_Child_Labor")

#: DOL country names the project's country table does not resolve.
_DOL_COUNTRIES = {"Congo, Democratic Republic of the": "COD", "Turkey (Türkiye)": "TUR"}

#: mineral -> TVPRA goods mined for it (matched against origin countries).
MINED_GOODS: dict[str, tuple[str, ...]] = {
    "cobalt": ("Cobalt ore (heterogenite)",),
    "copper": ("Copper",),
    "tin": ("Tin ore (cassiterite)", "Tin"),
    "tantalum": ("Tantalum ore (coltan)",),
    "tungsten": ("Tungsten ore (wolframite)",),
    "zinc": ("Zinc",),
    "gold": ("Gold",),
    "silver": ("Silver",),
    "mica": ("Mica",),
    "fluorspar": ("Fluorspar (mineral)",),
}

#: facility type -> TVPRA goods made there (matched against the countries of path facilities of that type).
MADE_GOODS: dict[str, tuple[str, ...]] = {
    "cell_plant": ("Lithium-Ion Batteries",),
    "battery_plant": ("Lithium-Ion Batteries",),
    "polysilicon_plant": ("Polysilicon",),
    "electronics_plant": ("Electronics",),
}

#: Default fuzzy-match threshold (rapidfuzz token_sort_ratio on normalised names, 0-100): see
#: docs/methods/compliance-rules.md for why 90.
DEFAULT_THRESHOLD = 90.0

_SUFFIXES = {
    "co",
    "company",
    "corp",
    "corporation",
    "inc",
    "incorporated",
    "ltd",
    "limited",
    "llc",
    "plc",
    "pty",
    "gmbh",
    "ag",
    "sa",
    "sas",
    "bv",
    "nv",
    "spa",
    "srl",
    "kg",
    "tbk",
    "pt",
    "group",
    "holdings",
    "holding",
}


@dataclass(frozen=True)
class TvpraEntry:
    good: str
    sector: str
    country: str  # ISO3
    country_name: str  # as DOL writes it
    child_labor: bool
    forced_labor: bool
    forced_child_labor: bool
    derived_from: str | None  # "Congo, Democratic Republic of the" for goods made with listed inputs


@dataclass(frozen=True)
class TvpraList:
    edition: str
    source: str
    entries: tuple[TvpraEntry, ...]


def _yes(value: str, where: str) -> bool:
    text = (value or "").strip()
    if text not in ("Yes", "No"):
        raise InvalidArgumentError(f"{where}: expected Yes or No, got {text!r}")
    return text == "Yes"


def _read_csv(text: str, source: str) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of CSV ``text``; a malformed file (e.g. a field past csv's size limit) names ``source``."""
    try:
        reader = csv.DictReader(io.StringIO(text))
        return list(reader.fieldnames or []), list(reader)
    except csv.Error as exc:
        raise InvalidArgumentError(f"{source}: not a readable CSV file ({exc})") from None


def parse_tvpra(text: str, *, edition: str, source: str) -> TvpraList:
    """The TVPRA list from CSV text in the bundled format; errors name ``source``, the row and the column."""
    fieldnames, reader = _read_csv(text, source)
    missing = [c for c in TVPRA_COLUMNS if c not in fieldnames]
    if missing:
        raise InvalidArgumentError(f"{source}: not a TVPRA list file, missing columns {missing}")
    entries = []
    for n, row in enumerate(reader, start=2):
        where = f"{source} row {n}"
        name = (row["Country_Name"] or "").strip()
        try:
            iso3 = _DOL_COUNTRIES.get(name) or resolve_country(name)
        except Exception as exc:  # the country table's own error type names the reason
            raise InvalidArgumentError(f"{where} column Country_Name: unknown country {name!r}") from exc
        derived = (row.get("Derived_Labor_Exploitation") or "No").strip() == "Yes"
        entries.append(
            TvpraEntry(
                good=(row["good"] or "").strip(),
                sector=(row["good_sector"] or "").strip(),
                country=iso3,
                country_name=name,
                child_labor=_yes(row["Child_Labor"], f"{where} column Child_Labor"),
                forced_labor=_yes(row["Forced_Labor"], f"{where} column Forced_Labor"),
                forced_child_labor=_yes(row["Forced_Child_Labor"], f"{where} column Forced_Child_Labor"),
                derived_from=((row.get("Derived_Country") or "").strip() or None) if derived else None,
            )
        )
    if not entries:
        raise InvalidArgumentError(f"{source}: the TVPRA list has no rows")
    return TvpraList(edition=edition, source=source, entries=tuple(entries))


def tvpra_hits(
    tvpra: TvpraList,
    mineral: str,
    origin_shares: Mapping[str, float],
    made_at: Iterable[tuple[str, str]],
) -> list[dict[str, Any]]:
    """TVPRA entries that apply to a lot of ``mineral`` with metal from ``origin_shares`` (ISO3 -> share) and made
    at facilities ``made_at`` ((facility type, ISO3) pairs along its path); each hit says why it applies."""
    mined = set(MINED_GOODS.get(mineral, ()))
    made = {(good, country) for ftype, country in made_at for good in MADE_GOODS.get(ftype, ())}
    hits = []
    for e in tvpra.entries:
        if e.good in mined and origin_shares.get(e.country, 0.0) > 0:
            basis, share = "origin", origin_shares[e.country]
        elif (e.good, e.country) in made:
            basis, share = "made", None
        else:
            continue
        hits.append(
            {
                "good": e.good,
                "country": e.country,
                "basis": basis,
                "share": share,
                "child_labor": e.child_labor,
                "forced_labor": e.forced_labor,
                "forced_child_labor": e.forced_child_labor,
                "derived_from": e.derived_from,
                "edition": tvpra.edition,
            }
        )
    return hits


@dataclass(frozen=True)
class ListedEntity:
    name: str
    aliases: tuple[str, ...]
    list: str
    source: str


ENTITY_COLUMNS = ("name", "aliases", "list", "source")


def parse_entity_list(text: str, source: str) -> list[ListedEntity]:
    """An entity list in the documented CSV format: ``name,aliases,list,source`` (aliases separated by ``;``)."""
    fieldnames, reader = _read_csv(text, source)
    missing = [c for c in ENTITY_COLUMNS if c not in fieldnames]
    if missing:
        raise InvalidArgumentError(
            f"{source}: an entity list needs the columns {list(ENTITY_COLUMNS)}; missing {missing}"
        )
    out = []
    for n, row in enumerate(reader, start=2):
        name = (row["name"] or "").strip()
        listed = (row["list"] or "").strip()
        if not name:
            raise InvalidArgumentError(f"{source} row {n} column name: empty")
        if not listed:
            raise InvalidArgumentError(
                f"{source} row {n} column list: empty (name the list the entity is on)"
            )
        aliases = tuple(a.strip() for a in (row["aliases"] or "").split(";") if a.strip())
        out.append(ListedEntity(name, aliases, listed, (row["source"] or "").strip()))
    return out


def normalise(name: str) -> str:
    """Lower case, punctuation to spaces, company-form suffixes dropped (``Xinjiang Hoshine Silicon Co., Ltd.`` ->
    ``xinjiang hoshine silicon``)."""
    words = re.sub(r"[^\w]+", " ", name.casefold()).split()
    kept = [w for w in words if w not in _SUFFIXES]
    return " ".join(kept or words)


@dataclass(frozen=True)
class EntityIndex:
    """The listed names and aliases, normalised once (screening many lots reuses it)."""

    keys: tuple[str, ...]
    refs: tuple[tuple[ListedEntity, str], ...]  # (entity, the listed name or alias the key came from)


def index_entities(entities: Sequence[ListedEntity]) -> EntityIndex:
    keys, refs = [], []
    for ent in entities:
        for listed_name in (ent.name, *ent.aliases):
            keys.append(normalise(listed_name))
            refs.append((ent, listed_name))
    return EntityIndex(tuple(keys), tuple(refs))


def screen_names(
    parties: Sequence[tuple[str, str, str]], index: EntityIndex, threshold: float = DEFAULT_THRESHOLD
) -> list[dict[str, Any]]:
    """Hits of ``parties`` ((role, id, name)) against the index: for each party and listed entity, the best-scoring
    listed name or alias at or above ``threshold``, explained (list, listed name, matched name, score, threshold)."""
    if not 0 < threshold <= 100:
        raise InvalidArgumentError(f"threshold must be in (0, 100], got {threshold}")
    hits: list[dict[str, Any]] = []
    for role, pid, name in parties:
        query = normalise(name)
        best: dict[
            int, tuple[float, ListedEntity, str]
        ] = {}  # id(entity) -> best (score, entity, listed name)
        for _key, score, i in process.extract(
            query, index.keys, scorer=fuzz.token_sort_ratio, score_cutoff=threshold, limit=None
        ):
            ent, listed_name = index.refs[i]
            if id(ent) not in best or score > best[id(ent)][0]:
                best[id(ent)] = (float(score), ent, listed_name)
        for score, ent, listed_name in best.values():
            hits.append(
                {
                    "party_role": role,
                    "party": pid,
                    "name": name,
                    "list": ent.list,
                    "listed_name": ent.name,
                    "matched": listed_name,
                    "source": ent.source,
                    "score": round(score, 1),
                    "threshold": threshold,
                    "exact": query == normalise(listed_name),
                }
            )
    hits.sort(key=lambda h: (-h["score"], h["party"], h["listed_name"]))
    return hits
