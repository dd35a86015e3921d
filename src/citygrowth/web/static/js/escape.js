/* Escaping for every string drawn as HTML: ECharts tooltip and label formatters, innerHTML.
   cgEscape(x) turns any value into text that HTML shows as it is (& < > " ' escaped). */
window.cgEscape = function (value) {
  "use strict";
  return String(value === null || value === undefined ? "" : value).replace(/[&<>"']/g, function (c) {
    return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
  });
};
