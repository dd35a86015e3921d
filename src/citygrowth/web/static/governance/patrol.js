// Grid worker's patrol report. Every report gets an idempotency key made here, on the phone;
// it is queued in localStorage first and sent from the queue, so a report made without signal
// waits and is retried when the "online" event fires — and a retry never makes a second case.
(function () {
  var KEY = "citygrowth.patrol.queue";
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  function load() { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } }
  function save(q) { localStorage.setItem(KEY, JSON.stringify(q)); show(); }
  function show() {
    var el = document.getElementById("queue-state"), n = load().length;
    el.textContent = n ? el.dataset.template.replace("{n}", n) : "";
    var net = document.getElementById("net");
    net.textContent = navigator.onLine ? net.dataset.online : net.dataset.offline;
  }
  function readPhoto(file) {
    return new Promise(function (resolve) {
      if (!file) { resolve(null); return; }
      var r = new FileReader();
      r.onload = function () { resolve(r.result); };
      r.onerror = function () { resolve(null); };
      r.readAsDataURL(file);
    });
  }
  function uploadPhoto(dataUrl) {
    if (!dataUrl) { return Promise.resolve([]); }
    return fetch(dataUrl).then(function (r) { return r.blob(); }).then(function (blob) {
      var fd = new FormData(); fd.append("photo", blob, "photo");
      return fetch("/api/cases/photos", { method: "POST", body: fd, headers: { "X-CSRF-Token": csrf } });
    }).then(function (r) {
      if (!r.ok) { throw new Error("photo " + r.status); }
      return r.json();
    }).then(function (d) { return [d.url]; });
  }
  function sendOne(item) {
    return uploadPhoto(item.photo).then(function (photos) {
      var body = Object.assign({}, item.fields, { photos: photos, source: "patrol" });
      return fetch("/api/cases", {
        method: "POST", body: JSON.stringify(body),
        headers: { "Content-Type": "application/json", "Idempotency-Key": item.key, "X-CSRF-Token": csrf }
      });
    }).then(function (r) {
      return r.json().then(function (d) { return { status: r.status, data: d }; });
    });
  }
  var busy = false;
  function flush() {
    if (busy || !navigator.onLine) { show(); return; }
    var q = load();
    if (!q.length) { show(); return; }
    busy = true;
    sendOne(q[0]).then(function (res) {
      busy = false;
      if (res.status < 500) {  // acknowledged (or refused for good): leave the queue
        var rest = load().filter(function (x) { return x.key !== q[0].key; });
        save(rest);
        if (res.data && res.data.id) {
          var ul = document.getElementById("sent"), li = document.createElement("li");
          li.textContent = ul.dataset.template.replace("{id}", res.data.id); ul.appendChild(li);
        } else if (res.data && res.data.error) {
          var li2 = document.createElement("li"); li2.className = "bad"; li2.textContent = res.data.error;
          document.getElementById("sent").appendChild(li2);
        }
        flush();
      } else { show(); }
    }).catch(function () { busy = false; show(); });  // no connection: wait for "online"
  }
  document.getElementById("patrol-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var f = ev.target;
    var lat = parseFloat(f.lat.value), lon = parseFloat(f.lon.value);
    var fields = { category_code: f.category_code.value, description: f.description.value };
    if (!isNaN(lat) && !isNaN(lon)) { fields.lat = lat; fields.lon = lon; }
    readPhoto(f.photo.files[0]).then(function (photo) {
      var q = load(); q.push({ key: window.cgIntake.newKey(), fields: fields, photo: photo });
      save(q); f.reset(); window.cgIntake.locate(); flush();
    });
  });
  document.getElementById("category").addEventListener("change", window.cgIntake.dupes);
  window.addEventListener("online", flush);
  window.addEventListener("offline", show);
  window.cgIntake.locate(window.cgIntake.dupes);
  flush();
  setInterval(flush, 30000);
})();
