/* Accountability desk forms: a form sent by htmx that comes back with problems (422) is
   swapped in place, so the errors appear next to their fields without reloading the page. */
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (evt) {
    if (evt.detail.xhr && evt.detail.xhr.status === 422) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
})();
