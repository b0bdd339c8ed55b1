// Keeps the page live: every two seconds it fetches the page's content
// again (?partial=1) and puts it in place if it changed, keeping the
// keyboard focus where it was. No library, no request leaves the master.
// A master that is no longer the leader answers with a 307 to the one that
// is, which a fetch may not follow to another origin: the page is then
// loaded again, and the browser follows the redirect to the leader.
(function () {
  "use strict";
  var main = document.getElementById("main");
  var status = document.getElementById("live-status");
  var last = null;
  // The master's uptime: what it was when the page was served, plus the
  // time since on this browser's clock (so the clocks need not agree).
  var uptime = document.getElementById("uptime");
  var up0 = uptime ? Number(uptime.getAttribute("data-ms")) : 0;
  var loaded = Date.now();
  function duration(ms) { // as Go's time.Duration.String, rounded to seconds
    var s = Math.round(ms / 1000), h = Math.floor(s / 3600), m = Math.floor(s % 3600 / 60);
    s = s % 60;
    return h > 0 ? h + "h" + m + "m" + s + "s" : m > 0 ? m + "m" + s + "s" : s + "s";
  }
  function focusKey(el) {
    if (!el || !main.contains(el)) return null;
    return el.id ? "#" + el.id : el.getAttribute("href");
  }
  function refocus(key) {
    if (!key) return;
    var el = key.charAt(0) === "#" ? document.getElementById(key.slice(1)) : main.querySelector('[href="' + key.replace(/"/g, '\\"') + '"]');
    if (el) el.focus();
  }
  function refresh() {
    var url = new URL(window.location.href);
    url.searchParams.set("partial", "1");
    fetch(url, { cache: "no-store", redirect: "manual" }).then(function (r) {
      if (r.type === "opaqueredirect") {
        status.textContent = "following the leading master";
        window.location.reload();
        return null;
      }
      if (!r.ok) throw new Error(r.status + " " + r.statusText);
      return r.text();
    }).then(function (html) {
      if (html === null) return;
      status.textContent = "live · updated " + new Date().toLocaleTimeString();
      if (uptime) uptime.textContent = duration(up0 + Date.now() - loaded);
      if (html === last) return;
      last = html;
      var key = focusKey(document.activeElement);
      var scroll = window.scrollY;
      main.innerHTML = html;
      refocus(key);
      window.scrollTo(0, scroll);
    }).catch(function (e) {
      status.textContent = "not updating: " + e.message;
    });
  }
  setInterval(refresh, 2000);
})();
