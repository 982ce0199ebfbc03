// Draws every <div class="chart" data-figure="…"> with the plotly.js the app serves.
document.querySelectorAll(".chart[data-figure]").forEach(function (el) {
  var figure = JSON.parse(el.getAttribute("data-figure"));
  if (figure.min_width) {
    // a chart that needs this width (a heatmap of many columns) keeps it on a narrow screen and scrolls sideways, in
    // a frame the keyboard can reach and scroll
    var frame = document.createElement("div");
    frame.className = "chart-scroll";
    frame.tabIndex = 0;
    frame.setAttribute("role", "region");
    frame.setAttribute("aria-label", el.getAttribute("aria-label") || "");
    el.parentNode.insertBefore(frame, el);
    frame.appendChild(el);
    el.style.minWidth = figure.min_width + "px";
  }
  if (window.PLOTLY_TEMPLATE && !figure.layout.template) {
    figure.layout.template = window.PLOTLY_TEMPLATE;  // served once (/vendor/plotly-template.js), not in every chart
  }
  window.Plotly.newPlot(el, figure.data, figure.layout, { displaylogo: false, responsive: true });
});
