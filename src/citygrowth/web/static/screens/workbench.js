/* Index workbench: send the changed choices as JSON, draw published vs changed scores side by
   side, show prominently when zeros decide ranks (with one-click remedies), and the rank
   uncertainty of the published run (with the same remedies for its simulations). */
(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";
  var form = document.getElementById("wb-form");
  var T = JSON.parse(document.getElementById("wb-i18n").textContent);
  var chart = echarts.init(document.getElementById("wb-chart"));
  var unc = echarts.init(document.getElementById("wb-unc-chart"));
  var sens = echarts.init(document.getElementById("wb-sens-chart"));
  var csrf = (JSON.parse(document.body.getAttribute("hx-headers") || "{}"))["X-CSRF-Token"] || "";
  var ZERO_SENSITIVE = ["geometric", "harmonic", "generalised"];
  var CHOICES = ["imputation", "normalisation", "aggregation", "zeros", "topsis_normalisation",
    "weighting", "matrix"];
  window.cgWorkbench = { chart: chart, uncertainty: unc, sensitivity: sens, last: null, analysis: null };

  form.querySelectorAll("select, input[name='shift']").forEach(function (el) {
    el.dataset.initial = el.value;
  });

  function changed(el) { return el.value !== el.dataset.initial; }

  function body() {
    var out = { level: form.level.value, weights: {} };
    CHOICES.forEach(function (name) {
      if (changed(form[name])) { out[name] = form[name].value; }
    });
    if (changed(form.shift) && form.shift.value) { out.shift = parseFloat(form.shift.value); }
    if (changed(form.range)) {
      var top = parseFloat(form.range.options[form.range.selectedIndex].text.split("–")[1]);
      out.range = [parseFloat(form.range.value), top];
    }
    form.querySelectorAll("input[name^='w:']").forEach(function (i) {
      if (i.value === i.dataset.initial) { return; }
      var node = i.name.split(":")[1];
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
  function cell(tr, text, cls) {
    var td = document.createElement("td"); td.textContent = text == null ? "—" : text;
    if (cls) { td.className = cls; } tr.appendChild(td);
  }
  function errorText(d) {
    return d.error + " " + (d.errors || []).map(function (p) { return p.message; }).join(" ");
  }

  function toggleBoxes() {
    var agg = form.aggregation.value;
    document.getElementById("wb-zeros-box").hidden = ZERO_SENSITIVE.indexOf(agg) < 0;
    document.getElementById("wb-topsis-box").hidden = agg !== "topsis";
    form.shift.disabled = form.zeros.value !== "shift";
  }
  form.aggregation.addEventListener("change", toggleBoxes);
  form.zeros.addEventListener("change", toggleBoxes);

  /* a remedy sets the form's controls (visibly) and previews again */
  function applyRemedy(values) {
    Object.keys(values).forEach(function (key) {
      if (key === "range") { form.range.value = String(values.range[0]); return; }
      form[key].value = String(values[key]);
    });
    toggleBoxes();
    form.dispatchEvent(new Event("submit", { cancelable: true }));
  }
  function remedyButtons(holder, remedies, onClick) {
    holder.textContent = "";
    remedies.forEach(function (r) {
      var b = document.createElement("button");
      b.type = "button"; b.textContent = r.label; b.dataset.remedy = r.kind;
      b.addEventListener("click", function () { onClick(r); });
      holder.appendChild(b);
    });
  }
  function showWarning(w) {
    var box = document.getElementById("wb-warning");
    if (!w) { box.hidden = true; return; }
    document.getElementById("wb-warning-title").textContent = w.title;
    document.getElementById("wb-warning-message").textContent = w.message;
    document.getElementById("wb-warning-detail").textContent = w.detail || "";
    document.getElementById("wb-warning-explain").textContent = w.explain || "";
    remedyButtons(document.getElementById("wb-remedies"), w.remedies || [], function (r) { applyRemedy(r.form); });
    var appearing = box.hidden;
    box.hidden = false;
    if (appearing && box.scrollIntoView) { box.scrollIntoView({ block: "nearest" }); }
  }

  function drawRows(d) {
    var w = (d.warnings || [])[0];
    var tied = w ? w.tied : [], hit = w ? w.units : [];
    var tb = document.querySelector("#wb-table tbody"); tb.textContent = "";
    d.rows.forEach(function (r) {
      var tr = document.createElement("tr");
      if (tied.indexOf(r.unit) >= 0) { tr.className = "wb-tied"; } else if (hit.indexOf(r.unit) >= 0) { tr.className = "wb-hit"; }
      cell(tr, r.name); cell(tr, r.value_a, "num"); cell(tr, r.value_b, "num");
      cell(tr, r.rank_a, "num"); cell(tr, r.rank_b, "num");
      cell(tr, r.rank_change ? (r.rank_change > 0 ? "▲" + r.rank_change : "▼" + (-r.rank_change)) : "", "num");
      tb.appendChild(tr);
    });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    post(root + "/api/workbench/preview", body()).then(function (r) { return r.json(); }).then(function (d) {
      window.cgWorkbench.last = d;
      var summary = document.getElementById("wb-summary");
      if (d.ok === false) { summary.textContent = errorText(d); showWarning(null); return; }
      showWarning((d.warnings || [])[0]);
      document.getElementById("wb-period").textContent = d.period || "";
      if (d.blocked) { summary.textContent = T.blocked; chart.clear(); drawRows({ rows: [] }); return; }
      summary.textContent = d.moved ? T.moved.replace("{n}", d.moved) : T.none;
      chart.setOption(d.option, true);
      drawRows(d);
    });
  });
  document.getElementById("wb-level").addEventListener("change", function (e) {
    location.search = "?level=" + encodeURIComponent(e.target.value);
  });
  document.getElementById("wb-export").addEventListener("submit", function (e) {
    e.preventDefault();
    var v = document.getElementById("wb-version").value;
    post(root + "/api/workbench/export?version=" + encodeURIComponent(v), body()).then(function (r) {
      if (!r.ok) { return r.json().then(function (d) { alert(errorText(d)); }); }
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
      post(root + "/api/workbench/publish?version=" + encodeURIComponent(v), body()).then(function (r) { return r.json(); }).then(function (d) {
        pub.disabled = false;
        out.textContent = d.ok === false ? errorText(d) : d.message;
      });
    });
  }

  /* the published run's uncertainty and sensitivity, optionally with a remedy for zeros */
  function query(remedy) {
    return "?level=" + encodeURIComponent(form.dataset.level) + (remedy ? "&remedy=" + remedy : "");
  }
  function loadAnalysis(remedy) {
    fetch(root + "/api/workbench/analysis" + query(remedy)).then(function (r) { return r.json(); }).then(function (d) {
      window.cgWorkbench.analysis = d;
      document.getElementById("wb-unc-loading").hidden = true;
      if (d.ok === false) { return; }
      unc.setOption(d.options.uncertainty, true);
      var note = document.getElementById("wb-unc-warning");
      note.hidden = !d.zeros;
      if (d.zeros) {
        document.getElementById("wb-unc-message").textContent = d.zeros.message;
        remedyButtons(document.getElementById("wb-unc-remedies"), d.zeros.remedies, function (r) { loadAll(r.kind); });
      }
      var done = document.getElementById("wb-unc-remedy");
      done.hidden = !d.remedy; done.textContent = "";
      if (d.remedy) {
        done.appendChild(document.createTextNode(T.remedied.replace("{remedy}", d.remedy_label) + " "));
        var undo = document.createElement("button"); undo.type = "button"; undo.textContent = T.undo;
        undo.addEventListener("click", function () { loadAll(null); });
        done.appendChild(undo);
      }
      var ul = document.getElementById("wb-flags"); ul.textContent = "";
      (d.flags || []).slice(0, 20).forEach(function (f) {
        var li = document.createElement("li"); li.textContent = f.text; ul.appendChild(li);
      });
    });
  }
  function loadSensitivity(remedy) {
    fetch(root + "/api/workbench/sensitivity" + query(remedy)).then(function (r) { return r.json(); }).then(function (d) {
      if (d.ok !== false) { sens.setOption(d.option, true); }
    });
  }
  function loadAll(remedy) {
    document.getElementById("wb-unc-loading").hidden = false;
    loadAnalysis(remedy); loadSensitivity(remedy);
  }

  toggleBoxes();
  loadAll(null);
  form.dispatchEvent(new Event("submit", { cancelable: true }));
})();
