// The registry explorer's passport section (templates/_passport.html): the newest passport of the searched lot,
// its materials provenance, and every check of it run by GET /api/v1/passports/{id}/verify.
(function () {
  "use strict";
  var section = document.getElementById("passport-section");
  if (!section) { return; }
  var current = null;

  function text(id, value) { document.getElementById(id).textContent = value; }
  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    });
  }
  function cell(row, value) { var td = document.createElement("td"); td.textContent = value; row.appendChild(td); return td; }

  function show(passport) {
    current = passport;
    var subject = passport.credentialSubject || {};
    text("passport-profile", subject.batteryPass ? "Battery Pass (UNTP DPP)" : "UNTP DPP");
    text("passport-id", passport.id);
    text("passport-issuer", (passport.issuer || {}).name || "");
    text("passport-issued", passport.validFrom || "");
    document.getElementById("passport-link").href = "/api/v1/passports/" + encodeURIComponent(passport.id);
    var body = document.querySelector("#passport-materials tbody");
    body.textContent = "";
    (subject.materialsProvenance || []).forEach(function (m) {
      var row = document.createElement("tr");
      cell(row, (m.originCountry || {}).countryName || "");
      cell(row, (100 * m.massFraction).toFixed(2) + " %").className = "num";
      body.appendChild(row);
    });
    var recycled = (subject.circularityScorecard || {}).recycledContent;
    text("passport-recycled", typeof recycled === "number" ? (100 * recycled).toFixed(2) + " %" : "not stated");
    text("passport-status", "not checked");
    document.getElementById("passport-checks").hidden = true;
    document.getElementById("passport-body").hidden = false;
  }

  function load(lot) {
    if (!lot) { return; }
    section.hidden = false;
    document.getElementById("passport-body").hidden = true;
    text("passport-message", "Looking for a passport of this lot…");
    getJSON("/api/v1/passports?lot=" + encodeURIComponent(lot)).then(function (res) {
      var list = res.ok ? res.body.passports : [];
      if (!list || !list.length) { text("passport-message", "No passport has been issued for this lot."); return null; }
      text("passport-message", list.length + " passport(s) issued; the newest is shown.");
      return getJSON("/api/v1/passports/" + encodeURIComponent(list[0].id));
    }).then(function (res) {
      if (res && res.ok) { show(res.body); }
    }).catch(function () { text("passport-message", "The passport could not be loaded."); });
  }

  document.getElementById("passport-verify").addEventListener("click", function () {
    if (!current) { return; }
    text("passport-status", "checking…");
    // the stored passport is checked where it is (a large one would exceed the request body limit if posted)
    fetch("/api/v1/passports/" + encodeURIComponent(current.id) + "/verify", {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (r) { return r.json(); }).then(function (report) {
      var body = document.querySelector("#passport-checks tbody");
      body.textContent = "";
      (report.checks || []).forEach(function (c) {
        var row = document.createElement("tr");
        row.dataset.check = c.check;
        cell(row, c.check);
        cell(row, c.status).className = "check-" + c.status;
        cell(row, c.detail);
        body.appendChild(row);
      });
      document.getElementById("passport-checks").hidden = false;
      text("passport-status", report.valid ? "valid: every check passed" : "INVALID: failed " + (report.failed || []).join(", "));
    }).catch(function () { text("passport-status", "the verification could not be run"); });
  });

  var form = document.getElementById("lot-search");
  var input = document.getElementById("lot-input");
  if (form && input) {
    form.addEventListener("submit", function () { load(input.value.trim()); });
    if (input.value.trim()) { load(input.value.trim()); }
  }
})();
