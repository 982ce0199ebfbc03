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

// A "tick all" box: <input type="checkbox" data-check-all="name"> ticks every checkbox of that name.
document.addEventListener("change", function (event) {
  var name = event.target.getAttribute && event.target.getAttribute("data-check-all");
  if (name) {
    document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) {
      box.checked = event.target.checked;
    });
  }
});

// The assignment wizard shows only the fields of the chosen mode.
(function () {
  var mode = document.querySelector("select[name=mode]");
  if (!mode) { return; }
  function show() {
    document.querySelectorAll("fieldset.mode").forEach(function (set) {
      set.hidden = !set.classList.contains("mode-" + mode.value);
    });
  }
  mode.addEventListener("change", show);
  show();
})();

// Long work: <form data-busy="message"> disables its buttons and shows the message while the server works.
document.addEventListener("submit", function (event) {
  var form = event.target;
  var message = form.getAttribute && form.getAttribute("data-busy");
  if (message && !event.defaultPrevented) {
    var text = form.querySelector(".busy-text");
    if (text) { text.textContent = message; text.hidden = false; }
    setTimeout(function () {
      form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    }, 0);
  }
});

// <button data-print> prints the page (A4 print stylesheet).
document.addEventListener("click", function (event) {
  if (event.target.closest && event.target.closest("[data-print]")) {
    window.print();
  }
});
