// Progressive enhancement of the waiting pages: every 30 seconds, ask for the connection's
// state (plain text) and reload when it moved on, announcing it first. Without script
// the "Check the status now" link does the same.
(function () {
  var body = document.body;
  var url = body.getAttribute("data-poll");
  var state = body.getAttribute("data-state");
  var live = document.getElementById("live");
  if (!url || !window.fetch) { return; }
  setInterval(function () {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.ok ? r.text() : state; })
      .then(function (now) {
        if (now.trim() !== state) {
          if (live) { live.textContent = "Your connection moved on: loading the next step."; }
          setTimeout(function () { window.location.reload(); }, 1500);
        }
      })
      .catch(function () {});
  }, 30000);
})();
