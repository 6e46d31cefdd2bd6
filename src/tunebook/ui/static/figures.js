// The playbook's plots for the Experiment page: plotly figures from /api/figures, each drawn when it nears the screen.
"use strict";
var Figures = (function () {
  function show(container, figures) {
    TB.clear(container);
    if (!figures.length) { container.appendChild(TB.el("p", {className: "muted"}, "No plots: no trials yet.")); return; }
    var pending = [];
    figures.forEach(function (f) {
      container.appendChild(TB.el("h3", {}, f.title));
      var div = container.appendChild(TB.el("div", {className: "plot"})).appendChild(TB.el("div", {className: "plotly-graph-div"}));
      div.style.minHeight = ((f.figure.layout && f.figure.layout.height) || 450) + "px";
      pending.push([div, f.figure]);
    });
    function draw(item) {
      if (item[0].dataset.drawn) return;
      item[0].dataset.drawn = "1";
      Plotly.newPlot(item[0], item[1].data, item[1].layout, {responsive: true});
    }
    if (!window.IntersectionObserver) { pending.forEach(draw); return; }
    var near = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (!e.isIntersecting) return;
        near.unobserve(e.target);
        pending.forEach(function (item) { if (item[0] === e.target) draw(item); });
      });
    }, {rootMargin: "400px"});
    pending.forEach(function (item) { near.observe(item[0]); });
    var later = window.requestIdleCallback || function (f) { return setTimeout(f, 1); };
    var next = 0;
    (function rest() {  // then every other one, one per idle moment: all drawn without scrolling
      while (next < pending.length && pending[next][0].dataset.drawn) next++;
      if (next < pending.length) { draw(pending[next]); later(rest, {timeout: 300}); }
    })();
  }
  return {show: show};
})();
