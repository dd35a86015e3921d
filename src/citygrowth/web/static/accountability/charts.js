/* Accountability pages: draw every [data-chart] element from the JSON option next to it.
   A map chart (data-map) first loads its GeoJSON, from a URL relative to the mount root. */
(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";

  function draw(el, opt) {
    var chart = echarts.init(el);
    chart.setOption(opt);
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function start() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var opt = JSON.parse(source.textContent);
      if (el.dataset.map) {
        fetch(root + el.dataset.map, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (g) { echarts.registerMap(opt.geo.map, g); draw(el, opt); });
      } else {
        draw(el, opt);
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
