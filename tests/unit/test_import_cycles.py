"""The packages under ``src/lodeline`` import each other without cycles and only downwards (docs/ARCHITECTURE.md,
"Dependency rule"), and a migration imports no application code that can change after it was written.

The import graph is read from the source, not from ``sys.modules``: every ``import``/``from … import`` anywhere in a
module (top level, inside functions, under ``TYPE_CHECKING``) and every ``importlib.import_module("lodeline…")``
with a literal name. Modules collapse to packages (``lodeline.api``, ``lodeline.store``, …; a top-level module such
as ``lodeline.config`` is its own node). ``from lodeline import __version__`` is no edge: the root package holds the
version and the lazy Python facade, and is initialised before any submodule anyway.

Alembic loads the revisions under ``store/migrations/`` by path and nothing imports them, so they are a node of
their own (``lodeline.store.migrations``) with a stricter rule of their own (``test_migrations_import_no_application_code``).
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "lodeline"
MIGRATIONS = "lodeline.store.migrations"
VERSIONS = SRC / "store" / "migrations" / "versions"

#: The dependency rule: a package imports only packages of a LOWER layer (docs/ARCHITECTURE.md keeps the same
#: table). A new package gets its row here and there.
LAYERS: dict[str, int] = {
    "lodeline.errors": 0,
    "lodeline.config": 0,
    "lodeline.tlog": 0,
    "lodeline.export": 1,
    "lodeline.inputs": 1,
    "lodeline.domain": 1,
    "lodeline.store": 2,
    "lodeline.alerts": 3,
    "lodeline.comply": 3,
    "lodeline.data": 3,
    "lodeline.deals": 3,
    "lodeline.market": 3,
    "lodeline.outlook": 3,
    "lodeline.risk": 3,
    "lodeline.sim": 3,
    "lodeline.stockpiles": 3,
    "lodeline.trace": 3,
    "lodeline.projects": 3,
    "lodeline.passport": 4,
    "lodeline.services": 5,
    "lodeline.reports": 6,
    "lodeline.api": 6,
    "lodeline.witness": 6,
    "lodeline.python_api": 6,
    "lodeline.web": 7,
    "lodeline.server": 8,
    "lodeline.cli": 9,
    MIGRATIONS: 9,
    "lodeline": 10,
}

#: Modules a migration may import besides the standard library, sqlalchemy and alembic: frozen by design, each
#: pinned to the sha256 of its file, so a change to one is a new module (and a new migration), never an edit.
FROZEN: dict[str, str] = {
    # GS1 Digital Link canonical form of identifiers, as both event hash algorithms hash them
    "lodeline.trace.digital_link_v1": "05cf2a791a41574e729355a25267b81c9b2e3b37e3ba6051890f80a42a76a0d8",
    # the event hash before issue 11 (log leaves before trace_0007's boundary)
    "lodeline.trace.event_hash_v1": "e743ebf673ee86e2e7afbab50e210ce1a0688901f410e6c833105d0c66ebb263",
    # the event hash of issue 11 and its rules (trace_0007; lodeline.trace.event_hash re-exports it as current)
    "lodeline.trace.event_hash_v2": "28ef2a3aad0a32f943f3f81630c2f05ce23d6da4144ed4ca37677635e39d5648",
    "lodeline.trace.event_hash_rules_v2": "8c3761d39b3f26084b7f90a3aca48519bbd943768851b2098e35f21659e1a15a",
    # trace_0007's re-keying of stored events to event_hash_v2
    "lodeline.trace.rehash_v2": "bd2a96a5ae84347098ce0b07d8f90303d6c09b61a1f70d82437e32346f7ac97f",
    # trace_0002-0004's backfills: custody journal, EPC index, event locations
    "lodeline.trace.ledger_v1": "c5c96f99a4984afa7aefc48ca7f50c2b764c7816397803fbec03234e26b172d8",
    # trace_0006's directory snapshot (lodeline-directory/v1 leaves appended to the log)
    "lodeline.trace.directory_snapshot_v1": "2617060882c7f478a2a2f9fa993784777018092017a1ea3ed51062e54d3291a6",
}

#: Migrations written before the rule that still import application code. Each is an expected failure, strict:
#: the test fails as soon as one of them is fixed and still listed here. Empty since issue 12 froze the last five
#: (trace_0002-0004, trace_0006, trace_0007); a revision is never added here, it is written to the rule.
NOT_YET_FROZEN: frozenset[str] = frozenset()


@dataclass
class Graph:
    """Package -> imported package -> the importing lines (``path:line: import``)."""

    edges: dict[str, dict[str, list[str]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )


def module_name(path: Path, src: Path) -> str:
    """``src/lodeline/store/trace.py`` -> ``lodeline.store.trace`` (``__init__.py`` names its package)."""
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str:
    """The node a module belongs to: its top-level package under ``lodeline`` (migrations are their own)."""
    if module == MIGRATIONS or module.startswith(MIGRATIONS + "."):
        return MIGRATIONS
    parts = module.split(".")
    return ".".join(parts[:2])


def imported_modules(tree: ast.Module, module: str, is_package: bool) -> list[tuple[int, str]]:
    """(line, module) for every import in ``tree``, relative imports resolved against ``module``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            # `from lodeline import config` names a module; `from lodeline import __version__` a name
            found.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            if name == "import_module" and isinstance(node.args[0].value, str):
                found.append((node.lineno, node.args[0].value))
    return found


def build_graph(src: Path) -> Graph:
    """The package import graph of the package rooted at ``src``."""
    graph = Graph()
    for path in sorted(src.rglob("*.py")):
        module = module_name(path, src)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        source = package_of(module)
        for line, target in imported_modules(tree, module, path.name == "__init__.py"):
            if not (target == "lodeline" or target.startswith("lodeline.")):
                continue
            if target.count(".") == 1 and not _exists(src, target.split(".")[1]):
                continue  # a name from the root package (``__version__``), not a module
            dest = package_of(target)
            where = f"{path.relative_to(src.parent.parent)}:{line}: "
            lines = graph.edges[source][dest] if dest != source else []
            if dest != source and not any(w.startswith(where) for w in lines):  # one entry per importing line
                lines.append(where + target)
    return graph


def _exists(src: Path, name: str) -> bool:
    return (src / f"{name}.py").is_file() or (src / name / "__init__.py").is_file()


def find_cycles(graph: Graph) -> list[list[str]]:
    """One cycle (a list of packages, first repeated last) for every strongly connected component of two or more
    packages (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.edges.get(node, {})):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph.edges):
        if node not in index:
            connect(node)
    return [_cycle_in(graph, set(component)) for component in components]


def _cycle_in(graph: Graph, component: set[str]) -> list[str]:
    """A shortest cycle through the first package of ``component`` (breadth first inside the component)."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for nxt in sorted(graph.edges.get(node, {})):
            if nxt == start:
                return [*paths[node], start]
            if nxt in component and nxt not in paths:
                paths[nxt] = [*paths[node], nxt]
                queue.append(nxt)
    raise AssertionError(f"no cycle through {start} in {sorted(component)}")  # a component always has one


def describe(graph: Graph, cycle: list[str]) -> str:
    """The cycle and, for each step, the lines that import (at most five each)."""
    lines = [" -> ".join(cycle)]
    for a, b in itertools.pairwise(cycle):
        where = graph.edges[a][b]
        lines.append(f"  {a} -> {b}:")
        lines.extend(f"    {w}" for w in where[:5])
        if len(where) > 5:
            lines.append(f"    … and {len(where) - 5} more")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- the rules
def test_no_import_cycle_between_packages() -> None:
    graph = build_graph(SRC)
    cycles = find_cycles(graph)
    assert not cycles, "import cycles between packages:\n" + "\n".join(describe(graph, c) for c in cycles)


def test_every_package_has_a_layer() -> None:
    packages = {package_of(module_name(p, SRC)) for p in SRC.rglob("*.py")}
    missing = sorted(packages - LAYERS.keys())
    assert not missing, (
        f"packages without a layer (add them to LAYERS and to docs/ARCHITECTURE.md): {missing}"
    )


def test_packages_import_only_lower_layers() -> None:
    graph = build_graph(SRC)
    upward = [
        f"{a} (layer {LAYERS[a]}) imports {b} (layer {LAYERS[b]}):\n    " + "\n    ".join(where[:5])
        for a, targets in sorted(graph.edges.items())
        for b, where in sorted(targets.items())
        if a in LAYERS and b in LAYERS and LAYERS[b] >= LAYERS[a]
    ]
    assert not upward, (
        "imports that go up or sideways (docs/ARCHITECTURE.md, Dependency rule):\n" + "\n".join(upward)
    )


def test_the_layer_table_is_the_documented_one() -> None:
    """docs/ARCHITECTURE.md's "Dependency rule" table gives every package the layer LAYERS gives it."""
    text = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    table = text[text.index("## Dependency rule") :].split("\n## ")[0]
    documented: dict[str, int] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and cells[0].isdigit():
            for name in re.findall(r"`([a-z_.]+)`", cells[1]):
                documented["lodeline" if name == "lodeline" else f"lodeline.{name}"] = int(cells[0])
    assert documented == LAYERS


def _migration_violations(path: Path, shown_from: Path = ROOT) -> list[str]:
    """Each import of ``path`` that is neither the standard library, sqlalchemy, alembic nor a pinned frozen
    module (``path:line: module``, the path shown from ``shown_from``)."""
    allowed_roots = set(sys.stdlib_module_names) | {"sqlalchemy", "alembic", "__future__"}
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    module = module_name(path, SRC) if path.is_relative_to(SRC) else path.stem
    bad = []
    for line, target in imported_modules(tree, module, False):
        root = target.split(".")[0]
        if root in allowed_roots:
            continue
        if any(target == f or target.startswith(f + ".") for f in FROZEN):
            continue
        bad.append(f"{path.relative_to(shown_from)}:{line}: {target}")
    return bad


@pytest.mark.parametrize(
    "migration",
    [
        pytest.param(
            p.name,
            marks=pytest.mark.xfail(strict=True, reason="issue 12: written before the rule, not yet frozen")
            if p.stem in NOT_YET_FROZEN
            else (),
        )
        for p in sorted(VERSIONS.glob("*.py"))
    ],
)
def test_migrations_import_no_application_code(migration: str) -> None:
    """A migration runs years after it was written, against the code of that day: it may import only the standard
    library, sqlalchemy, alembic and the frozen modules of ``FROZEN`` (docs/ARCHITECTURE.md, "Migrations")."""
    bad = _migration_violations(VERSIONS / migration)
    assert not bad, "a migration imports application code that can change:\n" + "\n".join(bad)


def _frozen_changes(frozen: dict[str, str], src_parent: Path) -> list[str]:
    """Each frozen module whose file no longer has its pinned sha256."""
    changed = []
    for module, pinned in sorted(frozen.items()):
        path = src_parent / (module.replace(".", "/") + ".py")
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "missing"
        if digest != pinned:
            changed.append(f"{module}: sha256 {digest}, pinned {pinned}")
    return changed


def test_frozen_modules_are_unchanged() -> None:
    """A frozen module's file has the sha256 pinned in ``FROZEN`` (a change is a new module, not an edit)."""
    changed = _frozen_changes(FROZEN, SRC.parent)
    assert not changed, "frozen modules are never edited:\n" + "\n".join(changed)


def test_frozen_modules_import_only_frozen_code() -> None:
    """What a frozen module imports is frozen too (the standard library, sqlalchemy or another frozen module)."""
    bad = []
    for module in FROZEN:
        path = SRC.parent / (module.replace(".", "/") + ".py")
        bad.extend(_migration_violations(path))
    assert not bad, "frozen modules import code that can change:\n" + "\n".join(bad)


# ---------------------------------------------------------------- the checker finds what it is meant to find
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "lodeline"
    for name, text in files.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for directory in [src, *(p for p in src.rglob("*") if p.is_dir())]:
        (directory / "__init__.py").touch()
    return src


def test_a_cycle_through_function_level_and_import_module_imports_is_named(tmp_path: Path) -> None:
    """api imports web inside a function, web imports api through ``importlib.import_module``: the cycle is
    found and named with both importing lines; a one-way import and ``from lodeline import __version__`` are not."""
    src = _package(
        tmp_path,
        {
            "api/app.py": "from lodeline import __version__\n\ndef create():\n    from lodeline.web.pages import x\n",
            "web/pages.py": "import importlib\nm = importlib.import_module('lodeline.api.deps')\n",
            "api/deps.py": "from lodeline.store import engine\n",
            "store/engine.py": "from .. import errors\n",
            "errors.py": "",
        },
    )
    graph = build_graph(src)
    assert find_cycles(graph) == [["lodeline.api", "lodeline.web", "lodeline.api"]]
    text = describe(graph, find_cycles(graph)[0])
    assert "lodeline/api/app.py:4: lodeline.web.pages" in text
    assert "lodeline/web/pages.py:2: lodeline.api.deps" in text
    assert set(graph.edges) == {"lodeline.api", "lodeline.web", "lodeline.store"}
    assert graph.edges["lodeline.store"].keys() == {"lodeline.errors"}  # the relative import, resolved


def test_a_migration_importing_application_code_is_named(tmp_path: Path) -> None:
    """A revision that imports lodeline.trace inside ``upgrade()`` is named with its line; stdlib, sqlalchemy and
    alembic imports pass."""
    path = tmp_path / "trace_0099.py"
    path.write_text(
        "import json\nimport sqlalchemy as sa\nfrom alembic import op\n\ndef upgrade():\n"
        "    from lodeline.trace.rehash import rehash_events\n",
        encoding="utf-8",
    )
    bad = _migration_violations(path, shown_from=tmp_path)
    assert bad == ["trace_0099.py:6: lodeline.trace.rehash.rehash_events"]


def test_an_edited_frozen_module_is_named(tmp_path: Path) -> None:
    """The pin is the sha256 of the file's bytes (``sha256sum`` of ``b"X = 1\\n"`` is the value below): one
    changed byte, or a missing file, is named."""
    (tmp_path / "lodeline").mkdir()
    module = tmp_path / "lodeline" / "frozen_v1.py"
    module.write_bytes(b"X = 1\n")
    pinned = {"lodeline.frozen_v1": "0abae1e0ae728216ee44993c5a3a755f8b1c387d947fc4c4f72cab0e4a84214b"}
    assert _frozen_changes(pinned, tmp_path) == []
    module.write_bytes(b"X = 2\n")
    assert _frozen_changes(pinned, tmp_path)[0].startswith("lodeline.frozen_v1: sha256 ")
    module.unlink()
    assert _frozen_changes(pinned, tmp_path) == [
        f"lodeline.frozen_v1: sha256 missing, pinned {pinned['lodeline.frozen_v1']}"
    ]
