/* Ruamsue service worker (served at /sw.js by core/pwa.py, which fills in the version and the URLs).
   The app shell (CSS, JS, icons) from the phone, the kept pages network first with the phone's copy
   as the fallback, and Background Sync of the orders kept on the phone. */
"use strict";
var VERSION = "__VERSION__";
var SHELL = __SHELL__;
var OFFLINE_PAGE = __OFFLINE_PAGE__;
var SHELL_CACHE = "ruamsue-shell-" + VERSION;
var PAGE_CACHE = "ruamsue-pages-v1";
importScripts(__OUTBOX_JS__);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(SHELL_CACHE)
    .then(function (cache) { return cache.addAll(SHELL); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf("ruamsue-shell-") === 0 && k !== SHELL_CACHE; })
      .map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

/* A kept page, stamped with when it was fetched (the page shows "as of" that time when offline). */
function keepPage(request, response) {
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Cached-At", new Date().toISOString());
    headers["delete"]("Vary");
    headers["delete"]("Content-Encoding");
    headers["delete"]("Content-Length");
    return caches.open(PAGE_CACHE).then(function (cache) {
      return cache.put(request.url, new Response(body, { status: 200, headers: headers }));
    });
  });
}

function fromPhone(request) {
  var url = new URL(request.url);
  // A household's own page on the round's sheet (?h=): a phone passed round the group never answers with
  // another household's kept page, only with this one's or the sheet without anyone's quantities.
  var ownPage = url.pathname.indexOf("/h/") === 0 && url.searchParams.has("h");
  return caches.open(PAGE_CACHE).then(function (cache) {
    return cache.match(request.url, { ignoreVary: true }).then(function (hit) {
      if (hit) { return hit; }
      if (ownPage) { return cache.match(url.origin + url.pathname, { ignoreVary: true }); }
      return cache.match(request.url, { ignoreVary: true, ignoreSearch: true });
    });
  }).then(function (hit) {
    if (!hit) {
      return caches.match(OFFLINE_PAGE).then(function (page) { return page || Response.error(); });
    }
    var at = hit.headers.get("X-Cached-At") || "";
    return hit.text().then(function (html) {
      var marked = html.replace("<html", "<html data-cached-at=\"" + at.replace(/[^0-9TZ:.\-]/g, "") + "\"");
      var headers = new Headers(hit.headers);
      headers.set("Content-Type", "text/html; charset=utf-8");
      return new Response(marked, { status: 200, headers: headers });
    });
  });
}

function networkFirst(event) {
  var request = event.request;
  return fetch(request).then(function (response) {
    if (response.ok && response.headers.get("X-Offline-Page") === "1") {
      event.waitUntil(keepPage(request, response));
    }
    return response;
  }, function () { return fromPhone(request); });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
    return;
  }
  if (SHELL.indexOf(url.pathname) >= 0) {
    event.respondWith(caches.match(url.pathname, { ignoreSearch: true }).then(function (hit) {
      return hit || fetch(request);
    }));
  }
});

function tellPages() {
  return self.clients.matchAll({ type: "window" }).then(function (pages) {
    pages.forEach(function (page) { page.postMessage({ type: "outbox-changed" }); });
  });
}

self.addEventListener("sync", function (event) {
  if (event.tag !== self.RuamsueOutbox.SYNC_TAG) { return; }
  var outbox = self.RuamsueOutbox;
  event.waitUntil(outbox.sendAll(null).then(function (changed) {
    return outbox.sendLinks().then(function (more) { return changed.concat(more); });
  }).then(function (changed) {
    return changed.length ? tellPages() : null;
  }));
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "forget-pages") {
    event.waitUntil(caches["delete"](PAGE_CACHE));
  }
});
