// Starts Swagger UI or ReDoc on /api/openapi.json. A file, not inline: the CSP allows no inline scripts.
(function () {
  "use strict";
  const root = document.getElementById("api-docs");
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
  const url = root.dataset.openapiUrl;
  if (root.dataset.ui === "redoc") {
    // The page's nonce lets ReDoc's own <style> elements through the CSP, and no others.
    // No search: its index runs in a worker made from a blob, which the CSP refuses.
    window.Redoc.init(url, { nonce: root.dataset.nonce, expandResponses: "200", disableSearch: true }, root);
    return;
  }
  window.SwaggerUIBundle({
    url,
    domNode: root,
    deepLinking: true,
    tryItOutEnabled: false,
    // "Try it out" sends the signed-in session's cookie; state changes also need its CSRF token.
    requestInterceptor: (request) => {
      request.headers["X-CSRF-Token"] = csrf;
      return request;
    },
  });
})();
