/* Ruamsue on a weak signal, the pages' part: the "as of" line on pages opened from the phone's copy, what
   waits in the outbox and what became of it, and the order form sent through the outbox (offline.js). */
(function (self) {
  "use strict";

  var outbox = self.RuamsueOutbox;
  if (!outbox || typeof document === "undefined") { return; }
  var box = outbox.box, keep = outbox.keep, sendAll = outbox.sendAll, newKey = outbox.newKey,
      SYNC_TAG = outbox.SYNC_TAG;

  /* --- the page ----------------------------------------------------------------------------------- */
  var status = document.getElementById("offline-status");
  if (!status) { return; }
  var user = status.getAttribute("data-user");
  var cachedAt = document.documentElement.getAttribute("data-cached-at");
  var shownHere = {};  /* the keys of the "sent" notices this page load has shown */
  var SHOWN_FOR = 15000;
  var EN_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  var MONTHS = ["ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.", "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.", "พ.ย.", "ธ.ค."];

  function t(name, values) {
    var text = status.getAttribute("data-t-" + name) || name;
    Object.keys(values || {}).forEach(function (k) { text = text.split("{" + k + "}").join(values[k]); });
    return text;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* "2 ธ.ค. 2569 13:05": Buddhist-era year in Thai, like the server's thai_date */
  var TZ = status.getAttribute("data-tz") || undefined;
  /* Date parts in the network's time zone (as the server writes its times), else the phone's own. */
  function parts(d) {
    try {
      var out = {};
      new Intl.DateTimeFormat("en-US", { timeZone: TZ, year: "numeric", month: "numeric", day: "numeric",
                                         hour: "numeric", minute: "numeric", hourCycle: "h23" })
        .formatToParts(d).forEach(function (p) { out[p.type] = parseInt(p.value, 10); });
      if (!isNaN(out.year)) { return out; }
    } catch (e) { /* an old phone without time zones: its own clock */ }
    return { year: d.getFullYear(), month: d.getMonth() + 1, day: d.getDate(), hour: d.getHours(), minute: d.getMinutes() };
  }
  function when(value) {
    var d = new Date(value);
    if (isNaN(d.getTime())) { return ""; }
    var p = parts(d), clock = pad(p.hour % 24) + ":" + pad(p.minute);
    if ((document.documentElement.lang || "th") !== "th") {
      return pad(p.day) + " " + EN_MONTHS[p.month - 1] + " " + p.year + " " + clock;
    }
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
    (lines || []).forEach(function (ln) {
      ul.appendChild(el("li", "", t("line", { item: ln.label || ("#" + ln.offer_id), q: ln.quantity, t: ln.tolerance })));
    });
    return ul;
  }

  /* The order form (only on the group's order page) */
  var form = document.querySelector("form[data-order-form][data-put-url]");
  var labels = {};
  if (form) {
    form.querySelectorAll("[data-offer]").forEach(function (row) {
      labels[row.getAttribute("data-offer")] = row.getAttribute("data-label");
    });
  }
  function labelled(lines) {
    return (lines || []).map(function (ln) {
      return { offer_id: ln.offer_id, quantity: ln.quantity, tolerance: ln.tolerance,
               label: ln.label || labels[String(ln.offer_id)] };
    });
  }

  function notice(cls, text, lines, extra) {
    var p = el("div", "flash " + cls);
    p.appendChild(el("p", "", text));
    if (lines) { p.appendChild(lines); }
    (extra || []).forEach(function (x) { p.appendChild(x); });
    status.appendChild(p);
    return p;
  }

  function render() {
    return box.all().then(function (items) {
      status.textContent = "";
      if (cachedAt) {
        var asOf = notice("offline", t("as-of", { time: when(cachedAt) }));
        asOf.id = "as-of";
        asOf.appendChild(el("small", "hint", t("as-of-hint")));
      }
      var shown = [], waiting = false;
      items.filter(function (i) { return String(i.user) === String(user); }).forEach(function (item) {
        if (item.state === "pending") {
          waiting = true;
          var n = notice("pending outbox", t("saved"), lineList(item.lines));
          n.setAttribute("data-outbox", item.key);
          n.appendChild(el("small", "hint", t("saved-hint", { time: when(item.savedAt) })));
          if (item.login) { n.appendChild(el("p", "error", t("login"))); }
        } else if (item.state === "sent") {
          /* told once, on the first page drawn after it was sent (redrawn on that page as often as need be,
             and on the same page reloaded within a few seconds); never on another page, never beside a
             refused form */
          var again = item.shownAt && !shownHere[item.key];
          if (again && (window.location.pathname !== item.url || Date.now() - item.shownAt > SHOWN_FOR)) {
            shown.push(box.remove(item.key));
            return;
          }
          if (document.getElementById("error-summary")) {
            if (item.foreground) { shown.push(box.remove(item.key)); }
            return;
          }
          shownHere[item.key] = true;
          var text = item.foreground ? t("sent") : t("sent-later", { round: item.round, time: when(item.savedAt) });
          var extra = [];
          var prev = item.result && item.result.previous;
          if (prev && prev.updated_at && prev.updated_at !== item.base &&
              Date.parse(prev.updated_at) !== Date.parse(item.base)) {  /* another phone saved in between */
            extra.push(el("p", "hint", t("replaced", { time: when(prev.updated_at) })));
          }
          notice("ok", text, item.foreground ? null : lineList(item.lines), extra);
          if (!item.shownAt) { item.shownAt = Date.now(); shown.push(box.put(item)); }
        } else if (item.state === "late" && item.foreground) {
          /* refused while the leader waited: the round was closed while this page was open. Say which way,
             stop the countdown and the form; nothing is kept on the phone (the leader is right here). */
          var reason = item.result && item.result.error && item.result.error.reason;
          var told = notice("error late", t(reason === "deadline" ? "deadline-meanwhile" : "closed-meanwhile",
                                           { round: item.round }));
          told.setAttribute("role", "alert");
          told.id = "closed-meanwhile";
          roundClosed();
          shown.push(box.remove(item.key));
        } else {  /* late or refused: stays until the leader has phoned it in */
          var head = item.state === "late" ? t("late", { round: item.round }) : t("refused", { round: item.round });
          var button = el("button", "secondary", t("dismiss"));
          button.type = "button";
          button.addEventListener("click", function () {
            if (window.confirm(t("dismiss-confirm"))) { box.remove(item.key).then(render); }
          });
          var n2 = notice("error late", head, null,
                          [el("p", "", t("not-sent", { time: when(item.savedAt) })), lineList(item.lines), button]);
          n2.setAttribute("data-outbox", item.key);
          n2.setAttribute("data-state", item.state);
        }
      });
      if (waiting) { askForSync(); }  /* Background Sync sends it even if this page is closed */
      return Promise.all(shown).then(function () { return items; });
    });
  }

  /* What the phone just said about the form (kept, refused, closed) is drawn at the top: bring it into view. */
  function inView(items) {
    var told = status.querySelector(".flash.pending, .flash.error");
    if (told) { told.scrollIntoView({ block: "start" }); }
    return items;
  }

  /* The round closed under this page: the countdown says so and the form takes no more. */
  function roundClosed() {
    document.querySelectorAll("[data-deadline]").forEach(function (d) {
      d.setAttribute("data-deadline", "1970-01-01T00:00:00Z");
      d.textContent = d.getAttribute("data-closed");
      d.classList.add("closed");
    });
    if (form) {
      form.querySelectorAll("input:not([type=hidden]), button").forEach(function (x) { x.disabled = true; });
    }
  }

  /* Two phones of one group: the later write wins. Tell the phone whose write was replaced. */
  function otherPhone() {
    if (!form || cachedAt) { return Promise.resolve(); }
    var url = form.getAttribute("data-put-url"), now = form.getAttribute("data-updated-at");
    return box.mine(url).then(function (rec) {
      if (!rec || !rec.order || !now || rec.order.updated_at === now) { return; }
      if (Date.parse(now) <= Date.parse(rec.order.updated_at)) { return; }
      var standing = [];
      form.querySelectorAll("[data-offer]").forEach(function (row) {
        var q = parseInt(row.querySelector("input[data-qty]").value, 10) || 0;
        var tol = row.querySelector("input:not([data-qty])");
        if (q > 0) { standing.push({ offer_id: row.getAttribute("data-offer"), quantity: q,
                                     tolerance: parseInt(tol && tol.value, 10) || 0 }); }
      });
      var ok = el("button", "secondary", t("ok"));
      ok.type = "button";
      var n = notice("error other-phone", t("other-phone", { time: when(now) }), lineList(labelled(standing)),
                     [el("p", "", t("yours-was", { time: when(rec.order.updated_at) })),
                      lineList(labelled(rec.order.lines)), ok]);
      n.id = "other-phone";
      n.setAttribute("role", "alert");
      status.parentNode.insertBefore(n, status.nextSibling);  /* outside: render() redraws the status */
      /* "saved" said earlier by this phone no longer holds */
      status.querySelectorAll(".flash.ok").forEach(function (f) { f.parentNode.removeChild(f); });
      var forget = box.all().then(function (items) {
        return Promise.all(items.filter(function (i) { return i.url === url && i.state === "sent"; })
          .map(function (i) { return box.remove(i.key); }));
      });
      ok.addEventListener("click", function () { n.parentNode.removeChild(n); });
      /* told once: from now on this phone's reference is the order that stands */
      return forget.then(function () {
        return box.setMine({ url: url, order: { updated_at: now, lines: standing }, at: Date.now() });
      });
    });
  }

  function syncNow() {
    if (!user) { return Promise.resolve(); }
    return sendAll(user).then(function (changed) {
      if (!changed.length) { return render(); }
      var here = form && changed.some(function (i) { return i.url === form.getAttribute("data-put-url"); });
      if (here && changed.some(function (i) { return i.state === "sent"; })) {
        window.location.replace(form.getAttribute("data-put-url"));  /* show the order as it stands now */
        return null;
      }
      return render();
    }, function () { return render(); });
  }

  function askForSync() {
    if (!("serviceWorker" in navigator)) { return; }
    navigator.serviceWorker.ready.then(function (reg) {
      if (reg.sync) { return reg.sync.register(SYNC_TAG); }
      return null;
    })["catch"](function () {});
  }

  var problems = [];
  function readForm() {
    var lines = [], bad = false;
    problems = [];
    /* this check replaces what an earlier check (or the server's page) said: one message per field */
    form.querySelectorAll("p.error").forEach(function (e) { e.parentNode.removeChild(e); });
    form.querySelectorAll("[aria-invalid]").forEach(function (e) { e.removeAttribute("aria-invalid"); });
    document.querySelectorAll(".offline-summary").forEach(function (e) { e.parentNode.removeChild(e); });
    form.querySelectorAll("[data-offer]").forEach(function (row) {
      var inputs = row.querySelectorAll("input");
      var qIn = row.querySelector("input[data-qty]"), tIn = inputs[inputs.length - 1];
      function num(input) {
        /* the page's one reading rule (app.js, the server's mirror); a box the browser could not read
           (badInput) or text that is not a whole number is an error, never "nothing" */
        if (input.validity && input.validity.badInput) { return null; }
        var F = window.RuamsueFields;
        var v = F ? F.readWhole(input.value) : (/^\s*[0-9]{1,9}\s*$/.test(input.value) ? parseInt(input.value, 10) : (String(input.value).trim() === "" ? "" : NaN));
        if (v === "") { return 0; }
        if (isNaN(v) || v < 0) { return null; }
        return v;
      }
      var q = num(qIn), tol = tIn === qIn ? 0 : num(tIn);
      function fail(input, text) {
        bad = true;
        var p = el("p", "error offline-error", text);
        input.parentNode.appendChild(p);
        input.setAttribute("aria-invalid", "true");
        /* its one message is this one: the "cannot read" hint under the box says no second */
        var hint = input.id && form.querySelector("[data-understood-for='" + input.id + "']");
        if (hint) { hint.textContent = ""; }
        var label = input.id && form.querySelector("label[for='" + input.id + "']");
        problems.push({ input: input, text: (row.getAttribute("data-name") || row.getAttribute("data-label") || "") +
                        (label ? ": " + label.textContent : "") + ": " + text });
      }
      /* every wrong box of the row is listed, not only the first */
      if (q === null) { fail(qIn, t("invalid")); }
      if (tol === null) { fail(tIn, t("invalid")); }
      if (q === null || tol === null) { return; }
      if (q === 0 && tol > 0) { fail(tIn, t("qty-first")); return; }
      if (q > 0) {
        lines.push({ offer_id: parseInt(row.getAttribute("data-offer"), 10), quantity: q, tolerance: tol,
                     label: row.getAttribute("data-label") });
      }
    });
    if (!bad && !lines.length && had().length) {
      /* a blank form never withdraws the order (the server refuses it too): say so, send nothing */
      bad = true;
      var first = form.querySelector("input[data-qty]");
      problems.push({ input: first, text: t("blank") });
    }
    return bad ? null : lines;
  }

  /* The lines the group had when the page was drawn: [{offer_id, label, quantity}] */
  function had() {
    var out = [];
    form.querySelectorAll("[data-offer]").forEach(function (row) {
      var q = parseInt(row.getAttribute("data-had") || "0", 10);
      if (q > 0) { out.push({ offer_id: parseInt(row.getAttribute("data-offer"), 10), quantity: q,
                              name: row.getAttribute("data-name"), unit: row.getAttribute("data-unit") }); }
    });
    return out;
  }

  /* A save that takes out lines the group had asks first, listing what goes. */
  function askRemoval(lines, proceed) {
    var keep = {};
    lines.forEach(function (l) { keep[String(l.offer_id)] = true; });
    var gone = had().filter(function (h) { return !keep[String(h.offer_id)]; });
    if (!gone.length) { proceed(); return; }
    var dialog = el("dialog", "confirm");
    if (typeof dialog.showModal !== "function") {
      if (window.confirm(t("remove-question", { n: String(gone.length) }))) { proceed(); }
      return;
    }
    dialog.id = "remove-dialog";
    dialog.setAttribute("aria-labelledby", "remove-dialog-title");
    var h = el("h2", "", t("remove-question", { n: String(gone.length) }));
    h.id = "remove-dialog-title";
    dialog.appendChild(h);
    dialog.appendChild(el("p", "", t("remove-intro")));
    var ul = el("ul", "list");
    ul.id = "removed-lines";
    gone.forEach(function (g) {
      ul.appendChild(el("li", "", t("remove-line", { item: g.name, n: String(g.quantity).replace(/\B(?=(\d{3})+(?!\d))/g, ","),
                                                     unit: g.unit || "" })));
    });
    dialog.appendChild(ul);
    var row = el("div", "actions");
    var yes = el("button", "danger", t("remove-yes"));
    yes.type = "button"; yes.id = "dialog-yes";
    var no = el("button", "secondary", t("remove-no"));
    no.type = "button"; no.id = "dialog-no";
    row.appendChild(yes); row.appendChild(no);
    dialog.appendChild(row);
    document.body.appendChild(dialog);
    no.addEventListener("click", function () { dialog.close(); });
    dialog.addEventListener("close", function () { dialog.remove(); });
    yes.addEventListener("click", function () { dialog.close(); proceed(); });
    dialog.showModal();
    no.focus();
  }

  /* The summary of a refused form, as the server draws it (base.html): at the top, with the focus. */
  function errorSummary() {
    var old = document.getElementById("error-summary");
    if (old) { old.parentNode.removeChild(old); }
    var summary = el("div", "error box summary offline-summary");
    summary.id = "error-summary";
    summary.setAttribute("role", "alert");
    summary.setAttribute("tabindex", "-1");
    summary.appendChild(el("h2", "", t("summary", { n: String(problems.length) })));
    var ul = el("ul");
    problems.forEach(function (p) {
      var li = el("li"), a = el("a", "", p.text);
      a.href = "#" + p.input.id;
      a.addEventListener("click", function (e) { e.preventDefault(); p.input.focus(); });
      li.appendChild(a);
      ul.appendChild(li);
    });
    summary.appendChild(ul);
    status.parentNode.insertBefore(summary, status.nextSibling);
    summary.focus();
    summary.scrollIntoView({ block: "start" });
  }

  function fillForm(item) {
    var byOffer = {};
    item.lines.forEach(function (ln) { byOffer[String(ln.offer_id)] = ln; });
    form.querySelectorAll("[data-offer]").forEach(function (row) {
      var ln = byOffer[row.getAttribute("data-offer")];
      var inputs = row.querySelectorAll("input");
      inputs[0].value = ln ? ln.quantity : "";
      if (inputs.length > 1) { inputs[inputs.length - 1].value = ln && ln.tolerance ? ln.tolerance : ""; }
    });
    form.dispatchEvent(new Event("input"));
  }

  var dirty = false;
  function orderForm() {
    if (!form || !self.indexedDB || !window.fetch) { return Promise.resolve(); }
    var url = form.getAttribute("data-put-url");
    form.addEventListener("input", function (e) { if (e.isTrusted) { dirty = true; } });
    form.addEventListener("submit", function (e) {
      var lines = readForm();
      e.preventDefault();
      if (!lines) {
        /* With a signal the server's own page explains it (a summary at the top, one message per field);
           without one, the same summary is drawn here. */
        if (navigator.onLine !== false) { HTMLFormElement.prototype.submit.call(form); } else { errorSummary(); }
        return;
      }
      askRemoval(lines, function () { send(lines); });
    });
    function send(lines) {
      document.querySelectorAll("main > .flash, #offline-status .flash.ok").forEach(function (f) { f.parentNode.removeChild(f); });
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      var item = {
        key: newKey(), url: url, user: user, round: form.getAttribute("data-round"), state: "pending",
        base: form.getAttribute("data-updated-at") || null, savedAt: Date.now(), lines: lines,
        foreground: navigator.onLine !== false,  /* sent while the leader waits, not later */
        body: JSON.stringify({ lines: lines.map(function (l) {
          return { offer_id: l.offer_id, quantity: l.quantity, tolerance: l.tolerance };
        }) })
      };
      keep(item).then(function () {
        dirty = false;
        if (navigator.onLine === false) { return []; }
        status.appendChild(el("p", "hint sending", t("sending")));
        return sendAll(user).then(null, function () { return []; });
      }).then(function () { return box.get(item.key); }).then(function (mine) {
        if (button) { button.disabled = false; }
        if (mine && mine.state === "sent") { window.location.replace(url); return null; }
        if (mine && mine.state === "refused" && mine.result && mine.result.error &&
            mine.result.error.code === "invalid") {
          /* the server's own page explains what is wrong, field by field */
          return box.remove(item.key).then(submitAsked);
        }
        if (mine && mine.state === "pending") {
          mine.foreground = false;
          askForSync();
          return box.put(mine).then(render).then(inView);
        }
        return render().then(inView);
      }, function () {
        /* no IndexedDB (private mode, full disk): the plain form still works (the server asks again
           before removing lines: confirmed=yes says it was asked here) */
        submitAsked();
      });
    }
    /* The plain form, after this page asked about the lines it removes (the server need not ask again). */
    function submitAsked() {
      var flag = el("input");
      flag.type = "hidden"; flag.name = "confirmed"; flag.value = "yes";
      form.appendChild(flag);
      HTMLFormElement.prototype.submit.call(form);
    }
    return box.all().then(function (items) {
      var waiting = items.filter(function (i) { return i.url === url && i.state === "pending" && String(i.user) === String(user); });
      if (waiting.length && form.hasAttribute("data-open")) { fillForm(waiting[waiting.length - 1]); }
    });
  }

  function start() {
    if ("serviceWorker" in navigator && window.isSecureContext) {
      navigator.serviceWorker.register("/sw.js")["catch"](function () {});
      navigator.serviceWorker.addEventListener("message", function (e) {
        if (e.data && e.data.type === "outbox-changed") { syncNow(); }
      });
    }
    if (!self.indexedDB) { return; }
    if (!user) {
      /* logged out: the copies of pages kept for the last person go */
      /* (not on a page reached by its own link, such as a household's sheet: offline_link.js, no login) */
      if (!cachedAt && self.caches && !document.getElementById("link-offline")) {
        self.caches["delete"]("ruamsue-pages-v1")["catch"](function () {});
      }
      return;
    }
    orderForm().then(render).then(otherPhone).then(function () {
      if (navigator.onLine !== false && !cachedAt) { return syncNow(); }
      return null;
    })["catch"](function () {});
    window.addEventListener("online", function () {
      /* the signal is back: a page shown from the phone's copy is fetched again, unless being edited */
      if (cachedAt && !dirty) { window.location.reload(); } else { syncNow(); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})(typeof self !== "undefined" ? self : this);
