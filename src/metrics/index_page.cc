#include "metrics/index_page.h"

namespace klag::metrics {
namespace {

constexpr const char* kPage = R"html(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>klag-exporter</title>
<link rel="icon" href="data:,">
<style>
  :root { --bg:#f7f8fa; --card:#fff; --line:#dde1e6; --text:#1d2430; --muted:#667085;
          --ok:#1a7f37; --warn:#b26b00; --bad:#c62828; --info:#1f5fbf; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; background: var(--bg); color: var(--text); }
  header { display: flex; align-items: baseline; gap: 1.5em; padding: .8em 1.5em; background: #18202c; color: #fff; }
  header h1 { margin: 0; font-size: 1.25em; }
  header a { color: #b9c6d8; margin-right: 1em; }
  header .meta { margin-left: auto; color: #b9c6d8; font-size: .9em; }
  main { padding: 1em 1.5em; }
  .clusters { display: flex; flex-wrap: wrap; gap: .8em; margin-bottom: 1em; }
  .cluster { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .6em .9em; min-width: 16em; }
  .cluster .name { font-weight: 600; }
  .cluster .detail { color: var(--muted); font-size: .9em; }
  .cluster .error { color: var(--bad); font-size: .9em; max-width: 40em; overflow-wrap: anywhere; }
  .toolbar { display: flex; gap: 1em; align-items: center; margin-bottom: .6em; }
  #filter { padding: .4em .6em; width: 22em; border: 1px solid var(--line); border-radius: 4px; font: inherit; }
  #count { color: var(--muted); }
  table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
  th, td { padding: .35em .7em; border-bottom: 1px solid var(--line); text-align: left; white-space: nowrap; }
  th { background: #eef1f5; font-weight: 600; user-select: none; }
  th.sortable { cursor: pointer; }
  th.sorted::after { content: " \25BC"; font-size: .75em; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.group { cursor: pointer; }
  tr.group:hover { background: #f2f6fc; }
  tr.group.open { background: #e8f0fb; }
  tr.detail > td { background: #fafbfc; padding: .5em 1em 1em 2.5em; }
  table.partitions { width: auto; min-width: 60%; }
  .badge { display: inline-block; padding: 0 .5em; border-radius: 9px; font-size: .85em; font-weight: 600; border: 1px solid; }
  .s-ok, .s-up { color: var(--ok); } .s-warn, .s-stale, .s-unknown, .s-starting { color: var(--warn); }
  .s-stall, .s-stop, .s-rewind, .s-down { color: var(--bad); }
  .flag { color: var(--bad); font-weight: 600; margin-right: .6em; }
  .flag.compaction { color: var(--info); }
  .muted { color: var(--muted); }
  #error { color: var(--bad); margin: .5em 0; }
</style>
</head>
<body>
<header>
  <h1>klag-exporter</h1>
  <nav><a href="/metrics">/metrics</a><a href="/api/v1/groups">/api/v1/groups</a><a href="/health">/health</a><a href="/ready">/ready</a><a href="/leader">/leader</a></nav>
  <span class="meta" id="updated">loading…</span>
</header>
<main>
  <noscript>This page needs JavaScript; the same data is at <a href="/api/v1/groups">/api/v1/groups</a> and <a href="/metrics">/metrics</a>.</noscript>
  <div id="error"></div>
  <section class="clusters" id="clusters"></section>
  <div class="toolbar">
    <input id="filter" type="search" placeholder="Filter groups, topics, clusters…" autocomplete="off">
    <span id="count"></span>
  </div>
  <table id="groups">
    <thead><tr>
      <th data-key="cluster" class="sortable">cluster</th>
      <th data-key="group" class="sortable">group</th>
      <th>state</th>
      <th class="num">members</th>
      <th data-key="status" class="sortable">status</th>
      <th data-key="lag" class="sortable num">total lag</th>
      <th data-key="lag_seconds" class="sortable num">max time lag</th>
      <th>flags</th>
    </tr></thead>
    <tbody></tbody>
  </table>
</main>
<script>
"use strict";
const REFRESH_MS = 5000;
const SEVERITY = { ok: 0, unknown: 1, warn: 2, stall: 3, stop: 4, rewind: 5 };
const state = { data: null, sortKey: "lag", open: new Set(), filter: "" };

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}
function num(v) { return v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"); }
function duration(s) {
  if (s === null || s === undefined) return "–";
  if (s === "+Inf") return "never";
  if (s < 1) return s.toFixed(2) + " s";
  if (s < 120) return s.toFixed(1) + " s";
  if (s < 7200) return (s / 60).toFixed(1) + " min";
  if (s < 172800) return (s / 3600).toFixed(1) + " h";
  return (s / 86400).toFixed(1) + " d";
}
function rate(v) { return v === null || v === undefined ? "–" : v.toFixed(1) + "/s"; }
function badge(text) { return el("span", { class: "badge s-" + text }, text); }
function key(c, g) { return c + "\u0000" + g; }

function rows() {
  const out = [];
  for (const c of state.data.clusters) {
    for (const g of c.groups) out.push({ cluster: c.name, g });
  }
  const f = state.filter.toLowerCase();
  const shown = f ? out.filter(r => r.cluster.toLowerCase().includes(f) || r.g.group.toLowerCase().includes(f) ||
                                     r.g.partitions.some(p => p.topic.toLowerCase().includes(f))) : out;
  const by = {
    lag: r => -(r.g.sum_lag ?? -1),
    lag_seconds: r => -(r.g.max_lag_seconds ?? -1),
    status: r => -(SEVERITY[r.g.status] ?? -1),
    cluster: r => r.cluster,
    group: r => r.g.group,
  }[state.sortKey];
  shown.sort((a, b) => {
    const x = by(a), y = by(b);
    if (x < y) return -1;
    if (x > y) return 1;
    return a.g.group < b.g.group ? -1 : a.g.group > b.g.group ? 1 : 0;
  });
  return { shown, total: out.length };
}

function partitionTable(g) {
  const head = el("tr", {}, ...["topic", "partition", "committed", "end offset", "lag", "time lag", "status",
                                "consume rate", "catch-up", "member"].map((h, i) => el("th", { class: i >= 1 && i <= 5 || i === 7 || i === 8 ? "num" : "" }, h)));
  const body = el("tbody");
  for (const p of g.partitions) {
    const flags = [];
    if (p.data_loss) flags.push(el("span", { class: "flag" }, "data loss (" + num(p.messages_lost) + ")"));
    if (p.compaction_detected) flags.push(el("span", { class: "flag compaction" }, "compacted"));
    body.append(el("tr", { class: "partition", "data-topic": p.topic, "data-partition": String(p.partition) },
      el("td", {}, p.topic), el("td", { class: "num" }, p.partition), el("td", { class: "num" }, num(p.committed)),
      el("td", { class: "num" }, num(p.latest)), el("td", { class: "num lag" }, num(p.lag)),
      el("td", { class: "num" }, duration(p.lag_seconds)),
      el("td", {}, p.status ? badge(p.status) : "–", ...flags),
      el("td", { class: "num" }, rate(p.consume_rate)), el("td", { class: "num" }, duration(p.catchup_seconds)),
      el("td", { class: "muted" }, p.client_id ? p.client_id + " " + p.member_host : "–")));
  }
  return el("table", { class: "partitions" }, el("thead", {}, head), body);
}

function renderClusters() {
  const box = document.getElementById("clusters");
  box.replaceChildren();
  for (const c of state.data.clusters) {
    const s = !c.first_cycle_done ? "starting" : c.up ? "up" : c.stale ? "stale" : "down";
    const ago = c.last_success_unix_seconds ? duration(Math.max(0, Date.now() / 1000 - c.last_success_unix_seconds)) + " ago" : "never";
    box.append(el("div", { class: "cluster", "data-cluster": c.name },
      el("div", {}, el("span", { class: "name" }, c.name), " ", badge(s)),
      el("div", { class: "detail" }, "last good cycle " + ago + " · cycle " + duration(c.last_cycle_seconds) +
                                     " · " + c.groups.length + " groups"),
      c.error ? el("div", { class: "error" }, c.error) : null));
  }
}

function renderGroups() {
  const { shown, total } = rows();
  const tbody = document.querySelector("#groups tbody");
  tbody.replaceChildren();
  for (const { cluster, g } of shown) {
    const k = key(cluster, g.group);
    const open = state.open.has(k);
    const flags = [];
    if (g.data_loss) flags.push(el("span", { class: "flag" }, "data loss"));
    if (g.compaction_detected) flags.push(el("span", { class: "flag compaction" }, "compaction"));
    const tr = el("tr", { class: "group" + (open ? " open" : ""), "data-cluster": cluster, "data-group": g.group },
      el("td", {}, cluster), el("td", {}, g.group), el("td", {}, g.state),
      el("td", { class: "num" }, num(g.members)), el("td", {}, g.status ? badge(g.status) : "–"),
      el("td", { class: "num lag" }, num(g.sum_lag)), el("td", { class: "num" }, duration(g.max_lag_seconds)),
      el("td", {}, ...flags));
    tr.addEventListener("click", () => {
      if (state.open.has(k)) state.open.delete(k); else state.open.add(k);
      renderGroups();
    });
    tbody.append(tr);
    if (open) tbody.append(el("tr", { class: "detail" }, el("td", { colspan: "8" }, partitionTable(g))));
  }
  document.getElementById("count").textContent = shown.length === total ? total + " groups" : shown.length + " of " + total + " groups";
  for (const th of document.querySelectorAll("#groups th")) th.classList.toggle("sorted", th.dataset.key === state.sortKey);
}

let inFlight = false;
async function refresh() {
  if (inFlight) return;  // a slow answer must not be overwritten by an older one
  inFlight = true;
  try {
    const res = await fetch("/api/v1/groups", { cache: "no-store" });
    if (!res.ok) throw new Error("HTTP " + res.status);
    state.data = await res.json();
    document.getElementById("error").textContent = state.data.leader ? "" : "This replica is a standby: the leader serves the data.";
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    renderClusters();
    renderGroups();
  } catch (e) {
    document.getElementById("error").textContent = "Cannot load /api/v1/groups: " + e.message;
  } finally {
    inFlight = false;
  }
}

document.getElementById("filter").addEventListener("input", e => { state.filter = e.target.value; if (state.data) renderGroups(); });
for (const th of document.querySelectorAll("#groups th.sortable")) {
  th.addEventListener("click", () => { state.sortKey = th.dataset.key; if (state.data) renderGroups(); });
}
refresh();
setInterval(refresh, REFRESH_MS);
</script>
</body>
</html>
)html";

}  // namespace

const std::shared_ptr<const std::string>& index_page() {
  static const auto page = std::make_shared<const std::string>(kPage);
  return page;
}

}  // namespace klag::metrics
