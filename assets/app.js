// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.remove("no-js");
  root.classList.add("js");

  var KEY = "ledgersys-theme";
  function stored() {
    try { return localStorage.getItem(KEY); } catch (e) { return null; }
  }
  function apply(theme) {
    if (theme === "light" || theme === "dark") {
      root.setAttribute("data-theme", theme);
    } else {
      root.removeAttribute("data-theme");
    }
  }
  apply(stored());

  // A running price fill: follow its progress, then show the outcome.
  function followFill(box) {
    var bar = box.querySelector("progress");
    var text = box.querySelector(".fill-status");
    function poll() {
      fetch(box.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          if (!s.running) { window.location.reload(); return; }
          if (bar) { bar.max = Math.max(s.planned, 1); bar.value = s.done; }
          if (text) { text.textContent = "Filling: " + s.current + " (" + s.done + " of " + s.planned + " requests)"; }
          window.setTimeout(poll, 2000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }

  // A running wallet sync: addresses scanned and transactions found, then
  // the page again once it is done.
  function followSync(box) {
    var text = box.querySelector(".sync-status");
    function poll() {
      fetch(box.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (s) {
          if (!s) { return; }
          if (!s.running) { window.location.reload(); return; }
          if (text) {
            text.textContent = "Syncing (" + s.phase + "): " + s.scripts_scanned +
              " addresses scanned, " + s.transactions_found + " transactions found";
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }

  // A running exchange sync: entries read so far, then the page again
  // once it is done.
  function followExchange(box) {
    var text = box.querySelector(".sync-status");
    var id = Number(box.getAttribute("data-id"));
    function poll() {
      fetch(box.getAttribute("data-poll"), { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (list) {
          var found = (list || []).filter(function (c) { return c.id === id; })[0];
          if (!found) { return; }
          if (!found.sync.running) { window.location.reload(); return; }
          if (text) {
            text.textContent = "Reading the history: " + found.sync.read + " of " +
              found.sync.total + " entries";
          }
          window.setTimeout(poll, 1000);
        })
        .catch(function () { window.setTimeout(poll, 5000); });
    }
    window.setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var exchanges = document.querySelectorAll('.exchange-sync[data-running="true"]');
    for (var j = 0; j < exchanges.length; j++) { followExchange(exchanges[j]); }
    var fill = document.querySelector('.fill[data-running="true"]');
    if (fill) { followFill(fill); }
    var syncs = document.querySelectorAll('.wallet-sync[data-running="true"]');
    for (var i = 0; i < syncs.length; i++) { followSync(syncs[i]); }
    var toggle = document.querySelector(".theme-toggle");
    if (!toggle) { return; }
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var dark = root.getAttribute("data-theme") === "dark" ||
        (!root.hasAttribute("data-theme") &&
         window.matchMedia("(prefers-color-scheme: dark)").matches);
      var next = dark ? "light" : "dark";
      apply(next);
      try { localStorage.setItem(KEY, next); } catch (e) { /* private mode */ }
    });
  });
})();
