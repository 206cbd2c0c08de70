/* Ruamsue on a weak signal: an outbox of orders kept on the phone (IndexedDB), each with its own
   Idempotency-Key, sent when the signal returns. Loaded by the pages and by the service worker
   (importScripts), which shares the outbox; what the pages draw is in offline_page.js. */
(function (self) {
  "use strict";

  var DB_NAME = "ruamsue", OUTBOX = "outbox", MINE = "mine", SYNC_TAG = "ruamsue-outbox";

  /* --- IndexedDB ------------------------------------------------------------------------------ */
  var opening = null;
  function openDb() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var req = self.indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore(OUTBOX, { keyPath: "key" });
          req.result.createObjectStore(MINE, { keyPath: "url" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { opening = null; reject(req.error); };
      });
    }
    return opening;
  }
  function run(store, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(store, mode), result;
        var req = work(tx.objectStore(store));
        if (req) { req.onsuccess = function () { result = req.result; }; }
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  var box = {
    all: function () { return run(OUTBOX, "readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.savedAt - b.savedAt; });
    }); },
    put: function (item) { return run(OUTBOX, "readwrite", function (s) { return s.put(item); }); },
    get: function (key) { return run(OUTBOX, "readonly", function (s) { return s.get(key); }); },
    remove: function (key) { return run(OUTBOX, "readwrite", function (s) { return s["delete"](key); }); },
    mine: function (url) { return run(MINE, "readonly", function (s) { return s.get(url); }); },
    setMine: function (rec) { return run(MINE, "readwrite", function (s) { return s.put(rec); }); }
  };

  /* Keep one unsent order per page: a newer one replaces it (the order is always the whole order). */
  function keep(item) {
    return box.all().then(function (items) {
      return Promise.all(items.filter(function (old) {
        return old.url === item.url && old.state === "pending" && old.key !== item.key;
      }).map(function (old) { return box.remove(old.key); }));
    }).then(function () { return box.put(item); });
  }

  function newKey() {
    if (self.crypto && self.crypto.randomUUID) { return self.crypto.randomUUID(); }
    var b = new Uint8Array(16);
    self.crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
  }

  /* --- sending ------------------------------------------------------------------------------------ */
  function freshToken() {
    return fetch("/offline/token", { credentials: "same-origin", cache: "no-store",
                                     headers: { "Accept": "application/json" } })
      .then(function (r) {
        if (r.status === 401) { return { login: true }; }
        if (!r.ok) { throw new Error("token " + r.status); }
        return r.json();
      });
  }

  function put(item, token) {
    var headers = { "Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": item.key };
    if (token) { headers["X-CSRFToken"] = token; }
    return fetch(item.url, {
      /* an item authorised by its link (a household's sheet) carries its credential in the URL: no cookie */
      method: "PUT", credentials: item.auth === "link" ? "omit" : "same-origin", cache: "no-store",
      headers: headers, body: item.body
    }).then(function (r) {
      return r.json().then(function (body) { return { status: r.status, body: body }; },
                           function () { return { status: r.status, body: null }; });
    });
  }

  /* What the server said about one item: the new state of the item, or null to keep trying later. */
  function outcome(res) {
    var code = res.body && res.body.error && res.body.error.code;
    if (res.status >= 200 && res.status < 300) { return "sent"; }
    if (res.status === 409 && (code === "deadline_passed" || code === "orders_closed")) { return "late"; }
    if (res.status === 401) { return "login"; }
    if (res.status === 422 || res.status === 403 || res.status === 404) { return "refused"; }
    return null;  /* 400 (token), 409 (key still in progress), 429, 5xx: the next attempt may succeed */
  }

  var sending = null;
  /* Send every unsent order of this user, oldest first; each with its own key, so a repeat (the
     first answer was lost on the way back) is answered from the first and written nowhere. */
  function sendAll(user) {
    if (sending) {  /* one run at a time; a call meanwhile runs again after it, for what came since */
      return sending.then(function () { return sendAll(user); }, function () { return sendAll(user); });
    }
    sending = box.all().then(function (items) {
      var waiting = items.filter(function (i) {
        return i.state === "pending" && i.auth !== "link" && (!user || String(i.user) === String(user));
      });
      if (!waiting.length) { return []; }
      return freshToken().then(function (tok) {
        var changed = [];
        if (tok.login) {
          return Promise.all(waiting.map(function (i) { i.login = true; return box.put(i); })).then(function () { return changed; });
        }
        var chain = Promise.resolve();
        waiting.forEach(function (item) {
          if (String(item.user) !== String(tok.user_id)) { return; }  /* someone else's, on a shared phone */
          chain = chain.then(function () {
            return put(item, tok.csrf_token).then(function (res) {
              var state = outcome(res);
              item.tries = (item.tries || 0) + 1;
              if (state === "login") { item.login = true; return box.put(item); }
              if (!state) { return box.put(item); }
              item.state = state;
              item.login = false;
              item.result = res.body;
              item.doneAt = Date.now();
              changed.push(item);
              var saves = [box.put(item)];
              if (state === "sent" && res.body && res.body.order) {
                saves.push(box.setMine({ url: item.url, order: res.body.order, at: Date.now() }));
              }
              return Promise.all(saves);
            });
          });
        });
        return chain.then(function () { return changed; });
      });
    }).then(function (changed) { sending = null; return changed; },
            function (err) { sending = null; throw err; });
    return sending;
  }

  /* Items authorised by their link (a household's sheet: no account, no session, no CSRF token): the URL is
     the credential, the Idempotency-Key makes a repeat harmless. Sent oldest first, one run at a time. */
  var sendingLinks = null;
  function sendLinks() {
    if (sendingLinks) {
      return sendingLinks.then(function () { return sendLinks(); }, function () { return sendLinks(); });
    }
    sendingLinks = box.all().then(function (items) {
      var changed = [], chain = Promise.resolve();
      items.filter(function (i) { return i.state === "pending" && i.auth === "link"; }).forEach(function (item) {
        chain = chain.then(function () {
          return put(item, null).then(function (res) {
            var state = outcome(res);
            item.tries = (item.tries || 0) + 1;
            if (!state || state === "login") { return box.put(item); }
            item.state = state;
            item.result = res.body;
            item.doneAt = Date.now();
            changed.push(item);
            return box.put(item);
          }, function () { return null; });  /* no signal: stays pending */
        });
      });
      return chain.then(function () { return changed; });
    }).then(function (changed) { sendingLinks = null; return changed; },
            function (err) { sendingLinks = null; throw err; });
    return sendingLinks;
  }

  self.RuamsueOutbox = { box: box, keep: keep, sendAll: sendAll, sendLinks: sendLinks, newKey: newKey,
                         SYNC_TAG: SYNC_TAG };
})(typeof self !== "undefined" ? self : this);
