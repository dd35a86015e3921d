/* Swagger UI on the vendored bundle: the OpenAPI document of this installation (under its
   mount prefix), no call to the public validator service. */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.dataset.openapi,
    dom_id: "#swagger-ui",
    validatorUrl: null,
    layout: "BaseLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis]
  });
})();
