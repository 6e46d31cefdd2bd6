// The Trial page: every metric's curve (thinned on the server), log-y and smoothing here; a running trial's curves
// grow by polling /api/curves with the last step seen (only newer points come back). The page's text (params,
// state, reason, notes, the stdout tail) comes in the HTML; this script runs after it (deferred), asks for the
// curves and plotly.js at once, and draws the objective's curve first, each other one at the next frame.
"use strict";
(function () {
  var data = TB.pageData();
  var ids = {name: data.name, trial: data.trial};
  var curves = {};  // metric -> {steps, values (numbers, NaN/inf kept), div}
  var lastStep = -1, running = data.running;
  var container = document.getElementById("curves"), logY = document.getElementById("log-y");
  var smoothing = document.getElementById("smoothing");
  TB.withPlotly(function () {});  // every curve needs plotly.js: start fetching it now, beside the curves

  function smoothed(values, weight) {  // exponential moving average, debiased (as TensorBoard's slider)
    if (!weight) return values;
    var out = [], last = 0, n = 0;
    values.forEach(function (v) {
      if (!isFinite(v)) { out.push(v); return; }
      last = last * weight + (1 - weight) * v; n += 1;
      out.push(last / (1 - Math.pow(weight, n)));
    });
    return out;
  }
  function shown(v) { return isFinite(v) ? v : null; }  // NaN/inf break the line; the note names the step
  function draw(metric) {
    var c = curves[metric], w = Number(smoothing.value);
    var traces = [{x: c.steps, y: smoothed(c.values, w).map(shown), mode: "lines", name: metric,
                   line: {width: 1.5}, hovertemplate: "step %{x}<br>%{y}<extra></extra>"}];
    if (w) traces.unshift({x: c.steps, y: c.values.map(shown), mode: "lines", name: metric + " (raw)",
                           line: {width: 1, color: "rgba(31,119,180,0.25)"}, hoverinfo: "skip"});
    var bad = c.steps.filter(function (s, i) { return !isFinite(c.values[i]); });
    var layout = {title: {text: metric}, height: 320, margin: {l: 60, r: 20, t: 40, b: 40}, showlegend: false,
                  xaxis: {title: {text: "step"}}, yaxis: {type: logY.checked ? "log" : "linear"},
                  shapes: bad.length ? [{type: "line", x0: bad[0], x1: bad[0], yref: "paper", y0: 0, y1: 1,
                                         line: {color: "#b00020", dash: "dot"}}] : [],
                  annotations: bad.length ? [{x: bad[0], yref: "paper", y: 1, text: "diverged (non-finite) at step " + bad[0],
                                              showarrow: false, font: {color: "#b00020"}, xanchor: "left"}] : []};
    Plotly.react(c.div, traces, layout, {responsive: true});
  }
  var drawing = 0;  // a newer drawAll (a toggle, new points) stops an older one's remaining curves
  function drawAll() {
    var order = Object.keys(curves), mine = ++drawing;
    (function next(i) {
      if (i >= order.length || mine !== drawing) return;
      draw(order[i]);  // the first (the objective's) is painted before the next is drawn
      if (i + 1 < order.length) requestAnimationFrame(function () { setTimeout(function () { next(i + 1); }, 0); });
    })(0);
  }
  function objectiveFirst(metrics) {
    return metrics.sort(function (a, b) { return (b === data.objective) - (a === data.objective) || (a < b ? -1 : a > b ? 1 : 0); });
  }
  function absorb(answer) {
    objectiveFirst(Object.keys(answer.metrics)).forEach(function (metric) {
      var m = answer.metrics[metric];
      if (!curves[metric]) {
        var box = container.appendChild(TB.el("div", {className: "plot"}));
        curves[metric] = {steps: [], values: [], div: box.appendChild(TB.el("div", {className: "plotly-graph-div"}))};
      }
      var c = curves[metric];
      m.steps.forEach(function (s, i) { c.steps.push(s); c.values.push(TB.num(m.values[i])); });
    });
    lastStep = answer.last_step;
    running = answer.state === "running" || answer.state === "waiting";
    document.getElementById("trial-state").textContent = answer.state;
    document.getElementById("trial-state").className = "state state-" + answer.state;
  }
  TB.getJSON("/api/curves?" + TB.query(ids)).then(function (answer) {
    TB.clear(container);
    absorb(answer);
    if (!Object.keys(curves).length) container.appendChild(TB.el("p", {className: "muted", id: "no-curves"}, "No curves logged yet."));
    document.getElementById("curves-note").textContent = "thinned on the server to about 1,000 points per metric (spikes and the first non-finite value kept)";
    TB.withPlotly(drawAll);
    if (running) setTimeout(grow, 2000);
  }).catch(function (e) { container.textContent = "could not load the curves: " + e.message; });
  function grow() {
    TB.getJSON("/api/curves?" + TB.query(Object.assign({after: lastStep}, ids))).then(function (answer) {
      var none = document.getElementById("no-curves");
      if (none && Object.keys(answer.metrics).length) none.remove();
      absorb(answer); TB.withPlotly(drawAll);
    }).catch(function () {}).then(function () { if (running) setTimeout(grow, 2000); });
  }
  logY.addEventListener("change", function () { TB.withPlotly(drawAll); });
  smoothing.addEventListener("input", function () { document.getElementById("smoothing-value").textContent = smoothing.value; TB.withPlotly(drawAll); });

  var log = document.getElementById("log"), logNote = document.getElementById("log-note");
  function showLog(stream) {
    document.querySelectorAll(".log-tab").forEach(function (b) { b.classList.toggle("active", b.dataset.stream === stream); });
    TB.getJSON("/api/log?" + TB.query(Object.assign({stream: stream}, ids))).then(function (a) {
      log.textContent = a.lines.join("\n");
      log.hidden = !a.lines.length;  // no empty black box where there is no log
      logNote.textContent = a.missing || ("last " + a.lines.length + " lines of " + stream + ".log");
    }).catch(function (e) { logNote.textContent = e.message; });
  }
  document.querySelectorAll(".log-tab").forEach(function (b) { b.addEventListener("click", function () { showLog(b.dataset.stream); }); });
})();
