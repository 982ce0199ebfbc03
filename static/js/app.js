// Confirmation before destructive or irreversible actions: <form data-confirm="question">.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// A submit button may ask for confirmation of its own: <button data-confirm-submit="question">.
document.addEventListener("click", function (event) {
  var button = event.target.closest && event.target.closest("button[data-confirm-submit]");
  if (button && !window.confirm(button.getAttribute("data-confirm-submit"))) {
    event.preventDefault();
  }
});
