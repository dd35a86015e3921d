/* The leadership big screen: renders chart options computed by the server, drills down on the
   map, and refreshes itself from server-sent events. No reload, no external calls. */
(function () {
  "use strict";
  var base = document.documentElement.dataset.root || "";
  var root = document.getElementById("screen");
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var district = root.dataset.district;
  var state = { level: root.dataset.level || "street", parent: district, metric: "", stack: [] };
  var charts = {
    map: echarts.init(document.getElementById("map"), null, { renderer: "canvas" }),
    radar: echarts.init(document.getElementById("radar")),
    trend: echarts.init(document.getElementById("trend")),
    ranking: echarts.init(document.getElementById("ranking"))
  };
  var registered = {};
  window.cgScreen = { charts: charts, summary: null, refreshes: 0, state: state };

  var escapeHtml = window.cgEscape;  // static/js/escape.js

  function text(id, value) { document.getElementById(id).textContent = value || ""; }

  function mapName(level, parent) { return level + "-" + parent; }

  function ensureMap(level, parent) {
    var name = mapName(level, parent);
    if (registered[name]) { return Promise.resolve(name); }
    return fetch(base + "/api/areas.geojson?level=" + level + "&parent=" + parent)
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

  function el(tag, cls, content) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (content !== undefined && content !== null) { e.textContent = content; }
    return e;
  }

  /* One tile per figure: name; value and unit; period and source; change and target. */
  function tiles(boxId, items) {
    var box = document.getElementById(boxId);
    box.innerHTML = "";
    items.forEach(function (k) {
      var div = el("div", "fig" + (k.status ? " " + k.status : ""));
      div.setAttribute("role", "listitem");
      div.dataset.code = k.code;
      div.appendChild(el("div", "name", k.name));
      var v = el("div", "v");
      v.appendChild(el("span", "val", k.display));
      if (k.unit) { v.appendChild(el("span", "unit", k.unit)); }
      div.appendChild(v);
      div.appendChild(el("div", "meta", [k.period_text, k.source].filter(Boolean).join(" · ")));
      var linked = k.linked_target ? k.linked_target.status_name : "";
      var more = [k.extra, k.change_text, k.target_text, linked].filter(Boolean).join(" · ");
      if (more) { div.appendChild(el("div", "more", more)); }
      box.appendChild(div);
    });
    if (!items.length) { box.appendChild(el("div", "empty", T.no_data)); }
  }

  function targets(s) {
    var ul = document.getElementById("targets");
    ul.innerHTML = "";
    var c = s.target_counts || {};
    text("targets-meta", T.counts.replace("{red}", c.red || 0).replace("{amber}", c.amber || 0)
      .replace("{green}", c.green || 0).replace("{date}", s.targets_as_of || ""));
    (s.targets || []).forEach(function (t) {
      var li = el("li", "target " + t.status);
      li.dataset.code = t.code;
      var a = el("a", "tname", t.name);
      a.href = base + "/targets/" + t.id;
      li.appendChild(el("span", "dot"));
      li.appendChild(a);
      li.appendChild(el("span", "prog", T.progress.replace("{actual}", t.actual).replace("{planned}", t.planned)));
      li.appendChild(el("span", "st", t.status_name));
      ul.appendChild(li);
    });
    if (!(s.targets || []).length) { ul.appendChild(el("li", "empty", T.no_data)); }
  }

  function feed(items) {
    var ul = document.getElementById("feed");
    ul.innerHTML = "";
    if (!items.length) { ul.appendChild(el("li", "empty", T.no_data)); }
    items.forEach(function (c) {
      var li = el("li", c.alert ? "alert" : "", c.text);
      ul.appendChild(li);
    });
  }

  /* Regions are matched by code; show the area's name (and value) instead of the code. Every
     street is labelled with its short name, large enough to read on a wall; communities and
     grid cells only when there are few of them. */
  function areaLabels(opt, unit, count) {
    var name = function (p) { return (p.data && p.data.label_text) || p.name; };
    var short = function (p) { return (p.data && p.data.short) || name(p); };
    opt.tooltip = { trigger: "item", formatter: function (p) {
      var v = p.data && p.data.value != null ? p.data.value + " " + (unit || "") : T.no_data;
      return escapeHtml(name(p)) + "<br>" + escapeHtml(v);
    } };
    var series = opt.series[0];
    var big = count <= 30;
    var latin = root.dataset.lang === "en";  // longer names: a smaller type, so all fit
    series.label = { show: count <= 60, formatter: short, color: "#ffffff",
      fontSize: big ? (latin ? 13 : 17) : 12, fontWeight: big ? "bold" : "normal",
      textBorderColor: "#031025", textBorderWidth: 3 };
    series.emphasis = { label: Object.assign({}, series.label, { show: true, formatter: name }) };
    series.labelLayout = { hideOverlap: true };
  }

  /* Screen-only layout on top of the server's options: every street gets its row and its
     name, long (English) axis names and legends stay inside their panels. */
  function fitPanels(o) {
    var rk = o.ranking;
    rk.yAxis.axisLabel = Object.assign({}, rk.yAxis.axisLabel, { interval: 0, fontSize: 12 });
    rk.series[0].label = Object.assign({}, rk.series[0].label, { fontSize: 11 });
    rk.xAxis = Object.assign({}, rk.xAxis, { nameLocation: "middle", nameGap: 22 });
    rk.grid = Object.assign({}, rk.grid, { bottom: 26 });
    rk.series[0].cursor = "pointer";
    o.radar.radar = Object.assign({}, o.radar.radar, { radius: "56%", center: ["50%", "48%"] });
    o.radar.radar.axisName = Object.assign({}, o.radar.radar.axisName, {
      formatter: function (n) { return n.length > 10 ? n.replace(" ", "\n") : n; } });
    o.trend.legend = Object.assign({}, o.trend.legend, { type: "scroll", pageTextStyle: { color: "#cfe3ff" } });
  }

  function crumbs(s) {
    var names = state.stack.map(function (x) { return x.name; });
    text("crumbs", names.join(" › "));
    document.getElementById("up").hidden = state.stack.length === 0;
    var link = document.getElementById("profile-link");
    link.href = base + "/profile/" + state.parent;
    link.textContent = link.dataset.text.replace("{area}", s ? s.parent_name : "");
  }

  function draw(s) {
    window.cgScreen.summary = s;
    state.metric = s.metric.code;
    fill(document.getElementById("metric"), s.metrics, s.metric.code);
    text("vintage", s.vintage || T.no_data);
    text("headline-label", s.headline.name);
    text("headline-period", s.headline.period_text ? "(" + s.headline.period_text + ")" : "");
    text("headline-value", s.headline.display);
    text("headline-move", s.headline.move_text);
    text("map-period", s.period_text);
    text("ranking-period", s.period_text);
    text("radar-period", s.radar.series.map(function (x) { return x.name; }).join(" / "));
    text("cases-period", s.cases_period);
    tiles("figures", s.key_figures || []);
    tiles("cases", s.cases || []);
    targets(s);
    feed(s.feed);
    crumbs(s);
    fitPanels(s.options);
    charts.radar.setOption(s.options.radar, true);
    charts.trend.setOption(s.options.trend, true);
    charts.ranking.setOption(s.options.ranking, true);
    return ensureMap(state.level, state.parent).then(function (name) {
      s.options.map.series[0].map = name;
      areaLabels(s.options.map, s.metric.unit, s.map_items.length);
      charts.map.setOption(s.options.map, true);
      window.cgScreen.refreshes += 1;
      root.dataset.refreshes = String(window.cgScreen.refreshes);
    });
  }

  function refresh() {
    var url = base + "/api/screen/summary?level=" + state.level + "&parent=" + state.parent +
      (state.metric ? "&metric=" + encodeURIComponent(state.metric) : "");
    return fetch(url, { headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.ok === false) { throw new Error(s.error); }
        return draw(s);
      })
      .catch(function (e) { text("vintage", T.error + ": " + e.message); });
  }

  var next = { street: "community", community: "grid" };
  charts.map.on("click", function (p) {
    var child = next[state.level];
    if (!child || !p.name) { return; }
    var item = (window.cgScreen.summary.map_items || []).filter(function (i) { return i.code === p.name; })[0];
    state.stack.push({ level: state.level, parent: state.parent, name: item ? item.name : p.name });
    state.level = child; state.parent = p.name;
    crumbs(null); refresh();
  });
  charts.ranking.on("click", function (p) {
    var codes = (window.cgScreen.summary || {}).ranking_codes || [];
    if (codes[p.dataIndex]) { window.location.href = base + "/profile/" + codes[p.dataIndex]; }
  });
  document.getElementById("up").addEventListener("click", function () {
    var prev = state.stack.pop();
    if (!prev) { return; }
    state.level = prev.level; state.parent = prev.parent;
    crumbs(null); refresh();
  });
  document.getElementById("metric").addEventListener("change", function (e) {
    state.metric = e.target.value; refresh();
  });
  // panels change size when their neighbours fill (key figures, feed): charts follow
  Object.keys(charts).forEach(function (k) {
    var dom = charts[k].getDom();
    if (window.ResizeObserver) {
      new ResizeObserver(function () { charts[k].resize(); }).observe(dom);
    } else {
      window.addEventListener("resize", function () { charts[k].resize(); });
    }
  });

  function clock() {
    text("clock", new Date().toLocaleString(root.dataset.lang === "en" ? "en-GB" : "zh-CN",
      { timeZone: root.dataset.tz || undefined }));
  }
  setInterval(clock, 1000); clock();

  var pending = null;
  function soon() { if (pending) { return; } pending = setTimeout(function () { pending = null; refresh(); }, 150); }
  if (window.EventSource) {
    var es = new EventSource(base + "/api/events");
    ["observations.loaded", "index.computed", "case.changed", "target.changed"].forEach(function (t) {
      es.addEventListener(t, soon);
    });
    es.onmessage = soon;
  }
  refresh();
})();
