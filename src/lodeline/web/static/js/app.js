// Page behaviour shared by every dashboard page. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // htmx requests from a signed-in browser carry the session's CSRF token.
  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) { event.detail.headers["X-CSRF-Token"] = token; }
  });

  // Selects marked data-navigate go straight to the chosen page (the form's button is the no-JS path).
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.dataset.navigate) {
      window.location.assign(target.dataset.navigate + encodeURIComponent(target.value));
    }
  });
})();
