"""Deterministic placement of scatter-point labels so that no two labels overlap (pure geometry, no plotting).

Every label is a box of estimated size (characters × a conservative glyph width) in the chart's pixel space.
Points are taken densest first; each tries positions around its marker on widening rings (right, left, above,
below, then the diagonals) and takes the first one that stays inside the plot area, touches neither an already
placed label nor any marker, and whose leader line (marker to label, the caller draws it) crosses no placed
label while no placed leader line crosses it. Same input, same output: no randomness, no dependence on dictionary order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Glyph width as a fraction of the font size: wide enough for the sans-serif fonts browsers pick (the
#: browser test measures the drawn labels and checks they do not overlap).
GLYPH_WIDTH = 0.62
LINE_HEIGHT = 1.35
PADDING_PX = 3.0
MAX_RINGS = 40
#: What a leader line crossing a label (or a label lying on a leader line) costs, in pixels of extra distance.
CROSSING_COST_PX = 60.0


@dataclass(frozen=True)
class Box:
    """Pixel box, ``y`` growing downwards (as on screen)."""

    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, gap: float = 0.0) -> bool:
        return not (
            self.x1 + gap <= other.x0
            or other.x1 + gap <= self.x0
            or self.y1 + gap <= other.y0
            or other.y1 + gap <= self.y0
        )

    def inside(self, outer: Box) -> bool:
        return self.x0 >= outer.x0 and self.x1 <= outer.x1 and self.y0 >= outer.y0 and self.y1 <= outer.y1


def segment_crosses(box: Box, start: tuple[float, float], end: tuple[float, float]) -> bool:
    """Whether the segment ``start``-``end`` passes through the inside of ``box`` (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    dx, dy = x1 - x0, y1 - y0
    low, high = 0.0, 1.0
    for p, q in ((-dx, x0 - box.x0), (dx, box.x1 - x0), (-dy, y0 - box.y0), (dy, box.y1 - y0)):
        if p == 0:
            if q <= 0:
                return False
            continue
        t = q / p
        if p < 0:
            low = max(low, t)
        else:
            high = min(high, t)
        if low >= high:
            return False
    return True


def segments_cross(
    a: tuple[tuple[float, float], tuple[float, float]], b: tuple[tuple[float, float], tuple[float, float]]
) -> bool:
    """Whether two segments cross at a point inside both (touching ends do not count)."""

    def side(p: tuple[float, float], q: tuple[float, float], r: tuple[float, float]) -> float:
        return (q[0] - p[0]) * (r[1] - p[1]) - (q[1] - p[1]) * (r[0] - p[0])

    d1, d2 = side(b[0], b[1], a[0]), side(b[0], b[1], a[1])
    d3, d4 = side(a[0], a[1], b[0]), side(a[0], a[1], b[1])
    return d1 * d2 < 0 and d3 * d4 < 0


@dataclass(frozen=True)
class PlotFrame:
    """The chart's size, margins and axis ranges: enough to turn data coordinates into pixels."""

    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_range: tuple[float, float]
    y_range: tuple[float, float]

    @property
    def area(self) -> Box:
        return Box(self.left, self.top, self.width - self.right, self.height - self.bottom)

    def to_pixels(self, x: float, y: float) -> tuple[float, float]:
        area = self.area
        (x_lo, x_hi), (y_lo, y_hi) = self.x_range, self.y_range
        px = area.x0 + (x - x_lo) / (x_hi - x_lo) * (area.x1 - area.x0)
        py = area.y1 - (y - y_lo) / (y_hi - y_lo) * (area.y1 - area.y0)
        return px, py


@dataclass(frozen=True)
class Label:
    text: str
    x: float  # data coordinates of the point
    y: float
    dx: float  # label centre minus point, pixels (right positive)
    dy: float  # label centre minus point, pixels (down positive, as plotly's ``ay``)
    box: Box


def label_size(text: str, font_px: float) -> tuple[float, float]:
    return len(text) * font_px * GLYPH_WIDTH + 2 * PADDING_PX, font_px * LINE_HEIGHT + 2 * PADDING_PX


def _candidates(width: float, height: float, marker_px: float) -> list[tuple[float, float]]:
    """Label-centre offsets from the point, nearest first."""
    out: list[tuple[float, float]] = []
    near = marker_px / 2 + 2
    for ring in range(MAX_RINGS):
        d = near + ring * height * 0.75
        half_w, half_h = width / 2, height / 2
        diagonal = d * 0.71
        out += [
            (d + half_w, 0.0),
            (-(d + half_w), 0.0),
            (0.0, -(d + half_h)),
            (0.0, d + half_h),
            (diagonal + half_w, -(diagonal + half_h)),
            (-(diagonal + half_w), -(diagonal + half_h)),
            (diagonal + half_w, diagonal + half_h),
            (-(diagonal + half_w), diagonal + half_h),
        ]
    return sorted(out, key=lambda offset: math.hypot(*offset))  # stable: ties keep the direction order


def place_labels(
    points: Sequence[tuple[str, float, float]],
    frame: PlotFrame,
    *,
    font_px: float = 11.0,
    marker_px: float = 10.0,
) -> list[Label]:
    """One :class:`Label` per ``(text, x, y)`` point, in the input order.

    Raises ``ValueError`` when a label finds no free place within :data:`MAX_RINGS` rings (a chart too
    small for its labels), rather than drawing one over another."""
    pixels = [frame.to_pixels(x, y) for _, x, y in points]
    half = marker_px / 2
    markers = [Box(px - half, py - half, px + half, py + half) for px, py in pixels]
    crowd = [sum(abs(px - qx) < 80 and abs(py - qy) < 40 for qx, qy in pixels) for px, py in pixels]
    order = sorted(range(len(points)), key=lambda i: (-crowd[i], -pixels[i][1], points[i][0]))
    area = frame.area
    placed: dict[int, Label] = {}
    leaders: list[tuple[tuple[float, float], tuple[float, float]]] = []
    for i in order:
        text, x, y = points[i]
        px, py = pixels[i]
        width, height = label_size(text, font_px)
        best: tuple[float, Label, tuple[tuple[float, float], tuple[float, float]]] | None = None
        for dx, dy in _candidates(width, height, marker_px):
            distance = math.hypot(dx, dy)
            if best is not None and distance >= best[0]:
                break  # candidates come nearest first: nothing further can cost less
            cx, cy = px + dx, py + dy
            box = Box(cx - width / 2, cy - height / 2, cx + width / 2, cy + height / 2)
            if not box.inside(area):
                continue
            if any(box.overlaps(other.box, 1.0) for other in placed.values()):
                continue
            if any(box.overlaps(marker) for marker in markers):
                continue
            leader = ((px, py), (cx, cy))
            crossings = sum(segment_crosses(other.box, *leader) for other in placed.values())
            crossings += sum(segment_crosses(box, *other) for other in leaders)
            crossings += sum(segments_cross(leader, other) for other in leaders)
            cost = distance + CROSSING_COST_PX * crossings
            if best is None or cost < best[0]:
                best = (cost, Label(text, x, y, dx, dy, box), leader)
        if best is None:
            raise ValueError(f"no free place for the label {text!r}: the chart is too small for its labels")
        placed[i] = best[1]
        leaders.append(best[2])
    return [placed[i] for i in range(len(points))]
