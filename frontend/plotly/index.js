'use strict';
// plotly.js with the trace types the dashboard draws: scatter (in core), bar, heatmap.
var Plotly = require('plotly.js/lib/core');
Plotly.register([require('plotly.js/lib/bar'), require('plotly.js/lib/heatmap')]);
module.exports = Plotly;
