/* An area's page: its map (GeoJSON and option in JSON blocks); a click opens a child area. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var el = document.getElementById("area-map");
  if (!window.echarts || !el) { return; }
  var root = document.documentElement.dataset.root || "";
  var geojson = JSON.parse(document.getElementById("area-geojson").textContent);
  var option = JSON.parse(document.getElementById("area-map-option").textContent);
  echarts.registerMap(el.dataset.mapName, geojson);
  var chart = echarts.init(el);
  chart.setOption(option);
  chart.on("click", function (p) {
    if (p.data && p.data.code) { window.location = root + "/areas/" + encodeURIComponent(p.data.code); }
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
