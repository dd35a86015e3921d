// The command center's map: the open cases (JSON in the page) as markers on the district map,
// clustered when they crowd; a click on a case opens it, a cluster zooms in, and at the closest
// zoom its cases are listed under the map.
(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";
  var el = document.getElementById("case-map");
  var read = function (id) { return JSON.parse(document.getElementById(id).textContent); };
  var panel = document.getElementById("map-panel");
  function open(id) { window.location.href = root + "/command/cases/" + encodeURIComponent(id); }
  function list(markers) {
    panel.textContent = "";
    var ul = document.createElement("ul");
    markers.forEach(function (m) {
      var li = document.createElement("li"), a = document.createElement("a");
      a.href = root + "/command/cases/" + encodeURIComponent(m.id);
      a.textContent = m.title;
      if (m.alert) { a.className = "bad"; }
      li.appendChild(a); ul.appendChild(li);
    });
    panel.appendChild(ul);
    panel.hidden = false;
  }
  var map = window.cgDistrictMap.create(el, {
    focus: el.dataset.focus || null, cluster: true, labels: read("map-labels"),
    onMarker: function (m) { open(m.id); }, onCluster: list
  });
  el.cgMap = map;
  map.ready.then(function () { map.setMarkers(read("case-points")); el.dataset.ready = "1"; });
})();
