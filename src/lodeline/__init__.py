"""Lodeline: critical-mineral supply-chain cooperation platform.

The Python API (``docs/python.md``)::

    import lodeline
    result = lodeline.dependency("rare-earths", alliance="G7")
    result.frame, result.provenance

Every public name is loaded on first use (PEP 562 module ``__getattr__``) from :mod:`lodeline.python_api`, so
``import lodeline`` does not import Polars, SQLAlchemy or the command line.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: The stable public API: each name is defined in lodeline.python_api.
__all__ = [
    "Provenance",
    "Result",
    "Store",
    "StressTest",
    "__version__",
    "concentration",
    "criticality",
    "dependency",
    "geopolitical",
    "imports",
    "open_store",
    "overview",
    "prices",
    "scenarios",
    "sensitivity",
    "shares",
    "sources",
    "stress_test",
    "targets",
    "trade_flows",
    "trend",
    "value_creation",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and editors only
    from lodeline.python_api import (
        Provenance,
        Result,
        Store,
        StressTest,
        concentration,
        criticality,
        dependency,
        geopolitical,
        imports,
        open_store,
        overview,
        prices,
        scenarios,
        sensitivity,
        shares,
        sources,
        stress_test,
        targets,
        trade_flows,
        trend,
        value_creation,
    )


def __getattr__(name: str) -> Any:
    """Load a public name of the Python API on first use."""
    if name in __all__ and name != "__version__":
        from lodeline import python_api

        value = getattr(python_api, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'lodeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
