// The API documentation page: Swagger UI (vendored, static/vendor/swagger-ui/) renders the app's OpenAPI document.
// Swagger UI's own title block is left out (the page has its title and introduction) and so is its list of servers
// (one: this app); deep links are off, as they put a link inside each operation's button. What Swagger UI renders
// without a name, a role or a keyboard stop gets one as it appears: enum parameters' selects are named after their
// parameter, each operation's table of responses after the operation, the authorisation dialog is a dialog with its
// title and a named close button, scrolling code blocks can be focused.
(function () {
  "use strict";
  var element = document.getElementById("swagger-ui");
  if (!element || typeof window.SwaggerUIBundle !== "function") {
    return;
  }

  function nothing() {
    return function () {
      return null;
    };
  }

  function leaveOut() {
    return { wrapComponents: { InfoContainer: nothing, ServersContainer: nothing } };
  }

  function nameWhatIsUnnamed(root) {
    root.querySelectorAll("select:not([aria-label])").forEach(function (select) {
      var row = select.closest("tr[data-param-name]");
      var name = row ? row.getAttribute("data-param-name") : select.closest(".response-control-media-type") ? "Media type" : null;
      if (name) {
        select.setAttribute("aria-label", name);
      }
    });
    root.querySelectorAll("pre:not([tabindex])").forEach(function (block) {
      block.setAttribute("tabindex", "0");
    });
    root.querySelectorAll(".modal-ux:not([role])").forEach(function (dialog) {
      var title = dialog.querySelector(".modal-ux-header h3");
      dialog.setAttribute("role", "dialog");
      dialog.setAttribute("aria-modal", "true");
      if (title) {
        title.id = "api-docs-dialog-title";
        dialog.setAttribute("aria-labelledby", title.id);
      }
    });
    root.querySelectorAll(".close-modal:not([aria-label])").forEach(function (button) {
      button.setAttribute("aria-label", "Close");
    });
    root.querySelectorAll("button[aria-label='Apply credentials']").forEach(function (button) {
      button.removeAttribute("aria-label"); // its text, "Authorize", names it
    });
    root.querySelectorAll("table.responses-table[role=region]:not([aria-label])").forEach(function (table) {
      var operation = table.closest(".opblock");
      var method = operation && operation.querySelector(".opblock-summary-method");
      var path = operation && operation.querySelector(".opblock-summary-path");
      table.setAttribute("aria-label", "Responses: " + (method ? method.textContent : "") + " " +
        (path ? path.getAttribute("data-path") : ""));
    });
  }

  new MutationObserver(function () {
    nameWhatIsUnnamed(element);
  }).observe(element, { childList: true, subtree: true });

  window.SwaggerUIBundle({
    url: element.getAttribute("data-spec"),
    domNode: element,
    deepLinking: false,
    defaultModelsExpandDepth: 0,
    persistAuthorization: false,
    syntaxHighlight: { activated: false },
    validatorUrl: null,
    plugins: [leaveOut]
  });
}());
