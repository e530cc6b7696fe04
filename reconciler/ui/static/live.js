// Live status: polls /ui/live.json while the page is open. Shows a banner while a
// reconcile runs, and reloads the page when one finishes so what it shows is fresh.
(function () {
  "use strict";
  if (document.body.dataset.live !== "1") { return; }
  var banner = document.getElementById("live");
  var seenLast = null;
  var wasRunning = null;
  var reloadRun = document.body.dataset.reloadWhileRunning || null;
  var seenSteps = null;

  function show(state) {
    var running = state.running;
    if (running) {
      banner.hidden = false;
      banner.textContent = "Reconcile run " + running.id + " in progress (" + running.trigger +
        ", " + running.steps + " steps so far)";
      banner.dataset.run = String(running.id);
    } else {
      banner.hidden = true;
    }
    var last = state.last ? state.last.id : null;
    var finished = seenLast !== null && last !== seenLast;
    var stepsMoved = reloadRun && running && String(running.id) === reloadRun &&
      seenSteps !== null && running.steps !== seenSteps;
    if (finished || stepsMoved || (wasRunning && !running)) {
      window.location.reload();
      return;
    }
    seenLast = last;
    wasRunning = Boolean(running);
    seenSteps = running ? running.steps : null;
  }

  function poll() {
    fetch("/ui/live.json", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (state) { if (state) { show(state); } })
      .catch(function () { /* the daemon may be restarting: try again */ })
      .finally(function () { window.setTimeout(poll, 1500); });
  }
  poll();
})();
