// Alerts page: the selected mineral's indicator charts with their threshold lines, and the backtest chart
// (episodes as shaded bands, the fused level as a line), from JSON in a <script type="application/json"> block.
(function () {
  "use strict";
  var COLOURS = { watch: "#c9a227", warning: "#e8833a", alert: "#b0172a" };
  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false };

  function thresholdShapes(thresholds) {
    return Object.keys(thresholds).map(function (level) {
      return {
        type: "line", xref: "paper", x0: 0, x1: 1, y0: thresholds[level], y1: thresholds[level],
        line: { color: COLOURS[level], dash: "dash", width: 1.5 }
      };
    });
  }

  function indicatorChart(holder, chart, index) {
    var figure = document.createElement("figure");
    figure.className = "chart";
    var caption = document.createElement("figcaption");
    caption.id = "indicator-caption-" + index;
    caption.textContent = chart.indicator + " (" + chart.key + "), " + chart.unit +
      "; dashed lines: thresholds " + JSON.stringify(chart.thresholds);
    var plot = document.createElement("div");
    plot.className = "plot indicator-chart";
    plot.setAttribute("role", "img");
    plot.setAttribute("aria-labelledby", caption.id);
    figure.appendChild(caption);
    figure.appendChild(plot);
    holder.appendChild(figure);
    var mode = chart.x.length > 24 ? "lines" : "lines+markers";
    var data = [{ type: "scatter", mode: mode, x: chart.x, y: chart.y, name: chart.indicator,
      line: { color: "#3a6ea5" } }];
    var layout = { margin: { t: 10, r: 20, b: 40, l: 60 }, height: 240, shapes: thresholdShapes(chart.thresholds),
      yaxis: { title: { text: chart.unit } }, showlegend: false };
    return Plotly.newPlot(plot, data, layout, CONFIG).then(function () { plot.setAttribute("data-drawn", "true"); });
  }

  function backtestChart(series) {
    var el = document.getElementById("backtest-chart");
    if (!el || !series || !series.x) { return; }
    var shapes = series.episodes.map(function (e) {
      return { type: "rect", xref: "x", yref: "paper", x0: e.start, x1: e.end, y0: 0, y1: 1,
        fillcolor: "#b0172a", opacity: 0.15, line: { width: 0 } };
    });
    var data = [{ type: "scatter", mode: "lines", line: { shape: "hv", color: "#1a1a1a" }, x: series.x,
      y: series.rank, name: "level" }];
    var layout = { margin: { t: 10, r: 20, b: 40, l: 60 }, height: 260, shapes: shapes, showlegend: false,
      yaxis: { range: [-0.2, 3.2], tickvals: [0, 1, 2, 3], ticktext: ["normal", "watch", "warning", "alert"] } };
    Plotly.newPlot(el, data, layout, CONFIG).then(function () { el.setAttribute("data-drawn", "true"); });
  }

  function draw() {
    var source = document.getElementById("alerts-series");
    if (!source || typeof Plotly === "undefined") { return; }
    var payload = JSON.parse(source.textContent);
    var holder = document.getElementById("indicator-charts");
    payload.charts.forEach(function (chart, i) { indicatorChart(holder, chart, i); });
    backtestChart(payload.backtest);
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
