/* Ruamsue on a weak signal, for a form authorised by its link rather than a login (a household's sheet, /h/<token>):
   the entry is written to the phone's outbox (offline.js) with its own Idempotency-Key, sent at once when there
   is a signal, else when the signal returns (the page's "online" event, the next page load, Background Sync).
   The form says what it sends: data-link-form, data-put-url (the API address with the link's token), data-page
   (the page to show afterwards), data-round; each quantity box data-offer and data-label; its texts data-t-*. */
(function (self) {
  "use strict";

  var outbox = self.RuamsueOutbox;
  if (!outbox || typeof document === "undefined") { return; }
  var form = document.querySelector("form[data-link-form][data-put-url]");
  var place = document.getElementById("link-offline");
  if (!form || !place) { return; }
  var box = outbox.box, url = form.getAttribute("data-put-url"), page = form.getAttribute("data-page");
  var status = document.getElementById("offline-status");
  var cachedAt = document.documentElement.getAttribute("data-cached-at");
  var shownHere = {}, SHOWN_FOR = 15000;
  var MONTHS = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."];
  var EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  function t(name, values) {
    var text = form.getAttribute("data-t-" + name) || (status && status.getAttribute("data-t-" + name)) || name;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function when(value) {
    var d = new Date(value);
    if (isNaN(d.getTime())) { return ""; }
    var p = {};
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: "Asia/Bangkok", year: "numeric", month: "numeric", day: "numeric",
                                         hour: "numeric", minute: "numeric", hourCycle: "h23" })
        .formatToParts(d).forEach(function (x) { p[x.type] = parseInt(x.value, 10); });
    } catch (e) { p = {}; }
    if (isNaN(p.year)) { p = { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes() }; }
    var clock = pad(p.hour % 24) + ":" + pad(p.minute);
    if ((document.documentElement.lang || "th") !== "th") { return pad(p.day) + " " + EN_MONTHS[p.month - 1] + " " + p.year + " " + clock; }
    return p.day + " " + MONTHS[p.month - 1] + " " + (p.year + 543) + " " + clock;
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function lineList(lines) {
    var ul = el("ul", "list");
    if (!lines || !lines.length) { ul.appendChild(el("li", "", t("empty"))); }
    (lines || []).forEach(function (ln) { ul.appendChild(el("li", "", t("link-line", { item: ln.label, q: ln.quantity }))); });
    return ul;
  }
  function notice(cls, text, extra) {
    var n = el("div", "flash " + cls);
    n.appendChild(el("p", "", text));
    (extra || []).forEach(function (x) { n.appendChild(x); });
    place.appendChild(n);
    return n;
  }
  function closeForm() {
    form.querySelectorAll("input:not([type=hidden]), button, fieldset").forEach(function (x) { x.disabled = true; });
  }

  /* What waits on this phone for this household, and what became of it. A sent item is told once, then forgotten;
     one refused (the round closed meanwhile, the link revoked) stays until the household has read it. */
  function render() {
    return box.all().then(function (items) {
      place.textContent = "";
      if (cachedAt) {
        var asOf = notice("offline", t("as-of", { time: when(cachedAt) }));
        asOf.id = "as-of";
        asOf.appendChild(el("small", "hint", t("as-of-hint")));
      }
      var told = [];
      items.filter(function (i) { return i.url === url; }).forEach(function (item) {
        if (item.state === "pending") {
          var n = notice("pending outbox", t("link-saved"), [lineList(item.lines),
                         el("small", "hint", t("saved-hint", { time: when(item.savedAt) }))]);
          n.setAttribute("data-outbox", item.key);
        } else if (item.state === "sent") {
          /* told on the page drawn after it was sent (and on that page reloaded within a few seconds), then forgotten */
          if (item.shownAt && !shownHere[item.key] && Date.now() - item.shownAt > SHOWN_FOR) {
            told.push(box.remove(item.key));
            return;
          }
          shownHere[item.key] = true;
          if (!item.shownAt) { item.shownAt = Date.now(); told.push(box.put(item)); }
          var ok = notice("ok", item.foreground ? t("link-sent") : t("link-sent-later", { time: when(item.savedAt) }),
                          item.foreground ? [] : [lineList(item.lines)]);
          ok.id = "link-sent";
        } else {
          var late = item.state === "late";
          var head = late ? t("link-late") : t("link-refused");
          var extra = [el("p", "", t("not-sent", { time: when(item.savedAt) })), lineList(item.lines)];
          if (!item.foreground) {
            var button = el("button", "secondary", t("ok"));
            button.type = "button";
            button.addEventListener("click", function () { box.remove(item.key).then(render); });
            extra.push(button);
          }
          var n2 = notice("error late", head, extra);
          n2.id = "link-not-sent";
          n2.setAttribute("role", "alert");
          n2.setAttribute("data-state", item.state);
          if (late) { closeForm(); }
          if (item.foreground) { told.push(box.remove(item.key)); }  /* the household is right here: told now */
        }
      });
      return Promise.all(told);
    });
  }

  function readForm() {
    var lines = [], bad = false;
    form.querySelectorAll(".link-error").forEach(function (e) { e.parentNode.removeChild(e); });
    form.querySelectorAll("input[data-offer]").forEach(function (input) {
      var F = window.RuamsueFields;
      var v = F ? F.readWhole(input.value) : (String(input.value).trim() === "" ? "" : parseInt(input.value, 10));
      if (v === "" || v === 0) { return; }
      if (isNaN(v) || v < 0 || v > 100000000) {
        bad = true;
        var p = el("p", "error link-error", t("invalid"));
        input.parentNode.appendChild(p);
        input.setAttribute("aria-invalid", "true");
        return;
      }
      lines.push({ offer_id: parseInt(input.getAttribute("data-offer"), 10), quantity: v,
                   label: input.getAttribute("data-label") });
    });
    return bad ? null : lines;
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (reg) { return reg.sync ? reg.sync.register(outbox.SYNC_TAG) : null; })["catch"](function () {});
  }

  function sendNow() {
    return outbox.sendLinks().then(function (changed) {
      var sent = changed.some(function (i) { return i.url === url && i.state === "sent"; });
      if (sent && !cachedAt) { window.location.replace(page); return null; }  /* the quantities as they stand now */
      if (sent) { window.location.reload(); return null; }
      return render();
    }, function () { return render(); });
  }

  var dirty = false;
  form.addEventListener("input", function (e) { if (e.isTrusted) { dirty = true; } });
  form.addEventListener("submit", function (e) {
    if (!self.indexedDB || !window.fetch) { return; }  /* the plain form still works with a signal */
    e.preventDefault();
    var lines = readForm();
    if (!lines) {
      if (navigator.onLine !== false) { HTMLFormElement.prototype.submit.call(form); }  /* the server explains */
      return;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = true; }
    document.querySelectorAll("main > .flash").forEach(function (f) { f.parentNode.removeChild(f); });
    var item = {
      key: outbox.newKey(), url: url, auth: "link", page: page, round: form.getAttribute("data-round"),
      state: "pending", savedAt: Date.now(), lines: lines, foreground: navigator.onLine !== false,
      body: JSON.stringify({ lines: lines.map(function (l) { return { offer_id: l.offer_id, quantity: l.quantity }; }) })
    };
    outbox.keep(item).then(function () {
      dirty = false;
      if (navigator.onLine === false) { return []; }
      return outbox.sendLinks().then(null, function () { return []; });
    }).then(function () { return box.get(item.key); }).then(function (mine) {
      if (button) { button.disabled = false; }
      if (mine && mine.state === "sent") { window.location.replace(page); return null; }
      if (mine && mine.state === "refused" && mine.result && mine.result.error && mine.result.error.code === "invalid") {
        return box.remove(item.key).then(function () { HTMLFormElement.prototype.submit.call(form); });
      }
      if (mine && mine.state === "pending") {
        mine.foreground = false;
        askForSync();
        return box.put(mine).then(render);
      }
      return render();
    }).then(function () {
      var shown = place.querySelector(".flash.pending, .flash.error");
      if (shown) { shown.scrollIntoView({ block: "start" }); }
    }, function () { HTMLFormElement.prototype.submit.call(form); });  /* no IndexedDB: the plain form */
  });

  function fillForm() {
    return box.all().then(function (items) {
      var waiting = items.filter(function (i) { return i.url === url && i.state === "pending"; });
      if (!waiting.length) { return; }
      var byOffer = {};
      waiting[waiting.length - 1].lines.forEach(function (ln) { byOffer[String(ln.offer_id)] = ln.quantity; });
      form.querySelectorAll("input[data-offer]").forEach(function (input) {
        var q = byOffer[input.getAttribute("data-offer")];
        input.value = q ? q : "";
      });
    });
  }

  function start() {
    if (!self.indexedDB) { return; }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.addEventListener("message", function (e) {
        if (e.data && e.data.type === "outbox-changed") { sendNow(); }
      });
    }
    fillForm().then(render).then(function () {
      if (navigator.onLine !== false && !cachedAt) { return sendNow(); }
      return null;
    })["catch"](function () {});
    window.addEventListener("online", function () {
      if (cachedAt && !dirty) { window.location.reload(); } else { sendNow(); }
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})(typeof self !== "undefined" ? self : this);
