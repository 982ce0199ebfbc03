// The plotly.js bundle the app serves: the core and only the trace types its charts draw
// (competency/services/charts.py). Scatter (the grade timeline) is part of the core.
var Plotly = require('plotly.js/lib/core');

Plotly.register([
    require('plotly.js/lib/bar'),
    require('plotly.js/lib/heatmap'),
    require('plotly.js/lib/scatterpolar'),
]);

module.exports = Plotly;
