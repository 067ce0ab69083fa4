"""The installed package imports only its runtime dependencies: benchmark and test code that needs development-only
packages (pandas, pymerkle, httpx, duckdb, highspy, …) lives in ``benchmarks/`` and ``tests/``, outside the wheel.

Why a test of the import list suffices instead of building a wheel: the wheel is ``[tool.hatch.build.targets.wheel]
packages = ["src/lodeline"]`` (checked below), so it holds exactly the modules under ``src/lodeline``; if none of
them imports a development-only package, at module level or inside a function, every command of a wheel install
can import what it needs."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "lodeline"
PYPROJECT = PACKAGE.parents[1] / "pyproject.toml"
#: Distribution name -> import name where they differ.
IMPORT_NAME = {"pytest-timeout": "pytest_timeout"}


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[\s\[<>=~!;]", r, maxsplit=1)[0].lower() for r in requirements}


def development_only_imports() -> set[str]:
    """Import names of the dev dependency group that are not runtime dependencies (stub-only packages left out)."""
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    runtime = _names(project["project"]["dependencies"])
    dev = _names(project["dependency-groups"]["dev"]) - runtime
    return {
        IMPORT_NAME.get(name, name.replace("-", "_"))
        for name in dev
        if not (name.endswith("-stubs") or name.startswith("types-"))
    }


def imported_top_levels(source: str) -> set[str]:
    """Top-level module names of every ``import``/``from … import`` in ``source``, wherever it sits."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_the_walker_sees_imports_inside_functions() -> None:
    source = "import polars as pl\n\ndef f():\n    import pandas as pd\n    from duckdb.x import y\n"
    assert imported_top_levels(source) == {"polars", "pandas", "duckdb"}


def test_the_dev_list_names_the_benchmark_peers() -> None:
    forbidden = development_only_imports()
    assert {"pandas", "pymerkle", "httpx", "duckdb", "highspy", "pytest"} <= forbidden
    assert "polars" not in forbidden and "numpy" not in forbidden


def test_no_module_of_the_package_imports_a_development_only_package() -> None:
    forbidden = development_only_imports() | {"benchmarks", "tests"}
    offenders = {}
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 100
    for path in files:
        bad = imported_top_levels(path.read_text(encoding="utf-8")) & forbidden
        if bad:
            offenders[str(path.relative_to(PACKAGE.parent))] = sorted(bad)
    assert offenders == {}


def test_the_wheel_is_the_package_and_holds_no_benchmark_module() -> None:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    assert project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"] == ["src/lodeline"]
    benchmark_like = [
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*") if re.match(r"bench(mark)?s?(\.py)?$", p.name)
    ]
    assert benchmark_like == []
