"""The project register, comparison, commitments ledger and recycling monitor (CLI, API and web call these).

Public projects come from the bundled lists (parsed on first use, cached per raw folder); member projects from
the store. Who sees a member project's confidential fields is decided by the caller through the access layer
(``api/access.py::project_viewer``) and passed here as a ``Viewer``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline.config import get_settings
from lodeline.data.sources import policy_commitments, policy_projects
from lodeline.errors import NotFoundError
from lodeline.projects.document import to_project, validate_document
from lodeline.projects.register import deduplicate, eu_projects, financed_projects
from lodeline.projects.schema import Project, redact
from lodeline.services.results import Provenance
from lodeline.store import projects as db

METHOD = "docs/methods/projects.md"


@dataclass(frozen=True)
class Viewer:
    """Whose confidential project fields the caller may read: ``org`` its own; ``all_orgs`` the secretariat."""

    org: str | None = None
    all_orgs: bool = False

    def sees(self, owner: str | None) -> bool:
        return owner is None or self.all_orgs or (self.org is not None and owner == self.org)


PUBLIC = Viewer()


def _raw(raw_dir: Path | None) -> Path:
    return (raw_dir or get_settings().raw_dir) / "policy_facts"


@lru_cache(maxsize=4)
def _public(folder: Path) -> tuple[Project, ...]:
    eu = eu_projects(policy_projects.parse(folder)["projects"])
    fin = financed_projects(policy_commitments.parse(folder)["commitments"])
    return tuple(deduplicate([*eu, *fin]))


def public_projects(raw_dir: Path | None = None) -> list[Project]:
    """The register built from the bundled lists only (EU CRMA designations + projects the financing ledger
    names), de-duplicated; every record carries its sources and, for each empty figure, the reason."""
    return list(_public(_raw(raw_dir)))


def add_project(
    engine: Engine, document: Any, *, owner_org: str, by: str | None = None, where: str = "project"
) -> dict[str, Any]:
    """Validate a member's project document and store it as the owner's new version (one transaction).

    A document whose ``project_id`` is a public project's is the member's update of it: the register merges
    the two and the member's figures win, with the merge written in ``merge_note``.
    """
    model = validate_document(document, where=where)
    project = to_project(model, owner_org=owner_org)
    stored = model.model_dump(mode="json", exclude_defaults=True)
    version = db.upsert(engine, owner_org, model.project_id, stored, by)
    return {
        "project_id": project.project_id,
        "owner": owner_org,
        "version": version,
        "updates_public_record": project.project_id in {p.project_id for p in public_projects()},
        "contained_t_per_year": project.capacity.contained_t_per_year if project.capacity else None,
        "gaps": project.gaps,
    }


def load_projects(
    engine: Engine | None = None, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None
) -> list[Project]:
    """The whole register as ``viewer`` may see it: public records, then member records (store), de-duplicated
    (a member's update of a public project wins its conflicts and says so in ``merge_note``); confidential fields
    of projects the viewer does not own are emptied (``redact``)."""
    projects = public_projects(raw_dir)
    if engine is None:
        return projects
    members = []
    for r in db.list_projects(engine):
        doc = validate_document(r["document"], where=f"stored project {r['project_id']}")
        record = to_project(doc, owner_org=r["owner_org"])
        # redacted before the merge, so a public figure of the same project stays visible
        members.append(record if viewer.sees(record.owner_org) else redact(record))
    return deduplicate([*projects, *members])


def get_project(
    project_id: str, engine: Engine | None = None, *, viewer: Viewer = PUBLIC, raw_dir: Path | None = None
) -> Project:
    for p in load_projects(engine, viewer=viewer, raw_dir=raw_dir):
        if p.project_id == project_id or project_id in p.merged_from:
            return p
    raise NotFoundError(f"no project {project_id!r} (see `lodeline projects list`)")


def provenance(notes: list[str] | None = None) -> Provenance:
    sources = [
        {"id": d.id, "title": d.title, "edition": d.edition, "licence": d.licence}
        for d in (policy_projects.DATASET, policy_commitments.DATASET)
    ]
    return Provenance(sources=sources, method=METHOD, notes=notes or [])


def projects_frame(projects: list[Project]) -> pl.DataFrame:
    """One row per project for listing: figures with their units, gaps as null with the reason beside."""
    rows = []
    for p in projects:
        cap = p.capacity
        rows.append(
            {
                "project_id": p.project_id,
                "name": p.name,
                "countries": ";".join(p.countries),
                "minerals": ";".join(p.minerals),
                "stages": ";".join(s.value for s in p.stages),
                "designations": ";".join(sorted({d.scheme for d in p.designations})),
                "capacity_t_per_year": cap.value if cap else None,
                "capacity_product": cap.product if cap else None,
                "contained_t_per_year": cap.contained_t_per_year if cap else None,
                "lce_t_per_year": cap.lce_t_per_year if cap else None,
                "capex": p.capex.midpoint if p.capex else None,
                "capex_currency": p.capex.currency if p.capex else None,
                "expected_start_year": p.expected_start_year,
                "owner": p.owner_org,
                "source_type": ";".join(sorted({s.source_type or "not stated" for s in p.sources})),
                "gaps": "; ".join(f"{k}: {v}" for k, v in sorted(p.gaps.items())),
                "merged_from": ";".join(p.merged_from),
            }
        )
    schema = {"capacity_t_per_year": pl.Float64, "contained_t_per_year": pl.Float64, "lce_t_per_year": pl.Float64,
              "capex": pl.Float64, "expected_start_year": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema_overrides=schema, infer_schema_length=None)
