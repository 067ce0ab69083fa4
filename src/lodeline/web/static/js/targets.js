// The Targets page chart: the alliance's latest single-supplier dependency per mineral · stage · basis that misses
// at least one line, with the 60% test, the 50% ambition and (EU27 only) the CRMA 65% benchmark drawn as lines.
// Reads GET /api/v1/targets (every page, following next_cursor); the numbers are the API's, never recomputed here.
(function () {
  "use strict";

  var BLUE = "#0072B2", ORANGE = "#D55E00", GREEN = "#009E73", GREY = "#555555";
  var CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
  var MAX_PAGES = 20;

  function fetchAll(url) {
    var rows = [];
    function step(pageUrl, pages) {
      return fetch(pageUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (body) { return { ok: response.ok, body: body }; }); })
        .then(function (result) {
          if (!result.ok) { return result; }
          rows = rows.concat(result.body.data);
          var next = result.body.page && result.body.page.next_cursor;
          if (next && pages < MAX_PAGES) {
            var u = new URL(url, window.location.origin);
            u.searchParams.set("cursor", next);
            return step(u.pathname + u.search, pages + 1);
          }
          result.body.data = rows;
          return result;
        });
    }
    return step(url, 1);
  }

  function sourceLine(provenance) {
    var parts = (provenance.sources || []).map(function (s) { return s.title + " — " + s.edition + " (" + s.licence + ")"; });
    var text = "Source: " + (parts.length ? parts.join("; ") : "none");
    if (provenance.flags && provenance.flags.length) { text += ". Flags: " + provenance.flags.join(", "); }
    if (provenance.method) { text += ". Method: " + provenance.method; }
    return text;
  }

  function message(el, text, state) {
    el.textContent = "";
    var p = document.createElement("p");
    p.className = "chart-message";
    p.setAttribute("role", "status");
    p.textContent = text;
    el.appendChild(p);
    el.dataset.rendered = state;
  }

  function vline(x, label, color, dash, row) {
    return {
      shape: { type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1, line: { color: color, width: 2, dash: dash } },
      note: { xref: "x", yref: "paper", x: x, y: 1, yshift: 4 + 14 * row, text: label, showarrow: false,
              font: { color: color, size: 12 }, xanchor: "left", yanchor: "bottom" }
    };
  }

  function draw(el, rows) {
    var shown = rows.filter(function (r) {
      return r.dependency !== null && (r.ambition_verdict === "misses" || r.target_verdict === "misses" || r.crma_verdict === "misses");
    }).sort(function (a, b) { return a.dependency - b.dependency; });
    if (!shown.length) { message(el, "No mineral misses any line for this alliance.", "empty"); return Promise.resolve(); }
    var label = function (r) { return r.mineral + " · " + r.stage + " · " + r.basis; };
    function trace(rows, name, filled) {
      return {
        type: "bar", orientation: "h", name: name,
        y: rows.map(label), x: rows.map(function (r) { return 100 * r.dependency; }),
        marker: { color: filled ? BLUE : "rgba(0,0,0,0)", line: { color: filled ? BLUE : GREY, width: 1.5 } },
        customdata: rows.map(function (r) {
          return [r.top_external_supplier || "—", r.year, r.target_gap_pp, r.target_since_note || "meets the 60% test"];
        }),
        hovertemplate: "%{y}<br>%{customdata[0]}: %{x:.1f}% in %{customdata[1]}<br>gap to 60%: %{customdata[2]:+.1f} pp"
          + "<br>%{customdata[3]}<extra>" + name + "</extra>"
      };
    }
    var g7 = shown.filter(function (r) { return r.yardstick === "G7 target"; });
    var other = shown.filter(function (r) { return r.yardstick !== "G7 target"; });
    var lines = [vline(60, "60% test", ORANGE, "solid", 0), vline(50, "50% ambition", GREEN, "dash", 1)];
    if (shown.some(function (r) { return r.crma_benchmark !== null && r.crma_benchmark !== undefined; })) {
      lines.push(vline(65, "65% CRMA (EU27)", GREY, "dot", 2));
    }
    var layout = {
      height: Math.max(320, 18 * shown.length + 140), barmode: "overlay", bargap: 0.25,
      margin: { l: 280, r: 20, t: 60, b: 60 },
      font: { family: "system-ui, sans-serif", size: 12, color: "#1a1a1a" },
      xaxis: { range: [0, 100], title: { text: "largest external supplier's share (%)" }, ticksuffix: "%" },
      yaxis: { automargin: true, categoryorder: "array", categoryarray: shown.map(label) },
      legend: { orientation: "h", y: -0.08 },
      shapes: lines.map(function (l) { return l.shape; }),
      annotations: lines.map(function (l) { return l.note; })
    };
    return Plotly.newPlot(el, [trace(g7, "G7 target (rare earths, magnets)", true),
                               trace(other, "same yardstick, comparison only", false)], layout, CONFIG)
      .then(function () { el.dataset.rendered = "true"; el.dataset.lines = lines.length; });
  }

  function start() {
    var el = document.querySelector("[data-targets-chart]");
    if (!el) { return; }
    el.dataset.rendered = "loading";
    fetchAll(el.dataset.src).then(function (result) {
      if (!result.ok) { message(el, "No data: " + (result.body.message || "request failed"), "empty"); return; }
      var source = document.querySelector('[data-source-for="' + el.id + '"]');
      if (source) { source.textContent = sourceLine(result.body.provenance); }
      el.textContent = "";
      return draw(el, result.body.data);
    }).catch(function (error) { message(el, "The chart could not be drawn: " + error.message, "error"); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
