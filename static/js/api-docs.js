// The API documentation page: Swagger UI (vendored, static/vendor/swagger-ui/) renders the app's OpenAPI document.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }
  window.SwaggerUIBundle({
    url: element.getAttribute("data-spec"),
    domNode: element,
    deepLinking: true,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
    validatorUrl: null
  });
}());
