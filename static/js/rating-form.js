// The rating form: the progress count and the per-section counts follow the ratings; the hidden "anchor" field
// remembers the item last touched, where a saved draft opens again; an error summary takes the focus.
(function () {
  var form = document.querySelector("form.rating-form");
  if (!form) { return; }
  var counter = form.querySelector("[data-progress]");
  var anchor = form.querySelector("input[name=anchor]");

  function isRated(fieldset) {
    return fieldset.querySelector("input[type=radio]:checked") !== null;
  }

  function update() {
    var rated = 0;
    var perCategory = {};
    form.querySelectorAll("[data-category]").forEach(function (section) {
      var key = section.getAttribute("data-category");
      var count = perCategory[key] || (perCategory[key] = { rated: 0, total: 0 });
      section.querySelectorAll("fieldset.competency").forEach(function (fieldset) {
        count.total += 1;
        if (isRated(fieldset)) { count.rated += 1; rated += 1; }
      });
    });
    if (counter) {
      counter.textContent = counter.getAttribute("data-format").replace("{rated}", String(rated));
    }
    form.querySelectorAll("[data-count-for]").forEach(function (el) {
      var count = perCategory[el.getAttribute("data-count-for")];
      if (count) { el.textContent = count.rated + "/" + count.total; }
    });
  }

  function remember(event) {
    var place = event.target.closest && event.target.closest("fieldset.competency, .form-section[id]");
    if (anchor && place && place.id) { anchor.value = place.id; }
  }

  form.addEventListener("focusin", remember);
  form.addEventListener("change", function (event) {
    remember(event);
    if (event.target.type === "radio") { update(); }
    document.querySelectorAll(".container > .flash-success").forEach(function (notice) { notice.hidden = true; });
  });
  update();

  var summary = document.getElementById("problems");
  if (summary) { summary.focus(); }
})();
