"""The results table as one self-contained HTML page: filter, sort, read in the browser.

The report shows this page instead of only offering ``summary.csv`` for download. Rows are
embedded as JSON and drawn by a few lines of plain JavaScript (no network, no library): a
text filter over every cell, one drop-down per key column (analysis, model, group, metric,
label), click a header to sort, at most ``MAX_SHOWN`` rows drawn at once (the count says how
many match). The page is deterministic: the same table gives the same bytes.
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import pandas as pd

from cebra_lens_core.atomic import atomic_path

__all__ = ["MAX_SHOWN", "summary_html", "write_summary_html"]

#: rows drawn at once (filtering narrows the rest down)
MAX_SHOWN = 2000
#: columns with a drop-down filter, when present
FACETS = ("analysis", "group", "model", "metric", "label", "variant")

_SCRIPT = """
const data = JSON.parse(document.getElementById('rows').textContent);
const cols = data.columns, rows = data.rows, facets = data.facets, maxShown = data.max_shown;
let sortCol = -1, sortUp = true;
const head = document.querySelector('#table thead tr');
cols.forEach((c, i) => {
  const th = document.createElement('th'); th.textContent = c; th.title = 'sort by ' + c;
  th.onclick = () => { sortUp = sortCol === i ? !sortUp : true; sortCol = i; draw(); };
  head.appendChild(th);
});
const bar = document.getElementById('facets');
const choice = {};
facets.forEach(f => {
  const i = cols.indexOf(f); if (i < 0) return;
  const sel = document.createElement('select'); sel.id = 'facet-' + f;
  const values = [...new Set(rows.map(r => r[i]))].sort();
  sel.appendChild(new Option('all ' + f, ''));
  values.forEach(v => sel.appendChild(new Option(v === '' ? '(empty)' : v, v)));
  sel.onchange = () => { choice[i] = sel.value; draw(); };
  bar.appendChild(sel);
});
const filter = document.getElementById('filter');
filter.oninput = draw;
function keep(r) {
  for (const [i, v] of Object.entries(choice)) if (v !== '' && r[i] !== v) return false;
  const q = filter.value.trim().toLowerCase();
  return !q || r.some(x => x.toLowerCase().includes(q));
}
function draw() {
  let shown = rows.filter(keep);
  if (sortCol >= 0) {
    const num = shown.every(r => r[sortCol] === '' || !isNaN(Number(r[sortCol])));
    shown = shown.slice().sort((a, b) => {
      const x = a[sortCol], y = b[sortCol];
      const d = num ? (Number(x) - Number(y)) : x.localeCompare(y);
      return sortUp ? d : -d;
    });
  }
  const body = document.querySelector('#table tbody');
  body.innerHTML = '';
  shown.slice(0, maxShown).forEach(r => {
    const tr = document.createElement('tr');
    r.forEach(x => { const td = document.createElement('td'); td.textContent = x; tr.appendChild(td); });
    body.appendChild(tr);
  });
  document.getElementById('count').textContent = shown.length + ' of ' + rows.length + ' rows' +
    (shown.length > maxShown ? ' (first ' + maxShown + ' shown; filter to see the rest)' : '');
}
draw();
"""

_STYLE = """
body { font-family: sans-serif; font-size: 13px; margin: 8px; }
#facets select, #filter { margin: 2px 4px 6px 0; font-size: 12px; }
#filter { width: 18em; }
table { border-collapse: collapse; }
th { background: #eee; cursor: pointer; position: sticky; top: 0; }
th, td { border: 1px solid #ccc; padding: 2px 6px; white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
"""


def summary_html(summary: pd.DataFrame, title: str = "Results table (summary.csv)") -> str:
    """The HTML page of a results table (all values as text, empty for missing)."""
    frame = summary.astype(object).where(pd.notna(summary), "")
    columns = [str(c) for c in frame.columns]
    rows = [[_text(v) for v in row] for row in frame.itertuples(index=False, name=None)]
    payload = {
        "columns": columns,
        "rows": rows,
        "facets": [f for f in FACETS if f in columns],
        "max_shown": MAX_SHOWN,
    }
    data = json.dumps(payload, separators=(",", ":")).replace("</", "<\\/")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h3>{html.escape(title)}</h3>"
        '<div id="facets"></div>'
        '<input id="filter" type="search" placeholder="filter: any text in a row">'
        ' <span id="count"></span>'
        '<table id="table"><thead><tr></tr></thead><tbody></tbody></table>'
        f'<script id="rows" type="application/json">{data}</script>'
        f"<script>{_SCRIPT}</script></body></html>\n"
    )


def _text(value) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def write_summary_html(summary: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write :func:`summary_html` of ``summary`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(summary_html(summary), encoding="utf-8")
    return Path(path)
