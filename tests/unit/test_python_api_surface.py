"""The public Python API: ``import lodeline`` stays light, and every public name is documented and resolves."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import lodeline
from lodeline import python_api

HEAVY = ("polars", "sqlalchemy", "typer", "numpy", "pandas", "openpyxl", "fastapi")


def _loaded_after(code: str) -> list[str]:
    """The heavy modules loaded in a fresh interpreter after running ``code``."""
    probe = f"import json, sys\n{code}\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_import_lodeline_loads_no_heavy_dependency() -> None:
    assert _loaded_after("import lodeline; lodeline.__version__") == []


def test_the_first_use_of_a_public_name_loads_the_api() -> None:
    assert {"polars", "sqlalchemy"} <= set(_loaded_after("import lodeline; lodeline.dependency"))
    assert {"polars", "sqlalchemy"} <= set(_loaded_after("from lodeline import Result"))


def test_every_public_name_resolves_and_is_documented() -> None:
    assert lodeline.__all__ == sorted(lodeline.__all__)
    assert set(lodeline.__all__) - {"__version__"} == set(python_api.__all__)
    for name in python_api.__all__:
        value = getattr(lodeline, name)
        assert value is getattr(python_api, name)
        assert inspect.getdoc(value), f"{name} has no docstring"
        if inspect.isfunction(value):
            hints = inspect.get_annotations(value)
            assert "return" in hints and set(inspect.signature(value).parameters) <= set(hints), name
    assert set(python_api.__all__) <= set(dir(lodeline))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'dependancy'"):
        lodeline.dependancy  # noqa: B018
