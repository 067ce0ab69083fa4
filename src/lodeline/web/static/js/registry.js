// Registry explorer: origin shares, upstream graph, and RFC 9162 inclusion proofs verified in the browser with
// Web Crypto against the published checkpoint. Static file: the CSP forbids inline scripts.
(function () {
  "use strict";

  var PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];

  var FMT = window.LodelineFormat;  // static/js/format.js: one number format for the dashboard
  function $(id) { return document.getElementById(id); }

  function say(text) { $("registry-message").textContent = text; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error((body && body.message) || ("HTTP " + r.status)); }
        return body;
      });
    });
  }

  // ------------------------------------------------------------------ RFC 9162 hashing (SHA-256, Web Crypto)
  function bytesOf(text) { return new TextEncoder().encode(text); }

  function fromBase64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function concat(parts) {
    var n = 0, i, out, at = 0;
    for (i = 0; i < parts.length; i++) { n += parts[i].length; }
    out = new Uint8Array(n);
    for (i = 0; i < parts.length; i++) { out.set(parts[i], at); at += parts[i].length; }
    return out;
  }

  function sha256(data) {
    return crypto.subtle.digest("SHA-256", data).then(function (d) { return new Uint8Array(d); });
  }

  function leafHash(data) { return sha256(concat([new Uint8Array([0]), data])); }

  function nodeHash(left, right) { return sha256(concat([new Uint8Array([1]), left, right])); }

  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i++) { if (a[i] !== b[i]) { return false; } }
    return true;
  }

  // RFC 9162 §2.1.3.2: walk the audit path from the leaf to the root of the tree of treeSize leaves.
  async function verifyInclusion(leaf, index, treeSize, path, root) {
    if (index >= treeSize) { return false; }
    var fn = index, sn = treeSize - 1, r = leaf;
    for (var i = 0; i < path.length; i++) {
      if (sn === 0) { return false; }
      if ((fn & 1) === 1 || fn === sn) {
        r = await nodeHash(path[i], r);
        if ((fn & 1) === 0) {
          while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await nodeHash(r, path[i]);
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equal(r, root);
  }

  // C2SP tlog-checkpoint: origin, size, base64 root on the first three lines of the signed note.
  function parseCheckpoint(note) {
    var lines = note.split("\n");
    return { origin: lines[0], size: parseInt(lines[1], 10), root: fromBase64(lines[2]) };
  }

  // C2SP signed note: text (up to and including the newline before the blank line), then signature lines
  // "— <name> <base64(4-byte key ID ‖ 64-byte Ed25519 signature)>". The vkey is "<name>+<hex key ID>+<base64(
  // 0x01 ‖ 32-byte public key)>"; its key ID must be SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[:4].
  async function verifyNoteSignature(note, vkey) {
    // the name has no "+", the base64 key may: split at the first two only
    var first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    if (first < 1 || second < 0) { return false; }
    var parts = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
    var name = parts[0], raw = fromBase64(parts[2]);
    if (raw.length !== 33 || raw[0] !== 1) { return false; }
    var keyId = (await sha256(concat([bytesOf(name + "\n"), raw]))).slice(0, 4);
    if (toHex(keyId) !== parts[1]) { return false; }
    var cut = note.lastIndexOf("\n\n");
    if (cut < 0) { return false; }
    var text = note.slice(0, cut + 1), lines = note.slice(cut + 2).split("\n");
    var key = await crypto.subtle.importKey("raw", raw.slice(1), { name: "Ed25519" }, false, ["verify"]);
    for (var i = 0; i < lines.length; i++) {
      var fields = lines[i].split(" ");
      if (fields.length !== 3 || fields[0] !== "\u2014" || fields[1] !== name) { continue; }
      var blob = fromBase64(fields[2]);
      if (blob.length !== 68 || !equal(blob.slice(0, 4), keyId)) { continue; }
      return crypto.subtle.verify({ name: "Ed25519" }, key, blob.slice(4), bytesOf(text));
    }
    return false;
  }

  function toHex(bytes) {
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  }

  async function verifyEvent(hashId, checkpoint) {
    var proof = await getJSON("/api/v1/registry/proofs/inclusion?event_hash=" + encodeURIComponent(hashId) +
      "&size=" + checkpoint.size);
    if (proof.origin !== checkpoint.origin || proof.tree_size !== checkpoint.size) { return { ok: false, proof: proof }; }
    var leaf = await leafHash(bytesOf(proof.leaf_data));
    if (!equal(leaf, fromBase64(proof.leaf_hash)) || proof.leaf_data !== hashId) { return { ok: false, proof: proof }; }
    var ok = await verifyInclusion(leaf, proof.leaf_index, checkpoint.size,
      proof.inclusion_path.map(fromBase64), checkpoint.root);
    return { ok: ok, proof: proof };
  }

  // ------------------------------------------------------------------ drawing
  // A participant sees other parties' facilities only where its own records name them; the rest come without
  // an identifier (type and country only) and upstream lots it never held under a label local to the answer.
  function facilityLabel(name, type, country) {
    return (name || "undisclosed " + (type || "facility").replace(/_/g, " ")) + " (" + (country || "?") + ")";
  }

  function originLabel(row, by) {
    if (by === "facility") { return facilityLabel(row.name, row.type, row.country); }
    return row.country || row.status || row.name || "?";
  }

  function short(lot) {
    if (!lot) { return "?"; }
    var parts = String(lot).split("/");
    return parts[parts.length - 1];
  }

  function drawOrigin(body) {
    var labels = body.shares.map(function (s) { return originLabel(s, body.by); });
    var values = body.shares.map(function (s) { return s.share * 100; });
    Plotly.newPlot("origin-chart", [{
      type: "bar", x: labels, y: values, marker: { color: PALETTE.slice(0, labels.length) },
      customdata: body.shares.map(function (s) { return FMT.share(s.share); }),
      hovertemplate: "%{x}: %{customdata}<extra></extra>"
    }], {
      margin: { t: 10, r: 10, b: 60, l: 50 }, height: 300,
      xaxis: { automargin: true }, yaxis: { title: "% of contained metal", range: [0, 100], automargin: true }
    }, { displayModeBar: false, responsive: true });
    var tbody = document.querySelector("#origin-table tbody");
    tbody.textContent = "";
    body.shares.forEach(function (s) {
      var tr = document.createElement("tr"), th = document.createElement("th"), td = document.createElement("td");
      th.scope = "row"; th.textContent = originLabel(s, body.by);
      td.className = "num"; td.textContent = FMT.share(s.share);
      tr.appendChild(th); tr.appendChild(td); tbody.appendChild(tr);
    });
  }

  function drawUpstream(body) {
    var nodes = [], index = {};
    function node(name) {
      if (!(name in index)) { index[name] = nodes.length; nodes.push(name); }
      return index[name];
    }
    var source = [], target = [], value = [];
    body.edges.forEach(function (e) {
      var from = e.source_lot ? short(e.source_lot) : facilityLabel(e.facility_name, e.facility_type, e.country);
      source.push(node(from)); target.push(node(short(e.lot))); value.push(e.metal_kg);
    });
    Plotly.newPlot("upstream-chart", [{
      type: "sankey", arrangement: "snap",
      node: { label: nodes, pad: 20, thickness: 14, color: nodes.map(function (_, i) { return PALETTE[i % PALETTE.length]; }) },
      link: { source: source, target: target, value: value,
        customdata: value.map(function (v) { return FMT.kg(v); }),
        hovertemplate: "%{source.label} → %{target.label}: %{customdata}<extra></extra>" }
    }], { margin: { t: 10, r: 10, b: 10, l: 10 }, height: Math.max(360, 30 * nodes.length) },
    { displayModeBar: false, responsive: true });
  }

  function movementText(ev) {
    return (ev.movements || []).map(function (m) {
      return m.movement + " " + FMT.kg(m.quantity_kg);
    }).join(", ") || "—";
  }

  // Columns: time, step, movement, what the caller may see of it, log leaf, hash ID, inclusion (always last).
  function eventRow(ev) {
    var tr = document.createElement("tr");
    var detail = ev.visibility === "custody" ? "custody facts only" : "full event";
    [ev.event_time, (ev.biz_step || ev.event_type || "").split(/[/:]/).pop(), movementText(ev), detail,
      String(ev.leaf_index), ev.hash_id, "checking…"]
      .forEach(function (text, i) {
        var td = document.createElement(i === 0 ? "th" : "td");
        if (i === 0) { td.scope = "row"; }
        if (i === 3) { td.className = "visibility"; }
        if (i === 5) { td.className = "hash"; }
        td.textContent = text; tr.appendChild(td);
      });
    return tr;
  }

  async function checkProofs(events) {
    var status = $("proof-status");
    status.textContent = "checking…";
    var note = await fetch("/api/v1/registry/checkpoint", { headers: { Accept: "text/plain" } }).then(function (r) {
      if (!r.ok) { throw new Error("checkpoint: HTTP " + r.status); }
      return r.text();
    });
    var checkpoint = parseCheckpoint(note), vkey = $("checkpoint-line").dataset.vkey || "";
    $("checkpoint-line").textContent = "Checkpoint: " + checkpoint.origin + ", tree size " + checkpoint.size +
      ", root " + note.split("\n")[2] + ", key " + vkey.split("+").slice(0, 2).join("+");
    var signed = false;
    try {
      signed = await verifyNoteSignature(note, vkey);
    } catch (err) {  // a malformed note or key is a failed check, not a crash
      signed = false;
    }
    $("signature-status").textContent = signed ? "verified" : "NOT verified";
    $("signature-status").className = signed ? "ok" : "bad";
    var tbody = document.querySelector("#events-table tbody");
    tbody.textContent = "";
    var all = events.length > 0 && signed;
    for (var i = 0; i < events.length; i++) {
      var tr = eventRow(events[i]);
      tbody.appendChild(tr);
      var result;
      try {
        result = await verifyEvent(events[i].hash_id, checkpoint);
      } catch (err) {  // a malformed proof (bad base64, missing field) is a failed check, not a crash
        result = { ok: false };
      }
      tr.lastChild.textContent = result.ok ? "verified" : "NOT verified";
      tr.lastChild.className = result.ok ? "ok" : "bad";
      all = all && result.ok;
    }
    status.textContent = events.length === 0 ? "no events" : (all ? "verified" : "not verified");
    status.dataset.state = all ? "verified" : "failed";
  }

  // Screening (issue 16): the lot's TVPRA hits; a failure leaves the rest of the view as it is.
  async function drawScreening(lot) {
    var tbody = document.querySelector("#screening-table tbody");
    tbody.textContent = "";
    try {
      var body = await getJSON("/api/v1/comply/screen?lot=" + encodeURIComponent(lot));
      $("screening-edition").textContent = body.tvpra_edition;
      var rows = body.tvpra_hits.length ? body.tvpra_hits : [null];
      rows.forEach(function (h) {
        var tr = document.createElement("tr");
        var cells = h ? [h.good + " / " + h.country, h.basis + (h.share === null ? "" : " (" + FMT.share(h.share) + ")"),
          ["child_labor", "forced_labor", "forced_child_labor"].filter(function (k) { return h[k]; }).join(", ") ||
            ("derived from " + h.derived_from)] : ["no TVPRA listing applies", "", ""];
        cells.forEach(function (text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); });
        tbody.appendChild(tr);
      });
    } catch (err) {
      $("screening-edition").textContent = "not screened: " + err.message;
    }
  }

  async function search(event) {
    if (event) { event.preventDefault(); }
    var lot = $("lot-input").value.trim(), by = $("by-select").value;
    if (!lot) { return; }
    say("Loading " + lot + "…");
    $("proof-status").textContent = "not checked";
    delete $("proof-status").dataset.state;
    try {
      var origin = await getJSON("/api/v1/registry/lots/" + encodeURIComponent(lot) + "/origin?by=" + by);
      var events = await getJSON("/api/v1/registry/events?limit=50&lot=" + encodeURIComponent(lot));
      $("registry-result").hidden = false;
      $("lot-title").textContent = origin.lot;
      $("lot-summary").textContent = origin.material + " (" + origin.mineral + "), " +
        Math.round(origin.contained_metal_kg).toLocaleString("en") + " kg contained metal, " +
        origin.upstream_lots + " upstream lot(s)";
      drawOrigin(origin);
      drawUpstream(origin);
      await drawScreening(origin.lot);
      say("");
      await checkProofs(events.events);
    } catch (err) {
      $("registry-result").hidden = true;
      say("Error: " + err.message);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("lot-search").addEventListener("submit", search);
    if ($("lot-input").value.trim()) { search(null); }
  });
})();
