// The printed development report: plotly.js draws each chart at the width of the screen, and a page is narrower, so
// before printing each chart is drawn again at the width of the A4 column (static/css/report-print.css), at a
// height that fits two charts to a page, and after printing at the width of the screen again.
(function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll(".report-charts .chart[data-figure]"));
  if (!charts.length || !window.Plotly) { return; }
  var PRINT_WIDTH = 680;   // 180 mm at 96 px to the inch
  var PRINT_HEIGHT = 360;  // a radar, 95 mm; a chart that sets its own, lower height keeps it
  var printing = false;

  function ownHeight(el) {
    return JSON.parse(el.getAttribute("data-figure")).layout.height || null;
  }

  function forPrint() {
    if (printing) { return; }
    printing = true;
    charts.forEach(function (el) {
      if (el.data) { window.Plotly.relayout(el, { width: PRINT_WIDTH, height: Math.min(ownHeight(el) || PRINT_HEIGHT, PRINT_HEIGHT) }); }
    });
  }

  function forScreen() {
    if (!printing) { return; }
    printing = false;
    charts.forEach(function (el) {
      if (el.data) {
        window.Plotly.relayout(el, { width: null, height: ownHeight(el), autosize: true });
        window.Plotly.Plots.resize(el);
      }
    });
  }

  window.addEventListener("beforeprint", forPrint);
  window.addEventListener("afterprint", forScreen);
  var media = window.matchMedia && window.matchMedia("print");
  if (media && media.addEventListener) {
    media.addEventListener("change", function (event) { if (event.matches) { forPrint(); } else { forScreen(); } });
  }
})();
