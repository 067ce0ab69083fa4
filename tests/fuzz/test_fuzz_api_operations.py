"""schemathesis over every operation with each role's credentials (anonymous, member, participant, auditor, admin,
secretariat), valid and invalid generated data: no 5xx, no traceback, bounded time and response size. Derandomised,
a few examples per operation, role and mode, so the run is the same in CI every time. No case is expected to fail."""

from __future__ import annotations

from typing import Any

import pytest
from known import NEW_ROUTES, known_values

from webstore import WebStore, run_operation

#: Examples per operation, role and mode (positive, negative).
EXAMPLES = 3
#: No answer may take longer or be larger (the largest legitimate page: 1000 market rows, ~0.5 MB).
MAX_SECONDS = 5.0
MAX_BYTES = 4 * 1024 * 1024
ROLES = ("public", "member", "participant", "auditor", "admin", "secretariat")


def assert_sane(response: Any) -> None:
    """No 5xx, no traceback, bounded time and size: the properties every answer of the service has."""
    # an xlsx download is binary (a zip): look for a traceback in its bytes, not in a text decoding
    text = response.content.decode("utf-8", "replace")
    assert response.status_code < 500, f"{response.status_code}: {text[:300]}"
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    assert len(response.content) <= MAX_BYTES, len(response.content)
    assert response.elapsed <= MAX_SECONDS, response.elapsed


def _cases() -> list[Any]:
    return [
        pytest.param(role, mode, id=f"{role}-{mode}") for mode in ("positive", "negative") for role in ROLES
    ]


@pytest.mark.parametrize(("role", "mode"), _cases())
def test_every_operation_as_every_role(fuzz_store: WebStore, fuzz_app: Any, role: str, mode: str) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    failures, ran = [], 0
    for result in schema.get_all_operations():
        op = result.ok()
        calls: list[int] = []

        def check(response: Any, calls: list[int] = calls) -> None:
            calls.append(response.status_code)
            assert_sane(response)

        error = run_operation(
            op,
            {"headers": fuzz_store.headers(role)},
            EXAMPLES,
            [schemathesis.checks.not_a_server_error],
            check,
            mode=generation,
        )
        ran += bool(calls)
        body = op.definition.raw.get("requestBody")
        schema = (body or {}).get("content", {}).get("application/json", {}).get("schema", {})
        any_json = body is not None and set(schema) <= {"title", "description"}  # e.g. a passport to verify
        takes_input = op.definition.raw.get("parameters") or (body and not any_json)
        if error and generation is GenerationMode.NEGATIVE and not takes_input and "satisfy" in error:
            continue  # nothing to make invalid: no parameter, and no body or one where any JSON is valid
        if error:
            failures.append(f"{op.method.upper()} {op.path}: {error}")
    assert not failures, "\n".join(failures)
    assert ran >= (22 if mode == "positive" else 15), ran  # every operation (that takes input) was called


def test_every_new_operation_with_known_values_as_every_role(fuzz_store: WebStore, fuzz_app: Any) -> None:
    """Every operation of the new capabilities, as every role, with values that exist (so reads get past their
    404s to the data): no 5xx, no traceback, bounded. Each operation is called for every role, and each read
    answers 2xx for some role (a read whose known value went stale fails here)."""
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    statuses: dict[tuple[str, str], dict[str, list[int]]] = {}
    failures = []
    for result in schema.get_all_operations():
        op = result.ok()
        key = (op.method.upper(), op.path)
        if not op.path.startswith(NEW_ROUTES):
            continue
        for role in ROLES:
            seen = statuses.setdefault(key, {}).setdefault(role, [])

            def check(response: Any, seen: list[int] = seen) -> None:
                seen.append(response.status_code)
                assert_sane(response)

            known = known_values(fuzz_store, *key)
            arguments = {"headers": fuzz_store.headers(role), **known}
            error = run_operation(op, arguments, 2, [schemathesis.checks.not_a_server_error], check)
            if error:
                failures.append(f"{key[0]} {key[1]} as {role}: {error}")
    assert not failures, "\n".join(failures)
    assert len(statuses) >= 45, sorted(statuses)
    uncalled = {
        k: [r for r in ROLES if not v.get(r)] for k, v in statuses.items() if not all(v.get(r) for r in ROLES)
    }
    assert not uncalled, uncalled
    never_ok = {
        k: {r: sorted(set(s)) for r, s in v.items()}
        for k, v in statuses.items()
        if k[0] == "GET" and not any(200 <= s < 300 for seen in v.values() for s in seen)
    }
    assert not never_ok, f"reads that never answered 2xx: {never_ok}"
