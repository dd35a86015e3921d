/* Index workbench: send the form as JSON, draw published vs changed scores side by side. */
(function () {
  "use strict";
  var form = document.getElementById("wb-form");
  var T = JSON.parse(document.getElementById("wb-i18n").textContent);
  var chart = echarts.init(document.getElementById("wb-chart"));
  var unc = echarts.init(document.getElementById("wb-unc-chart"));
  var csrf = (JSON.parse(document.body.getAttribute("hx-headers") || "{}"))["X-CSRF-Token"] || "";
  window.cgWorkbench = { chart: chart, uncertainty: unc, last: null };

  function body() {
    var out = { level: form.level.value, normalisation: form.normalisation.value,
      aggregation: form.aggregation.value, weighting: form.weighting.value, weights: {} };
    form.querySelectorAll("input[name^='w:']").forEach(function (i) {
      if (i.value === i.dataset.initial) { return; }
      var parts = i.name.split(":");
      var node = parts[1];
      out.weights[node] = out.weights[node] || {};
      form.querySelectorAll("input[name^='w:" + node + ":']").forEach(function (j) {
        out.weights[node][j.name.split(":")[2]] = parseFloat(j.value);
      });
    });
    return out;
  }
  function post(url, data) {
    return fetch(url, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data) });
  }
  function cell(tr, text, cls) { var td = document.createElement("td"); td.textContent = text == null ? "—" : text; if (cls) { td.className = cls; } tr.appendChild(td); }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    post("/api/workbench/preview", body()).then(function (r) { return r.json(); }).then(function (d) {
      window.cgWorkbench.last = d;
      if (d.ok === false) { document.getElementById("wb-summary").textContent = d.error + " " + (d.errors || []).map(function (p) { return p.message; }).join(" "); return; }
      document.getElementById("wb-period").textContent = d.period;
      document.getElementById("wb-summary").textContent = d.moved ? T.moved.replace("{n}", d.moved) : T.none;
      chart.setOption(d.option, true);
      var tb = document.querySelector("#wb-table tbody"); tb.innerHTML = "";
      d.rows.forEach(function (r) {
        var tr = document.createElement("tr");
        cell(tr, r.name); cell(tr, r.value_a, "num"); cell(tr, r.value_b, "num");
        cell(tr, r.rank_a, "num"); cell(tr, r.rank_b, "num");
        cell(tr, r.rank_change ? (r.rank_change > 0 ? "▲" + r.rank_change : "▼" + (-r.rank_change)) : "", "num");
        tb.appendChild(tr);
      });
    });
  });
  document.getElementById("wb-level").addEventListener("change", function (e) { location.search = "?level=" + e.target.value; });
  document.getElementById("wb-export").addEventListener("submit", function (e) {
    e.preventDefault();
    var v = document.getElementById("wb-version").value;
    post("/api/workbench/export?version=" + encodeURIComponent(v), body()).then(function (r) {
      if (!r.ok) { return r.json().then(function (d) { alert(d.error); }); }
      return r.blob().then(function (b) {
        var a = document.createElement("a"); a.href = URL.createObjectURL(b); a.download = "framework-" + v + ".yaml"; a.click();
      });
    });
  });
  var pub = document.getElementById("wb-publish");
  if (pub) {
    pub.addEventListener("click", function () {
      var v = document.getElementById("wb-version").value;
      if (!window.confirm(T.confirm.replace("{version}", v))) { return; }
      var out = document.getElementById("wb-publish-result");
      pub.disabled = true;
      post("/api/workbench/publish?version=" + encodeURIComponent(v), body()).then(function (r) { return r.json(); }).then(function (d) {
        pub.disabled = false;
        out.textContent = d.ok === false ? d.error + " " + (d.errors || []).map(function (p) { return p.message; }).join(" ") : d.message;
      });
    });
  }
  fetch("/api/workbench/analysis?level=" + form.dataset.level).then(function (r) { return r.json(); }).then(function (d) {
    if (d.ok === false) { return; }
    unc.setOption(d.options.uncertainty, true);
    var ul = document.getElementById("wb-flags"); ul.innerHTML = "";
    (d.flags || []).slice(0, 20).forEach(function (f) { var li = document.createElement("li"); li.textContent = Object.values(f).join(" · "); ul.appendChild(li); });
  });
  var sens = echarts.init(document.getElementById("wb-sens-chart"));
  window.cgWorkbench.sensitivity = sens;
  fetch("/api/workbench/sensitivity?level=" + form.dataset.level).then(function (r) { return r.json(); }).then(function (d) {
    if (d.ok !== false) { sens.setOption(d.option, true); }
  });
  form.dispatchEvent(new Event("submit"));
})();
