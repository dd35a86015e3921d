/* Reports around (/around): the public markers on the shared district map, coloured by state
   (the server gives each its colour and a plain-text title), clustered where they crowd. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("around-data").textContent);
  var map = window.cgDistrictMap.create(document.getElementById("around-map"), {
    focus: data.focus, pickable: false, cluster: true, labels: data.labels
  });
  map.ready.then(function () { map.setMarkers(data.markers); });
})();
