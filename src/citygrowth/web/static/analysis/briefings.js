/* The "make a briefing" form: counts the seconds while the server works, and shows its error
   (htmx does not swap error responses by itself). The server's error partial is escaped HTML. */
(function () {
  "use strict";
  var form = document.getElementById("make-form");
  if (!form) { return; }
  var box = document.querySelector("#making .elapsed");
  var errors = document.getElementById("make-error");
  var timer = null;
  function stop() { if (timer) { clearInterval(timer); timer = null; } }
  form.addEventListener("htmx:beforeRequest", function () {
    var start = Date.now();
    errors.innerHTML = "";
    box.textContent = box.dataset.template.replace("{seconds}", "0");
    stop();
    timer = setInterval(function () {
      box.textContent = box.dataset.template.replace("{seconds}", String(Math.round((Date.now() - start) / 1000)));
    }, 1000);
  });
  form.addEventListener("htmx:afterRequest", stop);
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.requestConfig && e.detail.requestConfig.elt === form && e.detail.xhr.status >= 400) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
      e.detail.target = errors;
      e.detail.swapOverride = "innerHTML";
    }
  });
})();
