"""Label placement for the criticality chart and the comparison with the official EU list, on hand examples."""

from __future__ import annotations

import itertools
import json

import polars as pl
import pytest

from lodeline.risk.eu_comparison import VERDICTS, compare_with_official_list, method_deviations
from lodeline.risk.labels import Box, PlotFrame, label_size, place_labels

#: 100 x 100 data units on a 500 x 500 pixel plot area (margins 50): one data unit is 5 pixels.
FRAME = PlotFrame(600, 600, 50, 50, 50, 50, (0.0, 100.0), (0.0, 100.0))


def test_data_to_pixels_by_hand() -> None:
    """(0, 0) is the area's bottom-left (50, 550); (100, 100) its top-right (550, 50); (20, 40) is
    50 + 20 * 5 = 150 across and 550 - 40 * 5 = 350 down."""
    assert FRAME.to_pixels(0, 0) == (50, 550)
    assert FRAME.to_pixels(100, 100) == (550, 50)
    assert FRAME.to_pixels(20, 40) == (150, 350)


def test_a_lone_label_sits_just_above_its_marker() -> None:
    """'Gallium' at 11 px: 7 characters * 11 * 0.62 + 6 = 53.74 px wide, 11 * 1.35 + 6 = 20.85 px high. The
    nearest candidate is above the marker (radius 5 + 2 px gap): centre 7 + 20.85 / 2 = 17.425 px up, so the box
    ends 7 px above the point at (300, 300); right of the marker the centre would be 7 + 53.74 / 2 = 33.87 px away."""
    (label,) = place_labels([("Gallium", 50.0, 50.0)], FRAME, font_px=11, marker_px=10)
    width, height = label_size("Gallium", 11)
    assert width == pytest.approx(53.74) and height == pytest.approx(20.85)
    assert (label.dx, label.dy) == (0.0, pytest.approx(-17.425))
    assert label.box.y1 == pytest.approx(300 - 7) and label.box.x0 == pytest.approx(300 - 53.74 / 2)


def test_crowded_points_get_boxes_that_do_not_overlap() -> None:
    """Twelve points one data unit (5 px) apart would all take the same spot; placed, no two boxes meet and none
    covers a marker or leaves the plot area. The same input gives the same placement."""
    points = [(f"Material {i}", 40.0 + i, 40.0 + (i % 3)) for i in range(12)]
    labels = place_labels(points, FRAME)
    assert [lab.text for lab in labels] == [p[0] for p in points]
    for a, b in itertools.combinations(labels, 2):
        assert not a.box.overlaps(b.box), (a.text, b.text)
    markers = [FRAME.to_pixels(x, y) for _, x, y in points]
    for lab in labels:
        assert lab.box.inside(FRAME.area)
        assert not any(lab.box.overlaps(Box(px - 5, py - 5, px + 5, py + 5)) for px, py in markers)
    assert place_labels(points, FRAME) == labels


def test_a_chart_too_small_for_its_labels_is_refused() -> None:
    tiny = PlotFrame(120, 60, 10, 10, 10, 10, (0.0, 1.0), (0.0, 1.0))
    with pytest.raises(ValueError, match="too small"):
        place_labels([(f"A long material name {i}", 0.5, 0.5) for i in range(3)], tiny)


def _row(material: str, sr: float | None, ei: float | None, **extra: object) -> dict[str, object]:
    critical = None if sr is None or ei is None else sr >= 1.0 and ei >= 2.8
    return {
        "material": material,
        "sr": sr,
        "ei": ei,
        "critical": critical,
        "status": "ok" if sr is not None else "insufficient data",
        "reason": extra.get("reason"),
        "flags": extra.get("flags"),
        "ei_source": "published (EC 2023)",
        "inputs": json.dumps(extra.get("inputs", {})),
    }


def test_verdicts_against_the_official_list() -> None:
    """Gallium (listed) critical: agrees. Copper (listed) SR 0.17: listed, not critical. Tellurium (not listed)
    SR 3.1, EI 3.5: critical, not listed. Lead (not listed) SR 0.4: agrees. Scandium (listed) no SR: unclassified."""
    table = pl.DataFrame(
        [
            _row("Gallium", 5.3, 3.7),
            _row("Copper", 0.17, 4.0),
            _row("Tellurium", 3.1, 3.5),
            _row("Lead", 0.4, 4.0),
            _row("Scandium", None, 4.4),
        ]
    )
    out = compare_with_official_list(table)
    verdict = dict(out.select("material", "verdict").iter_rows())
    assert verdict == {
        "Gallium": VERDICTS[0],
        "Lead": VERDICTS[1],
        "Copper": VERDICTS[2],
        "Tellurium": VERDICTS[3],
        "Scandium": VERDICTS[4],
    }
    assert out["material"].to_list() == ["Gallium", "Lead", "Copper", "Tellurium", "Scandium"]
    agrees = dict(out.select("material", "agrees").iter_rows())
    assert agrees == {"Gallium": True, "Lead": True, "Copper": False, "Tellurium": False, "Scandium": None}


def test_deviations_are_counted_from_the_rows() -> None:
    """Two materials: one read on 2023-2025 supply with a rare-earth group proxy, one on 2018-2020 with global
    supply standing in for EU sourcing. Only the first is outside the EC's 2016-2020 window."""
    inputs_a = {
        "processing": {
            "years_global": [2023, 2024, 2025],
            "eu_sourcing": "extra-EU imports (trade)",
            "supply_stage": "processing",
        },
        "wgi": {"year": 2023, "imputed": ["BLM"]},
    }
    inputs_b = {
        "extraction": {
            "years_global": [2018, 2019, 2020],
            "eu_sourcing": "proxy: global supply",
            "supply_stage": "extraction",
        },
        "wgi": {"year": 2023, "imputed": ["BLM"]},
    }
    table = pl.DataFrame(
        [
            _row("Terbium", 4.0, 5.0, inputs=inputs_a, flags="HREE/LREE not distinguished: …"),
            _row("Baryte", 1.2, 3.0, inputs=inputs_b),
        ]
    )
    out = {r["topic"]: r for r in method_deviations(table).to_dicts()}
    assert out["data years"]["affected"] == "Terbium" and "2018–2025" in out["data years"]["lodeline"]
    assert out["HREE / LREE"]["affected"] == "Terbium"
    assert out["EU sourcing proxy"]["affected"] == "Baryte"
    assert out["EU sourcing"]["affected"] == "Terbium"
    assert (
        out["EI"]["materials"] == 2
        and "WGI 2023" in out["WGI"]["lodeline"]
        and "1 imputed" in out["WGI"]["lodeline"]
    )
    assert "stage choice" not in out and "supply-stage proxy" not in out


def test_leader_line_geometry_by_hand() -> None:
    """A segment from (0, 5) to (20, 5) passes through the box x 8-12, y 0-10; one from (0, 20) to (20, 20) passes
    above it. The diagonals of a square cross; two parallel segments do not."""
    from lodeline.risk.labels import segment_crosses, segments_cross

    box = Box(8, 0, 12, 10)
    assert segment_crosses(box, (0, 5), (20, 5)) and not segment_crosses(box, (0, 20), (20, 20))
    assert not segment_crosses(box, (0, 5), (7, 5))  # stops short of the box
    assert segments_cross(((0, 0), (10, 10)), ((0, 10), (10, 0)))
    assert not segments_cross(((0, 0), (10, 0)), ((0, 1), (10, 1)))
