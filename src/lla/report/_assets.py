"""The page's inline stylesheet and script (no external resources of any kind)."""

CSS = """
:root { --ink:#1f2328; --muted:#59636e; --line:#d8dee4; --soft:#f6f8fa; --accent:#2f5f98;
        --hit:#1a7f37; --hitbg:#dafbe1; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
       sans-serif; color:var(--ink); background:#fff; }
header.page { background:#24324a; color:#fff; padding:22px 32px 16px; }
header.page h1 { margin:0 0 6px; font-size:24px; font-weight:600; }
header.page dl { margin:0; display:flex; flex-wrap:wrap; gap:4px 22px; font-size:13px;
                 color:#c9d4e3; }
header.page dt { display:inline; font-weight:600; color:#fff; }
header.page dd { display:inline; margin:0 0 0 4px; }
nav.toc { position:sticky; top:0; z-index:5; background:#fff; border-bottom:1px solid var(--line);
          padding:8px 32px; display:flex; flex-wrap:wrap; gap:6px 18px; font-size:13px; }
nav.toc a { color:var(--accent); text-decoration:none; }
nav.toc a:hover { text-decoration:underline; }
main { max-width:1280px; margin:0 auto; padding:8px 32px 48px; }
section.block { margin-top:28px; }
h2 { font-size:20px; margin:0 0 12px; padding-bottom:6px; border-bottom:2px solid var(--line); }
h3 { font-size:16px; margin:22px 0 8px; }
p.notes, p.hint { color:var(--muted); margin:6px 0 10px; max-width:80ch; }
.cards { display:flex; flex-wrap:wrap; gap:10px; margin:4px 0 8px; }
.card { border:1px solid var(--line); border-radius:8px; padding:8px 14px; min-width:120px;
        background:var(--soft); }
.card .label { font-size:12px; color:var(--muted); }
.card .value { font-size:18px; font-weight:600; font-variant-numeric:tabular-nums; }
.tools { display:flex; align-items:center; gap:12px; margin:6px 0; }
.tools input[type=search] { width:320px; max-width:100%; padding:6px 10px; font:inherit;
        border:1px solid var(--line); border-radius:6px; }
.tools .count { color:var(--muted); font-size:12px; }
.scroll { max-height:560px; overflow:auto; border:1px solid var(--line); border-radius:6px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:5px 10px; text-align:left; vertical-align:top; border-bottom:1px solid #eaeef2; }
thead th { position:sticky; top:0; background:#eef2f6; font-weight:600; white-space:nowrap;
           z-index:1; }
table.sortable thead th { cursor:pointer; user-select:none; }
table.sortable thead th::after { content:" ↕"; color:#9aa5b1; font-weight:400; }
table.sortable thead th[aria-sort=ascending]::after { content:" ▲"; color:var(--accent); }
table.sortable thead th[aria-sort=descending]::after { content:" ▼"; color:var(--accent); }
tbody tr:nth-child(even) { background:#fafbfc; }
tbody tr:hover { background:#f0f5fb; }
td.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
th.num { text-align:right; }
td.words { max-width:640px; }
.bar { display:inline-block; height:8px; background:#8fb0d8; border-radius:2px;
       vertical-align:middle; margin-left:6px; }
.chip { display:inline-flex; align-items:baseline; margin:1px 3px 1px 0; padding:1px 6px;
        border-radius:10px; background:#eef2f6; white-space:nowrap; max-width:260px;
        vertical-align:bottom; }
/* a long name is cut with an ellipsis, never the topic number or the probability after it */
.chip .name { overflow:hidden; text-overflow:ellipsis; min-width:0; }
.chip sub, .chip .prob, .chip b { flex:none; }
.chip sub { color:var(--accent); font-size:10px; margin-left:3px; font-weight:600; }
.chip.hit { background:var(--hitbg); color:var(--hit); font-weight:600; }
.chip.topic { background:#e7eefb; }
.prob { color:var(--muted); font-size:11px; margin-left:3px; }
.shared { background:#fff1cc; border-radius:3px; padding:0 2px; }
.figures { display:flex; flex-direction:column; gap:18px; }
figure { margin:0; border:1px solid var(--line); border-radius:8px; padding:10px 14px;
         background:#fff; }
figure h4 { margin:0 0 6px; font-size:14px; }
figure .frame { overflow-x:auto; }
figure img { display:block; max-width:100%; height:auto; margin:0; }
figcaption { color:var(--muted); font-size:12px; margin-top:6px; }
.empty { color:var(--muted); font-style:italic; }
footer { color:var(--muted); font-size:12px; text-align:center; padding:24px; }
"""

JS = """
(function () {
  "use strict";
  function cellKey(row, col, numeric) {
    var cell = row.cells[col];
    if (!cell) { return numeric ? NaN : ""; }
    var raw = cell.hasAttribute("data-value") ? cell.getAttribute("data-value") : cell.textContent;
    if (numeric) { return raw === "" ? NaN : parseFloat(raw); }
    return raw.trim().toLowerCase();
  }
  function sortBy(table, col, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var numeric = th.getAttribute("data-type") === "number";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) {
      h.removeAttribute("aria-sort");
    });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sign = ascending ? 1 : -1;
    rows.sort(function (a, b) {
      var x = cellKey(a, col, numeric), y = cellKey(b, col, numeric);
      if (numeric) {
        var xn = isNaN(x), yn = isNaN(y);
        if (xn || yn) { return xn === yn ? 0 : (xn ? 1 : -1); }   // blanks last
        return sign * (x - y);
      }
      return sign * x.localeCompare(y, undefined, {numeric: true});
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }
  function filter(input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    var query = input.value.trim().toLowerCase();
    var shown = 0, rows = table.tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) {
      var match = query === "" || rows[i].textContent.toLowerCase().indexOf(query) >= 0;
      rows[i].hidden = !match;
      if (match) { shown++; }
    }
    var count = document.getElementById(input.getAttribute("data-count"));
    if (count) { count.textContent = shown + " of " + rows.length + " rows"; }
  }
  document.querySelectorAll("table.sortable").forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, col) {
      th.addEventListener("click", function () { sortBy(table, col, th); });
      th.setAttribute("title", "sort");
    });
  });
  document.querySelectorAll("input[data-table]").forEach(function (input) {
    input.addEventListener("input", function () { filter(input); });
    filter(input);
  });
}());
"""
