"""The one project schema. Gaps stay gaps: a missing figure is None and ``gaps`` says why, never 0."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any


class ProjectStage(StrEnum):
    """Supply-chain stages a project can cover (the EU CRMA vocabulary plus components)."""

    EXTRACTION = "extraction"
    PROCESSING = "processing"  # includes refining and separation
    RECYCLING = "recycling"
    SUBSTITUTION = "substitution"
    COMPONENTS = "components"  # magnets, components


class StudyStage(StrEnum):
    """CRIRSCO-style development stage, in order."""

    SCOPING = "scoping"
    PRE_FEASIBILITY = "pre-feasibility"
    FEASIBILITY = "feasibility"
    FINANCING = "financing"
    CONSTRUCTION = "construction"
    COMMISSIONING = "commissioning"
    OPERATING = "operating"


#: words a source uses for a stage → the register's stage
STAGE_ALIASES: dict[str, ProjectStage] = {
    "extraction": ProjectStage.EXTRACTION,
    "mining": ProjectStage.EXTRACTION,
    "exploration": ProjectStage.EXTRACTION,
    "processing": ProjectStage.PROCESSING,
    "refining": ProjectStage.PROCESSING,
    "separation": ProjectStage.PROCESSING,
    "recycling": ProjectStage.RECYCLING,
    "substitution": ProjectStage.SUBSTITUTION,
    "component_manufacturing": ProjectStage.COMPONENTS,
    "components": ProjectStage.COMPONENTS,
    "magnets": ProjectStage.COMPONENTS,
}

#: fields a member may mark confidential (visible only to the owner and the secretariat)
CONFIDENTIAL_FIELDS = frozenset({"capex", "capacity", "opex_per_year", "offtakes", "social", "coordinates"})


@dataclass(frozen=True, slots=True)
class SourceRef:
    list_name: str  # e.g. "EU CRMA strategic projects", "public financing commitments", "member"
    record_id: str  # the row id in that list
    url: str | None
    source_type: str | None  # primary | secondary | member
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Designation:
    scheme: str  # "EU CRMA strategic project", "MSP", "G7 production alliance", …
    reference: str | None  # decision and annex entry
    date: str | None  # ISO, possibly month/year precision


@dataclass(frozen=True, slots=True)
class Money:
    value: float
    currency: str
    value_high: float | None = None  # a stated range "350-400 m" keeps its upper end
    qualifier: str | None = None  # approximately, up_to, at_least, exact

    @property
    def midpoint(self) -> float:
        return self.value if self.value_high is None else (self.value + self.value_high) / 2


@dataclass(frozen=True, slots=True)
class Capacity:
    """A stated capacity and, where a documented factor exists, its contained metal or LCE equivalent."""

    value: float  # in ``unit`` per year
    unit: str  # "t/yr"
    product: str  # as stated: "lithium hydroxide", "lithium carbonate", "processed ore"
    raw: str  # the source's wording
    qualifier: str | None = None  # approximately, at_least
    mineral: str | None = None  # the mineral the converted figure refers to
    contained_t_per_year: float | None = None  # contained metal, t/yr (None: no documented factor)
    lce_t_per_year: float | None = None  # lithium carbonate equivalent, t/yr (lithium only)
    factor_note: str | None = None  # the factor used, or why none


@dataclass(frozen=True, slots=True)
class StatusEvent:
    status: str
    date: str | None
    source: str | None = None


@dataclass(frozen=True, slots=True)
class SocialDividend:
    """Documented local benefits; all optional. Monetised values are per year, in ``currency``."""

    local_jobs: int | None = None
    local_processing_share: float | None = None  # 0–1 of output processed locally
    community_benefit_agreement: bool | None = None
    fpic_status: str | None = (
        None  # free, prior and informed consent: obtained / in progress / not applicable …
    )
    local_value_added_per_year: float | None = None
    local_wages_per_year: float | None = None
    community_payments_per_year: float | None = None
    currency: str | None = None
    evidence: str | None = None  # where the figures are documented


@dataclass(frozen=True, slots=True)
class Project:
    project_id: str
    name: str
    promoters: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()  # ISO 3166 alpha-2 as the sources give them
    location: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    minerals: tuple[str, ...] = ()  # mineral ids (lodeline.domain.minerals)
    other_materials: str | None = None
    stages: tuple[ProjectStage, ...] = ()
    product: str | None = None
    grade: str | None = None
    capacity: Capacity | None = None
    capex: Money | None = None
    opex_per_year: Money | None = None
    study_stage: StudyStage | None = None
    status_history: tuple[StatusEvent, ...] = ()
    expected_start: str | None = None  # as stated
    expected_start_year: int | None = None  # the first year the statement names
    designations: tuple[Designation, ...] = ()
    financing: tuple[str, ...] = ()  # commitment ids of the ledger
    offtakes: tuple[str, ...] = ()
    social: SocialDividend | None = None
    permit_applied: str | None = None  # ISO date the permit application was complete
    permit_granted: str | None = None
    production_start: str | None = None  # ISO date of first production (actual)
    sources: tuple[SourceRef, ...] = ()
    gaps: dict[str, str] = field(default_factory=dict)  # field → why it is empty
    owner_org: str | None = None  # None: public record from the bundled lists
    confidential: frozenset[str] = frozenset()  # fields visible only to the owner and the secretariat
    merged_from: tuple[str, ...] = ()  # ids folded into this record by de-duplication
    merge_note: str | None = None

    def with_gaps(self) -> Project:
        """The record with a reason for every empty figure the comparison needs (existing reasons kept)."""
        gaps = dict(self.gaps)
        for name, reason in (
            ("capacity", "not stated in the source"),
            ("capex", "not stated in the source"),
            ("expected_start", "not stated in the source"),
            ("study_stage", "not stated in the source"),
            ("coordinates", "not stated in the source"),
            ("social", "no documented local benefits"),
        ):
            value = self.latitude if name == "coordinates" else getattr(self, name)
            if value is None:
                gaps.setdefault(name, reason)
        return replace(self, gaps=gaps)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["stages"] = [s.value for s in self.stages]
        out["study_stage"] = self.study_stage.value if self.study_stage else None
        out["confidential"] = sorted(self.confidential)
        return out


def redact(project: Project) -> Project:
    """The public view of a project: confidential fields emptied, each gap saying it is confidential."""
    if not project.confidential:
        return project
    gaps = dict(project.gaps)
    changes: dict[str, Any] = {}
    for name in project.confidential:
        if name == "coordinates":
            changes["latitude"] = None
            changes["longitude"] = None
        else:
            changes[name] = () if name == "offtakes" else None
        gaps[name] = "confidential (visible to the owner and the secretariat)"
    return replace(project, gaps=gaps, **changes)
