// Stocks page: draw published tonnes by mineral (JSON in a <script type="application/json"> block, suppressed
// cells are not in it) with the vendored plotly.js, and run a release plan against the API (signed-in callers).
(function () {
  "use strict";

  function drawChart() {
    var el = document.getElementById("stocks-chart");
    var source = el && document.getElementById(el.getAttribute("data-series"));
    if (!source || typeof Plotly === "undefined") { return; }
    var series = JSON.parse(source.textContent);
    var data = [{ type: "bar", x: series.mineral, y: series.tonnes, marker: { color: "#3a6ea5" } }];
    var layout = {
      margin: { t: 20, r: 20, b: 60, l: 70 }, height: 320,
      yaxis: { title: { text: "tonnes gross" } }, xaxis: { type: "category" }
    };
    Plotly.newPlot(el, data, layout, { responsive: true, displaylogo: false, displayModeBar: false })
      .then(function () { el.setAttribute("data-drawn", "true"); });
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function number(value) {
    return value === null || value === undefined ? "—" : Math.round(value).toLocaleString("en");
  }

  function showPlan(result) {
    var table = document.getElementById("plan-table");
    var body = table.querySelector("tbody");
    body.textContent = "";
    result.data.members.forEach(function (m) {
      var tr = document.createElement("tr");
      [m.member, number(m.release_t), number(m.shortfall_without_release_t), number(m.shortfall_with_release_t),
        number(m.shortfall_avoided_t)].forEach(function (text, i) {
        var td = document.createElement("td");
        td.textContent = text;
        if (i > 0) { td.className = "num"; }
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    table.hidden = false;
    var notes = document.getElementById("plan-notes");
    notes.textContent = "";
    (result.data.notes || []).forEach(function (n) {
      var li = document.createElement("li");
      li.textContent = n;
      notes.appendChild(li);
    });
  }

  function planBody(form) {
    var body = { scenario: form.scenario.value, rules: form.rules.value };
    if (form.period && form.period.value) { body.period = form.period.value; }
    return body;
  }

  function planForm() {
    var form = document.getElementById("plan-form");
    if (!form) { return; }
    var status = document.getElementById("plan-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      status.textContent = "Planning…";
      fetch("/api/v1/stocks/release-plan", {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf() },
        body: JSON.stringify(planBody(form))
      }).then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) { throw new Error((data && data.message) || ("HTTP " + r.status)); }
          return data;
        });
      }).then(function (result) {
        showPlan(result);
        status.textContent = "Plan for " + result.data.scenario + " (" + result.data.mineral + "); stocks: " +
          result.data.basis.description;
      }).catch(function (err) {
        status.textContent = "Could not plan: " + err.message;
        status.setAttribute("role", "alert");
      });
    });
  }

  function uploadForm() {
    var form = document.getElementById("upload-form");
    if (!form) { return; }
    var status = document.getElementById("upload-status");
    var errors = document.getElementById("upload-errors");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      status.textContent = "Uploading…";
      status.setAttribute("role", "status");
      errors.textContent = "";
      fetch("/api/v1/stocks/submissions", {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRF-Token": csrf() },
        body: new FormData(form)
      }).then(function (r) {
        return r.json().then(function (data) { return { ok: r.ok, data: data }; });
      }).then(function (res) {
        var d = res.data || {};
        if (res.ok) {
          status.textContent = "Accepted: " + d.member + " " + d.period + ", version " + d.version + " (" + d.rows +
            " row(s)), log leaf index " + d.leaf_index + ".";
          status.setAttribute("data-version", d.version);
          return;
        }
        status.textContent = "Rejected, nothing was stored: " + (d.message || "error");
        status.setAttribute("role", "alert");
        (d.errors || []).forEach(function (e) {
          var li = document.createElement("li");
          li.textContent = "row " + e.row + ", field " + e.field + ": " + e.reason;
          errors.appendChild(li);
        });
      }).catch(function (err) {
        status.textContent = "Could not upload: " + err.message;
        status.setAttribute("role", "alert");
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawChart();
    planForm();
    uploadForm();
  });
})();
