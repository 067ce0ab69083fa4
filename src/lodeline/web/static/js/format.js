// One number format for the dashboard's charts, the same as the pages' tables (web/pages.py `percent` and
// `number` filters): shares in % with one decimal, tonnes and US dollars with thousands separators, HHI an
// integer. Charts put these strings in their hover text, so a figure reads the same in a table and a chart.
(function () {
  "use strict";

  var GROUPED = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });
  var ONE_DECIMAL = new Intl.NumberFormat("en-US", { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  var DASH = "—";

  function missing(v) { return v === null || v === undefined || Number.isNaN(v); }

  window.LodelineFormat = {
    // A share given as a fraction (0–1): "12.3%".
    share: function (fraction) { return missing(fraction) ? DASH : ONE_DECIMAL.format(100 * fraction) + "%"; },
    // A share already in percent (0–100): "12.3%".
    percent: function (value) { return missing(value) ? DASH : ONE_DECIMAL.format(value) + "%"; },
    tonnes: function (t) { return missing(t) ? DASH : GROUPED.format(t) + " t"; },
    kg: function (kg) { return missing(kg) ? DASH : GROUPED.format(kg) + " kg"; },
    usd: function (v) { return missing(v) ? DASH : "US$ " + GROUPED.format(v); },
    hhi: function (v) { return missing(v) ? DASH : GROUPED.format(Math.round(v)); },
    integer: function (v) { return missing(v) ? DASH : GROUPED.format(v); }
  };
})();
