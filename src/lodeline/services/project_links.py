"""Links between the project register and the deals register (docs/projects.md, "Links"; docs/deals.md,
"Projects"): the financing commitments and agreements that name or cover a project, the projects a commitment
finances and the projects an agreement covers, each link with the rule that matched and why (pure matching in
:mod:`lodeline.projects.links`; the registers through :mod:`lodeline.services.projects` and
:mod:`lodeline.services.deals`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from lodeline.domain.countries import iso2_to_iso3
from lodeline.errors import UnknownCountryError
from lodeline.projects import links
from lodeline.projects.schema import Project
from lodeline.services.projects import PUBLIC, Viewer, commitments, load_projects


def project_detail(p: Project, engine: Engine | None = None, raw_dir: Path | None = None) -> dict[str, Any]:
    """A project as JSON-ready data: every field, gaps with their reasons, sources, the merge note, and the
    financing commitments and agreements linked to it (``links``)."""
    return {**p.to_dict(), "links": project_links(p, engine, raw_dir)}


# ------------------------------------------------------------------------------------ deals and financing links
LINK_RULES = (
    "commitments: the financing file's project column names the project (and the package a named part belongs "
    "to); agreements: the agreement names the project or a promoter, or a country that is itself a party hosts "
    "the project and the agreement names one of its minerals (country+mineral: it does not name the project); "
    "docs/projects.md"
)


def _agreements(engine: Engine | None) -> list[dict[str, Any]]:
    from lodeline.services import deals

    return deals.current(engine, "agreements") if engine is not None else deals.bundled()["agreements"]


def _iso3(p: Project) -> set[str]:
    out = set()
    for code in p.countries:
        try:
            out.add(iso2_to_iso3(code))
        except UnknownCountryError:
            continue  # a country the code list does not know links nothing
    return out


def project_links(p: Project, engine: Engine | None = None, raw_dir: Path | None = None) -> dict[str, Any]:
    """The financing commitments and agreements that name or cover ``p``, each with the rule that matched and why;
    money in its stated currency (not converted)."""
    ledger_rows = {r["commitment_id"]: r for r in commitments(raw_dir).frame.iter_rows(named=True)}
    money = []
    for link in links.commitment_links(p, ledger_rows.values()):
        r = ledger_rows[link.id]
        money.append({**link.to_dict(), "amount": r["amount"], "currency": r["currency"], "stage": r["stage"],
                      "counted": r["counted"]})  # fmt: skip
    agreements = [a.to_dict() for a in links.agreement_links(p, _iso3(p), _agreements(engine))]
    return {"commitments": money, "agreements": agreements, "rules": LINK_RULES}


def commitment_projects(
    commitment_id: str, engine: Engine | None = None, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None
) -> dict[str, Any] | None:
    """A financing commitment (ledger row, stated currency) and the projects it finances — those whose record
    names it, or, for a package row, names one of its parts — or None when the ledger has no such id."""
    ledger_rows = {r["commitment_id"]: r for r in commitments(raw_dir).frame.iter_rows(named=True)}
    if commitment_id not in ledger_rows:
        return None
    found = []
    for p in load_projects(engine, viewer=viewer, raw_dir=raw_dir):
        for link in links.commitment_links(p, ledger_rows.values()):
            if link.id == commitment_id:
                found.append(
                    {"project_id": p.project_id, "name": p.name, "match": link.match, "why": link.why}
                )
                break
    return {
        **ledger_rows[commitment_id],
        "projects": sorted(found, key=lambda r: (r["match"], r["project_id"])),
    }


def deal_projects(
    agreement: dict[str, Any],
    engine: Engine | None = None,
    *,
    viewer: Viewer = PUBLIC,
    raw_dir: Path | None = None,
) -> list[dict[str, Any]]:
    """The register's projects an agreement names or covers, strongest match first, each with why."""
    projects = load_projects(engine, viewer=viewer, raw_dir=raw_dir)
    return links.deal_projects(agreement, projects, {p.project_id: _iso3(p) for p in projects})
