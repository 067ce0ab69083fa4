"""The passport's fast RFC 8785 path (``json.dumps`` where it writes the same bytes) equals the project's JCS
encoder on arbitrary JSON values: keys anywhere in Unicode (surrogate order), floats of every magnitude
(exponent forms, integral values), big integers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lodeline.passport.proof import canonical
from lodeline.trace.directory import canonical_json

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-7, 1e-5, 1e-4, 0.0001234, 1e15, 1e16, 1e21, 123456789012345680.0, -0.0, 1000.0])
    | st.text()
)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(_json)
def test_fast_path_equals_jcs(value: object) -> None:
    try:
        expected = canonical_json(value)
    except Exception:  # a lone surrogate: neither may produce bytes
        try:
            canonical(value)
        except Exception:
            return
        raise AssertionError("the fast path encoded what JCS refuses") from None
    assert canonical(value) == expected


def test_examples() -> None:
    assert canonical({"b": 1000.0, "a": [1e-7, 0.5, "é"]}) == b'{"a":[1e-7,0.5,"\xc3\xa9"],"b":1000}'
    assert canonical({"\U0001f600": 1, "\ufb01": 2}) == canonical_json({"\U0001f600": 1, "\ufb01": 2})
