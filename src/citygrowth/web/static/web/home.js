/* The home page's map of the streets: the option is built on the server (web/home.py). */
(function () {
  "use strict";
  function draw() {
    var payload = JSON.parse(document.getElementById("street-map-data").textContent);
    var el = document.getElementById("street-map");
    if (!el || !window.echarts) { return; }
    window.echarts.registerMap(payload.chart.series[0].map, payload.geojson);
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    chart.setOption(payload.chart);
    window.addEventListener("resize", function () { chart.resize(); });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
