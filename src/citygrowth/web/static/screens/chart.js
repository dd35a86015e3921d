/* Draw every <script type="application/json" id="X-option"> into the element with id "X-chart". */
(function () {
  "use strict";
  window.cgCharts = {};
  document.querySelectorAll('script[type="application/json"][id$="-option"]').forEach(function (s) {
    var id = s.id.replace(/-option$/, "");
    var el = document.getElementById(id + "-chart");
    if (!el) { return; }
    var chart = echarts.init(el);
    chart.setOption(JSON.parse(s.textContent));
    window.cgCharts[id] = chart;
    window.addEventListener("resize", function () { chart.resize(); });
  });
})();
