/* The mobile app shell (/m/…): registers the service worker, keeps the queue of unsent reports
   in IndexedDB (window.cgQueue) and shows the connection and how many reports wait.
   The queue survives a reload and a closed tab; patrol.js fills and sends it. */
window.cgQueue = (function () {
  "use strict";
  var DB = "citygrowth-patrol", VERSION = 1;
  var opening = null;

  function open() {
    if (opening) { return opening; }
    opening = new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, VERSION);
      req.onupgradeneeded = function () {
        var db = req.result;
        if (!db.objectStoreNames.contains("queue")) {
          db.createObjectStore("queue", { keyPath: "key" }).createIndex("created", "created");
        }
        if (!db.objectStoreNames.contains("sent")) {
          db.createObjectStore("sent", { keyPath: "key" }).createIndex("at", "at");
        }
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
    return opening;
  }
  function run(store, mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode), out;
        var s = tx.objectStore(store);
        var r = work(s);
        if (r) { r.onsuccess = function () { out = r.result; }; }
        tx.oncomplete = function () { resolve(out); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  var api = {
    add: function (item) { return run("queue", "readwrite", function (s) { return s.put(item); }); },
    update: function (item) { return api.add(item); },
    remove: function (key) { return run("queue", "readwrite", function (s) { return s.delete(key); }); },
    all: function () {
      return run("queue", "readonly", function (s) { return s.index("created").getAll(); });
    },
    count: function () {
      return api.all().then(function (items) {
        return items.filter(function (i) { return i.state !== "refused"; }).length;
      });
    },
    sent: function (receipt) {  // remember a sent report (the last 50 stay listed)
      return run("sent", "readwrite", function (s) { return s.put(receipt); }).then(function () {
        return api.receipts();
      }).then(function (all) {
        var old = all.slice(0, Math.max(0, all.length - 50));
        return Promise.all(old.map(function (r) {
          return run("sent", "readwrite", function (s) { return s.delete(r.key); });
        }));
      });
    },
    receipts: function () {
      return run("sent", "readonly", function (s) { return s.index("at").getAll(); });
    }
  };
  return api;
})();

(function () {
  "use strict";
  var root = document.documentElement.dataset.root || "";
  var net = document.getElementById("net");
  var state = document.getElementById("queue-state");

  function show() {
    if (net) {
      net.textContent = navigator.onLine ? net.dataset.online : net.dataset.offline;
      net.className = navigator.onLine ? "net online" : "net offline";
    }
    if (!state) { return Promise.resolve(); }
    return window.cgQueue.count().then(function (n) {
      state.dataset.count = String(n);
      state.textContent = n ? state.dataset.template.replace("{n}", n) : state.dataset.none;
      state.className = n ? "queue-state waiting" : "queue-state";
      if (navigator.setAppBadge) { (n ? navigator.setAppBadge(n) : navigator.clearAppBadge()).catch(function () {}); }
    });
  }
  window.cgMobile = { show: show };
  window.addEventListener("online", show);
  window.addEventListener("offline", show);
  document.addEventListener("DOMContentLoaded", show);
  show();

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(root + "/m/sw.js", { scope: root + "/m/" }).catch(function () {});
    // logging out clears the cached pages (the queue of unsent reports stays)
    document.querySelectorAll('form[action$="/logout"]').forEach(function (f) {
      f.addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) { navigator.serviceWorker.controller.postMessage("logout"); }
      });
    });
  }
})();
