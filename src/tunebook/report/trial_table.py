"""The report's trial table: every trial, named ``STUDY/NUMBER``, sortable, searchable, filterable by state.

The rows travel once, as compact JSON (one list of cells per column), and
one script sorts, filters and pages them in the browser:

- up to ``PLAIN_ROWS`` rows the table is also written as plain HTML, all
  rows at once: readable without the script, and ``Ctrl-F`` finds any row;
- beyond, the browser draws one page (``PAGE_SIZE`` rows by default) of
  the sorted, filtered rows; every row stays reachable through the pager,
  the search box finds rows by any cell's text. Drawing 10,000 rows at open
  made most of a big report's time in the browser.

A cell is one of: ``None`` (no value, ``-``), a string (its text as is),
``[text, number]`` (a number: right-aligned, sorted by the number; the
number is ``"Infinity"`` or ``"-Infinity"`` when infinite), or
``{"t": text, "h": full}`` (text cut to its column's width, the full text
in its tooltip). Python (``_td``) and the script (``td``) write the same
markup for a cell; rows carry their state as a class (``tr.infeasible``).
"""

from __future__ import annotations

import html
import json
import math
from typing import Any, Callable

from tunebook.analysis.data import ExperimentData
from tunebook.core.readable import format_number

__all__ = ["PAGE_SIZE", "PLAIN_ROWS", "trials_section"]

PLAIN_ROWS = 500  # up to this many rows, the table is also plain HTML
PAGE_SIZE = 100  # rows per page of a bigger table
SHORT = 12  # characters a cell shows whole in any column (no cut, no tooltip)
# the columns that take the width the others leave (half each when both are there), their text cut to it with
# the whole in the tooltip: the table fits its box however long a reason or a note is
_REST = ("notes", "reason")

STYLE = """
.fit{max-width:100%;overflow-x:auto} table.trials{width:100%;font-size:.82rem}
table.trials td,table.trials th{white-space:nowrap;padding:.25rem .4rem} table.trials th small{font-weight:400;color:#666}
table.trials .num{text-align:right;font-variant-numeric:tabular-nums}
table.trials th[data-asc='1'] .cut::after{content:' \\25B2';color:#666} table.trials th[data-asc='0'] .cut::after{content:' \\25BC';color:#666}
.cut{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;max-width:8rem}
table.trials .rest{width:100%;max-width:0;min-width:10rem} .cut.reason,.cut.notes{max-width:none}
table.trials.with-notes .rest{width:50%;min-width:6rem}
tr.infeasible td,tr.failed td{background:#fff6f5}
.trial-tools{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;margin:.5rem 0;font-size:.9rem}
.trial-tools input[type=search]{min-width:16rem;padding:.2rem .4rem} .trial-tools .shown{color:#444}
.trial-tools button{padding:.1rem .5rem}
"""

# sorts, filters and pages the rows of every div.trial-table from its JSON (cells as in the module's docstring)
SCRIPT = r"""
(function(){
function esc(s){return String(s).replace(/[&<>"']/g,function(c){return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#x27;'}[c];});}
function td(c,col){
 if(c===null)return "<td"+(col.num?" class='num'":"")+" data-v=''>-</td>";
 if(c==="")return "<td data-v=''></td>";
 if(typeof c==="string")return "<td>"+esc(c)+"</td>";
 if(Array.isArray(c))return "<td class='num' data-v='"+Number(c[1])+"'>"+esc(c[0])+"</td>";
 return "<td"+(col.cut==="reason"||col.cut==="notes"?" class='rest'":"")+" data-v='"+esc(c.t)+"'><div class='cut"+(col.cut?" "+col.cut:"")
  +"' title='"+esc(c.h)+"'>"+esc(c.t)+"</div></td>";}
function key(c){if(c===null||c==="")return null; if(typeof c==="string")return c; return Array.isArray(c)?Number(c[1]):c.t;}
function text(c){return c===null?"":typeof c==="string"?c:Array.isArray(c)?c[0]:c.t+" "+c.h;}
var collator=new Intl.Collator(undefined,{numeric:true});
function compare(x,y){  // no value last; numbers by value; text by its letters, numbers in it by value
 if(x===null||y===null)return x===y?0:x===null?1:-1;
 if(typeof x==="number"&&typeof y==="number")return x-y;
 return collator.compare(String(x),String(y));}
document.querySelectorAll('div.trial-table').forEach(function(box){
 var data=JSON.parse(box.querySelector('script.trial-rows').textContent), cols=data.columns, cells=data.cells;
 var n=data.state.length, body=box.querySelector('tbody'), shown=box.querySelector('.shown');
 var search=box.querySelector('input[type=search]'), state=box.querySelector('select.state'), size=box.querySelector('select.size');
 var order=null, rows=[], page=0, haystack=null, heads=box.querySelectorAll('thead th');
 function filter(){
  var want=state.value, words=search.value.trim().toLowerCase();
  if(words&&haystack===null){haystack=[];for(var i=0;i<n;i++){var h=[data.state[i]];
   for(var j=0;j<cols.length;j++)h.push(text(cells[j][i]));haystack.push(h.join(' ').toLowerCase());}}
  rows=[];var all=order||Array.from({length:n},function(_,i){return i;});
  all.forEach(function(i){if((!want||data.state[i]===want)&&(!words||haystack[i].indexOf(words)>=0))rows.push(i);});}
 function draw(){  // the pager (page kept in range), then the current page's rows
  pager(); var per=perPage(), first=page*per, last=Math.min(rows.length,first+per), out=[];
  for(var r=first;r<last;r++){var i=rows[r],line='';
   for(var j=0;j<cols.length;j++)line+=td(cells[j][i],cols[j]);
   out.push("<tr class='"+esc(data.state[i])+"'>"+line+"</tr>");}
  body.innerHTML=out.join('');}
 function perPage(){return size.value==='all'?Math.max(rows.length,1):+size.value;}
 function pager(){
  var per=perPage(), pages=Math.max(1,Math.ceil(rows.length/per)); page=Math.min(Math.max(page,0),pages-1);
  var first=page*per, last=Math.min(rows.length,first+per);
  shown.textContent=(rows.length?'rows '+(first+1).toLocaleString('en')+'\u2013'+last.toLocaleString('en'):'no rows')
   +' of '+rows.length.toLocaleString('en')+(rows.length<n?' (filtered from '+n.toLocaleString('en')+')':'')
   +(pages>1?', page '+(page+1)+' of '+pages:'');
  box.querySelector('.pages').hidden=pages<2;  // one page: no pager
  box.querySelectorAll('button[data-go]').forEach(function(b){var go=b.dataset.go;
   b.disabled=(go==='first'||go==='prev')?page===0:page===pages-1;});}
 heads.forEach(function(th,j){th.addEventListener('click',function(){
  var asc=th.dataset.asc!=='1', keys=cells[j].map(key);
  order=Array.from({length:n},function(_,i){return i;});
  order.sort(function(a,b){var c=compare(keys[a],keys[b]);return keys[a]===null||keys[b]===null?c:asc?c:-c;});
  heads.forEach(function(h){h.dataset.asc='';}); th.dataset.asc=asc?'1':'0'; page=0; filter(); draw();});});
 search.addEventListener('input',function(){page=0;filter();draw();});
 state.addEventListener('change',function(){page=0;filter();draw();});
 size.addEventListener('change',function(){page=0;draw();});
 box.querySelectorAll('button[data-go]').forEach(function(b){b.addEventListener('click',function(){
  var go=b.dataset.go; page=go==='first'?0:go==='prev'?page-1:go==='next'?page+1:Infinity; draw();});});
 filter(); if(box.dataset.plain)pager(); else draw();  // a plain table's rows are in the page already
});
})();
"""


def trials_section(data: ExperimentData) -> str:
    """The table of every trial with its search box, state filter and pager; its rows as JSON."""
    from tunebook.core.readable import format_duration, reason_line

    if data.trials.empty:
        return "<p class='muted'>None yet.</p>"
    trials = data.trials
    params = _trial_columns(data)
    code = _code_cells(data)
    notes = _note_cells(data)
    named = ["trial", *params, "state", "objective", "best step", "duration", *(["code"] if code else []),
             *(["notes"] if notes else []), "reason"]
    cells: list[list[Any]] = [
        [data.trial_name(t) for t in trials["trial_id"].tolist()],
        *(_values(trials[p]) for p in params),
        [str(s) for s in trials["state"].tolist()],
        _values(trials["objective"]),
        _numbers(trials["best_step"], lambda s: str(int(s))),
        _numbers(trials["duration"], format_duration),
        *([code] if code else []),
        *([notes] if notes else []),
        _column_cells(lambda r: _text_cell(reason_line(r), r), trials["reason"].tolist()),
    ]
    columns = [{"num": _numeric(column), "cut": name if name in _REST else ""} for name, column in zip(named, cells)]
    states = cells[len(params) + 1]
    plain = len(states) <= PLAIN_ROWS
    body = "".join(_row(states[i], [c[i] for c in cells], columns) for i in range(len(states))) if plain else ""
    payload = json.dumps({"columns": columns, "cells": cells, "state": states}, allow_nan=False,
                         separators=(",", ":")).replace("<", "\\u003c")
    head = "".join(_header(c) for c in named)
    return (f"<div class='trial-table' id='trials'{' data-plain=1' if plain else ''}>{_tools(states, plain)}"
            f"<div class='fit'><table class='sortable trials{' with-notes' if notes else ''}'>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            f"</table></div><script type='application/json' class='trial-rows'>{payload}</script></div>")


def _tools(states: list[str], plain: bool) -> str:
    """Search box, state filter (with counts), rows per page and the pager, above the table."""
    counts: dict[str, int] = {}
    for state in states:
        counts[state] = counts.get(state, 0) + 1
    options = f"<option value=''>all states ({len(states):,})</option>" + "".join(
        f"<option value='{_e(s)}'>{_e(s)} ({k:,})</option>" for s, k in counts.items())
    sizes = "".join(f"<option value='{k}'{' selected' if k == (PAGE_SIZE if not plain else 'all') else ''}>{k}</option>"
                    for k in (50, PAGE_SIZE, 250, 500, "all"))
    return ("<div class='trial-tools'><input type='search' placeholder='search trials (any cell)' "
            "aria-label='search trials'>"
            f"<label>state <select class='state'>{options}</select></label>"
            f"<label>rows per page <select class='size'>{sizes}</select></label>"
            "<span class='pages'><button data-go='first' title='first page'>&laquo;</button> "
            "<button data-go='prev'>&lsaquo; previous</button> <button data-go='next'>next &rsaquo;</button> "
            "<button data-go='last' title='last page'>&raquo;</button></span>"
            f"<span class='shown'>{len(states):,} rows</span></div>")


def _trial_columns(data: ExperimentData) -> list[str]:
    """Scientific then nuisance hyperparameters, in the space's order (fixed ones are caveats, not columns)."""
    return [hp.id for role in ("scientific", "nuisance") for hp in data.experiment.space.with_role(role)
            if hp.id in data.trials.columns]


def _code_cells(data: ExperimentData) -> list[Any]:
    """The code column's cells (short commit, dirty, not exact; the full line as tooltip), or [] when every trial
    ran on the same code version: then the line under the goal says it once."""
    from tunebook.core.provenance import code_cell, code_line

    versions = [data.code_versions.get(int(t)) for t in data.trials["trial_id"]]
    if len({v.id if v else None for v in versions}) < 2:
        return []
    made = {v.id: _text_cell(code_cell(v), code_line(v)) for v in data.code_versions.values()}
    return [made[v.id] if v else _text_cell(code_cell(None), code_line(None)) for v in versions]


def _note_cells(data: ExperimentData) -> list[Any]:
    """The notes column's cells (a trial's notes, oldest first, joined by `` · ``; cut, whole in the tooltip), or
    [] when no trial has a note."""
    if not data.trial_notes:
        return []
    texts = [" · ".join(data.trial_notes.get(int(t), ())) for t in data.trials["trial_id"]]
    return [_text_cell(text, text) for text in texts]


def _values(column: Any) -> list[Any]:
    """The cells of a hyperparameter or objective column (``_value_cell``; a float column in one pass)."""
    if column.dtype.kind == "f":
        return _numbers(column, _number_text)
    return _column_cells(_value_cell, column.tolist())


def _numbers(column: Any, text: Callable[[float], str]) -> list[Any]:
    """``[text(x), x]`` for each number of a column, ``None`` where it has none (None, NaN)."""
    try:
        values = column.to_numpy(dtype=float, na_value=math.nan).tolist()
    except (TypeError, ValueError):  # not all numbers: cell by cell
        return _column_cells(lambda v: None if _missing(v) else [text(float(v)), _key(v)], column.tolist())
    return [None if v != v else [text(v), v if -math.inf < v < math.inf else _key(v)] for v in values]


def _number_text(number: float) -> str:
    """4 significant digits; a whole number below a million whole (``core.readable.format_number``)."""
    return format_number(number)


def _column_cells(cell: Callable[[Any], Any], values: list) -> list[Any]:
    """``cell(value)`` for each value of a column, computed once per distinct value of one type (a float
    zero each time: 0.0 == -0.0, but their cells differ; an unhashable value each time)."""
    made: dict[tuple[type, Any], Any] = {}
    out = []
    for value in values:
        if type(value) is float and value == 0.0 or getattr(value, "__hash__", None) is None:
            out.append(cell(value))
            continue
        key = (type(value), value)
        if key not in made:
            made[key] = cell(value)
        out.append(made[key])
    return out


def _value_cell(value: Any) -> Any:
    """A hyperparameter value or objective: a number to 4 significant digits (whole numbers whole), else text."""
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)) and not hasattr(value, "dtype"):
        text = "" if value is None else str(value)
        return _text_cell(text, text) if text else None
    if _missing(value):
        return None
    return [_number_text(float(value)), _key(value)]


def _text_cell(text: str, full: Any) -> Any:
    """Text shown whole when short, else cut to its column's width with the full text (``full``) in its tooltip."""
    if not text:
        return ""
    if len(text) <= SHORT and text == full:
        return text
    return {"t": text, "h": full if isinstance(full, str) and full else text}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _key(value: Any) -> float | str:
    """A number's sort key as JSON carries it: the float, or ``"Infinity"`` / ``"-Infinity"``."""
    number = float(value)
    return number if math.isfinite(number) else ("Infinity" if number > 0 else "-Infinity")


def _numeric(cells: list[Any]) -> bool:
    """True when every cell with a value is a number (its missing cells then align right too)."""
    return any(c is not None for c in cells) and all(c is None or isinstance(c, list) for c in cells)


def _row(state: str, cells: list[Any], columns: list[dict[str, Any]]) -> str:
    return f"<tr class='{_e(state)}'>{''.join(_td(c, col) for c, col in zip(cells, columns))}</tr>"


def _td(cell: Any, column: dict[str, Any]) -> str:
    """One cell's markup, as the script's ``td`` writes it."""
    if cell is None:
        return "<td class='num' data-v=''>-</td>" if column["num"] else "<td data-v=''>-</td>"
    if cell == "":
        return "<td data-v=''></td>"
    if isinstance(cell, str):
        return f"<td>{_e(cell)}</td>"
    if isinstance(cell, list):
        return f"<td class='num' data-v='{float(cell[1])!r}'>{_e(cell[0])}</td>"
    cut = column["cut"]
    rest = " class='rest'" if cut in _REST else ""  # the reason (and notes) take the width the others leave
    return (f"<td{rest} data-v='{_e(cell['t'])}'><div class='cut{' ' + cut if cut else ''}' "
            f"title='{_e(cell['h'])}'>{_e(cell['t'])}</div></td>")


def _header(column: str) -> str:
    """A column header; a branch's id (``beta1[optimizer=adam]``) on two lines, its condition small."""
    name, _, branch = column.partition("[")
    below = f"<br><small>{_e(branch.rstrip(']'))}</small>" if branch else ""
    rest = " class='rest'" if column in _REST else ""  # the reason (and notes) take the width the others leave
    return f"<th{rest} title='{_e(column)}'><div class='cut'>{_e(name)}{below}</div></th>"


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)
