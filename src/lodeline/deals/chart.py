"""Plotly figures of the Deals page: the timeline (agreements and restrictive measures on one time axis) and the
map of partner countries coloured by agreement type. The dashboard sends their JSON to the vendored plotly.js;
the map's outlines come from the vendored world TopoJSON (``topojsonURL`` in the page's script), never a CDN."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go
import polars as pl

from lodeline.deals.timeline import TYPE_ORDER
from lodeline.domain.countries import country_name

# Okabe–Ito (the dashboard's palette): distinguishable with the common colour-vision deficiencies.
TYPE_COLOURS = dict(
    zip(TYPE_ORDER, ("#0072B2", "#009E73", "#E69F00", "#56B4E9", "#CC79A7", "#999999"), strict=True)
)
EVENT_SYMBOLS = {
    "signed": "circle", "in force": "diamond", "implemented": "star", "lapsed": "x", "terminated": "x",
    "announced": "triangle-up", "effective": "square", "suspended": "line-ew",
}  # fmt: skip
REGISTER_COLOURS = {"agreements": "#0072B2", "measures": "#D55E00"}


def _symbol(symbol: str, row: dict[str, object]) -> str:
    """Second-hand rows are drawn hollow (the caption says so)."""
    if row["shown_source_type"] == "secondary" and symbol != "line-ew":
        return symbol + "-open"
    return symbol


def _hover(row: dict[str, object]) -> str:
    secondary = " (secondary)" if row["shown_source_type"] == "secondary" else ""
    minerals = row["minerals"] or ("critical minerals in general" if row["general"] else "not stated")
    return (
        f"<b>{row['entry_id']}</b><br>{row['who']} · {row['type']}<br>{row['event']}: {row['date_stated']}"
        f"<br>minerals: {minerals}<br>source{secondary}: {row['source'] or 'not stated'}"
    )


def timeline_figure(events: pl.DataFrame, on: dt.date, source_line: str) -> go.Figure:
    """One row per entry (agreements above, measures below), one marker per dated event; a suspension is a
    line from its start to its end. Undated entries are not drawn (the page's table lists them)."""
    dated = events.filter(pl.col("date").is_not_null())
    order = (
        dated.group_by("register", "entry_id")
        .agg(pl.col("date").min())
        .sort(["register", "date", "entry_id"])
    )
    fig = go.Figure()
    for register, colour in REGISTER_COLOURS.items():
        for event, symbol in EVENT_SYMBOLS.items():
            part = dated.filter((pl.col("register") == register) & (pl.col("event") == event))
            if part.is_empty():
                continue
            rows = part.to_dicts()
            name = f"{'agreement' if register == 'agreements' else 'restriction'}: {event}"
            fig.add_trace(go.Scatter(
                x=[r["date"].isoformat() for r in rows], y=[r["entry_id"] for r in rows], mode="markers",
                name=name, marker={"symbol": [_symbol(symbol, r) for r in rows], "size": 10, "color": colour, "line": {"width": 1.5, "color": colour}},
                text=[_hover(r) for r in rows], hovertemplate="%{text}<extra></extra>",
            ))  # fmt: skip
    windows = dated.filter(pl.col("event") == "suspended")
    for row in windows.to_dicts():
        end = row["end"] or on
        fig.add_trace(go.Scatter(
            x=[row["date"].isoformat(), end.isoformat()], y=[row["entry_id"]] * 2, mode="lines",
            line={"color": REGISTER_COLOURS["measures"], "width": 4, "dash": "dot"}, showlegend=False,
            hoverinfo="skip",
        ))  # fmt: skip
    labels = order["entry_id"].to_list()
    fig.add_vline(x=on.isoformat(), line={"color": "#555555", "dash": "dash", "width": 1})
    fig.update_layout(
        height=max(320, 20 * len(labels) + 160),
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#1a1a1a"},
        paper_bgcolor="#ffffff", plot_bgcolor="#ffffff",
        legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 0},
        xaxis={"type": "date", "title": {"text": f"date (dashed line: {on.isoformat()})"}, "automargin": True,
               "gridcolor": "#eeeeee"},
        yaxis={"categoryorder": "array", "categoryarray": labels[::-1], "automargin": True, "tickfont": {"size": 10},
               "gridcolor": "#f3f3f3"},
        meta={"source": source_line},
    )  # fmt: skip
    return fig


def partner_map_figure(partners: pl.DataFrame, source_line: str) -> go.Figure:
    """One choropleth trace per agreement type (a single colour each, so the legend names the types); a country is
    in the trace of its ``shown_type``. Countries without an agreement stay the neutral land colour."""
    fig = go.Figure()
    for kind in [*TYPE_ORDER, *sorted(set(partners["shown_type"].to_list()) - set(TYPE_ORDER))]:
        part = partners.filter(pl.col("shown_type") == kind)
        if part.is_empty():
            continue
        colour = TYPE_COLOURS.get(kind, "#000000")
        rows = part.to_dicts()
        text = [
            f"<b>{country_name(r['country'])}</b> ({r['country']})<br>types: {r['types'].replace(';', ', ')}"
            f"<br>agreements: {r['agreements'].replace(';', ', ')}"
            + ("<br>every source secondary" if r["secondary_only"] else "")
            for r in rows
        ]
        fig.add_trace(go.Choropleth(
            locations=[r["country"] for r in rows], z=[1] * len(rows), locationmode="ISO-3", name=kind,
            colorscale=[[0, colour], [1, colour]], showscale=False, showlegend=True, text=text,
            hovertemplate="%{text}<extra></extra>", marker={"line": {"color": "#555555", "width": 0.4}},
        ))  # fmt: skip
    fig.update_layout(
        height=420,
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        font={"family": "system-ui, sans-serif", "size": 12, "color": "#1a1a1a"},
        legend={"orientation": "h", "y": -0.02, "x": 0, "title": {"text": "agreement type"}},
        geo={"projection": {"type": "natural earth"}, "showframe": False, "showcoastlines": False,
             "showland": True, "landcolor": "#eeeeee", "showcountries": True, "countrycolor": "#bbbbbb",
             "showocean": False, "showlakes": False, "resolution": 110},
        meta={"source": source_line},
    )  # fmt: skip
    return fig
