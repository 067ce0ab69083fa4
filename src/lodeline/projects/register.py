"""Project records from the parsed lists, and de-duplication across lists with the merge explained (pure)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import polars as pl

from lodeline.domain._text import normalise_name
from lodeline.projects.conversion import convert, parse_capacity
from lodeline.projects.schema import (
    STAGE_ALIASES,
    Designation,
    Money,
    Project,
    ProjectStage,
    SourceRef,
    StatusEvent,
)

EU_LIST = "EU CRMA strategic projects"
FIN_LIST = "public financing commitments"
#: value roles of the ledger that finance one named project (not envelopes, authorities or pipelines)
PROJECT_ROLES = ("commitment", "indication", "funding_option", "private_financing", "recipient_own_funds")
#: instruments of the ledger that are offtake or purchase rights rather than money
OFFTAKE_INSTRUMENTS = frozenset({"offtake", "procurement_right"})
_STOP = {"project", "projects", "the", "and", "of", "mine", "plant", "a", "s", "phase", "i", "ii"}


def _stages(words: Iterable[str]) -> tuple[ProjectStage, ...]:
    out: list[ProjectStage] = []
    for w in words:
        stage = STAGE_ALIASES.get(w.strip().lower())
        if stage is not None and stage not in out:
            out.append(stage)
    return tuple(out)


def eu_projects(frame: pl.DataFrame) -> list[Project]:
    """One record per EU CRMA designation (the parsed ``projects`` frame of ``policy_projects``)."""
    out = []
    for r in frame.iter_rows(named=True):
        gaps: dict[str, str] = {}
        if r["name"] is None:
            gaps["name"] = "designation not identified in any accessible source (placeholder row)"
        capacity = None
        if r["capacity_raw"]:
            parsed = parse_capacity(r["capacity_raw"])
            if parsed is None:
                gaps["capacity"] = f"stated without a rate: {r['capacity_raw']!r}"
            else:
                capacity = convert(parsed)
                if capacity.contained_t_per_year is None:
                    gaps["contained_capacity"] = capacity.factor_note or "no factor"
        capex = None
        if r["capex_value"] is not None:
            capex = Money(r["capex_value"], r["capex_currency"], r["capex_value_high"], None)
        if r["start_raw"] and r["start_year"] is None:
            gaps["expected_start_year"] = f"the statement dates no start of operation: {r['start_raw']!r}"
        stages = _stages(json.loads(r["stages"]))
        if not stages:
            gaps["stages"] = "not stated in the sources seen"
        annex = f"annex entry {r['annex_entry_no']}" if r["annex_entry_no"] else None
        reference = " ".join(x for x in (r["decision"], annex) if x)
        out.append(
            Project(
                project_id=r["project_id"],
                name=r["name"] or f"(unidentified {r['list']} designation)",
                promoters=tuple(json.loads(r["promoters"])),
                countries=tuple(json.loads(r["countries"])),
                location=r["location"],
                minerals=tuple(json.loads(r["minerals"])),
                other_materials=r["other_materials"],
                stages=stages,
                product=capacity.product if capacity else None,
                capacity=capacity,
                capex=capex,
                status_history=(StatusEvent("designated", r["decision_date"], EU_LIST),),
                expected_start=r["start_raw"],
                expected_start_year=r["start_year"],
                designations=(
                    Designation("EU CRMA strategic project", reference or None, r["decision_date"]),
                ),
                sources=(
                    SourceRef(
                        EU_LIST, r["project_id"], r["source_url"], r["source_type"], r["source_detail"]
                    ),
                ),
                gaps=gaps,
            ).with_gaps()
        )
    return out


def financed_projects(frame: pl.DataFrame) -> list[Project]:
    """One record per (recipient, project) the financing ledger names at project level.

    Parent rows (packages of several projects) and envelopes are not projects; their parts are.
    """
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in frame.iter_rows(named=True):
        if r["is_parent"] or r["value_role"] not in PROJECT_ROLES or not r["project"] or not r["recipient"]:
            continue
        key = normalise_name(r["recipient"]) + "|" + normalise_name(r["project"])
        groups.setdefault(key, []).append(r)
    out = []
    for rows in groups.values():
        first = rows[0]
        minerals: list[str] = []
        stage_words: list[str] = []
        for r in rows:
            minerals += [m for m in json.loads(r["minerals"]) if m not in minerals]
            stage_words += json.loads(r["stages"])
        history = sorted(
            {
                StatusEvent(r["first_status"], r["first_status_date"], r["commitment_id"])
                for r in rows
                if r["first_status"]
            },
            key=lambda e: (e.date or "", e.status),
        )
        pid = "fin-" + normalise_name(first["project"]).replace(" ", "-")[:60]
        out.append(
            Project(
                project_id=pid,
                name=first["project"],
                promoters=(first["recipient"],),
                countries=tuple(json.loads(first["countries"])),
                minerals=tuple(minerals),
                stages=_stages(stage_words),
                status_history=tuple(history),
                designations=tuple(
                    dict.fromkeys(
                        Designation(
                            f"public financing: {r['provider']}", r["instrument"], r["first_status_date"]
                        )
                        for r in rows
                    )
                ),
                financing=tuple(r["commitment_id"] for r in rows),
                offtakes=tuple(
                    f"{r['provider']} ({r['instrument']}, {r['commitment_id']})"
                    for r in rows
                    if r["instrument"] in OFFTAKE_INSTRUMENTS
                ),
                sources=tuple(
                    SourceRef(FIN_LIST, r["commitment_id"], None, "secondary", r["note"]) for r in rows
                ),
            ).with_gaps()
        )
    return out


def _name_key(name: str) -> frozenset[str]:
    return frozenset(w for w in normalise_name(name).split() if w not in _STOP)


def same_project(a: Project, b: Project) -> str | None:
    """Why ``a`` and ``b`` are the same project, or None.

    Both rules need a shared country and a shared mineral (when both records state them):
    (1) one name's distinctive words contain the other's (at least two words, or one word and a shared promoter);
    (2) records first listed in different lists, with a shared promoter. Two rows of one list are never matched by promoter
    alone: a list holds one row per project, and one promoter often runs several (Umicore's GePETO and ReGAIN).
    """
    if a.project_id == b.project_id:
        return "same project id (a member's record of the project)"
    if a.countries and b.countries and not set(a.countries) & set(b.countries):
        return None
    shared_minerals = set(a.minerals) & set(b.minerals)
    if a.minerals and b.minerals and not shared_minerals:
        return None
    promoters = {normalise_name(p) for p in a.promoters} & {normalise_name(p) for p in b.promoters}
    ka, kb = _name_key(a.name), _name_key(b.name)
    small, large = (ka, kb) if len(ka) <= len(kb) else (kb, ka)
    if small and small <= large and (len(small) >= 2 or promoters):
        return f"same name ({' '.join(sorted(small))}), country and mineral"
    list_a = a.sources[0].list_name if a.sources else None
    list_b = b.sources[0].list_name if b.sources else None
    if promoters and shared_minerals and list_a != list_b:
        return (
            f"same promoter ({', '.join(sorted(promoters))}), country and mineral ({', '.join(sorted(shared_minerals))}) "
            f"in different lists ({list_a} / {list_b})"
        )
    return None


def _rank(p: Project) -> tuple[int, int]:
    """Which record's scalar fields win a conflict: a member's update, then primary sources, then designations."""
    primary = any(s.source_type == "primary" for s in p.sources)
    return (1 if p.owner_org else 0, 1 if primary else 0)


def merge(a: Project, b: Project, reason: str) -> Project:
    """``a`` and ``b`` folded into one record: lists united, scalars from the higher-ranked record (ties: ``a``),
    each conflict written in ``merge_note``."""
    win, lose = (b, a) if _rank(b) > _rank(a) else (a, b)
    notes = [f"{lose.project_id} merged into {win.project_id}: {reason}"]
    changes: dict[str, Any] = {}
    for name in ("location", "latitude", "longitude", "other_materials", "product", "grade", "capacity", "capex",
                 "opex_per_year", "study_stage", "expected_start", "expected_start_year", "social",
                 "permit_applied", "permit_granted", "production_start"):  # fmt: skip
        w, lo = getattr(win, name), getattr(lose, name)
        if w is None and lo is not None:
            changes[name] = lo
            notes.append(f"{name} from {lose.project_id}")
        elif w is not None and lo is not None and w != lo:
            notes.append(f"{name} conflicts ({lose.project_id} says {lo!r}); kept {win.project_id}'s")

    def union(x: tuple[Any, ...], y: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(dict.fromkeys((*x, *y)))

    gaps = {
        k: v
        for k, v in {**lose.gaps, **win.gaps}.items()
        if getattr(win, k, None) is None and k not in changes
    }
    merged = replace(
        win,
        promoters=union(win.promoters, lose.promoters),
        countries=union(win.countries, lose.countries),
        minerals=union(win.minerals, lose.minerals),
        stages=union(win.stages, lose.stages),
        status_history=tuple(
            sorted(union(win.status_history, lose.status_history), key=lambda e: e.date or "")
        ),
        designations=union(win.designations, lose.designations),
        financing=union(win.financing, lose.financing),
        offtakes=union(win.offtakes, lose.offtakes),
        sources=union(win.sources, lose.sources),
        merged_from=union(win.merged_from, (lose.project_id, *lose.merged_from)),
        merge_note="; ".join(x for x in (win.merge_note, lose.merge_note, *notes) if x),
        gaps=gaps,
        **changes,
    )
    return merged.with_gaps()


def deduplicate(projects: Iterable[Project]) -> list[Project]:
    """Fold records of the same project (``same_project``) into one, in input order."""
    out: list[Project] = []
    for p in projects:
        for i, q in enumerate(out):
            reason = same_project(q, p)
            if reason:
                out[i] = merge(q, p, reason)
                break
        else:
            out.append(p)
    return out
