/* The patrol app's service worker, served as {root}/m/sw.js so that its scope is {root}/m/.
   The server fills in VERSION (changes with the app's files) and ROOT (the mount prefix).

   - install: caches the app shell (the pages /m/patrol and /m/tasks, their scripts, styles,
     ECharts, the icons and the category list);
   - pages: network first, the cached copy when there is no network (so the app opens and its
     queue keeps filling offline);
   - static files, the category list and the district map's GeoJSON: the cached copy at once,
     refreshed from the network behind it (stale-while-revalidate);
   - everything else (reports, photos, actions) goes to the network untouched: the page keeps
     unsent reports in IndexedDB and sends them itself, each with its idempotency key. */
"use strict";
var VERSION = "__VERSION__";
var ROOT = "__ROOT__";
var SHELL = "cg-patrol-shell-" + VERSION;
var DATA = "cg-patrol-data";
var PAGES = [ROOT + "/m/patrol", ROOT + "/m/tasks"];
var FILES = [
  "/static/css/app.css", "/static/governance/governance.css", "/static/governance/common.js",
  "/static/governance/mobile.js", "/static/governance/patrol.js",
  "/static/governance/districtmap.js", "/static/vendor/echarts/echarts.min.js",
  "/static/vendor/htmx/htmx.min.js", "/static/governance/icons/patrol-192.png",
  "/m/manifest.webmanifest", "/api/cases/categories"
].map(function (p) { return ROOT + p; });

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL).then(function (cache) {
    // pages need the login's cookie; a page that cannot be fetched now is cached on first visit
    return cache.addAll(FILES).then(function () {
      return Promise.all(PAGES.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (r) {
          if (r.ok && !r.redirected) { return cache.put(url, r); }
        }).catch(function () {});
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("cg-patrol-shell-") === 0 && k !== SHELL;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function pageKey(url) { return url.origin + url.pathname; }

function networkFirst(request) {
  var url = new URL(request.url);
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copy = response.clone();
      caches.open(SHELL).then(function (c) { c.put(pageKey(url), copy); });
    }
    return response;
  }).catch(function () {
    return caches.match(pageKey(url), { ignoreSearch: true }).then(function (hit) {
      return hit || Response.error();
    });
  });
}

function staleWhileRevalidate(request, cacheName) {
  return caches.open(cacheName).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) { cache.put(request, response.clone()); }
        return response;
      }).catch(function () { return hit || Response.error(); });
      return hit || fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var path = url.pathname;
  if (request.mode === "navigate" && path.indexOf(ROOT + "/m/") === 0) {
    event.respondWith(networkFirst(request));
  } else if (path.indexOf(ROOT + "/static/") === 0 || path === ROOT + "/m/manifest.webmanifest") {
    event.respondWith(staleWhileRevalidate(request, SHELL));
  } else if (path === ROOT + "/api/areas.geojson" || path === ROOT + "/api/cases/categories") {
    event.respondWith(staleWhileRevalidate(request, DATA));
  }
});

/* A logout clears the cached pages (they show the last login's tasks); unsent reports stay in
   the page's IndexedDB until they are sent. */
self.addEventListener("message", function (event) {
  if (event.data === "logout") { event.waitUntil(caches.delete(SHELL)); }
});
