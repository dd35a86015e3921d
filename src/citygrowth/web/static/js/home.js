/* The home page's street map: GeoJSON and chart option come in #street-map-data. */
(function () {
  "use strict";
  var payload = JSON.parse(document.getElementById("street-map-data").textContent);
  var el = document.getElementById("street-map");
  echarts.registerMap(payload.chart.series[0].map, payload.geojson);
  var chart = echarts.init(el, null, { renderer: "canvas" });
  chart.setOption(payload.chart);
  window.addEventListener("resize", function () { chart.resize(); });
})();
