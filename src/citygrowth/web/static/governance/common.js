// Shared by the patrol and resident forms: position, duplicate suggestion, keys.
window.cgIntake = (function () {
  function newKey() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    var a = new Uint8Array(16); window.crypto.getRandomValues(a);
    return Array.prototype.map.call(a, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  function locate(onPos) {
    var pos = document.getElementById("pos");
    if (!navigator.geolocation) { pos.textContent = pos.dataset.none; return; }
    pos.textContent = pos.dataset.wait;
    navigator.geolocation.getCurrentPosition(function (p) {
      document.getElementById("lat").value = p.coords.latitude.toFixed(6);
      document.getElementById("lon").value = p.coords.longitude.toFixed(6);
      pos.textContent = p.coords.latitude.toFixed(5) + ", " + p.coords.longitude.toFixed(5);
      if (onPos) { onPos(); }
    }, function () { pos.textContent = pos.dataset.none; }, { enableHighAccuracy: true, timeout: 15000 });
  }
  function dupes() {
    var lat = document.getElementById("lat").value, lon = document.getElementById("lon").value;
    var cat = document.getElementById("category").value, box = document.getElementById("dupes");
    if (!lat || !lon || !navigator.onLine) { box.textContent = ""; return; }
    fetch((document.documentElement.dataset.root || "") + "/api/cases/nearby?lat=" + lat + "&lon=" + lon + "&category=" + encodeURIComponent(cat))
      .then(function (r) { return r.json(); })
      .then(function (d) {
        box.textContent = "";
        if (!d.items || !d.items.length) { return; }
        var p = document.createElement("p"); p.textContent = box.dataset.title; box.appendChild(p);
        var ul = document.createElement("ul");
        d.items.forEach(function (c) {
          var li = document.createElement("li");
          li.textContent = "#" + c.id + " · " + c.status_label + " · " + c.distance_m + " m";
          ul.appendChild(li);
        });
        box.appendChild(ul);
      }).catch(function () { box.textContent = ""; });
  }
  return { newKey: newKey, locate: locate, dupes: dupes };
})();
