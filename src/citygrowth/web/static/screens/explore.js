/* Indicator explorer: search the catalog, chart a series by area and a map by street; every
   chart links to its numbers (CSV, XLSX, JSON) and to a PNG of itself. */
(function () {
  "use strict";
  var base = document.documentElement.dataset.root || "";
  var root = document.getElementById("explorer");
  var T = JSON.parse(document.getElementById("explore-i18n").textContent);
  var district = root.dataset.district;
  var seriesChart = echarts.init(document.getElementById("series-chart"));
  var mapChart = echarts.init(document.getElementById("map-chart"));
  var current = null;
  var registered = {};
  window.cgExplore = { series: seriesChart, map: mapChart, data: {} };

  function areas() {
    return Array.prototype.slice.call(document.querySelectorAll("input[name=area]:checked"))
      .map(function (i) { return i.value; });
  }
  function meta(d) {
    return T.unit + ": " + (d.indicator.unit || "—") + " · " + T.source + ": " + d.indicator.department +
      " · " + T.vintage + ": " + (d.vintage || T.none) + " · " + T.citation + ": " + d.indicator.citation +
      (d.freshness ? " · " + (d.freshness.stale ? T.late : T.fresh) + (d.freshness.expected_next ? " (" + T.next + " " + d.freshness.expected_next + ")" : "") : "");
  }
  function links(prefix, url) {
    ["csv", "xlsx"].forEach(function (f) { document.getElementById(prefix + "-" + f).href = url + "&format=" + f; });
    document.getElementById(prefix + "-json").href = url;
  }
  function png(prefix, chart) {
    document.getElementById(prefix + "-png").onclick = function (e) {
      e.currentTarget.href = chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" });
    };
  }
  function loadSeries() {
    if (!current || areas().length === 0) { return; }
    var url = base + "/api/explore/series?indicator=" + current + "&areas=" + areas().join(",");
    fetch(url).then(function (r) { return r.json(); }).then(function (d) {
      window.cgExplore.data.series = d;
      if (d.ok === false) { document.getElementById("series-meta").textContent = d.error; return; }
      document.getElementById("ind-name").textContent = d.indicator.name;
      document.getElementById("series-meta").textContent = meta(d);
      seriesChart.setOption(d.option, true);
      links("series", url); png("series", seriesChart);
    });
  }
  function loadMap() {
    if (!current) { return; }
    var url = base + "/api/explore/map?indicator=" + current + "&level=street&parent=" + district;
    var name = "street-" + district;
    var geo = registered[name] ? Promise.resolve() :
      fetch(base + "/api/areas.geojson?level=street&parent=" + district).then(function (r) { return r.json(); })
        .then(function (g) { echarts.registerMap(name, g); registered[name] = true; });
    geo.then(function () { return fetch(url); }).then(function (r) { return r.json(); }).then(function (d) {
      window.cgExplore.data.map = d;
      if (d.ok === false) { document.getElementById("map-meta").textContent = d.error; return; }
      document.getElementById("map-period").textContent = d.period || "";
      document.getElementById("map-meta").textContent = meta(d);
      var label = function (p) { return (p.data && p.data.label_text) || p.name; };
      d.option.tooltip = { trigger: "item", formatter: function (p) {  // HTML: escape every string
        return window.cgEscape(label(p)) + "<br>" + window.cgEscape(
          p.data && p.data.value != null ? p.data.value + " " + (d.indicator.unit || "") : T.none);
      } };
      d.option.series[0].emphasis = { label: { show: true, formatter: label } };
      mapChart.setOption(d.option, true);
      links("map", url); png("map", mapChart);
    });
  }
  function choose(code) { current = code; loadSeries(); loadMap(); }
  function search() {
    var q = document.getElementById("q").value;
    fetch(base + "/api/catalog/indicators?limit=30&q=" + encodeURIComponent(q)).then(function (r) { return r.json(); })
      .then(function (d) {
        var list = d.items || [];
        var ul = document.getElementById("hits");
        ul.innerHTML = "";
        list.slice(0, 30).forEach(function (i) {
          var li = document.createElement("li");
          var b = document.createElement("button");
          b.type = "button"; b.className = "linklike"; b.dataset.code = i.code;
          b.textContent = (i.name || i.name_zh) + " (" + i.code + ")";
          b.addEventListener("click", function () { choose(i.code); });
          li.appendChild(b); ul.appendChild(li);
        });
        if (!current && list.length) { choose(list[0].code); }
      });
  }
  var timer = null;
  document.getElementById("q").addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(search, 200); });
  document.querySelectorAll("input[name=area]").forEach(function (i) { i.addEventListener("change", loadSeries); });
  window.addEventListener("resize", function () { seriesChart.resize(); mapChart.resize(); });
  var initial = new URLSearchParams(location.search).get("indicator");
  if (initial) { choose(initial); }
  search();
})();
