// Swagger UI for /openapi.json, from the vendored swagger-ui-dist bundle.
(function () {
  "use strict";
  window.addEventListener("DOMContentLoaded", function () {
    window.SwaggerUIBundle({ url: "/openapi.json", dom_id: "#swagger-ui", deepLinking: true });
  });
})();
