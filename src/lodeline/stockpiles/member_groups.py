"""The member-group dimension of the published stockpile table: which group each member's holdings are summed into.

Groups are data (``stockpiles/groups/member-groups.yaml``): an ordered list of ``name`` + ``alliance`` (resolved by
:func:`lodeline.domain.groups.resolve_alliance`), the first match wins, and a member in none is put in ``other``.
Grouping happens before disclosure control, so a group's cell is protected like any other (a group of one
contributing member is a minimum-frequency cell and shows ``:c``)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from lodeline.domain.groups import resolve_alliance
from lodeline.errors import InvalidArgumentError
from lodeline.inputs import Bounds, InputRejected, parse_yaml
from lodeline.stockpiles.submission import HOLDER_TYPES

GROUPS_BOUNDS = Bounds(max_bytes=64 * 1024, max_depth=6, max_nodes=2_000)
#: The dimensions a published table may group members by; the first is the default.
BY = ("holder-type", "member-group")
#: Names a group may not take: the margin label and the holder types (linked tables share cells by label, so a
#: group named like a holder type would be mistaken for that holder type's cells).
RESERVED = ("ALL", *HOLDER_TYPES)


@dataclass(frozen=True)
class MemberGroups:
    """Ordered (name, members) pairs and the name of the rest."""

    groups: tuple[tuple[str, frozenset[str]], ...]
    other: str

    def group_of(self, member: str) -> str:
        for name, members in self.groups:
            if member in members:
                return name
        return self.other

    def describe(self) -> str:
        names = ", ".join(name for name, _ in self.groups)
        return f"member groups {names} (first match wins), everyone else '{self.other}'"


def parse_groups(value: Any, where: str) -> MemberGroups:
    """Validated member groups from parsed YAML; errors name the field."""
    if not isinstance(value, dict) or not isinstance(value.get("groups"), list) or not value["groups"]:
        raise InvalidArgumentError(f"{where}: 'groups' must be a non-empty list of {{name, alliance}}")
    out: list[tuple[str, frozenset[str]]] = []
    for i, item in enumerate(value["groups"]):
        field = f"{where}: groups[{i}]"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise InvalidArgumentError(f"{field}.name: a non-empty text is required")
        if not isinstance(item.get("alliance"), str):
            raise InvalidArgumentError(f"{field}.alliance: a country group or ISO3 list is required")
        name = item["name"].strip()
        if name in RESERVED or name in (n for n, _ in out):
            raise InvalidArgumentError(f"{field}.name: {name!r} is reserved or repeated")
        out.append((name, resolve_alliance(item["alliance"]).members))
    other = value.get("other", "other partners")
    if not isinstance(other, str) or not other.strip() or other in (*RESERVED, *(n for n, _ in out)):
        raise InvalidArgumentError(
            f"{where}: other: a name distinct from the groups, 'ALL' and holder types is required"
        )
    return MemberGroups(tuple(out), other.strip())


def groups_from_text(text: str | bytes, where: str) -> MemberGroups:
    try:
        value = parse_yaml(text, GROUPS_BOUNDS)
    except InputRejected as exc:
        raise InvalidArgumentError(f"{where}: {exc.reason}") from None
    return parse_groups(value, where)


def bundled_groups() -> MemberGroups:
    """The shipped grouping (G7, EU27, other partners)."""
    path = resources.files("lodeline.stockpiles").joinpath("groups", "member-groups.yaml")
    return groups_from_text(path.read_text(encoding="utf-8"), "stockpiles/groups/member-groups.yaml")
