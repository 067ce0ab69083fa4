// "Concentration over time": the stitched yearly series of /api/v1/minerals/{id}/trend (one row per year, each
// with its source). One line per indicator; the marker shape names the source of each year; a dotted vertical
// line marks the first year of a new source, its hover saying "source changes: A → B". Years without a row are
// gaps in the lines, never interpolated. charts.js calls window.LodelineTrendChart(el, rows, style).
(function () {
  "use strict";

  var SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "cross", "triangle-down"];
  var INDICATORS = [
    { key: "hhi", name: "HHI (0–10,000)", axis: "y", scale: 1, format: ",.0f", unit: "" },
    { key: "top1_share", name: "largest supplier (%)", axis: "y2", scale: 100, format: ".1f", unit: "%" },
    { key: "top3_share", name: "top three (%)", axis: "y2", scale: 100, format: ".1f", unit: "%" },
    { key: "alliance_dependency", name: "largest supplier outside the alliance (%)", axis: "y2", scale: 100,
      format: ".1f", unit: "%" }
  ];

  function hasFigure(row) { return row.hhi !== null && row.hhi !== undefined; }

  function sourceLabel(row) { return row.source + (row.edition ? " (" + row.edition + ")" : ""); }

  function draw(el, rows, style) {
    rows = rows.slice().sort(function (a, b) { return a.year - b.year; });
    var withFigures = rows.filter(hasFigure);
    var sources = [];
    rows.forEach(function (r) { if (sources.indexOf(r.source) < 0) { sources.push(r.source); } });
    var symbolOf = function (source) { return SYMBOLS[sources.indexOf(source) % SYMBOLS.length]; };
    var first = withFigures.length ? withFigures[0].year : rows[0].year;
    var last = withFigures.length ? withFigures[withFigures.length - 1].year : rows[rows.length - 1].year;
    var byYear = new Map(rows.map(function (r) { return [r.year, r]; }));
    // every year of the span, so a year without a row is a null point: the line stops there (a gap, not a slope)
    var years = [];
    for (var y = first; y <= last; y++) { years.push(y); }
    var traces = INDICATORS.map(function (ind, i) {
      var points = years.map(function (year) { return byYear.get(year) || null; });
      return {
        type: "scatter", mode: "lines+markers", name: ind.name, yaxis: ind.axis, connectgaps: false,
        x: years,
        y: points.map(function (r) {
          var v = r ? r[ind.key] : null;
          return v === null || v === undefined ? null : ind.scale * v;
        }),
        customdata: points.map(function (r) {
          return r ? [sourceLabel(r), r.top_supplier || "—", r.top_external_supplier || "—", r.kind || ""] : null;
        }),
        marker: { size: 8, color: style.palette[i], symbol: points.map(function (r) { return r ? symbolOf(r.source) : "circle"; }) },
        line: { color: style.palette[i], width: 2, dash: ind.axis === "y" ? "solid" : ["solid", "dash", "dot", "dashdot"][i] },
        hovertemplate: "%{x}: " + ind.name + " %{y:" + ind.format + "}" + ind.unit +
          "<br>source: %{customdata[0]}<br>top supplier %{customdata[1]}; outside the alliance %{customdata[2]}" +
          "<extra></extra>"
      };
    });
    // legend entries for the sources (marker shapes only)
    sources.forEach(function (source) {
      var row = rows.filter(function (r) { return r.source === source; })[0];
      traces.push({ type: "scatter", mode: "markers", name: "source: " + sourceLabel(row), x: [null], y: [null],
        marker: { size: 9, color: "#555555", symbol: symbolOf(source) }, hoverinfo: "skip" });
    });
    // breaks: a dotted vertical line just before the first year of each new source, with a hover along it
    var top = Math.max.apply(null, [1000].concat(withFigures.map(function (r) { return r.hhi; })));
    var hhiMax = Math.min(10000, Math.ceil(top * 1.1 / 1000) * 1000);
    var breaks = rows.filter(function (r) { return r["break"] && r.year >= first && r.year <= last; });
    breaks.forEach(function (r) {
      var x = r.year - 0.5;
      var text = "source changes: " + r.break_from + " → " + r.source + " (" + r.year + ")";
      if (r.overlap_year !== null && r.overlap_year !== undefined && r.jump_hhi !== null) {
        text += "<br>at the overlap year " + r.overlap_year + ": HHI " + (r.jump_hhi >= 0 ? "+" : "") +
          Math.round(r.jump_hhi).toLocaleString("en") + " with the new source";
      }
      var ys = [];
      for (var v = 0; v <= hhiMax; v += hhiMax / 20) { ys.push(v); }
      traces.push({ type: "scatter", mode: "lines", name: "source change", showlegend: false, x: ys.map(function () { return x; }),
        y: ys, line: { color: "#555555", width: 1.5, dash: "dot" }, text: ys.map(function () { return text; }),
        hovertemplate: "%{text}<extra></extra>" });
    });
    var annotations = [];
    var totalsOnly = rows.filter(function (r) { return !hasFigure(r) && r.year < first; });
    if (totalsOnly.length) {
      annotations.push({ xref: "paper", yref: "paper", x: 0, y: 1.08, xanchor: "left", showarrow: false,
        font: { size: 12, color: "#555555" },
        text: totalsOnly[0].year + "–" + totalsOnly[totalsOnly.length - 1].year + ": world totals only (" +
          totalsOnly[0].source + "), no concentration figure; in the CSV" });
    }
    return Plotly.newPlot(el, traces, style.layout({ height: 420,
      // whole years only: one tick a year on a short span, plotly's own spacing on a long one
      xaxis: Object.assign({ tickformat: "d", range: [first - 0.7, last + 0.7] }, last - first <= 12 ? { dtick: 1 } : {}),
      yaxis: { title: { text: "HHI (0–10,000)" }, range: [0, hhiMax] },
      yaxis2: { title: { text: "share (%)" }, overlaying: "y", side: "right", range: [0, 100] },
      annotations: annotations,
      margin: { l: 70, r: 60, t: annotations.length ? 40 : 10, b: 50 },
      legend: { orientation: "h", y: -0.25 } }), style.config);
  }

  window.LodelineTrendChart = draw;
})();
