// Starts the vendored Swagger UI on /api/docs with the spec URL the page names.
window.addEventListener("load", () => {
  const container = document.getElementById("swagger-ui-container");
  window.ui = window.SwaggerUIBundle({url: container.dataset.specUrl, dom_id: "#swagger-ui-container"});
});
