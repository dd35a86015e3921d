/* The report form (/report) on a phone: search and pick a category, place the pin on the
   district map (tap, or the device's position), add up to four photos, describe, send.
   Without JavaScript the same form still works (categories as radio buttons, an address, the
   photo field); this script only makes it quicker. A key per form load makes a double submit
   or a retry one report. */
(function () {
  "use strict";
  var ROOT = document.documentElement.dataset.root || "";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  var config = JSON.parse(document.getElementById("report-config").textContent);
  var $ = function (id) { return document.getElementById(id); };

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  if (!$("idem").value) { $("idem").value = newKey(); }
  document.querySelectorAll(".js-only").forEach(function (el) { el.hidden = false; });

  // --- category: the 大类 as tiles, a tap opens its 小类; a search lists matching 小类 ----------
  var kind = "", openMajor = null;
  var majors = Array.prototype.slice.call(document.querySelectorAll("fieldset.major"));
  var tiles = document.createElement("div");
  tiles.className = "cat-grid major-grid";
  tiles.setAttribute("data-testid", "major-tiles");
  majors.forEach(function (fs, i) {
    var legend = fs.querySelector("legend"), tile = document.createElement("button");
    tile.type = "button"; tile.className = "cat major-tile"; tile.dataset.kind = fs.dataset.kind;
    tile.dataset.index = i;
    tile.appendChild(legend.querySelector("svg").cloneNode(true));
    var name = document.createElement("span"); name.textContent = legend.textContent.trim();
    var sub = document.createElement("small"); sub.textContent = fs.dataset.kindLabel;
    tile.appendChild(name); tile.appendChild(sub);
    tile.addEventListener("click", function () { openMajor = i; render(); });
    tiles.appendChild(tile);
  });
  majors[0].parentNode.insertBefore(tiles, majors[0]);
  var back = document.createElement("button");
  back.type = "button"; back.className = "link back"; back.hidden = true;
  back.textContent = "‹ " + $("category-picker").dataset.back;
  back.addEventListener("click", function () { openMajor = null; render(); });
  tiles.parentNode.insertBefore(back, tiles);

  function render() {
    var q = $("category-search").value.trim().toLowerCase(), any = false;
    var browsing = !q && openMajor === null;
    tiles.hidden = !browsing;
    back.hidden = browsing || !!q;
    tiles.querySelectorAll(".major-tile").forEach(function (t) {
      t.hidden = !!kind && t.dataset.kind !== kind;
    });
    majors.forEach(function (fs, i) {
      var shown = 0;
      fs.querySelectorAll("label.cat").forEach(function (lab) {
        var ok = q ? lab.dataset.search.indexOf(q) >= 0 && (!kind || fs.dataset.kind === kind)
          : openMajor === i;
        lab.hidden = !ok; if (ok) { shown++; }
      });
      fs.hidden = shown === 0; any = any || shown > 0;
    });
    $("no-match").hidden = browsing || any;
  }
  function chosen() { return form.querySelector('input[name="category_code"]:checked'); }
  function showPicked() {
    var input = chosen();
    if (!input) { return; }
    var label = input.closest("label");
    var box = $("picked-label");
    box.textContent = "";
    box.appendChild(label.querySelector("svg").cloneNode(true));
    box.appendChild(document.createTextNode(" " + label.querySelector("span").textContent));
    $("picked").hidden = false;
    $("category-picker").hidden = true;
  }
  $("picker-tools").hidden = false;
  $("category-search").addEventListener("input", render);
  document.querySelectorAll(".tabs .tab").forEach(function (tab) {
    tab.addEventListener("click", function () {
      kind = tab.dataset.kind;
      document.querySelectorAll(".tabs .tab").forEach(function (t) {
        t.setAttribute("aria-pressed", t === tab ? "true" : "false");
      });
      render();
    });
  });
  form.querySelectorAll('input[name="category_code"]').forEach(function (input) {
    input.addEventListener("change", function () { showPicked(); dupes(); });
  });
  $("change-category").addEventListener("click", function () {
    $("category-picker").hidden = false; $("picked").hidden = true;
    $("category-search").focus();
  });
  render();
  showPicked();

  // --- place -----------------------------------------------------------------------------
  var placeBox = $("place");
  function inScope(code) {
    if (!config.scope) { return true; }
    return config.scope.some(function (p) { return code.indexOf(p) === 0; });
  }
  function onPick(where) {
    if (where.outside) {
      $("lat").value = ""; $("lon").value = "";
      placeBox.textContent = placeBox.dataset.outside; placeBox.className = "place warn";
      return;
    }
    var names = [where.street, where.community, where.grid].filter(Boolean)
      .map(function (a) { return a.name; });
    if (!inScope(where.grid.code)) {
      $("lat").value = ""; $("lon").value = "";
      placeBox.textContent = placeBox.dataset.foreign + " (" + names.join(" · ") + ")";
      placeBox.className = "place warn";
      return;
    }
    $("lat").value = where.lat.toFixed(6); $("lon").value = where.lon.toFixed(6);
    placeBox.textContent = names.join(" · ");
    placeBox.className = "place ok";
    placeBox.dataset.grid = where.grid.code;
    dupes();
  }
  var map = window.cgDistrictMap.create($("report-map"), {
    focus: config.focus, pickable: true, onPick: onPick,
    labels: { zoomIn: config.zoomIn, zoomOut: config.zoomOut }
  });
  window.cgReportMap = map;
  map.ready.then(function () {
    // the place is named under the map: no hover label over the pin on a phone
    map.chart.setOption({ geo: { tooltip: { show: false } } });
    var lat = parseFloat($("lat").value), lon = parseFloat($("lon").value);
    if (!isNaN(lat) && !isNaN(lon)) { map.place(lon, lat); }
  }).catch(function () { $("report-map").hidden = true; });

  $("use-position").addEventListener("click", function () {
    if (!navigator.geolocation) { placeBox.textContent = placeBox.dataset.denied; return; }
    placeBox.textContent = placeBox.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (p) {
      var at = window.cgDistrictMap.wgs84ToGcj02(p.coords.longitude, p.coords.latitude);
      map.ready.then(function () {
        var where = map.place(at[0], at[1]);
        if (where) { map.focus(where.grid.code); }
      });
    }, function () {
      placeBox.textContent = placeBox.dataset.denied; placeBox.className = "place warn";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  });

  // --- duplicates nearby -----------------------------------------------------------------
  function dupes() {
    var box = $("dupes"), input = chosen(), lat = $("lat").value, lon = $("lon").value;
    if (!input || !lat || !lon) { box.hidden = true; return; }
    fetch(ROOT + "/api/cases/nearby?lat=" + encodeURIComponent(lat) + "&lon=" +
          encodeURIComponent(lon) + "&category=" + encodeURIComponent(input.value))
      .then(function (r) { return r.ok ? r.json() : { items: [] }; })
      .then(function (d) {
        box.textContent = "";
        if (!d.items || !d.items.length) { box.hidden = true; return; }
        var p = document.createElement("p"); p.textContent = box.dataset.title; box.appendChild(p);
        var ul = document.createElement("ul");
        d.items.forEach(function (c) {
          var li = document.createElement("li");
          li.textContent = "#" + c.id + " · " + c.status_label + " · " +
            box.dataset.metres.replace("{n}", Math.round(c.distance_m));
          ul.appendChild(li);
        });
        box.appendChild(ul); box.hidden = false;
      }).catch(function () { box.hidden = true; });
  }

  // --- photos ------------------------------------------------------------------------------
  var picker = $("photo-input"), files = [], max = parseInt(picker.dataset.max, 10);
  var maxBytes = parseInt(picker.dataset.maxBytes, 10), note = $("photo-note");
  function sync() {
    var dt = new DataTransfer();
    files.forEach(function (f) { dt.items.add(f); });
    picker.files = dt.files;
    var list = $("photo-previews");
    list.querySelectorAll("img").forEach(function (img) { URL.revokeObjectURL(img.src); });
    list.textContent = "";
    files.forEach(function (f, i) {
      var li = document.createElement("li"), img = document.createElement("img");
      img.src = URL.createObjectURL(f); img.alt = f.name;
      var rm = document.createElement("button");
      rm.type = "button"; rm.className = "remove"; rm.textContent = "×";
      rm.setAttribute("aria-label", picker.dataset.remove + " " + f.name);
      rm.addEventListener("click", function () { files.splice(i, 1); note.textContent = ""; sync(); });
      li.appendChild(img); li.appendChild(rm); list.appendChild(li);
    });
  }
  picker.addEventListener("change", function () {
    var added = Array.prototype.slice.call(picker.files), messages = [];
    added.forEach(function (f) {
      if (f.size > maxBytes) {
        messages.push(picker.dataset.tooBig.replace("{name}", f.name)
          .replace("{n}", Math.round(maxBytes / 1048576)));
      } else if (files.length >= max) {
        if (messages.indexOf(picker.dataset.tooMany) < 0) { messages.push(picker.dataset.tooMany); }
      } else { files.push(f); }
    });
    note.textContent = messages.join(" ");
    sync();
  });
  form.addEventListener("submit", function () {
    form.querySelector('button[type="submit"]').disabled = true;
  });
})();
window.addEventListener("pageshow", function () {
  var b = document.querySelector('#report-form button[type="submit"]');
  if (b) { b.disabled = false; }
});
