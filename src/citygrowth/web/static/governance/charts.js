// Hands each [data-option] element's ECharts option (built on the server) to ECharts.
(function () {
  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-option]").forEach(function (el) {
      var chart = window.echarts.init(el);
      chart.setOption(JSON.parse(el.getAttribute("data-option")));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); }
  else { draw(); }
})();
