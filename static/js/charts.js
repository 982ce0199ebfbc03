// Draws every <div class="chart" data-figure="…"> with the plotly.js the app serves.
document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
  var figure = JSON.parse(el.getAttribute("data-figure"));
  if (window.PLOTLY_TEMPLATE && !figure.layout.template) {
    figure.layout.template = window.PLOTLY_TEMPLATE;  // served once (/vendor/plotly-template.js), not in every chart
  }
  window.Plotly.newPlot(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
});
