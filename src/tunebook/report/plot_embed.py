"""The report's figures in the page: each one's JSON beside its place, drawn when it nears the screen.

A page of 10,000 trials holds a few MB of figures; drawing them all before
the reader sees anything took seconds. Here each figure waits as JSON; the
page's script (``SCRIPT``, after plotly.js, at the end of the page) draws
the ones within 200 px of the screen as soon as it runs, then, one at a
time when the browser is idle, every other one, so all are ready without
scrolling. A drawn plot is a plotly ``div.plotly-graph-div`` inside
``div.plot``, as plotly's own ``to_html`` makes it.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["SCRIPT", "figure_html", "plotly_js"]

DEFAULT_HEIGHT = 450  # plotly's height for a figure that sets none: the place kept for it until drawn

SCRIPT = r"""
(function(){
var plots=Array.from(document.querySelectorAll('div.plot > div.plotly-graph-div')), next=0;
function draw(div){
 if(div.dataset.drawn)return; div.dataset.drawn='1';
 var figure=JSON.parse(div.nextElementSibling.textContent);
 Plotly.newPlot(div, figure.data, figure.layout, {responsive:true});}
var later=window.requestIdleCallback||function(f){return setTimeout(f,1);};
function rest(){  // the plots not drawn yet, in page order, one per idle moment
 while(next<plots.length&&plots[next].dataset.drawn)next++;
 if(next<plots.length){draw(plots[next]); later(rest,{timeout:200});}}
if(!window.IntersectionObserver){plots.forEach(draw); return;}
var near=new IntersectionObserver(function(entries){entries.forEach(function(e){
 if(e.isIntersecting){near.unobserve(e.target); draw(e.target);}});},{rootMargin:'200px'});
plots.forEach(function(p){near.observe(p);});
if(document.readyState==='complete')later(rest,{timeout:200});
else window.addEventListener('load',function(){later(rest,{timeout:200});});
})();
"""


def figure_html(title: str, figure: Any) -> str:
    """A titled place for ``figure`` (a plotly Figure) and its JSON, for ``SCRIPT`` to draw."""
    import plotly.io as pio

    spec = pio.to_json(figure, validate=False, pretty=False).replace("<", "\\u003c")  # no "</script>" inside
    height = figure.layout.height or DEFAULT_HEIGHT
    return (f"<h3>{html.escape(title)}</h3><div class='plot'>"
            f"<div class='plotly-graph-div' style='min-height:{height}px;width:100%'></div>"
            f"<script type='application/json' class='figure'>{spec}</script></div>")


def plotly_js() -> str:
    """plotly.js itself, inlined once, so the page opens offline (the config line plotly's own pages set first)."""
    from plotly.offline import get_plotlyjs

    return f"<script>window.PlotlyConfig = {{MathJaxConfig: 'local'}};</script><script>{get_plotlyjs()}</script>"
