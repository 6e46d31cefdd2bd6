// The Experiments spreadsheet: sorted and filtered here (a store holds tens of experiments).
"use strict";
(function () {
  var rows = TB.pageData().rows;
  // what a reader looks for first (the best so far, how far the budget got) before the words that may be long
  var columns = [
    ["experiment", "experiment"], ["best_objective", "best objective"], ["best_trial", "best trial"],
    ["trials", "trials"], ["complete", "complete"], ["infeasible", "infeasible"], ["failed", "failed"],
    ["running", "running"], ["goal", "goal"], ["notes", "notes"], ["config", "config"],
    ["studies", "scientific values compared"], ["launches", "launches"], ["last_activity", "last activity"],
    ["report", "report"]];
  var sortKey = "last_activity", descending = true;
  var sheet = document.getElementById("sheet"), filter = document.getElementById("filter");
  if (!rows.length) { document.getElementById("empty-sheet").hidden = false; return; }
  var table = TB.el("table", {id: "experiments", className: "data"});
  sheet.appendChild(TB.el("div", {className: "table-wrap"})).appendChild(table);

  function cell(row, key) {
    var td = TB.el("td");
    if (key === "experiment") td.appendChild(TB.el("a", {href: "/experiment?" + TB.query({name: row.experiment})}, row.experiment));
    else if (key === "config") {
      if (row.config !== "-") td.appendChild(TB.el("a", {href: "/spec?" + TB.query({name: row.experiment}), title: row.config}, row.config));
      else td.appendChild(TB.el("a", {href: "/spec?" + TB.query({name: row.experiment})}, "spec"));
    } else if (key === "trials") td.textContent = row.trials + "/" + row.budget;
    else if (key === "notes") td.textContent = row.notes.length ? row.notes[row.notes.length - 1] + (row.notes.length > 1 ? "  (+" + (row.notes.length - 1) + ")" : "") : "";
    else if (key === "studies") td.textContent = row.studies.join(", ");
    else if (key === "best_trial") { if (row.best_trial) td.appendChild(TB.trialLink(row.experiment, row.best_trial.split(" (")[0])); }
    else if (key === "last_activity") td.textContent = row.last_activity ? row.last_activity.slice(0, 19).replace("T", " ") : "";
    else if (key === "report") td.appendChild(TB.el("a", {href: "/report?" + TB.query({name: row.experiment})}, "report"));
    else td.textContent = TB.fmt(row[key]);
    if (typeof TB.num(row[key]) === "number") td.className = "num";
    if (td.textContent.length > 30) td.title = td.textContent;  // the cell is cut: its whole text on hover
    return td;
  }
  function sortValue(row) {
    var v = TB.num(row[sortKey]);
    if (Array.isArray(v)) v = v.join(" ");
    return v;
  }
  function compare(a, b) {
    var x = sortValue(a), y = sortValue(b);
    var xm = x === null || x === undefined || x === "" || (typeof x === "number" && isNaN(x));
    var ym = y === null || y === undefined || y === "" || (typeof y === "number" && isNaN(y));
    if (xm || ym) return xm === ym ? 0 : (xm ? 1 : -1);  // missing last, either direction
    var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y));
    return descending ? -c : c;
  }
  function render() {
    TB.clear(table);
    var head = table.appendChild(TB.el("thead")).appendChild(TB.el("tr"));
    columns.forEach(function (c) {
      var th = head.appendChild(TB.el("th", {"data-key": c[0], "aria-sort": c[0] === sortKey ? (descending ? "descending" : "ascending") : "none"},
                                      c[1] + (c[0] === sortKey ? (descending ? " ▼" : " ▲") : "")));
      th.addEventListener("click", function () {
        descending = sortKey === c[0] ? !descending : false; sortKey = c[0]; render();
      });
    });
    var words = filter.value.toLowerCase();
    var body = table.appendChild(TB.el("tbody"));
    rows.filter(function (r) {
      return !words || [r.experiment, r.goal, r.notes.join(" "), r.studies.join(" "), r.config].join(" ").toLowerCase().indexOf(words) >= 0;
    }).sort(compare).forEach(function (r) {
      var tr = body.appendChild(TB.el("tr"));
      columns.forEach(function (c) { tr.appendChild(cell(r, c[0])); });
    });
  }
  filter.addEventListener("input", render);
  render();
})();
