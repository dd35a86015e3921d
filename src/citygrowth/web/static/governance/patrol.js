// The grid worker's patrol report. A report goes into the IndexedDB queue first (cgQueue, in
// mobile.js), with an idempotency key made here, and is sent from the queue: at once when
// online, else when the connection returns (the "online" event), when the app is opened again
// and every 30 s. A retry of a report the server already stored answers with the same case,
// so every report becomes exactly one case however often it is sent.
(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var form = document.getElementById("patrol-form");
  var sentList = document.getElementById("sent");
  var pending = document.getElementById("pending");
  var map = null;

  function line(ul, text, cls) {
    var li = document.createElement("li");
    li.textContent = text;
    if (cls) { li.className = cls; }
    ul.appendChild(li);
    return li;
  }
  // times in the district's zone (not the phone's), e.g. 12-05 07:31
  var clock = new Intl.DateTimeFormat("en-GB", { timeZone: pending.dataset.tz || undefined,
    month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  function when(ms) {
    var parts = {};
    clock.formatToParts(new Date(ms)).forEach(function (x) { parts[x.type] = x.value; });
    return parts.month + "-" + parts.day + " " + parts.hour + ":" + parts.minute;
  }
  function render() {
    return Promise.all([window.cgQueue.all(), window.cgQueue.receipts()]).then(function (r) {
      pending.textContent = "";
      r[0].forEach(function (item) {
        var text = when(item.created) + " · " + item.label + (item.photo ? " · " + pending.dataset.photo : "");
        var li = line(pending, text, item.state === "refused" ? "bad" : "");
        li.dataset.key = item.key;
        if (item.state === "refused") {
          li.appendChild(document.createTextNode(" — " + item.error + " "));
          var drop = document.createElement("button");
          drop.type = "button"; drop.textContent = pending.dataset.drop;
          drop.addEventListener("click", function () {
            window.cgQueue.remove(item.key).then(render);
          });
          li.appendChild(drop);
        }
      });
      sentList.textContent = "";
      r[1].slice().reverse().forEach(function (rec) {
        var li = line(sentList, sentList.dataset.template.replace("{id}", rec.id) + " · " + when(rec.at));
        li.dataset.case = rec.id;
      });
      return window.cgMobile.show();
    });
  }

  function uploadPhoto(item) {
    if (!item.photo || item.photoUrl) { return Promise.resolve(item.photoUrl ? [item.photoUrl] : []); }
    var fd = new FormData();
    fd.append("photo", item.photo, item.photoName || "photo.jpg");
    return fetch(root + "/api/cases/photos", {
      method: "POST", body: fd, credentials: "same-origin", headers: { "X-CSRF-Token": csrf }
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) {
        if (!r.ok) { var e = new Error(d.error || ("HTTP " + r.status)); e.status = r.status; throw e; }
        item.photoUrl = d.url;
        return window.cgQueue.update(item).then(function () { return [d.url]; });
      });
    });
  }
  function sendOne(item) {
    return uploadPhoto(item).then(function (photos) {
      var body = Object.assign({}, item.fields, { photos: photos, source: "patrol" });
      return fetch(root + "/api/cases", {
        method: "POST", body: JSON.stringify(body), credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Idempotency-Key": item.key, "X-CSRF-Token": csrf }
      });
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (d) { return { status: r.status, data: d }; });
    }, function (err) {  // the photo was refused, or there is no connection
      if (err.status && err.status < 500 && err.status !== 401 && err.status !== 408 && err.status !== 429) {
        return { status: err.status, data: { error: err.message } };
      }
      throw err;
    });
  }

  var busy = false;
  function flushAll() {
    if (busy || !navigator.onLine) { return render(); }
    busy = true;
    return window.cgQueue.all().then(function (items) {
      var waiting = items.filter(function (i) { return i.state !== "refused"; });
      var step = function (i) {
        if (i >= waiting.length) { return null; }
        var item = waiting[i];
        return sendOne(item).then(function (res) {
          if (res.status === 200 || res.status === 201) {
            return window.cgQueue.sent({ key: item.key, id: res.data.id, at: Date.now() })
              .then(function () { return window.cgQueue.remove(item.key); })
              .then(function () { return step(i + 1); });
          }
          if (res.status === 401 || res.status === 408 || res.status === 429 || res.status >= 500) {
            return null;  // log in again / try later: the report stays queued
          }
          item.state = "refused";
          item.error = (res.data && res.data.error) || ("HTTP " + res.status);
          return window.cgQueue.update(item).then(function () { return step(i + 1); });
        });
      };
      return step(0);
    }).catch(function () { return null; })  // no connection: wait for "online"
      .then(function () { busy = false; return render(); });
  }
  function flush() {
    if (navigator.locks && navigator.locks.request) {  // one tab sends at a time
      return navigator.locks.request("citygrowth-patrol-send", flushAll);
    }
    return flushAll();
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var lat = parseFloat(form.lat.value), lon = parseFloat(form.lon.value);
    var fields = { category_code: form.category_code.value, description: form.description.value };
    if (!isNaN(lat) && !isNaN(lon)) { fields.lat = lat; fields.lon = lon; }
    var file = form.photo.files[0] || null;
    var item = { key: window.cgIntake.newKey(), fields: fields, photo: file,
                 photoName: file ? file.name : "", created: Date.now(), state: "waiting",
                 label: form.category_code.options[form.category_code.selectedIndex].text };
    window.cgQueue.add(item).then(function () {
      form.reset();
      out.textContent = "";
      return render();
    }).then(flush);
  });

  // position: a tap on the map, or the phone's GPS (shifted to the map's GCJ-02); the map
  // names the grid cell and street under the pin
  var out = document.getElementById("place");
  function onPick(where) {
    if (where.outside) {
      form.lat.value = ""; form.lon.value = "";
      out.textContent = out.dataset.outside;
      return;
    }
    form.lon.value = where.lon.toFixed(6); form.lat.value = where.lat.toFixed(6);
    out.textContent = where.grid.name + (where.street ? " · " + where.street.name : "");
    window.cgIntake.dupes();
  }
  var mapEl = document.getElementById("patrol-map");
  if (mapEl && window.echarts && window.cgDistrictMap) {
    map = window.cgDistrictMap.create(mapEl, { focus: mapEl.dataset.area, pickable: true,
      onPick: onPick, labels: { zoomIn: mapEl.dataset.zoomIn, zoomOut: mapEl.dataset.zoomOut } });
  }
  function gps() {
    var pos = document.getElementById("pos");
    if (!navigator.geolocation) { pos.textContent = pos.dataset.none; return; }
    pos.textContent = pos.dataset.wait;
    navigator.geolocation.getCurrentPosition(function (p) {
      var ll = window.cgDistrictMap.wgs84ToGcj02(p.coords.longitude, p.coords.latitude);
      pos.textContent = "";
      if (map) { map.ready.then(function () { map.place(ll[0], ll[1]); }); }
    }, function () { pos.textContent = pos.dataset.none; }, { enableHighAccuracy: true, timeout: 15000 });
  }
  document.getElementById("locate").addEventListener("click", gps);
  document.getElementById("category").addEventListener("change", window.cgIntake.dupes);
  window.addEventListener("online", flush);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { flush(); }
  });
  window.cgPatrol = { flush: flush, render: render };
  render().then(flush);
  gps();
  setInterval(flush, 30000);
})();
