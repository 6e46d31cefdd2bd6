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
  // numbers as the report's tables and `tunebook trials` write them (core.readable.format_number: Python's
  // "{:.4g}"; a whole number below a million whole): 0.02222, 1.235e+07, 300, nan, inf
  function g4(v) {
    if (v === 0) return "0";
    var parts = v.toExponential(3).split("e"), exp = Number(parts[1]);
    if (exp < -4 || exp >= 4) {
      var mantissa = parts[0].replace(/\.?0+$/, ""), e = Math.abs(exp);
      return mantissa + "e" + (exp < 0 ? "-" : "+") + (e < 10 ? "0" : "") + e;
    }
    return String(Number(v.toFixed(Math.max(0, 3 - exp))));
  }
  function fmt(v) {
    v = num(v);
    if (v === null || v === undefined) return "";
    if (typeof v === "number") {
      if (isNaN(v)) return "nan";
      if (!isFinite(v)) return v > 0 ? "inf" : "-inf";
      if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
      return g4(v);
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
  // plotly.js (4.8 MB) is added when a plot is to be drawn, as an async script: the page's text is shown
  // first, the browser compiles it off the main thread, and the tables fill first. Its URL (meta plotly-src)
  // is named by its content and cached for good: a page opened from another reuses the compiled script
  // (measured: a Trial page opened by a click drew its curve in 0.45 s so, in 1.4 s from a deferred <script>).
  var plotlyWaiting = null;
  function withPlotly(fn) {
    if (window.Plotly) { fn(); return; }
    if (!plotlyWaiting) {
      plotlyWaiting = [];
      var script = document.createElement("script");
      script.src = document.querySelector("meta[name=plotly-src]").content; script.async = true;
      script.addEventListener("load", function () { plotlyWaiting.forEach(function (f) { f(); }); plotlyWaiting = []; });
      document.head.appendChild(script);
    }
    plotlyWaiting.push(fn);
  }
  return {el: el, num: num, fmt: fmt, pageData: pageData, getJSON: getJSON, query: query,
          trialLink: trialLink, clear: clear, withPlotly: withPlotly};
})();
