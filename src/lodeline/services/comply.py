"""Compliance checks and screening of registry lots (issue 16): the one service the CLI, the API, the registry
explorer and the passports call.

- :func:`check` ``(engine, lot, ruleset) -> list of verdict records``: derives the lot's facts, evaluates the rule
  set and records every verdict issued (row + log leaf ``lodeline-verdict/v1:<sha256>``, one transaction); each
  record carries its ``leaf_index``. This signature is stable: the passports' due-diligence section calls it.
- :func:`screen`: the lot's TVPRA hits and the entity-list hits of the operators on its path.
- :func:`load_facts`: the facts (lodeline.comply.facts) of a lot, read from the registry and the canonical WGI table.
- Rule sets: the bundled ones (``lodeline/comply/rulesets/``) by id, or a file.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine

from lodeline import inputs
from lodeline.comply import facts as facts_mod
from lodeline.comply import screening
from lodeline.comply.rules import Evaluator, RuleSet, canonical_json, load_ruleset, verdict_document
from lodeline.errors import InvalidArgumentError, NotFoundError
from lodeline.store import comply as db
from lodeline.store import trace_parties
from lodeline.store.canonical import read_table
from lodeline.trace.origin import load_upstream, origin_report

#: The bundled TVPRA list and the edition it is (data/raw/usdol_ilab_tvpra/PROVENANCE.txt).
TVPRA_FILE = ("data", "raw", "usdol_ilab_tvpra", "ilab_tvpra_list_goods_by_country.csv")
TVPRA_EDITION = (
    "US DOL TVPRA list, 2022 (10th) edition (Sweat & Toil data file, DOL commit 8615d56, 2023-08-23)"
)


@dataclass(frozen=True)
class Screening:
    """What lots are screened against: a TVPRA list and optionally entity lists (with the fuzzy threshold)."""

    tvpra: screening.TvpraList
    entities: screening.EntityIndex | None = None
    entity_lists: tuple[str, ...] = ()
    threshold: float = screening.DEFAULT_THRESHOLD


# -------------------------------------------------------------------------------------------------- rule sets
def _bundled_dir() -> Any:
    return resources.files("lodeline.comply") / "rulesets"


@cache
def _bundled() -> dict[str, RuleSet]:
    out = {}
    for entry in sorted(_bundled_dir().iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            rs = load_ruleset(entry.read_bytes(), f"comply/rulesets/{entry.name}")
            out[rs.id] = rs
    return out


def list_rulesets() -> list[dict[str, Any]]:
    return [
        {
            "id": rs.id,
            "version": rs.version,
            "effective": rs.effective,
            "title": rs.title,
            "rules": len(rs.rules),
        }
        for rs in _bundled().values()
    ]


def get_ruleset(name: str | RuleSet) -> RuleSet:
    """A bundled rule set by id, or a rule set file (YAML, bounded by lodeline.inputs)."""
    if isinstance(name, RuleSet):
        return name
    bundled = _bundled()
    if name in bundled:
        return bundled[name]
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or inputs.is_file(path):
        return load_ruleset(inputs.read_bytes(path, "rule set", limit=256 * 1024), str(path))
    raise NotFoundError(f"unknown rule set {name!r}; bundled: {sorted(bundled)} (or give a YAML file)")


# -------------------------------------------------------------------------------------------------- screening
@cache
def bundled_tvpra() -> screening.TvpraList:
    text = resources.files("lodeline").joinpath(*TVPRA_FILE).read_text(encoding="utf-8")
    return screening.parse_tvpra(text, edition=TVPRA_EDITION, source="data/raw/usdol_ilab_tvpra")


def tvpra_from_file(path: Path, edition: str | None = None) -> screening.TvpraList:
    """A newer TVPRA edition as a file in the bundled format; its edition is ``edition`` or the file's name."""
    text = inputs.read_text(path, "TVPRA list")
    return screening.parse_tvpra(text, edition=edition or f"{path.name} (user-supplied)", source=str(path))


def make_screening(
    *,
    tvpra_file: Path | None = None,
    tvpra_edition: str | None = None,
    entity_files: Sequence[Path] = (),
    threshold: float = screening.DEFAULT_THRESHOLD,
) -> Screening:
    tvpra = tvpra_from_file(tvpra_file, tvpra_edition) if tvpra_file else bundled_tvpra()
    if not entity_files:
        return Screening(tvpra=tvpra, threshold=threshold)
    listed: list[screening.ListedEntity] = []
    for path in entity_files:
        listed += screening.parse_entity_list(inputs.read_text(path, "entity list"), str(path))
    names = tuple(sorted({e.list for e in listed}))
    return Screening(tvpra, screening.index_entities(listed), names, threshold)


# ------------------------------------------------------------------------------------------------------ facts
def _wgi(engine: Engine) -> tuple[int, dict[str, dict[str, float]]] | None:
    """Latest WGI estimate per country and dimension (None when the store holds none: facts stay absent)."""
    try:
        frame = read_table(engine, "governance")
    except Exception:  # an unbuilt store: the table is empty or missing, the facts are absent
        return None
    frame = frame.filter(pl.col("estimate").is_not_null())
    if frame.is_empty():
        return None
    latest = (
        frame.sort("year")
        .group_by("country", "indicator")
        .agg(pl.col("estimate").last(), pl.col("year").last())
    )
    out: dict[str, dict[str, float]] = {}
    for country, indicator, estimate, _year in latest.iter_rows():
        out.setdefault(country, {})[indicator] = float(estimate)
    return int(frame["year"].max()), out  # type: ignore[arg-type]


def load_facts(
    engine: Engine, lot: str, *, as_of: dt.date | None = None, screen_with: Screening | None = None
) -> dict[str, Any]:
    """The facts of ``lot`` (lodeline.comply.facts.FACTS), read from the registry."""
    screen_with = screen_with or Screening(bundled_tvpra())
    as_of = as_of or dt.datetime.now(dt.UTC).date()
    report = origin_report(engine, lot)
    lot_id, graph, _row, _origins, facilities = load_upstream(engine, report["lot"])
    with engine.connect() as conn:
        names = {p["id"]: p["name"] for p in trace_parties.list_participants(conn)}
    path_ids = {fid for edges in graph.values() for fid, _src, _m in edges}
    path = {
        fid: {**facilities[fid], "operator_name": names.get(facilities[fid]["operator_id"])}
        for fid in path_ids
    }
    certs = {fid: facilities[fid]["certifications"] for fid in path_ids}
    lot_facility = graph[lot_id][0][0]
    by_country = {r["country"]: r["share"] for r in report["by_country"]}
    tvpra_hits = screening.tvpra_hits(
        screen_with.tvpra,
        report["mineral"],
        by_country,
        [(row["facility_type"], row["country"]) for row in path.values()],
    )
    entities = None
    if screen_with.entities is not None:
        parties = sorted(
            {
                ("operator", row["operator_id"], row["operator_name"] or row["operator_id"])
                for row in path.values()
            }
        )
        entities = {
            "lists": list(screen_with.entity_lists),
            "hits": screening.screen_names(parties, screen_with.entities, screen_with.threshold),
        }
    return facts_mod.derive(
        report,
        lot_facility=lot_facility,
        path=path,
        certifications=certs,
        as_of=as_of,
        tvpra={"edition": screen_with.tvpra.edition, "hits": tvpra_hits},
        entities=entities,
        wgi=_wgi(engine),
    )


# ------------------------------------------------------------------------------------------------ the service
def check(
    engine: Engine,
    lot: str,
    ruleset: str | RuleSet,
    *,
    as_of: dt.date | None = None,
    screen_with: Screening | None = None,
    checked_by: str | None = None,
) -> list[dict[str, Any]]:
    """Check ``lot`` against ``ruleset`` (a bundled id, a file, or a loaded RuleSet) and record every verdict.

    Returns one record per rule in scope, in the rule set's order: ``rule``, ``title``, ``source``, ``severity``,
    ``condition``, ``verdict`` (pass | fail | insufficient-data), ``reason``, ``facts`` (the facts the rule read,
    with their values), ``lot``, ``ruleset``, ``ruleset_version``, ``checked_at``, ``document`` (the canonical
    verdict document) and ``leaf_index`` (its leaf in the registry's log: prove it with
    ``lodeline trace log prove-leaf`` / the inclusion proof of that index)."""
    rs = get_ruleset(ruleset)
    facts = load_facts(engine, lot, as_of=as_of, screen_with=screen_with)
    verdicts = Evaluator(rs).evaluate(facts)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    checked_at = now.isoformat().replace("+00:00", "Z")
    rows, records = [], []
    for v in verdicts:
        doc = canonical_json(verdict_document(rs, facts["lot"], v, checked_at))
        rows.append(
            {
                "lot": facts["lot"],
                "ruleset_id": rs.id,
                "ruleset_version": rs.version,
                "rule_id": v["rule"],
                "verdict": v["verdict"],
                "document": doc,
            }
        )
        records.append(
            {
                **v,
                "lot": facts["lot"],
                "ruleset": rs.id,
                "ruleset_version": rs.version,
                "checked_at": checked_at,
                "document": doc,
            }
        )
    for record, index in zip(
        records, db.insert_verdicts(engine, rows, checked_at=now, checked_by=checked_by), strict=True
    ):
        record["leaf_index"] = index
    return records


def screen(engine: Engine, lot: str, *, screen_with: Screening | None = None) -> dict[str, Any]:
    """The screening facts of ``lot``: TVPRA edition and hits, entity lists and hits (None without a list)."""
    facts = load_facts(engine, lot, screen_with=screen_with)
    return {
        k: facts[k] for k in ("lot", "mineral", "tvpra_edition", "tvpra_hits", "entity_lists", "entity_hits")
    }


def screen_directory(engine: Engine, screen_with: Screening) -> dict[str, Any]:
    """Every participant and facility operator in the directory against the entity lists."""
    if screen_with.entities is None:
        raise InvalidArgumentError("screening the directory needs an entity list (--entities FILE)")
    with engine.connect() as conn:
        parties = [("participant", p["id"], p["name"]) for p in trace_parties.list_participants(conn)]
    return {
        "entity_lists": list(screen_with.entity_lists),
        "screened": len(parties),
        "threshold": screen_with.threshold,
        "hits": screening.screen_names(parties, screen_with.entities, screen_with.threshold),
    }


def stored_verdicts(engine: Engine, lot: str) -> list[dict[str, Any]]:
    """Verdicts recorded for ``lot`` (newest first), each with its document parsed."""
    return [{**r, "document": json.loads(r["document"])} for r in db.verdicts_of(engine, lot)]
