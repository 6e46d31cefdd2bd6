// The Live page: polls /api/live with the cursor of the last answer; only trials changed since come back,
// and each updates its row in place (or is added on top).
"use strict";
(function () {
  var name = TB.pageData().name, cursor = "", rows = {};
  var body = document.querySelector("#live tbody"), status = document.getElementById("live-status");
  function put(t) {
    var tr = rows[t.trial];
    if (!tr) { tr = rows[t.trial] = TB.el("tr"); }
    body.insertBefore(tr, body.firstChild);  // newest activity on top
    TB.clear(tr); tr.className = "state-" + t.state;
    tr.appendChild(TB.el("td")).appendChild(TB.trialLink(name, t.trial));
    tr.appendChild(TB.el("td", {className: "state-" + t.state}, t.state));
    tr.appendChild(TB.el("td", {className: "num"}, TB.fmt(t.objective)));
    tr.appendChild(TB.el("td", {className: "num"}, TB.fmt(t.best_step)));
    tr.appendChild(TB.el("td", {}, t.activity.slice(0, 19).replace("T", " ")));
    tr.appendChild(TB.el("td", {}, t.reason || ""));
  }
  function poll() {
    TB.getJSON("/api/live?" + TB.query({name: name, since: cursor, limit: cursor ? "" : 200})).then(function (a) {
      cursor = a.cursor;
      a.changed.forEach(put);
      var counts = document.getElementById("counts"); TB.clear(counts);
      counts.appendChild(document.createTextNode(a.total + " trials: "));
      Object.keys(a.counts).sort().forEach(function (s) { counts.appendChild(TB.el("span", {className: "state-" + s}, a.counts[s] + " " + s + " ")); });
      status.textContent = a.changed.length + " changed at " + new Date().toLocaleTimeString();
      status.dataset.polls = String(Number(status.dataset.polls || 0) + 1);
    }).catch(function (e) { status.textContent = "poll failed: " + e.message; }).then(function () { setTimeout(poll, 2000); });
  }
  poll();
})();
