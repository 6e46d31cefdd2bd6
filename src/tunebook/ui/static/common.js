// Shared helpers. Text from the server is only ever set with textContent (never innerHTML),
// so a name, note, metric or log line holding markup shows as that text and never runs.
"use strict";
var TB = (function () {
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  // the server writes non-finite numbers as strings (JSON has none): back to numbers
  function num(v) {
    if (v === "NaN") return NaN;
    if (v === "Infinity") return Infinity;
    if (v === "-Infinity") return -Infinity;
    return v;
  }
  function fmt(v) {
    v = num(v);
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (!isFinite(v)) return String(v);
      if (Number.isInteger(v)) return String(v);
      var a = Math.abs(v);
      return (a !== 0 && (a < 1e-3 || a >= 1e6)) ? v.toExponential(3) : String(Number(v.toPrecision(5)));
    }
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function pageData() { return JSON.parse(document.getElementById("page-data").textContent); }
  function getJSON(url) {
    return fetch(url, {headers: {"Accept": "application/json"}}).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error(body.error || ("HTTP " + r.status));
        return body;
      });
    });
  }
  function query(params) {
    var q = new URLSearchParams();
    Object.keys(params).forEach(function (k) {
      var v = params[k];
      if (Array.isArray(v)) v.forEach(function (x) { q.append(k, x); });
      else if (v !== undefined && v !== null && v !== "") q.append(k, v);
    });
    return q.toString();
  }
  function trialLink(name, trial) {
    return el("a", {href: "/trial?" + query({name: name, trial: trial})}, trial);
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  // plotly.js (4.8 MB) is fetched only when a plot is to be drawn, without blocking the page: the tables
  // fill first; every plot waits for it
  var plotlyWaiting = null;
  function withPlotly(fn) {
    if (window.Plotly) { fn(); return; }
    if (!plotlyWaiting) {
      plotlyWaiting = [];
      var script = document.createElement("script");
      script.src = "/static/plotly.min.js"; script.async = true;
      script.addEventListener("load", function () { plotlyWaiting.forEach(function (f) { f(); }); plotlyWaiting = []; });
      document.head.appendChild(script);
    }
    plotlyWaiting.push(fn);
  }
  return {el: el, num: num, fmt: fmt, pageData: pageData, getJSON: getJSON, query: query,
          trialLink: trialLink, clear: clear, withPlotly: withPlotly};
})();
