// Pickers that name things instead of asking for codes.

// Person pickers (<input data-person-search="url" list="…">, the person_field macro): as one types, the people
// matching the text (staff number or name, within the picker's scope) fill the input's <datalist>, whose options
// the browser offers under the field (arrow keys and Enter, or the mouse). One request per pause in typing; an
// answer that arrives after a newer question is dropped. Picking an option puts "staff number name" in the field,
// which the server accepts as it is. Without this script the field still takes a staff number.
(function () {
  var PAUSE_MS = 250;
  document.querySelectorAll("input[data-person-search]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("list"));
    var status = document.getElementById(input.getAttribute("data-status"));
    var url = input.getAttribute("data-person-search");
    var timer = null;
    var asked = 0;
    var lastText = null;
    function say(text) {
      if (status && status.textContent !== text) { status.textContent = text; }
    }
    // The name the user is typing (Chinese or English), else the one in the page's language: the browser lists only
    // the options that hold what is typed.
    function nameFor(person, text) {
      var typed = text.toLowerCase();
      var names = [person.name, person.name_zh, person.name_en].filter(function (name) {
        return name && name.toLowerCase().indexOf(typed) !== -1;
      });
      return names.length ? names[0] : person.name;
    }
    function fill(people, text) {
      list.textContent = "";
      people.forEach(function (person) {
        var option = document.createElement("option");
        option.value = person.staff_no + " " + nameFor(person, text);
        option.label = person.org_unit;
        option.textContent = person.org_unit;
        list.appendChild(option);
      });
      say(people.length ? input.getAttribute("data-found").replace("{n}", people.length) : input.getAttribute("data-none"));
    }
    function ask(text) {
      var mine = ++asked;
      lastText = text;
      var separator = url.indexOf("?") === -1 ? "?" : "&";
      fetch(url + separator + "q=" + encodeURIComponent(text), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.json() : []; })
        .then(function (people) { if (mine === asked) { fill(people, text); } })
        .catch(function () { /* offline or signed out: the field still takes a staff number */ });
    }
    function picked() {
      return Array.prototype.some.call(list.options, function (option) { return option.value === input.value; });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      var text = input.value.trim();
      if (!text) { list.textContent = ""; say(""); lastText = null; return; }
      if (text === lastText || picked()) { return; }
      timer = window.setTimeout(function () { ask(text); }, PAUSE_MS);
    });
  });
})();

// Rows of a repeated group (<div data-rows data-max="n"> holding <div data-row> elements and a hidden
// <button data-add-row>): the button, shown by this script, adds a row like the last one, empty, with the next
// index in its field names and ids (name-3-code → name-4-code). Without script the page has a few empty rows.
(function () {
  document.querySelectorAll("[data-rows]").forEach(function (group) {
    var button = group.querySelector("[data-add-row]");
    if (!button) { return; }
    var max = parseInt(group.getAttribute("data-max"), 10) || 50;
    function rows() { return group.querySelectorAll("[data-row]"); }
    function renumber(text, index) { return text.replace(/-\d+-/, "-" + index + "-"); }
    function update() { button.hidden = rows().length >= max; }
    button.addEventListener("click", function () {
      var all = rows();
      var last = all[all.length - 1];
      var row = last.cloneNode(true);
      var index = all.length;
      row.querySelectorAll("[name], [id], [for]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attribute) {
          if (el.hasAttribute(attribute)) { el.setAttribute(attribute, renumber(el.getAttribute(attribute), index)); }
        });
      });
      row.querySelectorAll("select").forEach(function (select) { select.selectedIndex = 0; });
      row.querySelectorAll(".error").forEach(function (error) { error.remove(); });
      row.querySelectorAll(".has-error").forEach(function (field) { field.classList.remove("has-error"); });
      row.querySelectorAll("[aria-invalid]").forEach(function (el) { el.removeAttribute("aria-invalid"); });
      row.querySelectorAll("[data-row-number]").forEach(function (el) { el.textContent = String(index + 1); });
      last.parentNode.insertBefore(row, last.nextSibling);
      update();
      row.querySelector("select").focus();
    });
    update();
  });
})();
