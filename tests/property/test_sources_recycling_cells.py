"""Properties of the UNEP recycling-cell reader: bounds stay ordered, open sides stay open, never a made-up zero."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from lodeline.data.sources.unep_recycling import parse_cell

FOOTNOTES = {"a": "working group consensus", "b": "Worldsteel (2009)"}


@st.composite
def estimate(draw: st.DrawFn) -> tuple[str, float | None, float | None]:
    """One printed estimate and its (low, high); None = open side."""
    lo = draw(st.integers(0, 100))
    kind = draw(st.sampled_from(["plain", "range", "lt", "gt", "approx"]))
    letter = draw(st.sampled_from(["", "a", "b"]))
    if kind == "range":
        hi = draw(st.integers(lo, 100))
        return f"{lo}-{hi}{letter}", float(lo), float(hi)
    if kind == "lt":
        return f"<{lo}{letter}", None, float(lo)
    if kind == "gt":
        return f">{lo}{letter}", float(lo), None
    if kind == "approx":
        return f"~{lo}{letter}", float(lo), float(lo)
    return f"{lo}{letter}", float(lo), float(lo)


@given(st.lists(estimate(), min_size=1, max_size=4))
def test_envelope_of_estimates(parts: list[tuple[str, float | None, float | None]]) -> None:
    raw = ", ".join(p[0] for p in parts)
    low, high, flag, note = parse_cell(raw, footnotes=FOOTNOTES, file="f.csv", row=2, column="c")
    lows = [p[1] for p in parts]
    highs = [p[2] for p in parts]
    if any(v is None for v in lows):
        assert low is None
    else:
        assert low == min(v for v in lows if v is not None)
    if any(v is None for v in highs):
        assert high is None
    else:
        assert high == max(v for v in highs if v is not None)
    if low is not None and high is not None:
        assert low <= high
        assert flag is None
    elif low is None and high is not None:
        assert flag == "<"
    elif high is None and low is not None:
        assert flag == ">"
    else:
        assert flag == "NA"
    assert note.count(":") >= len(parts)
