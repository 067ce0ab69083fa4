"""Plotly figures of the market report. Each takes frames and returns a Figure.

Values are rounded to what a reader can see (shares in % to two decimals, HHI to one): the report embeds every
figure's data, and fifteen digits per point made it megabytes larger for nothing. Axis labels use automargin (never
cut); the mode bar shows on hover only (never over a title)."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl

from lodeline.domain.countries import country_name


def share_map(shares: pl.DataFrame, title: str) -> go.Figure:
    """World choropleth of country shares (0–1) from a shares frame (country ISO3, share)."""
    named = shares.filter(pl.col("share").is_not_null() & (pl.col("country").str.len_chars() == 3))
    names = [country_name(c) for c in named["country"].to_list()]
    fig = go.Figure(
        go.Choropleth(
            locations=named["country"].to_list(),
            z=(named["share"] * 100).round(2).to_list(),
            text=names,
            locationmode="ISO-3",
            colorscale="YlOrRd",
            zmin=0,
            marker={"line": {"color": "#ffffff", "width": 0.5}},
            colorbar={"title": "% of world"},
            hovertemplate="%{text}: %{z:.1f}%<extra></extra>",
        )
    )
    fig.update_layout(
        title=title,
        margin={"l": 0, "r": 0, "t": 40, "b": 0},
        height=380,
        # Countries without data stay light grey with a grey border (the legend line under the map says so); the
        # lowest share is the scale's pale yellow, never this grey.
        geo={
            "showframe": False,
            "projection": {"type": "natural earth"},
            "showcountries": True,
            "countrycolor": "#9e9e9e",
            "landcolor": "#e6e6e6",
        },
        annotations=[
            {
                "text": "grey: no data",
                "showarrow": False,
                "x": 0,
                "y": 0,
                "xref": "paper",
                "yref": "paper",
                "font": {"size": 11, "color": "#555"},
            }
        ],
    )
    return fig


def concentration_trend(conc: pl.DataFrame, title: str) -> go.Figure:
    """HHI and top-1 share over time, one line per stage."""
    fig = go.Figure()
    for (stage,), rows in conc.sort("year").group_by(["stage"], maintain_order=True):
        fig.add_trace(
            go.Scatter(
                x=rows["year"].to_list(),
                y=(rows["top1_share"] * 100).round(2).to_list(),
                mode="lines+markers",
                name=f"{stage}: top-1 share (%)",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=rows["year"].to_list(),
                y=(rows["hhi"] / 100).round(2).to_list(),
                mode="lines+markers",
                name=f"{stage}: HHI ÷ 100",
                line={"dash": "dot"},
            )
        )
    fig.update_layout(
        title=title,
        height=340,
        yaxis={"title": "%", "rangemode": "tozero", "automargin": True},
        xaxis={"dtick": 1, "automargin": True},
        margin={"t": 40},
    )
    return fig


def dependency_trajectory(dep: pl.DataFrame, title: str) -> go.Figure:
    """Largest external supplier's share by year, per stage and basis, against the target and ambition."""
    fig = go.Figure()
    for (stage, basis), rows in dep.sort("year").group_by(["stage", "basis"], maintain_order=True):
        labels = [
            f"{s} ({y})"
            for s, y in zip(rows["top_external_supplier"].to_list(), rows["year"].to_list(), strict=True)
        ]
        fig.add_trace(
            go.Scatter(
                x=rows["year"].to_list(),
                y=(rows["top_external_share"] * 100).round(2).to_list(),
                text=labels,
                mode="lines+markers",
                name=f"{stage} — {basis}",
                hovertemplate="%{text}: %{y:.1f}%<extra></extra>",
            )
        )
    targets = dep.filter(pl.col("target").is_not_null())
    if targets.height:
        row = targets.row(0, named=True)
        end = int(row["target_year"] or max(dep["year"].to_list()))
        for value, label, dash in ((row["target"], "target", "dash"), (row["ambition"], "ambition", "dot")):
            if value is not None:
                fig.add_trace(
                    go.Scatter(
                        x=[min(dep["year"].to_list()), end],
                        y=[value * 100, value * 100],
                        mode="lines",
                        name=f"{label} {value * 100:.0f}% by {end}",
                        line={"dash": dash, "color": "black"},
                    )
                )
    fig.update_layout(
        title=title,
        height=360,
        yaxis={"title": "share of supply (%)", "range": [0, 100], "automargin": True},
        xaxis={"automargin": True},
        margin={"t": 40},
    )
    return fig
