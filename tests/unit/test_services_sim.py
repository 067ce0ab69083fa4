"""services.sim without a store: the library, uploads read within bounds (each refusal names the reason), and a
run's progress reported from 0 to 1. The worked example's shortfalls (USA 50 t, DEU 20 t) are worked out by
hand in docs/methods/stress-test.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from lodeline.errors import NotFoundError
from lodeline.services import sim as service
from lodeline.sim.scenario import ScenarioError, library_scenarios

WORKED = (Path(__file__).resolve().parents[2] / "docs" / "examples" / "worked-example.yaml").read_text(
    "utf-8"
)


def test_library_listing_and_lookup() -> None:
    rows = service.list_scenarios()
    assert [r["name"] for r in rows] == list(library_scenarios())
    assert all(r["source"] and r["disruptions"] >= 1 for r in rows)
    with pytest.raises(NotFoundError, match="cn-graphite-2023"):
        service.library("no-such")
    assert service.scenario_detail("cn-graphite-2023")["spec"]["mineral"] == "graphite"


LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(6)
)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b"\xff\xfe name: x", "not UTF-8"),
        ("x" * (service.MAX_UPLOAD_BYTES + 1), "larger than"),
        ("a: [" * 50 + "]" * 50, "nested deeper"),
        (LAUGHS, "more than 100,000 values"),
        ("name: x\n  bad: indent: here", "line 2"),
        (f"n: {'9' * 80}", "an integer of 80 digits"),
    ],
)
def test_uploads_are_read_within_bounds(text: str | bytes, words: str) -> None:
    with pytest.raises(ScenarioError, match=words):
        service.scenario_from_upload(text, "upload")


def test_a_run_reports_progress_to_the_end() -> None:
    seen: list[float] = []
    report = service.run(
        service.scenario_from_upload(WORKED), "upload", progress=lambda f, _m: seen.append(f)
    )
    assert seen == sorted(seen) and seen[-1] == 1.0 and len(seen) >= 3
    by = {r["country"]: r for r in report["members"]}
    assert by["USA"]["shortfall_t"] == 50.0 and by["DEU"]["shortfall_t"] == 20.0
    assert report["provenance"]["sources"] == [] and report["provenance"]["method"] == service.METHOD
