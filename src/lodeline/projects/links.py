"""Links between the project register and the deals register (pure; docs/projects.md, "Deals and financing").

A project is linked to
- a **financing commitment** when the financing file's ``project`` column names it (the commitment id is in
  ``Project.financing``), and to the package row a named part belongs to (``parent_id``), flagged as a package;
- an **agreement** (deals register, ``partnerships_agreements.csv``) when the agreement names the project (its name
  in the title or note), names a promoter (``named`` or a non-country party), or — the weakest kind, said so —
  a country that is itself a party (not one reached through a group such as the EU) hosts the project and the
  agreement names one of the project's minerals. Agreements on "critical minerals" in general are never linked by
  country alone: every project in the country would match.

Every link carries ``match`` (which rule) and ``why`` (the data that matched), so nothing is linked silently.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from lodeline.domain._text import normalise_name
from lodeline.projects.schema import Project

NAMES_PROJECT = "names the project"
NAMES_PROMOTER = "names the promoter"
COUNTRY_MINERAL = "country+mineral"
FINANCES = "finances the project"
PACKAGE = "package including the project"
#: the strength order of the match kinds, strongest first (a list shows the strongest first)
ORDER = (FINANCES, PACKAGE, NAMES_PROJECT, NAMES_PROMOTER, COUNTRY_MINERAL)

#: legal-form words that do not identify a company
_FORMS = {"inc", "corp", "corporation", "co", "ltd", "limited", "llc", "plc", "sa", "ag", "gmbh", "nv", "bv", "the",
          "company", "group", "holdings", "se", "spa", "ab", "oy", "oyj", "pty", "as", "asa"}  # fmt: skip
#: words that do not identify a project
_GENERIC = {"project", "projects", "the", "and", "of", "mine", "plant", "phase", "i", "ii", "a", "facility"}
MIN_NAME_CHARS = 6  # a one-word name shorter than this ("Top") is too common to match in free text


@dataclass(frozen=True)
class Link:
    kind: str  # "commitment" | "agreement"
    id: str
    title: str
    match: str  # one of ORDER
    why: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _words(name: str, drop: set[str]) -> tuple[str, ...]:
    return tuple(w for w in normalise_name(name).split() if w not in drop)


def _phrase_in(words: tuple[str, ...], text: str) -> bool:
    """``words`` occur as consecutive whole words in ``text`` (already normalised)."""
    if not words or (len(words) == 1 and len(words[0]) < MIN_NAME_CHARS):
        return False
    return f" {' '.join(words)} " in f" {text} "


def same_company(a: str, b: str) -> bool:
    """Two company names are the same when, without legal forms, one's words are all in the other's and the
    shorter keeps a word of at least four letters ("Tesla" = "Tesla, Inc."; "MP" alone never matches)."""
    wa, wb = set(_words(a, _FORMS)), set(_words(b, _FORMS))
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return bool(short) and short <= long_ and any(len(w) >= 4 for w in short)


def commitment_links(project: Project, ledger: Iterable[Mapping[str, Any]]) -> list[Link]:
    """The ledger rows naming ``project`` (its ``financing`` ids) and the packages those rows are part of."""
    rows = {r["commitment_id"]: r for r in ledger}
    out: list[Link] = []
    seen: set[str] = set()
    for cid in project.financing:
        r = rows.get(cid)
        if r is None or cid in seen:
            continue
        seen.add(cid)
        why = f"the financing file's project column names {r['project']!r} (recipient {r['recipient']!r})"
        out.append(Link("commitment", cid, _commitment_title(r), FINANCES, why))
        parent = r.get("parent_id")
        while parent and parent in rows and parent not in seen:
            seen.add(parent)
            p = rows[parent]
            why = f"{cid} is part of it; the package is counted once, here or at its parts, never both"
            out.append(Link("commitment", parent, _commitment_title(p), PACKAGE, why))
            parent = p.get("parent_id")
    return out


def _commitment_title(r: Mapping[str, Any]) -> str:
    return f"{r['provider']}: {r['instrument']}" + (f" ({r['project']})" if r.get("project") else "")


def agreement_link(project: Project, project_iso3: set[str], agreement: Mapping[str, Any]) -> Link | None:
    """The strongest reason ``agreement`` concerns ``project`` (``project_iso3``: its countries as ISO3), or None."""
    aid, title = agreement["agreement_id"], agreement["title"]
    text = normalise_name(f"{title} {agreement.get('note') or ''}")
    name = _words(project.name, _GENERIC)
    if _phrase_in(name, text):
        return Link("agreement", aid, title, NAMES_PROJECT, f"its title or note names {project.name!r}")
    parties = list(agreement.get("parties") or [])
    entities = list(dict.fromkeys([*(agreement.get("named") or []), *(p for p in parties if len(p) != 3)]))
    for promoter in project.promoters:
        for entity in entities:
            if same_company(promoter, entity):
                why = f"it names {entity!r}, the project's promoter {promoter!r}"
                return Link("agreement", aid, title, NAMES_PROMOTER, why)
    if agreement.get("general") and not agreement.get("minerals"):
        return None
    countries = sorted(project_iso3 & {p for p in parties if len(p) == 3 and p.isupper()})
    minerals = [m for m in project.minerals if m in (agreement.get("minerals") or [])]
    if countries and minerals:
        why = (f"{', '.join(countries)} is a party and the agreement names {', '.join(minerals)}; it does not "
               "name the project")  # fmt: skip
        return Link("agreement", aid, title, COUNTRY_MINERAL, why)
    return None


def agreement_links(
    project: Project, project_iso3: set[str], agreements: Iterable[Mapping[str, Any]]
) -> list[Link]:
    found = [link for a in agreements if (link := agreement_link(project, project_iso3, a)) is not None]
    return sorted(found, key=lambda link: (ORDER.index(link.match), link.id))


def deal_projects(
    agreement: Mapping[str, Any], projects: Iterable[Project], iso3_of: Mapping[str, set[str]]
) -> list[dict[str, Any]]:
    """The projects ``agreement`` names or covers (``iso3_of``: project id → ISO3 countries), strongest first."""
    out = []
    for p in projects:
        link = agreement_link(p, iso3_of.get(p.project_id, set()), agreement)
        if link is not None:
            out.append({"project_id": p.project_id, "name": p.name, "match": link.match, "why": link.why})
    return sorted(out, key=lambda r: (ORDER.index(r["match"]), r["project_id"]))
