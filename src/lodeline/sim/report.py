"""HTML reports with plotly charts embedded offline (plotly.js inlined once; no network needed to view).

Functions return HTML text; writing files is the caller's job (CLI).
"""

from __future__ import annotations

import html
import json
from typing import Any

import plotly.graph_objects as go

from lodeline.sim.shaping import tolerance_text

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#1b1f24}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccd;padding:.3rem .6rem;text-align:right}
th{background:#eef}td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:.9rem}
.assumptions{border:1px solid #c90;background:#fff8e6;padding:.5rem 1rem;margin:1rem 0}
"""

#: The per-member columns shown in run summaries (CLI table and HTML report).
MEMBER_COLUMNS = (
    "country",
    "member",
    "demand_t",
    "shortfall_t",
    "shortfall_pct",
    "stock_draw_t",
    "days_of_cover_start",
    "days_of_cover_end",
)


def _table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        return html.escape("—" if v is None else str(v))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(r.get(c))}</td>" for c in columns) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _page(title: str, sections: list[str]) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>{''.join(sections)}</body></html>"
    )


def _assumptions(report: dict[str, Any]) -> str:
    """The modelling assumptions in a box at the top (placeholder stocks, re-export hubs …), and the tolerance."""
    items = report.get("assumptions") or []
    tolerance = report.get("noise_tolerance")
    rows = "".join(f"<li><b>{html.escape(a['kind'])}</b>: {html.escape(a['text'])}</li>" for a in items)
    floor = (
        f"<p class='note'>Values below {tolerance_text(tolerance)} (t, %, days) are shown as 0: they are floating-point "
        "noise, not quantities (docs/methods/stress-test.md).</p>"
        if tolerance is not None
        else ""
    )
    return (
        f"<div class='assumptions'><h2>Assumptions</h2><ul>{rows}</ul>{floor}</div>" if items or floor else ""
    )


def _figures(figs: list[go.Figure]) -> str:
    parts = []
    for i, fig in enumerate(figs):
        parts.append(fig.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False}))
    return "".join(parts)


def run_report_html(report: dict[str, Any]) -> str:
    """One scenario run: member table, monthly shortfall and stocks, prices, binding nodes, duals."""
    months = [m["month"] for m in report["monthly"]]
    members = [r["country"] for r in report["members"] if r["member"]]
    short = go.Figure(layout={"title": "Alliance members: monthly shortfall (t)", "barmode": "stack"})
    stock = go.Figure(layout={"title": "Alliance members: stock at month end (t)"})
    for c in members:
        short.add_bar(x=months, y=[m["by_member"][c]["shortfall_t"] for m in report["monthly"]], name=c)
        stock.add_scatter(x=months, y=[m["by_member"][c]["stock_end_t"] for m in report["monthly"]], name=c)
    price = go.Figure(layout={"title": "Price multiple p/p0 (elasticity model)"})
    price.add_scatter(x=months, y=[m["price_multiple"] for m in report["monthly"]], name="p/p0")
    cols = list(MEMBER_COLUMNS)
    sections = [
        f"<p>Mineral <b>{html.escape(report['mineral'])}</b>, {report['months']} months, release rule "
        f"<b>{html.escape(report['release_rule'])}</b>. Peak price multiple {report['price_multiple_max']:.2f}.</p>",
        _assumptions(report),
        _table(report["members"], cols),
        _figures([short, stock, price]),
        "<h2>Binding countries and stages</h2>",
        _table(report["binding_nodes"], ["country", "stage", "output_lost_t", "exports_withheld_t"]),
        "<h2>Network nodes (baseline)</h2>",
        _table(
            report["nodes"],
            [
                "country",
                "stage",
                "output_t_per_month",
                "capacity_t_per_month",
                "utilisation",
                "spare_t_per_month",
            ],
        ),
        "<h2>LP duals (binding constraints; value of one more tonne)</h2>",
        _table(report["duals"][:60], ["month", "constraint", "member", "value_per_tonne"]),
        "<h2>Assumptions and data notes</h2><ul class='note'>"
        + "".join(f"<li>{html.escape(n)}</li>" for n in report["notes"])
        + "</ul>",
        f"<script type='application/json' id='report-data'>{html.escape(json.dumps(report))}</script>",
    ]
    return _page(f"Stress test: {report['scenario']}", sections)


#: The release plan's member columns in the after-action report.
RELEASE_COLUMNS = (
    "member",
    "releasable_t",
    "first_release_month",
    "release_t",
    "shortfall_without_release_t",
    "shortfall_with_release_t",
    "shortfall_avoided_t",
    "days_of_cover_left",
)


def exercise_report_html(aar: dict[str, Any]) -> str:
    """After-action report: timeline, decisions vs. the optimised response, charts."""
    months = list(range(1, aar["months"] + 1))
    fig = go.Figure(layout={"title": "Alliance shortfall per month (t): participants vs. optimised"})
    fig.add_scatter(
        x=months, y=aar["participants"]["member_shortfall_by_month"], name="participants' decisions"
    )
    fig.add_scatter(x=months, y=aar["optimised"]["member_shortfall_by_month"], name="optimised response")
    stock = go.Figure(layout={"title": "Alliance stock at month end (t)"})
    stock.add_scatter(
        x=months, y=aar["participants"]["member_stock_by_month"], name="participants' decisions"
    )
    stock.add_scatter(x=months, y=aar["optimised"]["member_stock_by_month"], name="optimised response")
    sections = [
        f"<p>{html.escape(aar['description'])}</p>",
        _assumptions(aar),
        "<h2>Timeline</h2>",
        _table(aar["timeline"], ["month", "kind", "who", "what"]),
        "<h2>Outcome by member</h2>",
        _table(
            aar["comparison"],
            [
                "country",
                "shortfall_t_participants",
                "shortfall_t_optimised",
                "difference_t",
                "stock_draw_t_participants",
                "stock_draw_t_optimised",
                "rationed_t",
            ],
        ),
        _figures([fig, stock]),
        "<h2>Findings</h2><ul>" + "".join(f"<li>{html.escape(f)}</li>" for f in aar["findings"]) + "</ul>",
    ]
    plan = aar.get("release_plan")
    if plan:  # the script named release rules (docs/methods/release-plan.md)
        sections += [
            "<h2>Release plan</h2>",
            f"<p>{html.escape(str(plan['rules']['name']))} ({html.escape(str(plan['allocation']))}): "
            f"{html.escape(str(plan['trigger_reason']))}</p>",
            _table(plan["members"], list(RELEASE_COLUMNS)),
        ]
    return _page(f"After-action report: {aar['name']}", sections)


def montecarlo_report_html(result: dict[str, Any]) -> str:
    """A Monte Carlo ensemble: per member mean, VaR95, CVaR95 of shortfall and P(target breached)."""
    cols = [
        "country",
        "member",
        "mean_shortfall_t",
        "var95_shortfall_t",
        "cvar95_shortfall_t",
        "mean_shortfall_pct",
        "var95_shortfall_pct",
        "p_target_breached",
    ]
    sections = [
        f"<p>Mineral <b>{html.escape(result['mineral'])}</b>, {result['samples']:,} samples, seed "
        f"{result['seed']}, target shortfall {result['target_shortfall_pct']:g} %.</p>",
        _assumptions(result),
        _table(result["members"], cols),
        "<h2>Data notes</h2><ul class='note'>"
        + "".join(f"<li>{html.escape(n)}</li>" for n in result["notes"])
        + "</ul>",
    ]
    return _page(f"Monte Carlo: {result['scenario']}", sections)
