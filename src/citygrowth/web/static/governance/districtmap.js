/* The district map component: streets, communities and grid cells from the store's GeoJSON
   (/api/areas.geojson), drawn by ECharts without any tile server (so it works offline once the
   GeoJSON is cached), with points (cases) coloured by status, clustered when they crowd, and an
   optional pin placed by a tap or the device's position, snapped to its grid cell.

   Markup (auto-initialised):
     <div data-district-map data-area="370203" data-points="case-points"
          data-pick="false" data-open-url="/command/cases/{id}"></div>
     <script type="application/json" id="case-points">[{"id":1,"lon":..,"lat":..,"status":"..",
       "status_label":"..","category":"..","area":"..","colour":"#..","overdue":false}, ...]</script>
   Script:  var m = cgDistrictMap.create(el, {area: "370203", points: [...], pick: true,
                                              onPick: function (place) {...}});
            m.setPin(lon, lat); m.placeOf(lon, lat) -> {grid, community, street} (codes+names)
   Coordinates are GCJ-02 like the stored boundaries; cgDistrictMap.fromGps(lon, lat) shifts a
   WGS-84 position (navigator.geolocation) into GCJ-02 first. Every data string shown in a
   tooltip or the side list is escaped. */
window.cgDistrictMap = (function () {
  "use strict";
  var CELL_PX = 44;          // points closer than this (on screen) are drawn as one cluster
  var MAX_ZOOM = 40;
  var registered = {};

  function root() { return document.documentElement.dataset.root || ""; }
  function escapeHtml(s) {
    return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* --- boundaries ------------------------------------------------------------------------ */
  function geojson(level, parent) {
    var url = root() + "/api/areas.geojson?level=" + level + "&parent=" + encodeURIComponent(parent);
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("areas " + r.status); }
      return r.json();
    });
  }
  // A district: its streets, communities and grid cells. A street: itself, its communities
  // and grid cells. Grid cells are drawn first (bottom), streets last (top).
  function loadLayers(area) {
    var district = area.slice(0, 6);
    var wanted = area.length > 6 ? [["street", district], ["community", area], ["grid", area]]
      : [["street", area], ["community", area], ["grid", area]];
    return Promise.all(wanted.map(function (w) { return geojson(w[0], w[1]); })).then(function (cols) {
      var streets = cols[0].features.filter(function (f) {
        return area.length === 6 || f.properties.code === area;
      });
      return { grid: cols[2].features, community: cols[1].features, street: streets };
    });
  }

  function midLatitude(features) {
    var lo = 90, hi = -90;
    function walk(c) {
      if (typeof c[0] === "number") { lo = Math.min(lo, c[1]); hi = Math.max(hi, c[1]); return; }
      c.forEach(walk);
    }
    features.forEach(function (f) { if (f.geometry) { walk(f.geometry.coordinates); } });
    return lo <= hi ? (lo + hi) / 2 : 36;
  }

  /* --- point in polygon (for the pin's grid cell) ---------------------------------------- */
  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if (((yi > y) !== (yj > y)) && (x < (xj - xi) * (y - yi) / (yj - yi) + xi)) { inside = !inside; }
    }
    return inside;
  }
  function inPolygon(x, y, rings) {
    if (!rings.length || !inRing(x, y, rings[0])) { return false; }
    for (var k = 1; k < rings.length; k++) { if (inRing(x, y, rings[k])) { return false; } }
    return true;
  }
  function contains(feature, x, y) {
    var g = feature.geometry;
    if (!g) { return false; }
    if (g.type === "Polygon") { return inPolygon(x, y, g.coordinates); }
    if (g.type === "MultiPolygon") {
      return g.coordinates.some(function (p) { return inPolygon(x, y, p); });
    }
    return false;
  }
  function find(features, x, y) {
    for (var i = 0; i < features.length; i++) { if (contains(features[i], x, y)) { return features[i]; } }
    return null;
  }

  /* --- GPS (WGS-84) to the boundaries' GCJ-02 -------------------------------------------- */
  var GA = 6378245.0, GEE = 0.00669342162296594323;
  function dLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    return r + (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
  }
  function dLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    return r + (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
  }
  function fromGps(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) { return [lon, lat]; }
    var a = dLat(lon - 105, lat - 35), b = dLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - GEE * Math.sin(rad) * Math.sin(rad), sm = Math.sqrt(magic);
    a = (a * 180) / ((GA * (1 - GEE)) / (magic * sm) * Math.PI);
    b = (b * 180) / (GA / sm * Math.cos(rad) * Math.PI);
    return [lon + b, lat + a];
  }

  /* --- clustering on screen -------------------------------------------------------------- */
  function cluster(chart, points) {
    var buckets = {}, order = [];
    points.forEach(function (p) {
      var px = chart.convertToPixel({ geoIndex: 0 }, [p.lon, p.lat]);
      if (!px || isNaN(px[0])) { return; }
      var key = Math.floor(px[0] / CELL_PX) + ":" + Math.floor(px[1] / CELL_PX);
      if (!buckets[key]) { buckets[key] = []; order.push(key); }
      buckets[key].push(p);
    });
    var singles = [], groups = [];
    order.forEach(function (key) {
      var b = buckets[key];
      if (b.length === 1) {
        var p = b[0];
        singles.push({ value: [p.lon, p.lat], point: p, symbolSize: p.overdue ? 16 : 11,
          itemStyle: { color: p.colour || "#0b5cad", borderColor: p.overdue ? "#b3261e" : "#fff",
                       borderWidth: p.overdue ? 3 : 1 } });
        return;
      }
      var lon = 0, lat = 0, overdue = 0;
      b.forEach(function (q) { lon += q.lon; lat += q.lat; overdue += q.overdue ? 1 : 0; });
      groups.push({ value: [lon / b.length, lat / b.length, b.length], points: b, overdue: overdue,
        symbolSize: Math.min(22 + 6 * Math.log(b.length) / Math.LN2, 52),
        itemStyle: { color: overdue ? "#b3261e" : "#0b5cad", opacity: 0.85,
                     borderColor: "#fff", borderWidth: 2 } });
    });
    return { singles: singles, groups: groups };
  }

  /* --- the component --------------------------------------------------------------------- */
  function create(el, opts) {
    opts = opts || {};
    var area = opts.area || el.dataset.area;
    var T = opts.labels || {};
    var chart = window.echarts.init(el);
    var state = { layers: null, points: opts.points || [], pin: null, places: {} };
    var api = { chart: chart, ready: null, state: state };
    var openUrl = opts.openUrl || el.dataset.openUrl || "";

    function regionStyles(layers) {
      var regions = [];
      var oneStreet = layers.street.length === 1;  // a street's map names its communities
      layers.community.forEach(function (f) {
        regions.push({ name: f.properties.code, silent: true,
          label: { show: oneStreet, color: "#3d4f63", fontSize: 11,
                   formatter: f.properties.name || f.properties.code },
          itemStyle: { areaColor: "rgba(0,0,0,0)", borderColor: "#7d8ea3", borderWidth: 1.2 } });
      });
      layers.street.forEach(function (f) {
        regions.push({ name: f.properties.code, silent: true,
          label: { show: !oneStreet || layers.community.length === 0,
                   color: "#0b2a4a", fontSize: 11, formatter: f.properties.name || f.properties.code },
          itemStyle: { areaColor: "rgba(0,0,0,0)", borderColor: "#0b2a4a", borderWidth: 2.2 } });
      });
      return regions;
    }
    function describe(code) {
      var p = state.places[code];
      return p ? escapeHtml(p.name) : escapeHtml(code);
    }
    function pointTip(p) {
      return "#" + escapeHtml(p.id) + " " + escapeHtml(p.category) + "<br>" + escapeHtml(p.status_label) +
        (p.overdue ? " · <b>" + escapeHtml(T.overdue || "overdue") + "</b>" : "") +
        (p.area ? "<br>" + escapeHtml(p.area) : "");
    }
    function render() {
      if (!state.layers) { return; }
      var c = cluster(chart, state.points);
      api.clusters = c;
      chart.setOption({ series: [
        { id: "cases", type: "scatter", coordinateSystem: "geo", geoIndex: 0, data: c.singles, zlevel: 2,
          tooltip: { formatter: function (x) { return pointTip(x.data.point); } } },
        { id: "clusters", type: "scatter", coordinateSystem: "geo", geoIndex: 0, data: c.groups, zlevel: 3,
          label: { show: true, formatter: function (x) { return String(x.data.points.length); },
                   color: "#fff", fontWeight: "bold" },
          tooltip: { formatter: function (x) {
            return escapeHtml((T.cases || "{n} cases").replace("{n}", x.data.points.length)) +
              (x.data.overdue ? "<br><b>" + escapeHtml((T.overdue_n || "{n} overdue").replace("{n}", x.data.overdue)) + "</b>" : "");
          } } },
        { id: "pin", type: "scatter", coordinateSystem: "geo", geoIndex: 0, zlevel: 4, symbol: "pin",
          symbolSize: 34, itemStyle: { color: "#d93025" }, silent: true,
          data: state.pin ? [{ value: state.pin }] : [] }
      ] });
    }
    function listCluster(points) {
      var panel = opts.panel || (el.dataset.panel && document.getElementById(el.dataset.panel));
      if (!panel) { return; }
      panel.textContent = "";
      var ul = document.createElement("ul");
      points.forEach(function (p) {
        var li = document.createElement("li"), a = document.createElement("a");
        a.href = root() + openUrl.replace("{id}", p.id);
        a.textContent = "#" + p.id + " " + p.category + " · " + p.status_label;
        if (p.overdue) { a.className = "bad"; }
        li.appendChild(a); ul.appendChild(li);
      });
      panel.appendChild(ul);
      panel.hidden = false;
    }
    function zoomTo(center, factor) {
      var geo = chart.getOption().geo[0];
      var zoom = Math.min((geo.zoom || 1) * factor, MAX_ZOOM);
      chart.setOption({ geo: { center: center, zoom: zoom } });
      render();
      return zoom;
    }
    function placeOf(lon, lat) {
      if (!state.layers) { return null; }
      var out = {};
      ["grid", "community", "street"].forEach(function (level) {
        var f = find(state.layers[level], lon, lat);
        out[level] = f ? { code: f.properties.code, name: f.properties.name } : null;
      });
      if (!out.grid) { return null; }
      return out;
    }
    function setPin(lon, lat) {
      state.pin = [lon, lat];
      render();
      return placeOf(lon, lat);
    }

    api.ready = loadLayers(area).then(function (layers) {
      state.layers = layers;
      var features = [].concat(layers.grid, layers.community, layers.street);
      features.forEach(function (f) { state.places[f.properties.code] = f.properties; });
      var name = "cg-area-" + area;
      if (!registered[name]) {
        window.echarts.registerMap(name, { type: "FeatureCollection", features: features });
        registered[name] = true;
      }
      chart.setOption({
        tooltip: { trigger: "item", confine: true },
        geo: { map: name, nameProperty: "code", roam: true, zoom: 1, scaleLimit: { min: 0.8, max: MAX_ZOOM },
               aspectScale: Math.cos(midLatitude(features) * Math.PI / 180), layoutCenter: ["50%", "50%"], layoutSize: "96%",
               label: { show: false }, emphasis: { label: { show: false }, itemStyle: { areaColor: "#fbe9a6" } },
               itemStyle: { areaColor: "#eef3f8", borderColor: "#c6d2df", borderWidth: 0.5 },
               tooltip: { show: true, formatter: function (x) {
                 var p = state.places[x.name];
                 if (!p) { return ""; }
                 var parts = [escapeHtml(p.name)];
                 var up = state.places[p.parent_code];
                 while (up) { parts.push(escapeHtml(up.name)); up = state.places[up.parent_code]; }
                 return parts.join(" · ");
               } },
               regions: regionStyles(layers) },
        series: []
      });
      render();
      chart.on("georoam", function () { window.clearTimeout(api._t); api._t = window.setTimeout(render, 60); });
      chart.on("click", function (x) {
        if (x.componentType === "series") { api._hit = true; }
        if (x.seriesId === "cases" && x.data && x.data.point) {
          if (opts.onPoint) { opts.onPoint(x.data.point); }
          else if (openUrl) { window.location.href = root() + openUrl.replace("{id}", x.data.point.id); }
        } else if (x.seriesId === "clusters" && x.data) {
          var before = (chart.getOption().geo[0].zoom || 1);
          var after = zoomTo([x.data.value[0], x.data.value[1]], 2.5);
          if (after <= before) { listCluster(x.data.points); }
        }
      });
      if (opts.pick || el.dataset.pick === "true") {
        chart.getZr().on("click", function (ev) {
          if (api._hit) { api._hit = false; return; }  // a point or cluster took this click
          var ll = chart.convertFromPixel({ geoIndex: 0 }, [ev.offsetX, ev.offsetY]);
          if (!ll) { return; }
          var place = setPin(ll[0], ll[1]);
          if (opts.onPick) { opts.onPick({ lon: ll[0], lat: ll[1], place: place }); }
        });
      }
      window.addEventListener("resize", function () { chart.resize(); render(); });
      return api;
    });
    api.setPoints = function (points) { state.points = points || []; render(); };
    api.setPin = setPin;
    api.placeOf = placeOf;
    api.zoomTo = zoomTo;
    api.render = render;
    return api;
  }

  function autoInit() {
    document.querySelectorAll("[data-district-map]").forEach(function (el) {
      if (el.cgMap) { return; }
      var read = function (id) {
        var s = id && document.getElementById(id);
        return s ? JSON.parse(s.textContent) : null;
      };
      el.cgMap = create(el, { points: read(el.dataset.points) || [], labels: read(el.dataset.labels) || {} });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", autoInit); }
  else { autoInit(); }

  return { create: create, fromGps: fromGps, escapeHtml: escapeHtml, cluster: cluster };
})();
