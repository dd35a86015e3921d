/* The district map: streets, communities and grid cells drawn with the vendored ECharts from the
   store's own boundaries (GET /api/areas.geojson, public) — no tile server, nothing fetched from
   outside, so it works wherever the platform does.

     var map = cgDistrictMap.create(element, {
       focus: "370203005",            // zoom to an area (a street, community or cell) first
       pickable: true,                // a tap places the pin
       onPick: function (place) {},   // {lon, lat, grid, community, street} ({name, code} each),
                                      // or {outside: true, lon, lat}
       onMarker: function (marker) {},// a marker was clicked (its data object)
       cluster: true,                 // markers crowding on screen become numbered clusters;
                                      // a click zooms in on one, at the closest zoom
       onCluster: function (markers) {},// ... it hands over its markers instead
       labels: {zoomIn: "+", zoomOut: "−"}
     });
     map.ready.then(function () { map.place(120.35, 36.09); });
     map.setMarkers([{lon, lat, id, color, title, alert}]);  // title: plain text (escaped here);
                                          // alert: drawn larger with a red ring (e.g. overdue)
     map.clusters()                       // {singles: [marker], groups: [[marker, …]]} as drawn
     map.locate(lon, lat)                 // the place at a point, or null outside every cell
     map.toPixel(lon, lat)                // [x, y] within the element
     cgDistrictMap.wgs84ToGcj02(lon, lat) // a GPS fix into the boundaries' datum (GCJ-02)

   Every text drawn as HTML (marker tooltips) is escaped with cgDistrictMap.escapeHtml. */
(function () {
  "use strict";
  var ROOT = document.documentElement.dataset.root || "";
  var LEVELS = ["street", "community", "grid"];
  var CELL_PX = 44, MAX_ZOOM = 60, ALERT = "#b3261e";
  var cache = null;

  var escapeHtml = window.cgEscape;  // static/js/escape.js, loaded by base.html

  function loadLayers() {
    if (!cache) {
      cache = Promise.all(LEVELS.map(function (level) {
        return fetch(ROOT + "/api/areas.geojson?level=" + level, { credentials: "same-origin" })
          .then(function (r) {
            if (!r.ok) { throw new Error("areas " + r.status); }
            return r.json();
          });
      })).then(function (parts) {
        var out = {};
        LEVELS.forEach(function (level, i) { out[level] = index(parts[i]); });
        return out;
      });
    }
    return cache;
  }

  // --- geometry (lon/lat, the boundaries' datum) ------------------------------------------
  function polygons(geom) {
    if (!geom) { return []; }
    if (geom.type === "Polygon") { return [geom.coordinates]; }
    if (geom.type === "MultiPolygon") { return geom.coordinates; }
    return [];
  }

  function inRing(x, y, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  function contains(feature, x, y) {
    var b = feature.bbox;
    if (x < b[0] || x > b[2] || y < b[1] || y > b[3]) { return false; }
    return feature.polys.some(function (poly) {
      if (!inRing(x, y, poly[0])) { return false; }
      for (var h = 1; h < poly.length; h++) { if (inRing(x, y, poly[h])) { return false; } }
      return true;
    });
  }

  function ringCentroid(ring) {
    var a = 0, cx = 0, cy = 0;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f; cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (!a) { return ring[0]; }
    return [cx / (3 * a), cy / (3 * a)];
  }

  function index(collection) {
    return (collection.features || []).map(function (f) {
      var polys = polygons(f.geometry), b = [Infinity, Infinity, -Infinity, -Infinity];
      var biggest = null, size = -1;
      polys.forEach(function (poly) {
        poly[0].forEach(function (p) {
          b[0] = Math.min(b[0], p[0]); b[1] = Math.min(b[1], p[1]);
          b[2] = Math.max(b[2], p[0]); b[3] = Math.max(b[3], p[1]);
        });
        if (poly[0].length > size) { size = poly[0].length; biggest = poly[0]; }
      });
      var p = f.properties || {};
      return { code: String(p.code), name: String(p.name || p.code), parent: p.parent_code,
               polys: polys, bbox: b, centre: biggest ? ringCentroid(biggest) : null,
               feature: f };
    });
  }

  function bboxOf(features) {
    var b = [Infinity, Infinity, -Infinity, -Infinity];
    features.forEach(function (f) {
      b[0] = Math.min(b[0], f.bbox[0]); b[1] = Math.min(b[1], f.bbox[1]);
      b[2] = Math.max(b[2], f.bbox[2]); b[3] = Math.max(b[3], f.bbox[3]);
    });
    return b;
  }

  function lines(features) {
    var out = [];
    features.forEach(function (f) {
      f.polys.forEach(function (poly) { out.push({ coords: poly[0] }); });
    });
    return out;
  }

  // --- WGS-84 (GPS) → GCJ-02, the published conversion (as areas.geo.wgs84_to_gcj02) -------
  var A = 6378245.0, EE = 0.00669342162296594323;
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgs84ToGcj02(lon, lat) {
    if (lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271) { return [lon, lat]; }
    var dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = 1 - EE * Math.sin(rad) * Math.sin(rad);
    var sq = Math.sqrt(magic);
    dLat = dLat * 180 / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = dLon * 180 / (A / sq * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  // --- the map ---------------------------------------------------------------------------
  function create(el, opts) {
    opts = opts || {};
    var chart = window.echarts.init(el, null, { renderer: "canvas" });
    var layers = null, pin = null, chosen = null, markers = [], markerClick = 0, down = null;
    var drawn = { singles: markers, groups: [] };
    var api = { chart: chart, place: place, locate: locate, setMarkers: setMarkers,
                toPixel: toPixel, focus: focus, layers: function () { return layers; },
                clusters: function () { return drawn; }, zoomTo: zoomTo };

    function find(level, x, y) {
      var hits = layers[level].filter(function (f) { return contains(f, x, y); });
      hits.sort(function (a, b) { return a.code < b.code ? -1 : 1; });  // as the server does
      return hits[0] || null;
    }
    function byCode(level, code) {
      return layers[level].filter(function (f) { return f.code === code; })[0] || null;
    }
    function named(f) { return f ? { code: f.code, name: f.name } : null; }

    function locate(lon, lat) {
      var grid = find("grid", lon, lat);
      if (!grid) { return null; }
      var community = byCode("community", grid.parent) || find("community", lon, lat);
      var street = community && byCode("street", community.parent) || find("street", lon, lat);
      return { lon: lon, lat: lat, grid: named(grid), community: named(community),
               street: named(street) };
    }

    function option() {
      return {
        animation: false,
        tooltip: { trigger: "item", confine: true, formatter: function (p) {
          return (p.seriesName === "markers" || p.seriesName === "clusters") && p.data
            ? escapeHtml(p.data.title) : "";
        } },
        geo: {
          map: "cg-grid", nameProperty: "code", roam: true, scaleLimit: { min: 0.8, max: MAX_ZOOM },
          silent: true, label: { show: false }, emphasis: { disabled: true },
          itemStyle: { areaColor: "#eef3f8", borderColor: "#c6d1dc", borderWidth: 0.5 },
          regions: chosen ? [{ name: chosen, itemStyle: { areaColor: "#ffe29a" } }] : []
        },
        series: [
          { type: "lines", name: "communities", coordinateSystem: "geo", polyline: true,
            silent: true, data: lines(layers.community),
            lineStyle: { color: "#8fa5bb", width: 1, opacity: 1 } },
          { type: "lines", name: "streets", coordinateSystem: "geo", polyline: true,
            silent: true, data: lines(layers.street),
            lineStyle: { color: "#0b2a4a", width: 2, opacity: 1 } },
          { type: "scatter", name: "street-names", coordinateSystem: "geo", silent: true,
            symbolSize: 0, labelLayout: { hideOverlap: true },
            label: { show: true, formatter: "{b}", color: "#0b2a4a", fontSize: 11 },
            data: layers.street.filter(function (f) { return f.centre; }).map(function (f) {
              return { name: f.name, value: f.centre };
            }) },
          { type: "scatter", name: "markers", coordinateSystem: "geo", z: 4,
            data: drawn.singles.map(function (m) {
              return { value: [m.lon, m.lat], title: m.title || "", marker: m,
                       symbolSize: m.alert ? 15 : 11,
                       itemStyle: { color: m.color || "#0b5cad",
                                    borderColor: m.alert ? ALERT : "#fff",
                                    borderWidth: m.alert ? 3 : 1 } };
            }) },
          { type: "scatter", name: "clusters", coordinateSystem: "geo", z: 5,
            label: { show: true, formatter: function (p) { return String(p.data.markers.length); },
                     color: "#fff", fontWeight: "bold" },
            data: drawn.groups.map(function (g) {
              var lon = 0, lat = 0, alerts = 0;
              g.forEach(function (m) { lon += m.lon; lat += m.lat; alerts += m.alert ? 1 : 0; });
              var title = (opts.labels && opts.labels.cluster || "{n}").replace("{n}", g.length);
              if (alerts && opts.labels && opts.labels.clusterAlert) {
                title += " · " + opts.labels.clusterAlert.replace("{n}", alerts);
              }
              return { value: [lon / g.length, lat / g.length], markers: g, title: title,
                       symbolSize: Math.min(22 + 6 * Math.log(g.length) / Math.LN2, 52),
                       itemStyle: { color: alerts ? ALERT : "#0b5cad", opacity: 0.88,
                                    borderColor: "#fff", borderWidth: 2 } };
            }) },
          { type: "scatter", name: "pin", coordinateSystem: "geo", z: 6, silent: true,
            symbol: "pin", symbolSize: 38, symbolOffset: [0, "-45%"],
            itemStyle: { color: "#b3261e" }, data: pin ? [pin] : [] }
        ]
      };
    }

    // markers closer than CELL_PX on screen are drawn as one cluster (opts.cluster)
    function group() {
      if (!opts.cluster || !layers) { drawn = { singles: markers, groups: [] }; return; }
      var buckets = {}, order = [];
      markers.forEach(function (m) {
        var px = toPixel(m.lon, m.lat);
        if (!px || isNaN(px[0])) { return; }
        var key = Math.floor(px[0] / CELL_PX) + ":" + Math.floor(px[1] / CELL_PX);
        if (!buckets[key]) { buckets[key] = []; order.push(key); }
        buckets[key].push(m);
      });
      drawn = { singles: [], groups: [] };
      order.forEach(function (k) {
        if (buckets[k].length === 1) { drawn.singles.push(buckets[k][0]); }
        else { drawn.groups.push(buckets[k]); }
      });
    }

    function draw() {
      if (!layers) { return; }
      group();
      chart.setOption(option(), { replaceMerge: ["series"] });
    }

    function zoomTo(center, factor) {
      var g = chart.getOption().geo[0], before = g.zoom || 1;
      var zoom = Math.max(0.8, Math.min(before * factor, MAX_ZOOM));
      chart.setOption({ geo: { center: center, zoom: zoom } });
      draw();
      return zoom > before;
    }

    function focus(code) {
      if (!layers) { return; }
      var all = layers.grid, full = bboxOf(all);
      var parts = all.filter(function (f) { return code && f.code.indexOf(code) === 0; });
      if (!parts.length) { chart.setOption({ geo: { center: null, zoom: 1 } }); return; }
      var b = bboxOf(parts);
      var zoom = Math.min((full[2] - full[0]) / Math.max(b[2] - b[0], 1e-6),
                          (full[3] - full[1]) / Math.max(b[3] - b[1], 1e-6)) * 0.85;
      chart.setOption({ geo: { center: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2],
                               zoom: Math.max(1, Math.min(zoom, 40)) } });
      if (opts.cluster) { draw(); }
    }

    function place(lon, lat) {
      if (!layers) { return null; }
      var where = locate(lon, lat);
      if (!where) {
        if (opts.onPick) { opts.onPick({ outside: true, lon: lon, lat: lat }); }
        return null;
      }
      pin = [lon, lat];
      chosen = where.grid.code;
      draw();
      if (opts.onPick) { opts.onPick(where); }
      return where;
    }

    function setMarkers(list) { markers = list || []; draw(); }

    function toPixel(lon, lat) { return chart.convertToPixel({ geoIndex: 0 }, [lon, lat]); }

    function zoomBy(f) {
      var g = chart.getOption().geo[0];
      chart.setOption({ geo: { zoom: Math.max(0.8, Math.min((g.zoom || 1) * f, MAX_ZOOM)) } });
      if (opts.cluster) { draw(); }
    }

    function controls() {
      var box = document.createElement("div");
      box.className = "map-zoom";
      [["+", 1.6, opts.labels && opts.labels.zoomIn], ["−", 1 / 1.6,
        opts.labels && opts.labels.zoomOut]].forEach(function (b) {
        var btn = document.createElement("button");
        btn.type = "button"; btn.textContent = b[0];
        btn.setAttribute("aria-label", b[2] || b[0]);
        btn.addEventListener("click", function () { zoomBy(b[1]); });
        box.appendChild(btn);
      });
      el.appendChild(box);
    }

    chart.on("click", { seriesName: "markers" }, function (p) {
      markerClick = Date.now();
      if (opts.onMarker && p.data) { opts.onMarker(p.data.marker); }
    });
    chart.on("click", { seriesName: "clusters" }, function (p) {
      markerClick = Date.now();
      if (p.data && !zoomTo(p.data.value, 2.5) && opts.onCluster) { opts.onCluster(p.data.markers); }
    });
    chart.on("georoam", function () {
      if (!opts.cluster) { return; }
      window.clearTimeout(api.regroup);
      api.regroup = window.setTimeout(draw, 80);
    });
    chart.getZr().on("mousedown", function (e) { down = [e.offsetX, e.offsetY]; });
    chart.getZr().on("click", function (e) {
      var moved = down && Math.abs(down[0] - e.offsetX) + Math.abs(down[1] - e.offsetY) > 8;
      down = null;
      if (!opts.pickable || !layers || moved || Date.now() - markerClick < 300) { return; }
      var at = chart.convertFromPixel({ geoIndex: 0 }, [e.offsetX, e.offsetY]);
      if (at) { place(at[0], at[1]); }
    });
    window.addEventListener("resize", function () { chart.resize(); if (opts.cluster) { draw(); } });

    api.ready = loadLayers().then(function (l) {
      layers = l;
      window.echarts.registerMap("cg-grid", { type: "FeatureCollection",
                                              features: l.grid.map(function (f) { return f.feature; }) });
      chart.setOption(option());
      controls();
      if (opts.focus) { focus(opts.focus); }
      if (opts.cluster) { draw(); }  // the clusters depend on the zoom just set
      return api;
    });
    return api;
  }

  window.cgDistrictMap = { create: create, wgs84ToGcj02: wgs84ToGcj02, escapeHtml: escapeHtml,
                           loadLayers: loadLayers };
})();
