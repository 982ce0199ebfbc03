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

// The menu button of narrow screens: folds the main navigation away and unfolds it (aria-expanded says which).
// Without this script the button stays hidden and the navigation stays unfolded.
(function () {
  var toggle = document.querySelector(".nav-toggle");
  var nav = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
  if (!nav) { return; }
  nav.classList.add("foldable");
  toggle.hidden = false;
  toggle.addEventListener("click", function () {
    var open = nav.classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// The area menus are <details>: they open by themselves (mouse, Enter, Space). Here, one open menu at a time,
// closed by Escape (focus back on its summary) or by a click outside it.
(function () {
  var menus = document.querySelectorAll("details.menu");
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (!menu.open) { return; }
      menus.forEach(function (other) { if (other !== menu) { other.open = false; } });
    });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var menu = document.activeElement && document.activeElement.closest && document.activeElement.closest("details.menu[open]");
    if (menu) {
      menu.open = false;
      menu.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) { menu.open = false; }
    });
  });
})();

// A table or box that scrolls sideways (narrow screens) is made focusable, so that it scrolls with the keyboard too.
(function () {
  function mark() {
    document.querySelectorAll("main .table, main .scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0") {
        box.removeAttribute("tabindex");
      }
    });
  }
  var pending = false;
  window.addEventListener("resize", function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; mark(); });
  });
  mark();
})();
