// Stress-test page: start a job through the API, poll its progress, then draw the result. Static file: the CSP
// forbids inline scripts. Figures arrive already cleaned of numerical noise (docs/methods/stress-test.md).
(function () {
  "use strict";

  function $(id) { return document.getElementById(id); }

  function say(text, isError) {
    var box = $("sim-message");
    box.textContent = text;
    box.setAttribute("role", isError ? "alert" : "status");
  }

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function request(method, url, body) {
    var headers = { Accept: "application/json" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["X-CSRF-Token"] = csrf();
    }
    return fetch(url, {
      method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) {
          var wait = r.headers.get("Retry-After");
          throw new Error((data && data.message) || ("HTTP " + r.status) + (wait ? " (retry in " + wait + " s)" : ""));
        }
        return data;
      });
    });
  }

  function number(value, digits) {
    if (value === null || value === undefined) { return "—"; }
    return Number(value).toLocaleString("en", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }

  function cell(row, text, header) {
    var td = document.createElement(header ? "th" : "td");
    if (header) { td.setAttribute("scope", header); }
    td.textContent = text;
    row.appendChild(td);
  }

  function fill(tableId, rows, columns) {
    var body = document.querySelector("#" + tableId + " tbody");
    body.textContent = "";
    rows.forEach(function (r) {
      var tr = document.createElement("tr");
      columns.forEach(function (c, i) { cell(tr, c(r), i === 0 ? "row" : null); });
      body.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      cell(tr, "none", null);
      body.appendChild(tr);
    }
  }

  function readUpload() {
    var file = $("scenario-file").files[0];
    if (!file) { return Promise.resolve(null); }
    var limit = Number($("sim-form").getAttribute("data-max-upload"));
    if (file.size > limit) {
      return Promise.reject(new Error(file.name + " is " + file.size.toLocaleString("en") +
        " bytes; a scenario may be at most " + limit.toLocaleString("en") + " bytes"));
    }
    return file.text();
  }

  function poll(job) {
    var bar = $("sim-progress");
    bar.value = job.progress;
    say(job.title + ": " + job.status + " — " + job.message);
    if (job.status === "failed") { throw new Error(job.title + " failed: " + job.message); }
    if (job.status === "done") { return request("GET", job.links.result); }
    return new Promise(function (resolve) { setTimeout(resolve, 400); }).then(function () {
      return request("GET", job.links.status).then(poll);
    });
  }

  function draw(result) {
    var report = result.data, job = result.job;
    var members = report.members.filter(function (m) { return m.member; });
    var names = members.map(function (m) { return m.country; });
    var months = report.monthly.map(function (m) { return m.month; });
    $("result-title").textContent = report.scenario;
    $("result-summary").textContent = "Mineral " + report.mineral + ", " + report.months + " months, release rule " +
      report.release_rule + ". Peak price multiple " + number(report.price_multiple_max, 2) + ".";
    var list = $("assumptions-list");
    list.textContent = "";
    report.assumptions.forEach(function (a) {
      var li = document.createElement("li"), b = document.createElement("b");
      b.textContent = a.kind + ": ";
      li.appendChild(b);
      li.appendChild(document.createTextNode(a.text));
      list.appendChild(li);
    });
    $("report-link").href = job.links.report;
    $("csv-link").href = job.links.result + "?format=csv";

    var z = names.map(function (c) {
      return report.monthly.map(function (m) { return m.by_member[c].shortfall_t; });
    });
    var head = document.querySelector("#shortfall-table thead");
    head.textContent = "";
    var hr = document.createElement("tr");
    cell(hr, "Member", "col");
    months.forEach(function (m) { cell(hr, "Month " + m, "col"); });
    head.appendChild(hr);
    fill("shortfall-table", names.map(function (c, i) { return { c: c, z: z[i] }; }),
      [function (r) { return r.c; }].concat(months.map(function (_, j) {
        return function (r) { return number(r.z[j], 1); };
      })));
    if (window.Plotly) {
      window.Plotly.newPlot("shortfall-heatmap", [{
        type: "heatmap", x: months, y: names, z: z, colorscale: "Blues", reversescale: true,
        colorbar: { title: { text: "t" } }, hovertemplate: "%{y}, month %{x}: %{z:,.1f} t<extra></extra>"
      }], {
        margin: { l: 60, r: 20, t: 10, b: 50 }, height: 80 + 28 * Math.max(names.length, 3),
        xaxis: { title: { text: "month" }, dtick: 1 }, yaxis: { automargin: true }
      }, { displaylogo: false, responsive: true, displayModeBar: false });
    }
    fill("release-table", members, [
      function (m) { return m.country; },
      function (m) { return number(m.demand_t, 1); },
      function (m) { return number(m.shortfall_t, 1); },
      function (m) { return number(m.shortfall_pct, 1); },
      function (m) { return number(m.stock_start_t, 1); },
      function (m) { return number(m.stock_draw_t, 1); },
      function (m) { return number(m.stock_end_t, 1); },
      function (m) { return number(m.days_of_cover_start, 1) + " → " + number(m.days_of_cover_end, 1); }
    ]);
    fill("duals-table", report.duals.slice(0, 60), [
      function (d) { return String(d.month); },
      function (d) { return d.constraint; },
      function (d) { return d.member || "—"; },
      function (d) { return number(d.value_per_tonne, 3); }
    ]);
    fill("binding-table", report.binding_nodes, [
      function (b) { return b.country; },
      function (b) { return b.stage; },
      function (b) { return number(b.output_lost_t, 1); },
      function (b) { return number(b.exports_withheld_t, 1); }
    ]);
    var sources = result.provenance.sources.map(function (s) { return s.title + " — " + s.edition + " (" + s.licence + ")"; });
    $("result-source").textContent = "Source: " + (sources.length ? sources.join("; ") : "the scenario's own network") +
      ". Method: " + result.provenance.method;
    $("sim-result").hidden = false;
    say(report.scenario + ": done.");
  }

  function run(event) {
    event.preventDefault();
    var button = $("run-button");
    button.disabled = true;
    $("sim-result").hidden = true;
    $("sim-progress").hidden = false;
    $("sim-progress").value = 0;
    readUpload().then(function (text) {
      var body = text === null ? { kind: "run", scenario: $("scenario-select").value }
        : { kind: "run", scenario_yaml: text };
      say("starting…");
      return request("POST", "/api/v1/sim/jobs", body);
    }).then(poll).then(draw).catch(function (err) {
      say(err.message, true);
    }).finally(function () {
      button.disabled = false;
      $("sim-progress").hidden = true;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = $("sim-form");
    if (form) { form.addEventListener("submit", run); }
  });
})();
