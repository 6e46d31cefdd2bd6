// The Experiment page: judgement and plots from the API; the trials table sorted, filtered and paged by the server;
// state counts kept current by polling /api/live with a cursor (only what changed since comes back).
"use strict";
(function () {
  var name = TB.pageData().name;
  var state = {page: 0, size: 50, sort: "trial", desc: false, filters: {}};
  var table = document.getElementById("trials"), summary = document.getElementById("trials-summary");
  var errorBox = document.getElementById("trials-error");

  function verdict(v) {
    var box = document.getElementById("verdict");
    var div = box.appendChild(TB.el("div", {className: "verdict" + (v.supported ? " supported" : "")}));
    div.appendChild(TB.el("p", {className: "headline"}, v.headline));
    div.appendChild(TB.el("p", {}, v.text));
    if (v.next_steps && v.next_steps.length) {
      var ol = div.appendChild(TB.el("ol"));
      v.next_steps.forEach(function (s) {
        var li = ol.appendChild(TB.el("li", {}, s.what));
        if (s.command) li.appendChild(TB.el("pre")).appendChild(TB.el("code", {}, s.command));
      });
    }
  }
  function bestTable(rows, objective) {
    var box = document.getElementById("best");
    if (!rows.length) { box.appendChild(TB.el("p", {className: "muted"}, "No complete trial yet.")); return; }
    var t = box.appendChild(TB.el("table", {className: "data"}));
    var head = t.appendChild(TB.el("thead")).appendChild(TB.el("tr"));
    ["scientific value", "best trial", objective.metric, "best step", "complete trials"].forEach(function (h) { head.appendChild(TB.el("th", {}, h)); });
    var body = t.appendChild(TB.el("tbody"));
    rows.forEach(function (r) {
      var tr = body.appendChild(TB.el("tr"));
      tr.appendChild(TB.el("td", {}, r.group));
      var td = tr.appendChild(TB.el("td")); if (r.trial) td.appendChild(TB.trialLink(name, r.trial));
      tr.appendChild(TB.el("td", {className: "num"}, TB.fmt(r.objective)));
      tr.appendChild(TB.el("td", {className: "num"}, TB.fmt(r.best_step)));
      tr.appendChild(TB.el("td", {className: "num"}, TB.fmt(r.n_complete)));
    });
  }
  function checklist(findings) {
    var box = document.getElementById("checklist"); TB.clear(box);
    if (!findings.length) { box.appendChild(TB.el("p", {className: "muted"}, "No findings.")); return; }
    var ul = box.appendChild(TB.el("ul", {className: "findings"}));
    findings.forEach(function (f) {
      var li = ul.appendChild(TB.el("li", {className: "finding " + f.severity}));
      li.appendChild(TB.el("span", {className: "severity " + f.severity}, f.severity));
      li.appendChild(TB.el("b", {}, " " + f.id));
      if (f.study) li.appendChild(TB.el("span", {className: "muted"}, " " + f.study));
      li.appendChild(TB.el("p", {}, f.message));
      li.appendChild(TB.el("p", {className: "action"}, "What to do: " + f.action + " (" + f.section + ")"));
    });
  }
  // The judgement is made in the server's worker process: until it is ready the API answers {computing: true}
  // and the page says what is being computed, for how long, and asks again.
  function whenJudged(url, shown, done, failed) {
    TB.getJSON(url).then(function (a) {
      if (!a.computing) { done(a); return; }
      shown.forEach(function (box) {
        box.textContent = "computing the checklist and plots of " + trialCount() + " trials in the background (" + Math.round(a.seconds) + " s so far)…";
      });
      setTimeout(function () { whenJudged(url, shown, done, failed); }, 1000);
    }).catch(failed);
  }
  function trialCount() { return document.getElementById("counts").textContent.split(" ")[0]; }
  function loadAnalysis() {
    var loading = document.getElementById("analysis-loading");
    var checklistBox = document.getElementById("checklist").querySelector(".loading");
    whenJudged("/api/analysis?" + TB.query({name: name}), [loading, checklistBox], function (a) {
      loading.remove();
      verdict(a.verdict); bestTable(a.best, a.objective); checklist(a.findings);
      if (a.code) document.getElementById("code-line").textContent = "Code: " + a.code + ".";
    }, function (e) {  // a failed judgement (the server's message) ends the wait: shown as an error, not polled
      failedIn(loading, (/^could not judge/.test(e.message) ? "" : "could not judge the experiment: ") + e.message);
      failedIn(checklistBox, "no checklist: the judgement failed (see above)");
    });
    var figuresBox = document.getElementById("figures");
    whenJudged("/api/figures?" + TB.query({name: name}), [figuresBox.querySelector(".loading")], function (f) {
      TB.withPlotly(function () { Figures.show(figuresBox, f.figures); });
    }, function (e) { failedIn(figuresBox.querySelector(".loading"), "could not draw the plots: " + e.message); });
  }
  function failedIn(box, text) {
    box.textContent = text; box.className = "error-message judgement-failed";
  }

  function header(columns) {
    var head = table.querySelector("thead"); TB.clear(head);
    var tr = head.appendChild(TB.el("tr"));
    columns.forEach(function (c) {
      var mark = c === state.sort ? (state.desc ? " ▼" : " ▲") : "";
      var th = tr.appendChild(TB.el("th", {"data-key": c, "aria-sort": c === state.sort ? (state.desc ? "descending" : "ascending") : "none"}, c + mark));
      th.addEventListener("click", function () {
        state.desc = state.sort === c ? !state.desc : false; state.sort = c; state.page = 0; loadTrials();
      });
    });
  }
  function rowsOf(answer) {
    var body = table.querySelector("tbody"); TB.clear(body);
    answer.rows.forEach(function (row) {
      var tr = body.appendChild(TB.el("tr", {className: "state-" + row[2]}));
      row.forEach(function (v, i) {
        var td = tr.appendChild(TB.el("td"));
        if (i === 0) td.appendChild(TB.trialLink(name, v));
        else { td.textContent = TB.fmt(v); if (typeof TB.num(v) === "number") td.className = "num"; }
        if (typeof v === "string" && v.length > 60) { td.title = v; td.textContent = v.slice(0, 57) + "…"; }
      });
    });
  }
  function studies(list) {
    var select = document.getElementById("study-filter");
    if (select.options.length > 1) return;
    list.forEach(function (s) { select.appendChild(TB.el("option", {value: s}, s)); });
  }
  var judged = false;
  function judgeOnce() { if (!judged) { judged = true; loadAnalysis(); } }  // after the table: it comes first
  function loadTrials() {
    var params = Object.assign({name: name, page: state.page, size: state.size, sort: state.sort, desc: state.desc ? 1 : ""}, state.filters);
    TB.getJSON("/api/trials?" + TB.query(params)).then(function (a) {
      errorBox.hidden = true;
      header(a.columns); rowsOf(a); studies(a.studies);
      TB.withPlotly(function () {});  // the table is in place: now fetch plotly.js for the plots
      var pages = Math.max(1, Math.ceil(a.matching / a.size));
      summary.textContent = a.matching + " of " + a.total + " trials match; sorted by " + a.sort + (state.desc ? " (descending)" : "");
      document.getElementById("page-label").textContent = "page " + (a.page + 1) + " of " + pages;
      document.getElementById("prev").disabled = a.page === 0;
      document.getElementById("next").disabled = a.page + 1 >= pages;
    }).catch(function (e) { errorBox.hidden = false; errorBox.textContent = e.message; }).then(judgeOnce);
  }
  document.getElementById("prev").addEventListener("click", function () { state.page = Math.max(0, state.page - 1); loadTrials(); });
  document.getElementById("next").addEventListener("click", function () { state.page += 1; loadTrials(); });
  document.getElementById("trial-filters").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target, states = [];
    form.querySelectorAll("input[name=state]:checked").forEach(function (c) { states.push(c.value); });
    state.filters = {state: states.join(","), study: form.elements.study.value, range: form.elements.range.value};
    state.size = Number(form.elements.size.value); state.page = 0; loadTrials();
  });

  var cursor = "";
  function poll() {  // counts and a fresh table page when trials changed since the last poll
    TB.getJSON("/api/live?" + TB.query({name: name, since: cursor, limit: cursor ? 1 : 0})).then(function (a) {
      var first = cursor === ""; cursor = a.cursor;
      var counts = document.getElementById("counts"); TB.clear(counts);
      counts.appendChild(document.createTextNode(a.total + " trials: "));
      Object.keys(a.counts).sort().forEach(function (s) { counts.appendChild(TB.el("span", {className: "state-" + s}, a.counts[s] + " " + s + " ")); });
      if (!first && a.changed.length) loadTrials();
    }).catch(function () {}).then(function () { setTimeout(poll, 3000); });
  }
  loadTrials(); setTimeout(poll, 3000);
})();
