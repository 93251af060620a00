"""The status page: one self-contained HTML document (inline CSS, SVG and script; no CDN).

The topology is drawn server-side (:func:`strom.web.svg.to_svg`) and its Mermaid text is
embedded too (to paste into Markdown or mermaid.live). A small inline script polls
``/api/status`` every second and fills the instance summary and the task, store and
restoration tables; it builds the tables with DOM calls (text only, never markup from data).
"""

from __future__ import annotations

import re
from html import escape

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>strom · __APP__</title>
<style>
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--bg:#ffffff;--soft:#f6f8fa;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);
  background:var(--bg)}
header{display:flex;align-items:baseline;gap:14px;padding:14px 22px;
  border-bottom:1px solid var(--line);background:var(--soft)}
header h1{font-size:18px;margin:0}
header .sub{color:var(--muted)}
main{padding:8px 22px 30px}
h2{font-size:15px;margin:22px 0 8px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;
  background:#e5e7eb}
.badge.running{background:#dcfce7;color:#166534}.badge.rebalancing{background:#fef3c7;color:#92400e}
.badge.stopped,.badge.error{background:#fee2e2;color:#991b1b}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 12px;background:var(--bg)}
.card .k{color:var(--muted);font-size:12px}
.card .v{font-size:18px;font-weight:600;white-space:nowrap}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.parts div{white-space:nowrap;font-size:12px;
  font-family:ui-monospace,SFMono-Regular,Menlo,monospace}
.bar{position:relative;height:14px;width:160px;background:#e5e7eb;border-radius:7px;overflow:hidden;
  display:inline-block;vertical-align:middle}
.bar span{position:absolute;left:0;top:0;bottom:0;background:var(--accent)}
.muted{color:var(--muted)}
.layout{display:grid;grid-template-columns:minmax(0,1fr);gap:0 28px}
@media (min-width:1100px){.layout{grid-template-columns:minmax(0,max-content) minmax(0,1fr)}}
.diagram{text-align:center;overflow:auto;border:1px solid var(--line);border-radius:8px;
  padding:8px;background:#fff}
pre{background:var(--soft);padding:10px;border-radius:6px;overflow:auto;font-size:12px}
#error{color:#991b1b;font-weight:600}
footer{padding:10px 22px;color:var(--muted);border-top:1px solid var(--line);font-size:12px}
footer a{color:var(--accent)}
</style>
</head>
<body>
<header>
  <h1>strom · <span id="app-id">__APP__</span></h1>
  <span id="state" class="badge">loading</span>
  <span class="sub">member <span id="member">…</span> · generation <span id="generation">…</span>
    · <span id="members">…</span> member(s) · server <span id="server">…</span></span>
  <span id="error"></span>
</header>
<main>
<div class="cards">
  <div class="card"><div class="k">records processed</div>
    <div class="v" id="processed">&ndash;</div></div>
  <div class="card"><div class="k">throughput</div>
    <div class="v" id="throughput">&ndash;</div></div>
  <div class="card"><div class="k">consumer lag</div><div class="v" id="lag">&ndash;</div></div>
  <div class="card"><div class="k">end-to-end latency</div>
    <div class="v" id="e2e">&ndash;</div></div>
  <div class="card"><div class="k">commits</div><div class="v" id="commits">&ndash;</div></div>
  <div class="card"><div class="k">commit latency (last / avg)</div>
    <div class="v" id="commit-latency">&ndash;</div></div>
</div>

<div class="layout">
<section>
<h2>Topology</h2>
<div class="diagram">__SVG__</div>
<details><summary>Mermaid source (<a href="/api/topology">/api/topology</a>)</summary>
<pre id="mermaid">__MERMAID__</pre></details>
</section>
<section>
<h2>Tasks</h2>
<table id="tasks"><thead><tr><th>task</th><th>input partitions (committed · next · end)</th>
<th class="num">lag</th><th class="num">processed</th><th class="num">records/s</th>
<th class="num">dropped</th><th class="num">e2e latency</th><th class="num">stream time</th>
</tr></thead><tbody></tbody></table>

<h2>State stores</h2>
<table id="stores"><thead><tr><th>store</th><th>task</th><th>type</th>
<th class="num">entries</th><th class="num">on disk</th></tr></thead><tbody></tbody></table>

<h2>Restoration</h2>
<table id="restoration"><thead><tr><th>task</th><th>state</th><th>progress</th>
<th class="num">restored</th><th class="num">changelog records</th></tr></thead><tbody></tbody>
</table>

<h2>Standby tasks</h2>
<table id="standbys"><thead><tr><th>task</th><th class="num">applied</th>
<th class="num">lag</th></tr></thead><tbody></tbody></table>
</section>
</div>
</main>
<footer>JSON: <a href="/api/status">/api/status</a> · Prometheus: <a href="/metrics">/metrics</a>
 · queries: <code>/api/stores/&lt;store&gt;/&lt;key&gt;</code>
 · updated <span id="updated">never</span>
</footer>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const DASH = "\\u2013";
const num = (n) => n === null || n === undefined ? DASH : Number(n).toLocaleString("en-US");
const rate = (r) => r === null || r === undefined ? DASH :
  (r >= 100 ? Math.round(r).toLocaleString("en-US") : r.toFixed(1)) + "/s";
const ms = (v) => v === null || v === undefined ? DASH :
  v < 1000 ? Math.round(v) + " ms" : (v / 1000).toFixed(v < 10000 ? 2 : 1) + " s";
const secs = (s) => s === null || s === undefined ? DASH : ms(s * 1000);
const bytes = (b) => {
  if (b === null || b === undefined) return DASH;
  const u = ["B", "KiB", "MiB", "GiB", "TiB"]; let i = 0;
  while (b >= 1024 && i < u.length - 1) { b /= 1024; i++; }
  return (i ? b.toFixed(1) : b) + " " + u[i];
};
function cell(row, text, cls) {
  const td = document.createElement("td");
  if (cls) td.className = cls;
  if (text instanceof Node) td.appendChild(text); else td.textContent = text;
  row.appendChild(td);
  return td;
}
function fill(id, rows, build) {
  const body = document.querySelector("#" + id + " tbody");
  const fresh = document.createElement("tbody");
  for (const r of rows) {
    const tr = document.createElement("tr"); build(tr, r); fresh.appendChild(tr);
  }
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = cell(tr, "none yet", "muted");
    td.colSpan = document.querySelectorAll("#" + id + " thead th").length;
    fresh.appendChild(tr);
  }
  body.replaceWith(fresh);
}
function bar(progress) {
  const wrap = document.createElement("span");
  if (progress === null || progress === undefined) { wrap.textContent = "…"; return wrap; }
  wrap.className = "bar";
  const fillEl = document.createElement("span");
  fillEl.style.width = Math.round(progress * 100) + "%";
  wrap.appendChild(fillEl);
  wrap.title = Math.round(progress * 100) + "%";
  return wrap;
}
function render(s) {
  $("state").textContent = s.state; $("state").className = "badge " + s.state;
  $("member").textContent = s.member_id; $("generation").textContent = s.generation;
  $("members").textContent = s.members.length;
  $("server").textContent = s.application_server || "not set";
  $("processed").textContent = num(s.processed);
  $("throughput").textContent = rate(s.throughput);
  $("lag").textContent = num(s.lag);
  $("e2e").textContent = ms(s.e2e_latency_ms);
  $("commits").textContent = num(s.commits.count);
  $("commit-latency").textContent =
    secs(s.commits.last_latency_s) + " / " + secs(s.commits.avg_latency_s);
  fill("tasks", s.tasks, (tr, t) => {
    cell(tr, t.id);
    const parts = document.createElement("div"); parts.className = "parts";
    for (const p of t.partitions) {
      const d = document.createElement("div");
      d.textContent = p.topic + "[" + p.partition + "] " + num(p.committed) + " · " +
        num(p.processed) + " · " + num(p.end);
      parts.appendChild(d);
    }
    cell(tr, parts);
    cell(tr, num(t.lag), "num lag"); cell(tr, num(t.processed), "num");
    cell(tr, rate(t.throughput), "num throughput"); cell(tr, num(t.dropped), "num");
    cell(tr, ms(t.e2e_latency_ms), "num");
    const st = cell(tr, t.stream_time < 0 ? DASH :
      new Date(t.stream_time).toISOString().slice(11, 23), "num");
    if (t.stream_time >= 0) st.title = new Date(t.stream_time).toISOString();
  });
  const stores = [];
  for (const t of s.tasks) for (const st of t.stores) stores.push([t.id, st]);
  for (const st of s.global_stores) stores.push(["global", st]);
  fill("stores", stores, (tr, [task, st]) => {
    cell(tr, st.name); cell(tr, task);
    cell(tr, st.type + (st.persistent ? " · persistent" : " · in-memory"));
    cell(tr, num(st.entries), "num"); cell(tr, bytes(st.disk_bytes), "num");
  });
  const rest = s.pending_tasks.map((t) => [t.id, t.restoration])
    .concat(s.tasks.map((t) => [t.id, t.restoration]));
  fill("restoration", rest, (tr, [id, r]) => {
    cell(tr, id); cell(tr, r.state); cell(tr, bar(r.progress));
    cell(tr, num(r.restored), "num"); cell(tr, num(r.total), "num");
  });
  fill("standbys", s.standby_tasks || [], (tr, t) => {
    cell(tr, t.id); cell(tr, num(t.applied), "num"); cell(tr, num(t.lag), "num lag");
  });
}
async function poll() {
  try {
    const res = await fetch("/api/status", {cache: "no-store"});
    const body = await res.json();
    if (res.ok) { render(body); $("error").textContent = ""; }
    else { $("state").textContent = "stopped"; $("state").className = "badge stopped";
           $("error").textContent = body.error || res.statusText; }
    $("updated").textContent = new Date().toLocaleTimeString();
    document.body.dataset.loaded = "1";
  } catch (e) {
    $("state").textContent = "unreachable"; $("state").className = "badge error";
    $("error").textContent = String(e);
  }
}
poll();
setInterval(poll, 1000);
</script>
</body>
</html>
"""


def render_page(application_id: str, svg: str, mermaid: str) -> str:
    """The page of ``application_id`` with the topology drawn (``svg``) and as Mermaid text.

    >>> html = render_page("wordcount", "<svg></svg>", "flowchart TD")
    >>> "<svg></svg>" in html and "flowchart TD" in html and "/api/status" in html
    True
    """
    parts = {"__APP__": escape(application_id), "__MERMAID__": escape(mermaid), "__SVG__": svg}
    return re.sub("__APP__|__MERMAID__|__SVG__", lambda m: parts[m.group(0)], PAGE)
