// The API reference page: Swagger UI (static/vendor/swagger-ui, from swagger-ui-dist) over
// the OpenAPI document named by the element's data-spec-url. Without JavaScript the page's
// table of operations stands alone.
(function () {
  var element = document.getElementById("swagger-ui");
  if (!element || typeof SwaggerUIBundle !== "function") {
    return;
  }
  SwaggerUIBundle({
    url: element.getAttribute("data-spec-url"),
    domNode: element,
    deepLinking: true,
    persistAuthorization: false,
  });
})();
