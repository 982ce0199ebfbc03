// A background job's page: poll its status every second and update the progress bar, without reloading; when it
// is done, go on to its result (or show the download), when it failed, show the error.
(function () {
  var box = document.querySelector("[data-job-status]");
  if (!box || box.hasAttribute("data-job-ended")) { return; }
  var url = box.getAttribute("data-job-status");
  function part(name) { return box.querySelector('[data-job="' + name + '"]'); }
  function number(n) { return Number(n).toLocaleString(); }
  function show(state) {
    part("bar").value = state.percent;
    part("bar").textContent = state.percent + "%";
    part("percent").textContent = state.percent;
    part("done").textContent = number(state.done);
    part("total").textContent = state.total ? number(state.total) : "—";
    var left = part("left");
    left.textContent = state.seconds_left === null ? "—" : state.seconds_left + " " + left.getAttribute("data-unit");
    part("stage").textContent = state.stage || "";
    var ended = state.status === "done" || state.status === "failed";
    part("label").hidden = ended;
    part("reload").hidden = ended;
    if (state.message) { part("message").textContent = state.message; part("message").hidden = false; }
    if (state.error) { part("error").textContent = state.error; part("error").hidden = false; }
    if (state.next) { part("next").href = state.next; part("next").hidden = false; }
    return ended;
  }
  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) {
        if (!state) { return; }
        if (show(state)) {
          if (state.status === "failed") {
            window.location.reload();  // the page lists the row errors of a refused file itself
          } else if (state.auto && state.next) {
            window.location.assign(state.next);
          }
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
