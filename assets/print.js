/* Printing: charts are drawn for the screen width, and the browser does not redraw
   them for the paper. Before printing, redraw every chart at the printable width of
   A4 portrait (186 mm = 703 CSS px, see 03-print.css); afterwards, give them back the
   page's width. */
(function () {
  var PRINT_WIDTH = 700;
  var resized = [];

  function charts() {
    return Array.prototype.slice.call(document.querySelectorAll(".js-plotly-plot"));
  }

  function toPaper() {
    if (!window.Plotly || resized.length) { return; }
    charts().forEach(function (el) {
      resized.push(el);
      window.Plotly.relayout(el, { width: PRINT_WIDTH, autosize: false });
    });
  }

  function toScreen() {
    if (!window.Plotly) { return; }
    resized.splice(0).forEach(function (el) {
      window.Plotly.relayout(el, { width: null, autosize: true }).then(function () {
        window.Plotly.Plots.resize(el);
      });
    });
  }

  window.addEventListener("beforeprint", toPaper);
  window.addEventListener("afterprint", toScreen);
  if (window.matchMedia) {
    window.matchMedia("print").addEventListener("change", function (event) {
      if (event.matches) { toPaper(); } else { toScreen(); }
    });
  }
})();
