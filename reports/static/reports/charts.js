/* KPI charts: draw the `.chart` canvases that unfold's app.js has not drawn (the dealer pages
   load Chart.js without the admin), then make every bar, point and slice open the leads
   behind it (each dataset carries a `links` array beside its `data`). */
(function () {
  "use strict";

  function draw(canvas) {
    var existing = window.Chart && window.Chart.getChart(canvas);
    if (existing || !window.Chart) return existing;
    var data = JSON.parse(canvas.dataset.value || "{}");
    var options = canvas.dataset.options ? JSON.parse(canvas.dataset.options) : {};
    return new window.Chart(canvas.getContext("2d"), {
      type: canvas.dataset.type || "bar",
      data: data,
      options: options,
    });
  }

  function linkTo(chart, elements) {
    if (!elements.length) return null;
    var element = elements[0];
    var dataset = chart.data.datasets[element.datasetIndex] || {};
    return dataset.links ? dataset.links[element.index] : null;
  }

  function wire(chart) {
    if (!chart || chart.$reportWired) return;
    chart.$reportWired = true;
    chart.options.onClick = function (event, elements) {
      var url = linkTo(chart, elements);
      if (url) window.location.href = url;
    };
    chart.options.onHover = function (event, elements) {
      event.native.target.style.cursor = linkTo(chart, elements) ? "pointer" : "default";
    };
    chart.update("none");
  }

  function init() {
    document.querySelectorAll("canvas.chart").forEach(function (canvas) {
      wire(draw(canvas));
    });
    document.documentElement.dataset.reportCharts = "ready";
  }

  window.addEventListener("load", function () { setTimeout(init, 0); });
})();
