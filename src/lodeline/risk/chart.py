"""Plotly figures: the classic EU criticality chart (EI vs SR with thresholds) and tornado charts.

``*_figure`` functions return plotly figures (the dashboard sends their JSON to the vendored plotly.js);
``*_chart`` functions return self-contained HTML strings (plotly.js embedded, works offline); the caller writes them.
"""

from __future__ import annotations

import textwrap

import plotly.graph_objects as go
import polars as pl

from lodeline.risk import EI_THRESHOLD, SR_THRESHOLD
from lodeline.risk.labels import Label, PlotFrame, place_labels

#: x positions of the "EI not available" strip, left of EI = 0.
STRIP_COLUMNS = (-4.6, -3.2, -1.8)
STRIP_LEFT = -5.0


def _html(fig: go.Figure) -> str:
    return str(fig.to_html(include_plotlyjs=True, full_html=True))


#: The criticality chart's fixed size (the HTML file; the dashboard's is narrower, beside its deviation list)
#: and margins: label placement is computed for exactly that frame.
CHART_WIDTH, CHART_HEIGHT = 980, 700
PAGE_CHART_SIZE = (720, 640)
MARGIN = {"l": 80, "r": 70, "t": 60, "b": 150}
LABEL_FONT_PX = 11


def criticality_frame(
    table: pl.DataFrame, size: tuple[int, int] = (CHART_WIDTH, CHART_HEIGHT)
) -> tuple[pl.DataFrame, pl.DataFrame, PlotFrame]:
    """The points drawn (SR known; EI known / unknown) and the pixel frame they are drawn in."""
    rows = table.filter(pl.col("sr").is_not_null())
    known = rows.filter(pl.col("ei").is_not_null())
    unknown = rows.filter(pl.col("ei").is_null()).sort("sr", descending=True)
    x_max = max([10.0, *(known["ei"].to_list() if known.height else [])]) * 1.05
    y_max = max([2.0, *rows["sr"].to_list()]) * 1.1
    x_min = STRIP_LEFT if unknown.height else 0.0
    width, height = size
    frame = PlotFrame(
        width, height, MARGIN["l"], MARGIN["r"], MARGIN["t"], MARGIN["b"], (x_min, x_max), (0.0, y_max)
    )
    return known, unknown, frame


def criticality_labels(
    table: pl.DataFrame, size: tuple[int, int] = (CHART_WIDTH, CHART_HEIGHT)
) -> list[Label]:
    """Every drawn point's label, placed so that no two overlap (EI-known points first, then the strip)."""
    known, unknown, frame = criticality_frame(table, size)
    strip_x = [STRIP_COLUMNS[i % len(STRIP_COLUMNS)] for i in range(unknown.height)]
    points = [
        *zip(known["material"].to_list(), known["ei"].to_list(), known["sr"].to_list(), strict=True),
        *zip(unknown["material"].to_list(), strip_x, unknown["sr"].to_list(), strict=True),
    ]
    return place_labels(points, frame, font_px=LABEL_FONT_PX)


def criticality_figure(
    table: pl.DataFrame, *, source_line: str, size: tuple[int, int] = (CHART_WIDTH, CHART_HEIGHT)
) -> go.Figure:
    """SR (y) against EI (x) with the EC thresholds, every point labelled without collisions.

    Materials whose EI is unknown are not hidden: they are drawn on a separate strip left of the EI axis, under
    the heading "EI n/a", so their supply risk is still visible. Labels are annotations placed by
    :func:`lodeline.risk.labels.place_labels` for the chart's fixed size, joined to their point by a leader
    line. The axis titles say where each number comes from: SR is always Lodeline's own computation (never the
    EC's published SR); EI is the EC's published 2023 value unless computed.
    """
    known, unknown, frame = criticality_frame(table, size)
    (x_min, x_max), (_, y_max) = frame.x_range, frame.y_range
    strip_x = [STRIP_COLUMNS[i % len(STRIP_COLUMNS)] for i in range(unknown.height)]
    fig = go.Figure()
    if known.height:
        fig.add_trace(
            go.Scatter(
                x=known["ei"].to_list(),
                y=known["sr"].to_list(),
                mode="markers",
                text=known["material"].to_list(),
                marker={
                    "size": 9,
                    "color": ["#c0392b" if c else "#2c7fb8" for c in known["critical"].to_list()],
                },
                name=f"assessed (red = critical: SR >= {SR_THRESHOLD:g} and EI >= {EI_THRESHOLD:g})",
                customdata=[str(v or "") for v in known["ei_source"].to_list()]
                if "ei_source" in known.columns
                else None,
                hovertemplate="%{text}<br>EI %{x:.2f} %{customdata}<br>SR %{y:.2f} computed by Lodeline"
                "<extra></extra>",
            )
        )
    if unknown.height:
        fig.add_trace(
            go.Scatter(
                x=strip_x,
                y=unknown["sr"].to_list(),
                mode="markers",
                text=unknown["material"].to_list(),
                marker={"size": 8, "symbol": "diamond-open", "color": "#7f7f7f"},
                name="EI n/a (not published, not computed)",
                hovertemplate="%{text}<br>EI not available<br>SR %{y:.2f}<extra></extra>",
            )
        )
    for label in criticality_labels(table, size):
        fig.add_annotation(
            x=label.x,
            y=label.y,
            ax=label.dx,
            ay=label.dy,
            text=label.text,
            showarrow=True,
            arrowhead=0,
            arrowwidth=0.7,
            arrowcolor="#9a9a9a",
            standoff=4,
            font={"size": LABEL_FONT_PX},
            name="point-label",
        )
    fig.add_shape(type="line", x0=x_min, x1=x_max, y0=SR_THRESHOLD, y1=SR_THRESHOLD, line={"dash": "dash"})
    fig.add_shape(type="line", x0=EI_THRESHOLD, x1=EI_THRESHOLD, y0=0, y1=y_max, line={"dash": "dash"})
    # Threshold labels sit in the margins, outside the plot area where the point labels are placed.
    fig.add_annotation(
        x=1.0, xref="paper", xanchor="left", y=SR_THRESHOLD, text=f"SR = {SR_THRESHOLD:g}", showarrow=False
    )
    fig.add_annotation(
        x=EI_THRESHOLD, y=1.0, yref="paper", yanchor="bottom", text=f"EI = {EI_THRESHOLD:g}", showarrow=False
    )
    if unknown.height:
        fig.add_annotation(
            x=STRIP_COLUMNS[1],
            y=1.0,
            yref="paper",
            yanchor="bottom",
            text="EI n/a (not bundled)",
            showarrow=False,
        )
        fig.add_shape(type="line", x0=-0.3, x1=-0.3, y0=0, y1=y_max, line={"color": "#bbbbbb", "width": 1})
    sources = (
        sorted({str(v) for v in known["ei_source"].drop_nulls().to_list()})
        if "ei_source" in known.columns
        else []
    )
    ei_title = f"Economic importance (EI, {' / '.join(sources)})" if sources else "Economic importance (EI)"
    fig.update_layout(
        title="Criticality (EU 2017 method): supply risk vs economic importance",
        xaxis={"title": ei_title, "range": [x_min, x_max], "tickvals": list(range(0, 11, 2))},
        yaxis={
            "title": "Supply risk (SR, computed by Lodeline, not the EC's published SR)",
            "range": [0, y_max],
        },
        template="plotly_white",
        width=size[0],
        height=size[1],
        autosize=False,
        margin=MARGIN,
        legend={"orientation": "h", "x": 0, "y": -0.1, "yanchor": "top"},
    )
    fig.add_annotation(
        text=_wrapped(f"Source: {source_line}", size[0]),
        xref="paper",
        yref="paper",
        x=0,
        xanchor="left",
        y=-0.16,
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 10},
    )
    return fig


def _wrapped(text: str, width_px: int) -> str:
    """The source line broken into lines that fit a ``width_px`` figure (10 px font), joined with <br>."""
    return "<br>".join(textwrap.wrap(text, width=max(40, int(width_px / 6.2))))


def criticality_chart(table: pl.DataFrame, *, source_line: str) -> str:
    """:func:`criticality_figure` as a self-contained HTML page."""
    return _html(criticality_figure(table, source_line=source_line))


def tornado_chart(tornado: pl.DataFrame, *, source_line: str) -> str:
    """:func:`tornado_figure` as a self-contained HTML page."""
    return _html(tornado_figure(tornado, source_line=source_line))


def tornado_figure(tornado: pl.DataFrame, *, source_line: str) -> go.Figure:
    """Horizontal low/high bars per factor; one material shown at a time (dropdown when several)."""
    materials = tornado["material"].unique(maintain_order=True).to_list()
    fig = go.Figure()
    buttons = []
    for i, material in enumerate(materials):
        part = tornado.filter(pl.col("material") == material).sort("swing")
        base = float(part["sr_base"][0])
        visible = i == 0
        for column, label, colour in (("sr_low", "low", "#2c7fb8"), ("sr_high", "high", "#c0392b")):
            fig.add_trace(
                go.Bar(
                    y=part["factor"].to_list(),
                    x=[v - base for v in part[column].to_list()],
                    base=base,
                    orientation="h",
                    name=f"{'lowest' if label == 'low' else 'highest'} SR over the range",
                    marker={"color": colour},
                    visible=visible,
                    hovertemplate=f"%{{y}}: SR %{{x:+.3f}} from base<extra>{label}</extra>",
                )
            )
        mask = [j // 2 == i for j in range(2 * len(materials))]
        buttons.append(
            {
                "label": material,
                "method": "update",
                "args": [
                    {"visible": mask},
                    {"title": f"Supply-risk tornado: {material} (base SR {base:.3f})"},
                ],
            }
        )
    first = materials[0] if materials else "—"
    first_base = float(tornado["sr_base"][0]) if tornado.height else float("nan")
    fig.update_layout(
        title=f"Supply-risk tornado: {first} (base SR {first_base:.3f})",
        barmode="overlay",
        xaxis={"title": "Supply risk (SR)"},
        template="plotly_white",
        updatemenus=[{"buttons": buttons, "x": 1.0, "y": 1.15}] if len(materials) > 1 else [],
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
        height=640,
        margin={"b": 140},
    )
    fig.add_vline(x=SR_THRESHOLD, line_dash="dash")
    fig.add_annotation(
        text=_wrapped(f"Source: {source_line}", 900),
        xref="paper",
        yref="paper",
        x=0,
        xanchor="left",
        y=-0.15,
        yanchor="top",
        showarrow=False,
        align="left",
        font={"size": 10},
    )
    return fig
