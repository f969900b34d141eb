"""Pieces shared by the evaluation and comparison pages: style, the sorting script,
escaped tables and inline SVG plots.

Everything is inline (no CDN, no server): a page opens from file:// on a machine
without network.
"""
import html
import math
import os

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;border-bottom:1px solid #eee;
text-align:right}th{background:#f4f4f4}table.sortable th{position:sticky;top:0}
td:first-child,th:first-child{text-align:left}table.sortable th{cursor:pointer;user-select:none}
th.asc::after{content:" \\25B2"}th.desc::after{content:" \\25BC"}
.note{background:#fff6d5;padding:4px 8px;border-left:4px solid #e0b000}
.pair{display:flex;gap:8px}.pair figure{margin:0;text-align:left;font-size:12px}
.pair img{width:192px;image-rendering:pixelated}img.thumb{display:block}
details pre{background:#f8f8f8;padding:6px;overflow:auto}
"""

# Sorts a table.sortable by the clicked column (data-value numbers, NaN last),
# ascending first, then descending on a second click.
SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  var headers = table.querySelectorAll('th');
  headers.forEach(function (th, column) {
    th.addEventListener('click', function () {
      var ascending = !th.classList.contains('asc');
      headers.forEach(function (h) { h.classList.remove('asc', 'desc'); });
      th.classList.add(ascending ? 'asc' : 'desc');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var key = function (row) {
        var cell = row.cells[column], v = cell.getAttribute('data-value');
        return v === null ? cell.textContent : parseFloat(v);
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === 'number' || typeof y === 'number') {
          if (isNaN(x)) return isNaN(y) ? 0 : 1;
          if (isNaN(y)) return -1;
        }
        var order = x < y ? -1 : (x > y ? 1 : 0);
        return ascending ? order : -order;
      });
      var fragment = document.createDocumentFragment();
      rows.forEach(function (row) { fragment.appendChild(row); });
      body.appendChild(fragment);
    });
  });
});
"""


def esc(value):
    return html.escape(str(value), quote=True)


def number(value, digits=4):
    """A score as text: n/a where undefined."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def link(path, start):
    """A relative, URL-safe link from the page's folder to `path`."""
    relative = os.path.relpath(path, start).replace(os.sep, "/")
    return esc("/".join(part.replace("%", "%25").replace("#", "%23").replace("?", "%3F")
                        for part in relative.split("/")))


def table(headers, rows):
    """A plain table from header labels and rows of cell texts."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title, body):
    """A whole self-contained page."""
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{esc(title)}</h1>{body}<script>{SORT_SCRIPT}</script></body></html>\n")


def histogram_svg(values, bins=20, width=420, height=180, label="per-image Dice"):
    """An inline SVG histogram of `values` in [0, 1] (NaN left out)."""
    values = [v for v in values if not math.isnan(v)]
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    top, bar = max(counts) or 1, (width - 40) / bins
    bars = "".join(
        f"<rect x='{30 + i * bar:.1f}' y='{height - 20 - c / top * (height - 40):.1f}' "
        f"width='{bar - 1:.1f}' height='{c / top * (height - 40):.1f}' fill='#4a7ab5'>"
        f"<title>{i / bins:.2f}-{(i + 1) / bins:.2f}: {c}</title></rect>"
        for i, c in enumerate(counts))
    axis = "".join(f"<text x='{30 + t * (width - 40):.0f}' y='{height - 5}' font-size='10' "
                   f"text-anchor='middle'>{t:g}</text>" for t in (0, 0.25, 0.5, 0.75, 1))
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
            f"role='img' aria-label='{esc(label)}'>{bars}{axis}"
            f"<text x='30' y='12' font-size='11'>{esc(label)} ({len(values)} images, "
            f"highest bar {top})</text></svg>")


def scatter_svg(series, size=360, label="per-image Dice"):
    """An inline SVG scatter of (x, y) pairs in [0, 1]; `series` maps a name to pairs."""
    colours = ("#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")
    span, dots, legend = size - 50, [], []
    for k, (name, pairs) in enumerate(series.items()):
        colour = colours[k % len(colours)]
        legend.append(f"<text x='45' y='{20 + 14 * k}' font-size='11' fill='{colour}'>"
                      f"&#9679; {esc(name)}</text>")
        dots += [f"<circle cx='{40 + x * span:.1f}' cy='{size - 30 - y * span:.1f}' r='2.5' "
                 f"fill='{colour}' fill-opacity='0.6'/>" for x, y in pairs
                 if not (math.isnan(x) or math.isnan(y))]
    frame = (f"<rect x='40' y='20' width='{span}' height='{span}' fill='none' stroke='#999'/>"
             f"<line x1='40' y1='{size - 30}' x2='{40 + span}' y2='20' stroke='#bbb' "
             f"stroke-dasharray='4'/>" + "".join(
                f"<text x='{40 + t * span}' y='{size - 18}' font-size='10' text-anchor='middle'>"
                f"{t:g}</text><text x='34' y='{size - 27 - t * span}' font-size='10' "
                f"text-anchor='end'>{t:g}</text>" for t in (0, 0.5, 1)))
    return (f"<svg xmlns='http://www.w3.org/2000/svg' width='{size}' height='{size}' "
            f"role='img' aria-label='{esc(label)}'>{frame}{''.join(dots)}{''.join(legend)}"
            f"<text x='{40 + span / 2}' y='{size - 8}' font-size='11' text-anchor='middle'>"
            f"reference's Dice</text><text x='12' y='{20 + span / 2}' font-size='11' "
            f"transform='rotate(-90 12 {20 + span / 2})' text-anchor='middle'>other run's Dice"
            f"</text></svg>")
