/* Ruamsue: the little JavaScript the pages use. No build step; everything works without it. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* The server's field rule (core/fields.py parse_thai_digits, parse_int with grouping), mirrored:
     Thai digits read as digits, spaces around dropped, "1,200" grouped by thousands. "" for a blank
     box, NaN for text that is not a whole number (never 0: what cannot be read is an error). */
  var THAI = "\u0e50\u0e51\u0e52\u0e53\u0e54\u0e55\u0e56\u0e57\u0e58\u0e59";
  function digits(text) {
    return String(text == null ? "" : text).replace(/[\u0e50-\u0e59]/g, function (c) {
      return String(THAI.indexOf(c));
    }).replace(/^\s+|\s+$/g, "");
  }
  function readWhole(text) {
    var v = digits(text);
    if (v === "") { return ""; }
    if (/^-?[0-9]{1,3}(,[0-9]{3})+$/.test(v)) { v = v.replace(/,/g, ""); }
    if (!/^-?[0-9]{1,15}$/.test(v)) { return NaN; }
    return parseInt(v, 10);
  }
  /* Money: the same digits, at most two decimals; "" blank, NaN unreadable, else the text in plain digits. */
  function readMoney(text) {
    var v = digits(text);
    if (v === "") { return ""; }
    if (/^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$/.test(v)) { v = v.replace(/,/g, ""); }
    if (!/^-?[0-9]{1,10}(\.[0-9]{1,2})?$/.test(v)) { return NaN; }
    return v;
  }
  window.RuamsueFields = { digits: digits, readWhole: readWhole, readMoney: readMoney };
  function grouped(text) {
    var parts = String(text).split(".");
    return parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (parts.length > 1 ? "." + parts[1] : "");
  }

  /* Every numeric box shows back what was understood when that is not plain digits ("๓๐" -> 30),
     and says so when it cannot be read, before the form is sent. */
  function understood() {
    var say = document.body.getAttribute("data-t-understood"), bad = document.body.getAttribute("data-t-unreadable");
    if (!say) { return; }
    document.querySelectorAll("input[inputmode=numeric], input[inputmode=decimal]").forEach(function (input) {
      var hint = document.createElement("small");
      hint.className = "hint understood";
      hint.setAttribute("data-understood-for", input.id || "");
      hint.setAttribute("aria-live", "polite");
      input.insertAdjacentElement("afterend", hint);
      function show() {
        var money = input.getAttribute("inputmode") === "decimal";
        var value = money ? readMoney(input.value) : readWhole(input.value);
        var plain = /^\s*-?[0-9]*(\.[0-9]*)?\s*$/.test(input.value);
        if (value === "" || (plain && value === value)) { hint.textContent = ""; return; }
        /* a box already refused has its one message under it (the server's or the form's check): no second */
        if (value !== value && input.getAttribute("aria-invalid") === "true") { hint.textContent = ""; return; }
        hint.textContent = value !== value ? bad : say.split("{n}").join(grouped(value));
      }
      input.addEventListener("input", show);
      show();
    });
  }

  /* Deadlines counting down: <span data-deadline="ISO" data-days="วัน" data-closed="ปิดรับแล้ว"> */
  function countdowns() {
    var nodes = document.querySelectorAll("[data-deadline]");
    if (!nodes.length) { return; }
    function tick() {
      var now = Date.now();
      nodes.forEach(function (el) {
        var left = Math.floor((Date.parse(el.getAttribute("data-deadline")) - now) / 1000);
        if (left <= 0) { el.textContent = el.getAttribute("data-closed"); el.classList.add("closed"); return; }
        var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600),
            m = Math.floor(left % 3600 / 60), s = left % 60;
        var days = String(d).replace(/\B(?=(\d{3})+(?!\d))/g, ",");  /* 1,200 days: separators like every number */
        el.textContent = (d ? days + " " + el.getAttribute("data-days") + " " : "") + pad(h) + ":" + pad(m) + ":" + pad(s);
      });
    }
    tick();
    setInterval(tick, 1000);
  }

  /* Money in satang, never floats: "1250.50" -> 125050 */
  function satang(text) {
    var parts = String(text).split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0], 10) * 100 + parseInt(frac, 10);
  }
  function baht(n) {
    var neg = n < 0; n = Math.abs(n);
    var whole = Math.floor(n / 100).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return (neg ? "-" : "") + whole + "." + pad(n % 100);
  }
  /* tiers "0:90.00,100:85.00" -> price in satang reached by quantity q */
  function tierPrice(tiers, q) {
    var price = null;
    tiers.split(",").forEach(function (t) {
      var p = t.split(":");
      if (q >= parseInt(p[0], 10)) { price = satang(p[1]); }
    });
    return price;
  }

  /* One offer if the round closed now, by the server's rule (pricing/estimate.py over pricing/offer.py):
     the group's line and the other groups' lines taken together, pack rounding (a pack is never filled by
     tolerance alone), the minimum (not reached: nothing ordered, nothing to pay), the tier the ordered
     quantity reaches, and the largest-remainder share of the ordered quantity (ties to the group's line).
     o = {pack, min, tiers: "0:90.00,100:85.00", othersQ, othersT}; returns {ordered, allocated, price, value}
     with money in satang. tests/browser/test_estimate_agrees.py runs it against pricing/ on the same inputs. */
  function shares(total, weights) {
    var sum = weights[0] + weights[1];
    if (!sum) { return [0, 0]; }
    var out = [Math.floor(total * weights[0] / sum), Math.floor(total * weights[1] / sum)];
    var rem = [total * weights[0] % sum, total * weights[1] % sum];
    var left = total - out[0] - out[1];
    var order = rem[1] > rem[0] ? [1, 0] : [0, 1];  /* ties: the group's line (placed first, lower id) */
    for (var i = 0; i < left; i++) { out[order[i]] += 1; }
    return out;
  }
  function estimateLine(o, q, t) {
    var none = { ordered: false, allocated: 0, price: null, value: 0 };
    if (!(q > 0)) { return none; }
    var oq = o.othersQ > 0 ? o.othersQ : 0, ot = oq > 0 ? (o.othersT || 0) : 0;
    var total = q + oq, tol = t + ot, pack = o.pack || 1;
    var packs = Math.floor(total / pack), r = total % pack;
    if (r > 0 && tol >= pack - r) { packs += 1; }
    var ordered = packs * pack;
    if (ordered === 0 || ordered < (o.min || 0)) { return none; }
    var price = tierPrice(o.tiers, ordered);
    var mine = ordered <= total ? shares(ordered, [q, oq])[0] : q + shares(ordered - total, [t, ot])[0];
    return { ordered: true, allocated: mine, price: price, value: mine * price };
  }
  window.RuamsueEstimate = { line: estimateLine };

  /* The order form: live line amounts and total at the tier the network would reach. */
  function orderForm() {
    var form = document.querySelector("form[data-order-form]");
    if (!form) { return; }
    var total = form.querySelector("[data-order-total]");
    function update() {
      var sum = 0;
      form.querySelectorAll("[data-offer]").forEach(function (row) {
        var inputs = row.querySelectorAll("input");
        var qInput = row.querySelector("input[data-qty]"), tInput = inputs[inputs.length - 1];
        var q = readWhole(qInput.value), t = tInput === qInput ? 0 : readWhole(tInput.value);
        if (q === "" || isNaN(q) || q < 0) { q = 0; }
        if (t === "" || isNaN(t) || t < 0) { t = 0; }
        var line = estimateLine({ pack: parseInt(row.getAttribute("data-pack"), 10) || 1,
                                  min: parseInt(row.getAttribute("data-min"), 10) || 0,
                                  tiers: row.getAttribute("data-tiers"),
                                  othersQ: parseInt(row.getAttribute("data-others"), 10) || 0,
                                  othersT: parseInt(row.getAttribute("data-others-tol"), 10) || 0 }, q, t);
        sum += line.value;
        var out = row.querySelector("[data-line-amount]");
        if (out) { out.textContent = baht(line.value); }
        var below = row.querySelector("[data-below-minimum]");
        if (below) { below.hidden = !(q > 0 && !line.ordered); }
      });
      if (total) { total.textContent = baht(sum); }
    }
    form.addEventListener("input", update);
    update();
  }

  /* Long jobs: poll a small session-authenticated JSON endpoint until done, then reload. */
  function jobs() {
    document.querySelectorAll("[data-job-url]").forEach(function (box) {
      var stateEl = box.querySelector("[data-job-state]");
      var bar = box.querySelector("[data-job-bar]");
      var url = box.getAttribute("data-job-url");
      function poll() {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.json(); })
          .then(function (job) {
            stateEl.textContent = box.getAttribute("data-label-" + job.state) || job.state;
            box.setAttribute("data-state", job.state);
            if (bar) { bar.value = job.state === "running" ? 50 : (job.state === "pending" ? 10 : 100); }
            if (job.state === "succeeded" || job.state === "failed") {
              if (box.getAttribute("data-reload") && box.getAttribute("data-initial") !== job.state) {
                window.location.reload();
              }
              return;
            }
            setTimeout(poll, 1000);
          })
          .catch(function () { setTimeout(poll, 3000); });
      }
      var initial = box.getAttribute("data-state");
      if (initial === "succeeded" || initial === "failed") { return; }
      poll();
    });
  }

  /* Copy buttons: <button data-copy="id of the input" data-copied="copied">; says so when done. */
  function copyButtons() {
    document.querySelectorAll("[data-copy]").forEach(function (b) {
      b.addEventListener("click", function () {
        var input = document.getElementById(b.getAttribute("data-copy"));
        if (!input) { return; }
        var status = document.querySelector("[data-copy-status]");
        function done() {
          b.textContent = b.getAttribute("data-copied");
          if (status) { status.textContent = b.getAttribute("data-copied"); }
        }
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(input.value).then(done, function () {
            input.select(); if (document.execCommand("copy")) { done(); }
          });
        } else {
          input.select(); if (document.execCommand("copy")) { done(); }
        }
      });
    });
  }

  /* Print buttons (no inline handlers under the CSP). */
  function printButtons() {
    document.querySelectorAll("[data-print]").forEach(function (b) {
      b.addEventListener("click", function () { window.print(); });
    });
  }

  /* Ask before anything destructive: <form data-confirm="question" data-confirm-details="what happens"
     data-confirm-yes="button text" data-confirm-no="back">. A <dialog> asks; "yes" posts confirmed=yes.
     Without JavaScript (or <dialog>) the server answers the post with the same question on a page. */
  function confirms() {
    document.querySelectorAll("form[data-confirm]").forEach(function (f) {
      f.addEventListener("submit", function (e) {
        if (f.querySelector("input[name=confirmed]")) { return; }
        var dialog = document.createElement("dialog");
        if (typeof dialog.showModal !== "function") { return; }  /* the server asks instead */
        e.preventDefault();
        dialog.className = "confirm";
        dialog.setAttribute("aria-labelledby", "confirm-dialog-title");
        var h = document.createElement("h2");
        h.id = "confirm-dialog-title";
        h.textContent = f.getAttribute("data-confirm");
        dialog.appendChild(h);
        if (f.getAttribute("data-confirm-details")) {
          var p = document.createElement("p");
          p.textContent = f.getAttribute("data-confirm-details");
          dialog.appendChild(p);
        }
        var row = document.createElement("div");
        row.className = "actions";
        var yes = document.createElement("button");
        yes.type = "button"; yes.className = "danger"; yes.id = "dialog-yes";
        yes.textContent = f.getAttribute("data-confirm-yes") || h.textContent;
        var no = document.createElement("button");
        no.type = "button"; no.className = "secondary"; no.id = "dialog-no";
        no.textContent = f.getAttribute("data-confirm-no") || "\u2715";
        row.appendChild(yes); row.appendChild(no);
        dialog.appendChild(row);
        document.body.appendChild(dialog);
        no.addEventListener("click", function () { dialog.close(); });
        dialog.addEventListener("close", function () { dialog.remove(); });
        yes.addEventListener("click", function () {
          var flag = document.createElement("input");
          flag.type = "hidden"; flag.name = "confirmed"; flag.value = "yes";
          f.appendChild(flag);
          dialog.close();
          f.submit();
        });
        dialog.showModal();
        no.focus();
      });
    });
  }

  /* A refused form: the summary at the top takes the focus (autofocus does it without JS in most
     browsers); its links move to the field in error. */
  function errorSummary() {
    var box = document.getElementById("error-summary");
    if (!box) { return; }
    if (document.activeElement !== box) { box.focus(); }
    box.scrollIntoView({ block: "start" });
    box.querySelectorAll("a[href^='#']").forEach(function (a) {
      a.addEventListener("click", function (e) {
        var field = document.getElementById(a.getAttribute("href").slice(1));
        if (field) { e.preventDefault(); field.focus(); field.scrollIntoView({ block: "center" }); }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    errorSummary(); understood();
    countdowns(); orderForm(); jobs(); printButtons(); copyButtons(); confirms();
  });
})();
