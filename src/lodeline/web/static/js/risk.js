// Risk page: draw the figures the server built (plotly JSON in <script type="application/json"> blocks) with
// the vendored plotly.js. The criticality chart keeps its fixed size: its labels were placed for that size.
(function () {
  "use strict";

  function draw(el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source || typeof Plotly === "undefined") { return; }
    var figure = JSON.parse(source.textContent);
    var fixed = el.hasAttribute("data-width");
    var config = { responsive: !fixed, displaylogo: false, displayModeBar: false };
    Plotly.newPlot(el, figure.data, figure.layout, config).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-figure]").forEach(draw);
  });
})();
