// gb2 web view: refreshes the page's live parts by polling, keeps filters in the URL,
// copies commands. No library; the page works without it (minus the live refresh).
(function () {
  "use strict";
  var seconds = parseFloat(document.body.getAttribute("data-live-seconds") || "0");
  var stale = document.getElementById("stale");
  var busy = false;
  var stopped = false;

  function setStale(on, text) {
    if (!stale) return;
    if (text) stale.textContent = text;
    stale.hidden = !on;
  }

  function refresh() {
    if (busy || stopped || document.hidden) return;
    busy = true;
    fetch(window.location.href, { headers: { "X-Gb2-Live": "1" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.status === 403) {
          stopped = true;
          setStale(true, "This page is no longer connected: open the address that gb2_web printed.");
          return null;
        }
        if (!response.ok) { setStale(true); return null; }
        return response.text();
      })
      .then(function (html) {
        if (html === null || html === undefined) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        doc.querySelectorAll("[data-live][id]").forEach(function (fresh) {
          var current = document.getElementById(fresh.id);
          if (current && current.innerHTML !== fresh.innerHTML) current.innerHTML = fresh.innerHTML;
        });
        setStale(false);
        bindCopy(document);
      })
      .catch(function () { setStale(true); })
      .then(function () { busy = false; });
  }

  if (seconds > 0) {
    window.setInterval(refresh, seconds * 1000);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) refresh(); });
  }

  // Filters: every change goes into the URL (so a reload or a shared link shows the same
  // view) and the live parts are fetched again for it; typing is debounced.
  document.querySelectorAll("form[data-filters]").forEach(function (form) {
    var timer = null;
    function apply() {
      var params = new URLSearchParams();
      new FormData(form).forEach(function (value, key) { if (value !== "") params.append(key, value); });
      var query = params.toString();
      var url = form.getAttribute("action") + (query ? "?" + query : "");
      window.history.replaceState(null, "", url);
      busy = false;
      refresh();
    }
    form.addEventListener("change", apply);
    form.addEventListener("input", function (event) {
      if (event.target.type !== "search" && event.target.type !== "number") return;
      window.clearTimeout(timer);
      timer = window.setTimeout(apply, 300);
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); apply(); });
  });

  function bindCopy(root) {
    root.querySelectorAll("button[data-copy]").forEach(function (button) {
      if (button.dataset.bound) return;
      button.dataset.bound = "1";
      button.addEventListener("click", function () {
        var text = button.getAttribute("data-copy");
        if (navigator.clipboard) {
          navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; });
        }
      });
    });
  }
  bindCopy(document);
})();
