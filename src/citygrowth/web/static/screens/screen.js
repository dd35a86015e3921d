/* The leadership big screen: renders chart options computed by the server, drills down on the
   map, and refreshes itself from server-sent events. No reload, no external calls. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var district = root.dataset.district;
  var state = { level: "street", parent: district, metric: "", stack: [] };
  var charts = {
    map: echarts.init(document.getElementById("map"), null, { renderer: "canvas" }),
    radar: echarts.init(document.getElementById("radar")),
    trend: echarts.init(document.getElementById("trend")),
    ranking: echarts.init(document.getElementById("ranking"))
  };
  var registered = {};
  window.cgScreen = { charts: charts, summary: null, refreshes: 0, state: state };

  function mapName(level, parent) { return level + "-" + parent; }

  function ensureMap(level, parent) {
    var name = mapName(level, parent);
    if (registered[name]) { return Promise.resolve(name); }
    return fetch("/api/areas.geojson?level=" + level + "&parent=" + parent)
      .then(function (r) { return r.json(); })
      .then(function (geo) { echarts.registerMap(name, geo); registered[name] = true; return name; });
  }

  function fill(sel, options, current) {
    sel.innerHTML = "";
    options.forEach(function (o) {
      var opt = document.createElement("option");
      opt.value = o.code; opt.textContent = o.name;
      if (o.code === current) { opt.selected = true; }
      sel.appendChild(opt);
    });
  }

  function kpis(items) {
    var box = document.getElementById("kpis");
    box.innerHTML = "";
    items.forEach(function (k) {
      var div = document.createElement("div");
      div.className = "kpi " + (k.status || "");
      div.setAttribute("role", "listitem");
      div.dataset.code = k.code;
      div.innerHTML = '<div class="name"></div><div><span class="val"></span><span class="unit"></span></div><div class="tgt"></div>';
      div.querySelector(".name").textContent = k.name;
      div.querySelector(".val").textContent = k.display;
      div.querySelector(".unit").textContent = k.unit || "";
      div.querySelector(".tgt").textContent = k.target_text || "";
      box.appendChild(div);
    });
  }

  function feed(items) {
    var ul = document.getElementById("feed");
    ul.innerHTML = "";
    if (!items.length) {
      var none = document.createElement("li");
      none.className = "empty"; none.textContent = T.no_data;
      ul.appendChild(none);
    }
    items.forEach(function (c) {
      var li = document.createElement("li");
      li.textContent = c.text;
      if (c.alert) { li.className = "alert"; }
      ul.appendChild(li);
    });
  }

  /* Regions are matched by code; show the area's name (and value) instead of the code. */
  function areaLabels(opt, unit) {
    var name = function (p) { return (p.data && p.data.label_text) || p.name; };
    opt.tooltip = { trigger: "item", formatter: function (p) {
      var v = p.data && p.data.value != null ? p.data.value + " " + (unit || "") : T.no_data;
      return name(p) + "<br>" + v;
    } };
    var series = opt.series[0];
    series.emphasis = { label: { show: true, color: "#fff", formatter: name } };
    series.label = { show: false, formatter: name };
  }

  /* Screen-only layout on top of the server's options: every street gets its row and its
     name, long (English) axis names and legends stay inside their panels. */
  function fitPanels(o) {
    var rk = o.ranking;
    rk.yAxis.axisLabel = Object.assign({}, rk.yAxis.axisLabel, { interval: 0, fontSize: 12 });
    rk.series[0].label = Object.assign({}, rk.series[0].label, { fontSize: 11 });
    rk.xAxis = Object.assign({}, rk.xAxis, { nameLocation: "middle", nameGap: 22 });
    rk.grid = Object.assign({}, rk.grid, { bottom: 26 });
    o.radar.radar = Object.assign({}, o.radar.radar, { radius: "56%", center: ["50%", "48%"] });
    o.radar.radar.axisName = Object.assign({}, o.radar.radar.axisName, {
      formatter: function (n) { return n.length > 10 ? n.replace(" ", "\n") : n; } });
    o.trend.legend = Object.assign({}, o.trend.legend, { type: "scroll", pageTextStyle: { color: "#cfe3ff" } });
  }

  function crumbs() {
    var names = state.stack.map(function (s) { return s.name; });
    document.getElementById("crumbs").textContent = names.join(" › ");
    document.getElementById("up").hidden = state.stack.length === 0;
  }

  function refresh() {
    var url = root.dataset.summaryUrl + "?level=" + state.level + "&parent=" + state.parent +
      (state.metric ? "&metric=" + encodeURIComponent(state.metric) : "");
    return fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.ok === false) { throw new Error(s.error); }
        window.cgScreen.summary = s;
        state.metric = s.metric.code;
        fill(document.getElementById("metric"), s.metrics, s.metric.code);
        document.getElementById("vintage").textContent = s.vintage || T.no_data;
        document.getElementById("headline-label").textContent = s.headline.name;
        document.getElementById("headline-value").textContent = s.headline.display;
        document.getElementById("headline-move").textContent = s.headline.move_text || "";
        kpis(s.kpis);
        feed(s.feed);
        fitPanels(s.options);
        charts.radar.setOption(s.options.radar, true);
        charts.trend.setOption(s.options.trend, true);
        charts.ranking.setOption(s.options.ranking, true);
        return ensureMap(state.level, state.parent).then(function (name) {
          s.options.map.series[0].map = name;
          areaLabels(s.options.map, s.metric.unit);
          charts.map.setOption(s.options.map, true);
          window.cgScreen.refreshes += 1;
          root.dataset.refreshes = String(window.cgScreen.refreshes);
        });
      })
      .catch(function (e) { document.getElementById("vintage").textContent = T.error + ": " + e.message; });
  }

  var next = { street: "community", community: "grid" };
  charts.map.on("click", function (p) {
    var child = next[state.level];
    if (!child || !p.name) { return; }
    var item = (window.cgScreen.summary.map_items || []).filter(function (i) { return i.code === p.name; })[0];
    state.stack.push({ level: state.level, parent: state.parent, name: item ? item.name : p.name });
    state.level = child; state.parent = p.name;
    crumbs(); refresh();
  });
  document.getElementById("up").addEventListener("click", function () {
    var prev = state.stack.pop();
    if (!prev) { return; }
    state.level = prev.level; state.parent = prev.parent;
    crumbs(); refresh();
  });
  document.getElementById("metric").addEventListener("change", function (e) {
    state.metric = e.target.value; refresh();
  });
  // panels change size when their neighbours fill (key figures, feed): charts follow
  Object.keys(charts).forEach(function (k) {
    var el = charts[k].getDom();
    if (window.ResizeObserver) {
      new ResizeObserver(function () { charts[k].resize(); }).observe(el);
    } else {
      window.addEventListener("resize", function () { charts[k].resize(); });
    }
  });

  function clock() {
    document.getElementById("clock").textContent = new Date().toLocaleString(
      root.dataset.lang === "en" ? "en-GB" : "zh-CN", { timeZone: root.dataset.tz });
  }
  setInterval(clock, 1000); clock();

  var pending = null;
  function soon() { if (pending) { return; } pending = setTimeout(function () { pending = null; refresh(); }, 150); }
  if (window.EventSource) {
    var es = new EventSource(root.dataset.eventsUrl);
    ["observations.loaded", "index.computed", "case.changed", "target.changed"].forEach(function (t) {
      es.addEventListener(t, soon);
    });
    es.onmessage = soon;
  }
  refresh();
})();
