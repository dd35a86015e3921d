/* Fill in the rank's uncertainty interval, which the server computes once per index run. */
(function () {
  "use strict";
  var el = document.getElementById("rank-interval");
  if (!el || el.textContent.trim()) { return; }
  fetch(el.dataset.url).then(function (r) { return r.json(); }).then(function (d) {
    if (d.q05 === undefined || d.q05 === null) { return; }
    el.textContent = " · " + el.dataset.text.replace("{lo}", Math.round(d.q05)).replace("{hi}", Math.round(d.q95));
  });
})();
