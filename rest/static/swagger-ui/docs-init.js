// Starts Swagger UI on the page served at /schema (rest/docs_ui.py). A file of its
// own, not an inline script, so that the page runs under a CSP without 'unsafe-inline'.
"use strict";

(function () {
  const root = document.getElementById("swagger-ui");
  root.textContent = "";
  window.ui = SwaggerUIBundle({
    url: root.dataset.url,
    domNode: root,
    deepLinking: true,
    // The default would load a badge from validator.swagger.io: nothing leaves the gateway.
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
  });
})();
