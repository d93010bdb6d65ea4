// The interactive documentation at /docs: Swagger UI (swagger-ui-bundle.js,
// loaded before this file) showing this site's /openapi.json.  Everything
// stays on this origin: no validator badge (it would load an image from
// validator.swagger.io), no ?url= or ?configUrl= from the address bar, and
// "Try it out" calls the document's server "/", this site.
"use strict";
window.ui = window.SwaggerUIBundle({
  url: "openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  queryConfigEnabled: false,
  deepLinking: true,
  tryItOutEnabled: false,
  displayRequestDuration: true,
  defaultModelsExpandDepth: 0,
});
