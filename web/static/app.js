// app.js — the ccoin explorer and wallet: hash routing, live node state from
// the event stream (with polling as fallback), views, and the wallet UI.
// All DOM is built with h() and text nodes, never parsed from HTML strings, because block
// and transaction data come from the network.

import { Api, ApiError, humanError } from "./api.js";
import * as tx from "./ccoin-tx.js";
import { activity, blockTimeChart, tpsChart, WINDOW_MS } from "./charts.js";
import { viewValidators, refreshFinality, markBadge, mark } from "./validators.js";
import { verifyWallet, genesisPasteBox } from "./wallet-verify.js";

const api = new Api(document.body.dataset.api || "");
const params = new URLSearchParams(location.search);
// ?poll=ms shortens the refresh period (tests use it); bounded either way.
const POLL_MS = Math.min(Math.max(Number(params.get("poll")) || 3000, 200), 60000);
const MAX_BLOCKS = 50;
const ACCOUNT_TXS = 50; // transfers listed on an account page
// The event stream opens this long after the first render (default: three
// polls; ?stream_delay=ms overrides, up to a day). A stream is a request that
// never ends, and Chromium's headless --virtual-time-budget stops its clock
// while any request is open, so a capture (`chromium --headless
// --virtual-time-budget=5000 --screenshot URL`) finishes only if the budget
// runs out before the stream opens. Polling keeps the page current meanwhile.
const STREAM_DELAY_MS = params.has("stream_delay")
  ? Math.min(Math.max(Number(params.get("stream_delay")) || 0, 0), 86400000)
  : 3 * POLL_MS;
let streamAllowed = false;
const STORAGE_KEY = "ccoin.wallet.pkcs8";

// ---------------------------------------------------------------- helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null) continue;
      if (v === false && !(k in el)) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = String(v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k in el && !k.startsWith("data-") && !k.startsWith("aria-") && k !== "for" && k !== "list") el[k] = v;
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// fill replaces el's children, skipping null/false and flattening arrays
// (replaceChildren would print them as text).
function fill(el, ...children) {
  if (!el) return el;
  el.replaceChildren();
  append(el, children);
  return el;
}

function $(id) {
  return document.getElementById(id);
}

function setText(id, value, raw) {
  const el = $(id);
  if (!el) return;
  el.textContent = value === undefined || value === null || value === "" ? "—" : String(value);
  if (raw !== undefined) el.dataset.value = String(raw);
}

function has(v) {
  return v !== undefined && v !== null && v !== "";
}

function num(v) {
  if (typeof v === "bigint") return v;
  if (typeof v === "number" && Number.isFinite(v)) return v;
  if (typeof v === "string" && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

// fmtAmount groups digits (works for numbers and BigInts).
function fmtAmount(v) {
  if (!has(v)) return "—";
  return String(v).replace(/\B(?=(\d{3})+(?!\d))/g, "\u202f");
}

function shortHash(s, head = 8, tail = 6) {
  s = String(s || "");
  return s.length > head + tail + 1 ? `${s.slice(0, head)}…${s.slice(-tail)}` : s;
}

// toMs accepts unix milliseconds or seconds, so an API in either unit shows right.
function toMs(t) {
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n;
}

function fmtTime(t) {
  const ms = toMs(t);
  if (ms === undefined) return "—";
  return new Date(ms).toLocaleString();
}

function fmtAgo(t) {
  const ms = toMs(t);
  if (ms === undefined) return "—";
  const s = Math.round((Date.now() - ms) / 1000);
  if (s < 0) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

function link(kind, value, text, attrs = {}) {
  if (!has(value)) return h("span", { class: "muted", text: "—" });
  return h("a", { href: `#/${kind}/${value}`, class: "mono", title: String(value), ...attrs }, text ?? String(value));
}

function blockLink(ref, text, attrs) {
  return link("block", ref, text, attrs);
}
function txLink(id, short = true, attrs) {
  return link("tx", id, short ? shortHash(id) : id, attrs);
}
function addrLink(a, short = true, attrs) {
  return link("account", a, short ? shortHash(a, 8, 4) : a, attrs);
}

// kv renders a description list row; id goes on the value.
function kv(label, id, value) {
  const dd = h("dd", { id }, value);
  return [h("dt", { text: label }), dd];
}

function badge(state, text, id) {
  return h("span", { class: `badge badge-${state}`, id, "data-status": state, text: text || state });
}

function toast(msg, kind = "info") {
  const el = $("toast");
  el.textContent = msg;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 6000);
}

function errorText(e) {
  if (e instanceof ApiError) return e.human;
  return e && e.message ? e.message : String(e);
}

function errorBox(e, id = "view-error") {
  return h("div", { class: "notice notice-error", id, role: "alert", "data-code": e instanceof ApiError ? e.code : "" }, errorText(e));
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

// table builds a table whose cells carry data-label, so narrow screens can
// show each row as a small card.
function table(id, columns, rows, empty) {
  const thead = h("thead", null, h("tr", null, columns.map((c) => h("th", { scope: "col", text: c }))));
  const tbody = h("tbody");
  if (rows.length === 0) {
    tbody.append(h("tr", { class: "empty" }, h("td", { colSpan: columns.length, text: empty || "Nothing yet." })));
  }
  for (const r of rows) {
    const tr = h("tr", r.attrs || null);
    r.cells.forEach((cell, i) => tr.append(h("td", { "data-label": columns[i] }, cell)));
    tbody.append(tr);
  }
  return h("table", { id, class: "table" }, thead, tbody);
}

// ---------------------------------------------------------------- live state

const bus = new EventTarget();
const live = {
  status: null,
  blocks: [], // newest first
  stream: "connecting", // connecting | live | polling
  statusError: null,
};

function emit(kind) {
  bus.dispatchEvent(new Event(kind));
}

async function refreshStatus() {
  try {
    live.status = await api.status();
    live.statusError = null;
  } catch (e) {
    live.statusError = e;
  }
  emit("status");
  const top = live.blocks[0];
  const height = num(live.status?.height);
  if (height !== undefined && (!top || Number(top.number) !== Number(height))) await refreshBlocks();
}

let refreshingBlocks = null;
function refreshBlocks() {
  // Coalesce overlapping refreshes (events and polls can both ask).
  if (!refreshingBlocks) {
    refreshingBlocks = (async () => {
      try {
        live.blocks = (await api.blocks(20)).filter((b) => b && typeof b === "object");
        emit("blocks");
      } catch {
        /* the status line already reports the node as unreachable */
      } finally {
        refreshingBlocks = null;
      }
    })();
  }
  return refreshingBlocks;
}

// ---------------------------------------------------------------- chart history

// history keeps {number, time, tx_count} of the blocks in the charts' window
// (the last WINDOW_MS of the chain), by number, fed by the block list.
const history = new Map();
let historyLoad = null;

function remember(blocks) {
  for (const b of blocks) {
    if (!b || !has(b.number) || !has(b.time)) continue;
    const count = Array.isArray(b.transactions) ? b.transactions.length : Number(b.tx_count) || 0;
    history.set(Number(b.number), { number: Number(b.number), time: b.time, tx_count: count });
  }
  const height = num(live.status?.height);
  let newest = 0;
  for (const h of history.values()) newest = Math.max(newest, toMs(h.time) || 0);
  for (const [n, h] of history) {
    // Older than the window (with a little slack), or above a head that a
    // reorganisation lowered.
    if ((toMs(h.time) || 0) < newest - WINDOW_MS - 60000 || (height !== undefined && n > Number(height))) history.delete(n);
  }
}

// loadHistory fetches the window's blocks once, 100 at a time (without
// their transactions), newest page first.
function loadHistory() {
  if (!historyLoad) {
    historyLoad = (async () => {
      try {
        let page = (await api.request("/blocks?limit=100&txs=false")).blocks || [];
        remember(page);
        for (let i = 0; i < 5 && page.length; i++) {
          const lowest = Math.min(...page.map((b) => Number(b.number)));
          const newest = Math.max(...[...history.values()].map((h) => toMs(h.time) || 0));
          const oldest = Math.min(...[...history.values()].map((h) => toMs(h.time) || Infinity));
          if (lowest <= 1 || newest - oldest >= WINDOW_MS) break;
          const from = Math.max(1, lowest - 100);
          page = (await api.request(`/blocks?from=${from}&limit=${lowest - from}&txs=false`)).blocks || [];
          remember(page);
        }
      } catch {
        /* the charts show what the block list brings */
      }
      emit("history");
    })();
  }
  return historyLoad;
}

function onHead(block) {
  if (!block || !has(block.number)) return;
  const n = Number(block.number);
  if (live.status) {
    if (has(live.status.height) && n < Number(live.status.height)) {
      // A lower head means a reorganisation: reload everything.
      refreshStatus();
      return;
    }
    live.status.height = block.number;
    live.status.head = block.id;
  }
  const top = live.blocks[0];
  if (!top || Number(top.number) === n - 1) {
    live.blocks = [block, ...live.blocks.filter((b) => Number(b.number) !== n)].slice(0, MAX_BLOCKS);
  } else {
    refreshBlocks();
  }
  emit("status");
  emit("blocks");
}

function onFinalized(block) {
  if (!block || !has(block.number)) return;
  const n = Number(block.number);
  if (live.status) {
    live.status.finalized_height = block.number;
    live.status.finalized = block.id;
  }
  for (const b of live.blocks) if (Number(b.number) <= n) b.finalized = true;
  emit("status");
  emit("blocks");
}

function parseEvent(ev) {
  try {
    const d = JSON.parse(ev.data);
    return d && typeof d === "object" ? d.block || d : null;
  } catch {
    return null;
  }
}

let stream = null;
let streamRetry = 0;

// stopStream releases the stream's connection. Browsers allow only six
// HTTP/1.1 connections per host, so a hidden tab or a page kept in the
// back-forward cache must not hold one, or other tabs of the explorer stall.
function stopStream() {
  clearTimeout(streamRetry);
  if (stream) {
    stream.close();
    stream = null;
  }
}

function startStream() {
  if (!streamAllowed || stream || document.hidden) return;
  clearTimeout(streamRetry);
  if (!("EventSource" in window)) {
    live.stream = "polling";
    emit("stream");
    return;
  }
  try {
    stream = new EventSource(api.url("/events"));
  } catch {
    live.stream = "polling";
    emit("stream");
    return;
  }
  stream.addEventListener("open", () => {
    live.stream = "live";
    emit("stream");
  });
  stream.addEventListener("head", (ev) => onHead(parseEvent(ev)));
  stream.addEventListener("finalized", (ev) => onFinalized(parseEvent(ev)));
  stream.addEventListener("reorg", () => {
    refreshStatus();
    refreshBlocks();
  });
  stream.addEventListener("error", () => {
    // CONNECTING means the browser retries by itself; CLOSED means it gave
    // up (no stream on this node): polling carries on, and we try again later.
    live.stream = "polling";
    emit("stream");
    if (stream && stream.readyState === EventSource.CLOSED) {
      stream = null;
      streamRetry = setTimeout(startStream, 30000);
    }
  });
}

// firstRender settles once the first status and blocks have been fetched
// and drawn (or failed to be).
let firstRenderDone;
const firstRender = new Promise((resolve) => (firstRenderDone = resolve));

async function pollLoop() {
  for (;;) {
    // A hidden tab stops asking; it catches up when shown again.
    if (!document.hidden) await refreshStatus();
    requestAnimationFrame(() => firstRenderDone());
    await sleep(POLL_MS);
  }
}

function watchVisibility() {
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) {
      stopStream();
    } else {
      startStream();
      refreshStatus();
    }
  });
  window.addEventListener("pagehide", stopStream);
  window.addEventListener("pageshow", (ev) => {
    if (ev.persisted) {
      startStream();
      refreshStatus();
    }
  });
}

function renderStrip() {
  const s = live.status;
  const dot = $("live-dot");
  let state = live.stream;
  let text = { connecting: "Connecting…", live: "Live", polling: "Polling" }[state];
  if (live.statusError) {
    state = "down";
    text = "Node unreachable";
  }
  dot.dataset.state = state;
  $("live-strip").dataset.error = live.statusError ? `${live.statusError.code || ""} ${live.statusError.message || ""}`.trim() : "";
  $("live-text").textContent = text;
  $("live-strip").dataset.stream = live.stream;
  if (s) {
    const a = $("node-address");
    a.textContent = has(s.address) ? shortHash(s.address, 8, 4) : "—";
    a.title = s.address || "";
    setText("node-network", [has(s.network_id) ? `network ${s.network_id}` : null, s.type].filter(Boolean).join(" · "));
    setText("node-version", s.version);
  }
}

function blocksPerMinute(blocks) {
  const times = blocks.map((b) => toMs(b.time)).filter((t) => t !== undefined);
  if (times.length < 2) return undefined;
  const span = Math.max(...times) - Math.min(...times);
  if (span <= 0) return undefined;
  return ((times.length - 1) * 60000) / span;
}

// ui hands validators.js the DOM helpers, so it builds DOM the same way.
function ui() {
  return { h, fill, table, addrLink, blockLink, badge, errorBox, api, sleep, shortHash, kv, setText, $ };
}

// ---------------------------------------------------------------- router

let current = null; // {controller}

function route() {
  const hash = location.hash || "#/";
  const parts = hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (current) current.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const ctx = {
    signal: controller.signal,
    on(kind, fn) {
      bus.addEventListener(kind, fn);
      controller.signal.addEventListener("abort", () => bus.removeEventListener(kind, fn));
    },
  };
  const view = $("view");
  fill(view);
  let name = "dashboard";
  const [kind, arg] = parts;
  if (!kind) viewDashboard(view, ctx);
  else if (kind === "block" && arg) (name = "block"), viewBlock(view, ctx, arg);
  else if (kind === "tx" && arg) (name = "tx"), viewTx(view, ctx, arg.toLowerCase());
  else if (kind === "account" && arg) (name = "account"), viewAccount(view, ctx, arg.toLowerCase());
  else if (kind === "wallet") (name = "wallet"), viewWallet(view, ctx);
  else if (kind === "validators") (name = "validators"), viewValidators(view, ctx, ui(), POLL_MS);
  else {
    name = "missing";
    view.append(h("h1", { text: "Page not found" }), h("p", null, "Nothing lives at this address. ", h("a", { href: "#/", text: "Back to the explorer" })));
  }
  document.body.dataset.view = name;
  for (const a of document.querySelectorAll("[data-nav]")) {
    a.classList.toggle("active", a.dataset.nav === (name === "wallet" || name === "validators" ? name : "dashboard"));
  }
  if (controller.signal.aborted) return;
  window.scrollTo(0, 0);
}

// ---------------------------------------------------------------- search

async function search(q) {
  let s = q.trim().toLowerCase();
  if (s.startsWith("0x")) s = s.slice(2);
  if (!s) return;
  if (/^\d+$/.test(s)) {
    location.hash = `#/block/${s}`;
  } else if (/^[0-9a-f]{64}$/.test(s)) {
    // Block ids and transaction ids are both 64 hex: ask for a block first.
    try {
      await api.block(s);
      location.hash = `#/block/${s}`;
      return;
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) return toast(errorText(e), "error");
    }
    try {
      await api.tx(s);
      location.hash = `#/tx/${s}`;
    } catch (e) {
      toast(e instanceof ApiError && e.status === 404 ? "No block or transaction with that id on this node." : errorText(e), "error");
    }
  } else if (/^[0-9a-f]{40}$/.test(s)) {
    location.hash = `#/account/${s}`;
  } else {
    toast("Type a block number, a block or transaction id (64 hex characters) or an address (40 hex characters).", "error");
  }
}

// ---------------------------------------------------------------- dashboard

function stat(label, id, extra) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label", text: label }), h("div", { class: "stat-value", id, text: "—" }), extra);
}

function viewDashboard(view, ctx) {
  view.append(
    h("h1", { class: "sr-only", text: "Dashboard" }),
    h(
      "section",
      { class: "stats", id: "stats", "aria-label": "Node status" },
      stat("Height", "height"),
      stat("Finalized", "finalized-height"),
      stat("Blocks / min", "bpm"),
      stat("Slot leader", "leader", h("div", { class: "stat-sub" }, "slot ", h("span", { id: "slot", text: "—" }))),
      stat("Next leader", "next-leader"),
      stat("Peers", "peers"),
      stat("Pool", "pool-size", h("div", { class: "stat-sub", id: "pool-detail" })),
      stat("Sync", "sync"),
    ),
    h(
      "section",
      { class: "card", id: "activity" },
      h("div", { class: "card-head" }, h("h2", { text: "Activity" }), h("span", { class: "muted small", id: "activity-note" })),
      h(
        "div",
        { class: "charts" },
        h("figure", { class: "chart-box" }, h("figcaption", { text: "Transfers per second" }), h("div", { id: "chart-tps-wrap" })),
        h("figure", { class: "chart-box" }, h("figcaption", { text: "Block time" }), h("div", { id: "chart-blocktime-wrap" })),
      ),
    ),
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", { text: "Latest blocks" }), h("span", { class: "muted small", id: "blocks-note" })),
      h("div", { id: "latest-blocks-wrap" }),
    ),
    h(
      "section",
      { class: "card" },
      h("div", { class: "card-head" }, h("h2", { text: "Waiting in the pool" })),
      h("div", { id: "pool-wrap" }, h("p", { class: "muted", text: "Loading…" })),
    ),
    h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { text: "Chain" })), h("dl", { class: "kv" }, kv("Chain id", "chain-id", "—"), kv("Node type", "node-type", "—"), kv("Head", "head", "—"), kv("Genesis time", "genesis-time", "—"), kv("Slot length", "interval", "—"))),
  );

  const renderStats = () => {
    const s = live.status;
    if (live.statusError && !s) {
      if (!$("view-error")) view.prepend(errorBox(live.statusError));
      return;
    }
    $("view-error")?.remove();
    if (!s) return;
    setText("height", s.height, s.height);
    setText("finalized-height", s.finalized_height, s.finalized_height);
    setText("slot", s.slot, s.slot);
    for (const [id, key] of [["leader", "leader"], ["next-leader", "next_leader"]]) {
      const el = $(id);
      fill(el, has(s[key]) ? addrLink(s[key]) : "—");
      el.dataset.value = s[key] || "";
    }
    const peers = Array.isArray(s.peers) ? s.peers.length : s.peers;
    setText("peers", peers, peers);
    const pending = num(s.pool_pending);
    const queued = num(s.pool_queued);
    const total = pending !== undefined || queued !== undefined ? Number(pending || 0) + Number(queued || 0) : undefined;
    setText("pool-size", total, total);
    setText("pool-detail", has(pending) || has(queued) ? `${pending ?? 0} pending · ${queued ?? 0} queued` : "");
    setText("sync", s.sync, s.sync);
    $("sync").dataset.state = s.sync || "";
    setText("chain-id", s.chain_id);
    setText("node-type", s.type);
    fill($("head"), has(s.head) ? blockLink(s.head, s.head) : "—");
    setText("genesis-time", has(s.genesis_time) ? fmtTime(s.genesis_time) : "");
    setText("interval", has(s.interval_ms) ? `${Number(s.interval_ms) / 1000} s` : "");
  };

  const renderBlocks = () => {
    const blocks = live.blocks;
    const bpm = blocksPerMinute(blocks);
    setText("bpm", bpm === undefined ? "" : bpm.toFixed(bpm < 10 ? 1 : 0), bpm ?? "");
    setText("blocks-note", blocks.length ? `${blocks.length} newest` : "");
    const fin = num(live.status?.finalized_height);
    const rows = blocks.map((b) => {
      const final = b.finalized === true || (fin !== undefined && Number(b.number) <= Number(fin));
      const count = Array.isArray(b.transactions) ? b.transactions.length : b.tx_count;
      return {
        cells: [
          blockLink(b.number, `#${b.number}`),
          blockLink(b.id, shortHash(b.id)),
          addrLink(b.sealer),
          has(count) ? String(count) : "—",
          h("span", { title: fmtTime(b.time), text: fmtAgo(b.time) }),
          markBadge(ui(), b, final),
        ],
        attrs: { "data-test": "block-row", "data-number": b.number, "data-id": b.id, "data-finality": mark(b, final) },
      };
    });
    fill($("latest-blocks-wrap"), table("latest-blocks", ["Block", "Id", "Sealer", "Txs", "Age", "Finality"], rows, "No blocks yet."));
  };

  const renderPool = async () => {
    try {
      const p = await api.pool(10, { signal: ctx.signal });
      const txs = Array.isArray(p.transactions) ? p.transactions : [];
      const rows = txs.map((t) => ({
        attrs: { "data-test": "pool-tx", "data-id": t.id },
        cells: [txLink(t.id), addrLink(t.from), addrLink(t.to), fmtAmount(t.amount), has(t.nonce) ? String(t.nonce) : "—"],
      }));
      fill($("pool-wrap"), table("pool-txs", ["Transaction", "From", "To", "Amount", "Nonce"], rows, "The pool is empty."));
    } catch (e) {
      if (e.name !== "AbortError") fill($("pool-wrap"), h("p", { class: "muted", text: errorText(e) }));
    }
  };

  const renderCharts = () => {
    remember(live.blocks);
    const series = activity([...history.values()]);
    const interval = num(live.status?.interval_ms);
    fill($("chart-tps-wrap"), tpsChart(series));
    fill($("chart-blocktime-wrap"), blockTimeChart(series, WINDOW_MS, interval === undefined ? 0 : Number(interval)));
    const n = series.blockTimes.length;
    const avg = n ? series.blockTimes.reduce((a, p) => a + p.seconds, 0) / n : undefined;
    const span = series.end === undefined ? "" : `last ${Math.round(WINDOW_MS / 60000)} minutes of the chain, to ${fmtTime(series.end)}`;
    setText("activity-note", [span, `${series.totalTxs} transfers`, avg === undefined ? null : `${avg.toFixed(2)} s per block on average`].filter(Boolean).join(" · "));
    $("activity").dataset.blocks = String(history.size);
  };

  // Justified marks come from GET /finality, refreshed with the blocks.
  const renderMarks = async () => {
    if (await refreshFinality(api, ctx.signal)) renderBlocks();
  };
  renderStats();
  renderBlocks();
  renderCharts();
  renderPool();
  loadHistory();
  ctx.on("status", renderStats);
  ctx.on("blocks", renderBlocks);
  ctx.on("blocks", renderCharts);
  ctx.on("history", renderCharts);
  renderMarks();
  ctx.on("blocks", renderMarks);
  ctx.on("blocks", renderPool);
  // Ages drift even when nothing happens.
  const t = setInterval(renderBlocks, 10000);
  ctx.signal.addEventListener("abort", () => clearInterval(t));
}

// ---------------------------------------------------------------- block

function txRows(txs, highlight) {
  return txs.map((t) => ({
    attrs: { "data-test": "tx-row", "data-id": t.id },
    cells: [
      txLink(t.id),
      highlight && t.from === highlight ? h("strong", { class: "mono", text: "this account" }) : addrLink(t.from),
      highlight && t.to === highlight ? h("strong", { class: "mono", text: "this account" }) : addrLink(t.to),
      fmtAmount(t.amount),
      h("span", { class: "data-snippet", text: has(t.data) ? String(t.data).slice(0, 80) : "" }),
    ],
  }));
}

async function viewBlock(view, ctx, ref) {
  view.append(h("h1", null, "Block ", h("span", { class: "mono", text: /^\d+$/.test(ref) ? `#${ref}` : shortHash(ref) })), h("p", { class: "muted", text: "Loading…" }));
  let b;
  try {
    b = await api.block(ref, { signal: ctx.signal });
  } catch (e) {
    if (e.name === "AbortError") return;
    fill(view, h("h1", { text: "Block" }), errorBox(e));
    return;
  }
  const render = () => {
    const n = num(b.number);
    const fin = b.finalized === true || (num(live.status?.finalized_height) !== undefined && n !== undefined && Number(n) <= Number(live.status.finalized_height));
    const txs = Array.isArray(b.transactions) ? b.transactions : [];
    fill(view, 
      h(
        "div",
        { class: "title-row" },
        h("h1", null, "Block ", h("span", { id: "block-number", "data-value": b.number, text: has(b.number) ? String(b.number) : "?" })),
        markBadge(ui(), b, fin, "block-finalized", true),
      ),
      h(
        "nav",
        { class: "pager" },
        n !== undefined && Number(n) > 1 ? h("a", { id: "block-prev", href: `#/block/${Number(n) - 1}`, text: "← Previous" }) : null,
        n !== undefined ? h("a", { id: "block-next", href: `#/block/${Number(n) + 1}`, text: "Next →" }) : null,
      ),
      h(
        "section",
        { class: "card" },
        h(
          "dl",
          { class: "kv" },
          kv("Id", "block-id", h("span", { class: "mono", text: b.id || "—" })),
          kv("Parent", "block-parent", has(b.parent) ? blockLink(b.parent, b.parent) : "—"),
          kv("Slot", "block-slot", has(b.slot) ? String(b.slot) : "—"),
          kv("Time", "block-time", has(b.time) ? `${fmtTime(b.time)} (${fmtAgo(b.time)})` : "—"),
          kv("Sealer", "block-sealer", has(b.sealer) ? addrLink(b.sealer, false) : "— (genesis)"),
          kv("Reward", "block-reward", fmtAmount(b.reward)),
          kv("Difficulty", "block-difficulty", has(b.difficulty) ? String(b.difficulty) : "—"),
          kv("PoW nonce", "block-pow-nonce", has(b.pow_nonce) ? String(b.pow_nonce) : "—"),
          kv("Tx root", "block-tx-root", h("span", { class: "mono", text: b.tx_root || "—" })),
          kv("State root", "block-state-root", h("span", { class: "mono", text: b.state_root || "—" })),
          kv("Data", "block-data", h("span", { class: "data", text: has(b.data) ? String(b.data) : "" })),
          kv("Finality", "block-finality", fin ? "Final: this block can no longer be reverted." : mark(b, fin) === "justified" ? "Justified: a quorum of validators voted for it; final once the next epoch is justified from it." : "Not final yet: a quorum of validators has not voted it final."),
        ),
      ),
      h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Transactions ", h("span", { class: "muted", id: "block-tx-count", text: `(${has(b.tx_count) ? b.tx_count : txs.length})` }))), table("block-txs", ["Transaction", "From", "To", "Amount", "Data"], txRows(txs), "No transactions in this block.")),
    );
  };
  render();
  refreshFinality(api, ctx.signal).then(() => !ctx.signal.aborted && mark(b, false) === "justified" && render());
  // Watch finality until the block is final.
  ctx.on("status", async () => {
    if (b.finalized === true) return;
    const f = num(live.status?.finalized_height);
    if (f !== undefined && Number(f) >= Number(b.number)) {
      try {
        b = await api.block(b.id || ref, { signal: ctx.signal });
        render();
      } catch {
        /* keep what we show */
      }
    }
  });
}

// ---------------------------------------------------------------- transaction

const STATUS_WORDS = {
  pending: "Pending: waiting in the pool for a sealer",
  included: "Included in a block, not final yet",
  finalized: "Finalized: it can no longer be reverted",
};

function statusSteps(status) {
  const order = ["pending", "included", "finalized"];
  const at = order.indexOf(status);
  return h(
    "ol",
    { class: "steps", "aria-label": "Progress" },
    order.map((s, i) => h("li", { class: i < at ? "done" : i === at ? "now" : "", text: s })),
  );
}

async function viewTx(view, ctx, id) {
  view.append(h("h1", null, "Transaction"), h("p", { class: "mono wrap", text: id }), h("p", { class: "muted", id: "tx-loading", text: "Loading…" }));
  let misses = 0;
  for (;;) {
    let t;
    try {
      t = await api.tx(id, { signal: ctx.signal });
    } catch (e) {
      if (ctx.signal.aborted) return;
      // Just-sent transactions can take a moment to appear: retry a while.
      if (e instanceof ApiError && e.status === 404 && misses++ < 20) {
        fill(view, h("h1", { text: "Transaction" }), h("p", { class: "mono wrap", text: id }), errorBox(e), h("p", { class: "muted", text: "Checking again…" }));
        await sleep(POLL_MS, ctx.signal);
        continue;
      }
      fill(view, h("h1", { text: "Transaction" }), h("p", { class: "mono wrap", text: id }), errorBox(e));
      return;
    }
    if (ctx.signal.aborted) return;
    renderTx(view, t, id);
    if (t.status === "finalized") return;
    await sleep(POLL_MS, ctx.signal);
    if (ctx.signal.aborted) return;
  }
}

function renderTx(view, t, id) {
  const status = t.status || "unknown";
  const blockRef = has(t.block_number) ? t.block_number : t.block;
  fill(view, 
    h("div", { class: "title-row" }, h("h1", { text: "Transaction" }), badge(status, status, "tx-status")),
    h("p", { class: "mono wrap", id: "tx-id", text: t.id || id }),
    statusSteps(status),
    h("p", { class: "muted", id: "tx-status-text", text: STATUS_WORDS[status] || "" }),
    h(
      "section",
      { class: "card" },
      h(
        "dl",
        { class: "kv" },
        kv("Block", "tx-block", has(blockRef) ? blockLink(blockRef, has(t.block_number) ? `#${t.block_number}` : shortHash(t.block)) : "— (not in a block yet)"),
        kv("Confirmations", "tx-confirmations", has(t.confirmations) ? String(t.confirmations) : "—"),
        kv("From", "tx-from", addrLink(t.from, false)),
        kv("To", "tx-to", addrLink(t.to, false)),
        kv("Amount", "tx-amount", fmtAmount(t.amount)),
        kv("Nonce", "tx-nonce", has(t.nonce) ? String(t.nonce) : "—"),
        kv("Data", "tx-data", h("span", { class: "data", text: has(t.data) ? String(t.data) : "" })),
        kv("Time", "tx-time", fmtTime(t.time)),
        kv("Chain id", "tx-chain-id", h("span", { class: "mono", text: t.chain_id || "—" })),
        kv("Public key", "tx-public-key", h("details", null, h("summary", { text: "show" }), h("code", { class: "mono wrap block", text: t.public_key || "—" }))),
        kv("Signature", "tx-signature", h("details", null, h("summary", { text: "show" }), h("code", { class: "mono wrap block", text: t.signature || "—" }))),
      ),
    ),
  );
}

// ---------------------------------------------------------------- account

async function viewAccount(view, ctx, addr) {
  view.append(h("h1", { text: "Account" }), h("p", { class: "mono wrap", id: "account-address", text: addr }));
  if (!/^[0-9a-f]{40}$/.test(addr)) {
    view.append(errorBox(new ApiError("bad_address", "", 400)));
    return;
  }
  const info = h("section", { class: "card" }, h("p", { class: "muted", text: "Loading…" }));
  const txBox = h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", { text: "Recent transactions" }), h("span", { class: "muted small", id: "account-scan", text: "loading…" })));
  view.append(info, txBox);

  try {
    const a = await api.account(addr, { signal: ctx.signal });
    const next = has(a.next_nonce) ? a.next_nonce : has(a.nonce) ? BigInt(a.nonce) + 1n : undefined;
    fill(info, h("dl", { class: "kv" }, kv("Balance", "account-balance", h("strong", { "data-value": a.balance, text: fmtAmount(a.balance ?? 0) })), kv("Nonce", "account-nonce", has(a.nonce) ? String(a.nonce) : "—"), kv("Next nonce", "account-next-nonce", has(next) ? String(next) : "—")));
  } catch (e) {
    if (ctx.signal.aborted) return;
    if (e instanceof ApiError && e.status === 404) {
      fill(info, h("dl", { class: "kv" }, kv("Balance", "account-balance", h("strong", { "data-value": "0", text: "0" })), kv("Nonce", "account-nonce", "0"), kv("Next nonce", "account-next-nonce", "1")), h("p", { class: "muted", text: "This account has not appeared on the chain yet." }));
    } else {
      fill(info, errorBox(e));
    }
  }

  const found = [];
  try {
    const pool = await api.pool(200, { signal: ctx.signal });
    for (const t of Array.isArray(pool.transactions) ? pool.transactions : []) {
      if (t.from === addr || t.to === addr) found.push({ t, status: "pending" });
    }
  } catch {
    /* the pool is optional */
  }
  const pooled = found.length;
  let note;
  try {
    // The node's index by address: every canonical transfer of the account,
    // newest first, however old.
    const txs = await api.accountTxs(addr, ACCOUNT_TXS, { signal: ctx.signal });
    for (const t of txs) found.push({ t, status: t.status || "included", block: t.block_number });
    note = `${txs.length === ACCOUNT_TXS ? `the newest ${txs.length}` : txs.length} on the chain, ${pooled} waiting in the pool`;
  } catch (e) {
    if (ctx.signal.aborted) return;
    if (!(e instanceof ApiError && e.status === 404)) {
      setText("account-scan", "");
      txBox.append(errorBox(e, "account-txs-error"));
      return;
    }
    // A node without the index: look through the latest blocks instead.
    const scanned = await scanBlocks(addr, ctx, found);
    if (scanned === undefined) return;
    note = `${found.length} found in the latest ${scanned} blocks and the pool`;
  }
  if (ctx.signal.aborted) return;
  setText("account-scan", note);
  const rows = found.map(({ t, status, block }) => ({
    attrs: { "data-test": "account-tx", "data-id": t.id, "data-status": status },
    cells: [
      txLink(t.id),
      t.from === addr ? (t.to === addr ? "self" : "out") : "in",
      t.from === addr ? addrLink(t.to) : addrLink(t.from),
      fmtAmount(t.amount),
      has(block) ? blockLink(block, `#${block}`) : "—",
      badge(status),
    ],
  }));
  txBox.append(table("account-txs", ["Transaction", "Direction", "Counterparty", "Amount", "Block", "Status"], rows, "No transactions yet."));
}

// scanBlocks adds to found the transactions of addr in the latest 50 blocks,
// for nodes without an index by address; it returns how many blocks it
// read, or undefined once the view is gone.
async function scanBlocks(addr, ctx, found) {
  let blocks = [];
  try {
    blocks = await api.blocks(50, { signal: ctx.signal });
  } catch (e) {
    if (ctx.signal.aborted) return undefined;
  }
  // Lists may leave transactions out; fetch those blocks, a few at a time.
  const missing = blocks.filter((b) => !Array.isArray(b.transactions) && Number(b.tx_count) > 0);
  for (let i = 0; i < missing.length && !ctx.signal.aborted; i += 4) {
    await Promise.all(
      missing.slice(i, i + 4).map(async (b) => {
        try {
          const full = await api.block(b.id || b.number, { signal: ctx.signal });
          b.transactions = full.transactions;
        } catch {
          /* skip */
        }
      }),
    );
  }
  if (ctx.signal.aborted) return undefined;
  const fin = num(live.status?.finalized_height);
  for (const b of blocks) {
    for (const t of Array.isArray(b.transactions) ? b.transactions : []) {
      if (t.from === addr || t.to === addr) {
        const final = b.finalized === true || (fin !== undefined && Number(b.number) <= Number(fin));
        found.push({ t, status: final ? "finalized" : "included", block: b.number });
      }
    }
  }
  return blocks.length;
}

// ---------------------------------------------------------------- wallet

const wallet = {
  key: null, // {privateKey, publicKey, spki, address}
  remembered: false,
  lastNonce: new Map(), // address -> last nonce sent from this page (BigInt)
  sent: [], // newest first: {id, to, amount, status, confirmations, block_number, error}
};

function cryptoReady() {
  return window.isSecureContext && !!(window.crypto && window.crypto.subtle);
}

async function loadStoredWallet() {
  let pem = null;
  try {
    pem = localStorage.getItem(STORAGE_KEY);
  } catch {
    return;
  }
  if (!pem || !cryptoReady()) return;
  try {
    wallet.key = await tx.importPrivateKeyPEM(pem);
    wallet.remembered = true;
    emit("wallet");
  } catch {
    /* a damaged entry is ignored, not deleted: the person may want it back */
  }
}

async function rememberWallet(on) {
  try {
    if (on && wallet.key) localStorage.setItem(STORAGE_KEY, await tx.exportPrivateKeyPEM(wallet.key));
    else localStorage.removeItem(STORAGE_KEY);
    wallet.remembered = on && !!wallet.key;
  } catch {
    toast("This browser does not allow saving the key (storage is disabled or full).", "error");
    wallet.remembered = false;
  }
}

async function setWallet(key, remember) {
  wallet.key = key;
  await rememberWallet(remember);
  emit("wallet");
}

function trackSent(entry) {
  wallet.sent.unshift(entry);
  wallet.sent.length = Math.min(wallet.sent.length, 10);
  (async () => {
    let misses = 0;
    while (entry.status !== "finalized" && wallet.sent.includes(entry)) {
      await sleep(POLL_MS);
      try {
        const t = await api.tx(entry.id);
        entry.status = t.status || entry.status;
        entry.confirmations = t.confirmations;
        entry.block_number = t.block_number ?? entry.block_number;
        misses = 0;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404 && ++misses > 100) {
          entry.status = "dropped";
          entry.error = "The node no longer knows this transaction: it was dropped from the pool.";
        }
      }
      emit("sent");
      if (entry.status === "dropped") return;
    }
  })();
}

function viewWallet(view, ctx) {
  const render = () => {
    fill(view, h("h1", { text: "Wallet" }), ...walletBody(ctx));
    refreshWalletAccount(ctx);
  };
  render();
  ctx.on("wallet", render);
  ctx.on("sent", () => {
    renderSent();
    refreshWalletAccount(ctx);
  });
  ctx.on("blocks", () => refreshWalletAccount(ctx));
}

function walletBody(ctx) {
  const out = [
    h(
      "p",
      { class: "notice", id: "wallet-notice" },
      "Your private key is created and used only in this browser. It is never sent to the node or anywhere else: transactions are signed here and only the signed transaction is posted. The key lives in this page's memory and is lost when you close it, unless you tick “Remember” below (it is then stored unencrypted in this browser's local storage). Export it to keep a copy.",
    ),
  ];
  if (!cryptoReady()) {
    out.push(h("div", { class: "notice notice-error", id: "wallet-unavailable", role: "alert" }, "The wallet needs the browser's WebCrypto, which is only available on secure pages: open this node over https:// or on http://localhost. The explorer works without it."));
    return out;
  }
  if (!wallet.key) {
    const msg = h("p", { class: "message", id: "wallet-message", role: "status" });
    const remember = h("input", { type: "checkbox", id: "wallet-remember" });
    const pemBox = h("textarea", { id: "wallet-import-pem", rows: 6, spellcheck: false, placeholder: "-----BEGIN PRIVATE KEY-----\n…\n-----END PRIVATE KEY-----" });
    const file = h("input", { type: "file", id: "wallet-import-file", accept: ".pem,.key,text/plain,application/x-pem-file" });
    file.addEventListener("change", async () => {
      const f = file.files && file.files[0];
      if (!f) return;
      if (f.size > 20000) return fail(msg, "That file is too large to be a key.");
      pemBox.value = await f.text();
    });
    const create = h("button", { id: "wallet-create", type: "button", class: "primary", text: "Create a new key" });
    create.addEventListener("click", async () => {
      create.disabled = true;
      ok(msg, "Generating a 2048-bit RSA key…");
      try {
        await setWallet(await tx.generateWallet(), remember.checked);
      } catch (e) {
        fail(msg, errorText(e));
        create.disabled = false;
      }
    });
    const imp = h("button", { id: "wallet-import", type: "button", text: "Import key" });
    imp.addEventListener("click", async () => {
      imp.disabled = true;
      try {
        await setWallet(await tx.importPrivateKeyPEM(pemBox.value), remember.checked);
      } catch (e) {
        fail(msg, errorText(e));
        imp.disabled = false;
      }
    });
    out.push(
      h(
        "section",
        { class: "card" },
        h("h2", { text: "Start" }),
        h("label", { class: "check" }, remember, " Remember the key in this browser (stored unencrypted in local storage; anyone using this browser profile can read it)"),
        h("div", { class: "actions" }, create),
        h("h3", { text: "…or import an existing key" }),
        h("p", { class: "muted small", text: "An unencrypted PKCS#8 PEM (“BEGIN PRIVATE KEY”), e.g. the id_rsa that ccoin create-account writes without a passphrase." }),
        h("label", { for: "wallet-import-pem", class: "sr-only", text: "Private key PEM" }),
        pemBox,
        h("div", { class: "actions" }, file, imp),
        msg,
      ),
    );
    return out;
  }

  const k = wallet.key;
  const remember = h("input", { type: "checkbox", id: "wallet-remember", checked: wallet.remembered });
  remember.addEventListener("change", async () => {
    await rememberWallet(remember.checked);
    toast(wallet.remembered ? "The key is now stored in this browser." : "The key was removed from this browser's storage.");
  });
  const exportBox = h("div", { id: "wallet-export-box", hidden: true });
  const exp = h("button", { id: "wallet-export", type: "button", text: "Export private key" });
  exp.addEventListener("click", async () => {
    const pem = await tx.exportPrivateKeyPEM(k);
    const blob = new Blob([pem], { type: "application/x-pem-file" });
    const url = URL.createObjectURL(blob);
    ctx.signal.addEventListener("abort", () => URL.revokeObjectURL(url));
    fill(exportBox, 
      h("p", { class: "notice notice-warn", text: "Anyone who has this text can spend your coins. Keep it secret and safe." }),
      h("textarea", { id: "wallet-pem", rows: 8, readOnly: true, spellcheck: false, value: pem }),
      h("div", { class: "actions" }, h("a", { id: "wallet-download", class: "button", href: url, download: `ccoin-${k.address}.pem`, text: "Download .pem" })),
    );
    exportBox.hidden = false;
  });
  const forget = h("button", { id: "wallet-forget", type: "button", class: "danger", text: "Forget key" });
  // Two clicks instead of confirm(): no blocking dialog, same protection.
  forget.addEventListener("click", async () => {
    if (forget.dataset.armed !== "true") {
      forget.dataset.armed = "true";
      forget.textContent = "Really forget? Without an exported copy its coins are lost. Click again";
      return;
    }
    await rememberWallet(false);
    wallet.key = null;
    emit("wallet");
  });

  const to = h("input", { id: "send-to", name: "to", required: true, spellcheck: false, autocomplete: "off", placeholder: "40 hex characters", maxLength: 42, class: "mono" });
  const amount = h("input", { id: "send-amount", name: "amount", required: true, inputMode: "numeric", autocomplete: "off", placeholder: "0" });
  const data = h("textarea", { id: "send-data", name: "data", rows: 2, placeholder: "optional note, public on the chain" });
  const dataCount = h("span", { class: "muted small", id: "send-data-count", text: "0 / 1024 bytes" });
  data.addEventListener("input", () => (dataCount.textContent = `${tx.utf8(data.value).length} / 1024 bytes`));
  const submit = h("button", { id: "send-submit", type: "submit", class: "primary", text: "Sign and send" });
  const msg = h("p", { class: "message", id: "send-message", role: "status", "aria-live": "polite" });
  const form = h(
    "form",
    { id: "send-form", class: "form", novalidate: true },
    h("label", { for: "send-to", text: "To address" }),
    to,
    h("label", { for: "send-amount", text: "Amount (whole coins)" }),
    amount,
    h("label", { for: "send-data", text: "Data" }),
    data,
    dataCount,
    h("div", { class: "actions" }, submit),
    msg,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    submit.disabled = true;
    try {
      await send(to.value, amount.value, data.value, msg);
    } finally {
      submit.disabled = false;
    }
  });

  out.push(
    h(
      "section",
      { class: "card" },
      h("h2", { text: "Your account" }),
      h(
        "dl",
        { class: "kv" },
        kv("Address", "wallet-address-row", h("a", { id: "wallet-address", class: "mono wrap", href: `#/account/${k.address}`, "data-value": k.address, text: k.address })),
        kv("Balance", "wallet-balance", "…"),
        kv("Next nonce", "wallet-nonce", "…"),
        kv("Verified balance", "wallet-verified-row", h("span", { id: "wallet-verified", "data-state": "pending", text: "checking the final block's proof…" })),
        kv("Network genesis", "wallet-genesis-row", h("span", { id: "wallet-genesis", class: "mono wrap", title: "Compare this SHA-256 of the node's genesis.json with the one you were given: the verified balance trusts that file, not the node.", text: "…" })),
      ),
      genesisPasteBox(() => refreshWalletAccount(ctx)),
      h("label", { class: "check" }, remember, " Remember the key in this browser (unencrypted local storage)"),
      h("div", { class: "actions" }, exp, forget),
      exportBox,
    ),
    h("section", { class: "card" }, h("h2", { text: "Send coins" }), form),
    h("section", { class: "card", id: "send-result", hidden: wallet.sent.length === 0 }),
  );
  queueMicrotask(renderSent);
  return out;
}

function ok(el, text) {
  el.textContent = text;
  el.dataset.kind = "ok";
}
function fail(el, text, code) {
  el.textContent = text;
  el.dataset.kind = "error";
  if (code) el.dataset.code = code;
  else delete el.dataset.code;
}

async function accountNonce(address) {
  try {
    const a = await api.account(address);
    const next = has(a.next_nonce) ? BigInt(a.next_nonce) : BigInt(a.nonce ?? 0) + 1n;
    return { balance: a.balance ?? 0, next };
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return { balance: 0, next: 1n };
    throw e;
  }
}

let walletRefresh = 0;
async function refreshWalletAccount(ctx) {
  if (!wallet.key) return;
  const mine = ++walletRefresh;
  verifyWallet(api, wallet.key.address);
  try {
    const { balance, next } = await accountNonce(wallet.key.address);
    if (mine !== walletRefresh || ctx.signal.aborted) return;
    setText("wallet-balance", fmtAmount(balance), balance);
    const local = wallet.lastNonce.get(wallet.key.address);
    const use = local !== undefined && local + 1n > next ? local + 1n : next;
    setText("wallet-nonce", use, use);
  } catch (e) {
    if (mine === walletRefresh) setText("wallet-balance", errorText(e));
  }
}

async function send(toRaw, amountRaw, dataRaw, msg) {
  const k = wallet.key;
  let to = toRaw.trim().toLowerCase();
  if (to.startsWith("0x")) to = to.slice(2);
  if (!/^[0-9a-f]{40}$/.test(to)) return fail(msg, "Enter the recipient's address: 40 hexadecimal characters (0-9, a-f).", "bad_address");
  const a = amountRaw.trim();
  if (!/^\d+$/.test(a)) return fail(msg, "Enter the amount as a whole number of coins, for example 25.", "bad_amount");
  let amount;
  try {
    amount = tx.toUint64(a, "amount");
  } catch {
    return fail(msg, "That amount is larger than any account can hold.", "bad_amount");
  }
  ok(msg, "Preparing…");
  try {
    if (!live.status || !live.status.chain_id) await refreshStatus();
    const chainId = live.status && live.status.chain_id;
    if (!chainId) return fail(msg, "The node did not tell us its chain id, so the transaction cannot be signed. Try again shortly.", "no_chain");
    const { next } = await accountNonce(k.address);
    const local = wallet.lastNonce.get(k.address);
    const nonce = local !== undefined && local + 1n > next ? local + 1n : next;
    const signed = await tx.signTx(k, {
      chain_id: chainId,
      nonce,
      from: k.address,
      to,
      amount,
      data: dataRaw,
      time: BigInt(Date.now()),
    });
    ok(msg, "Sending…");
    let known = false;
    try {
      await api.submit(tx.txToJSON(signed));
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== "known") throw e;
      known = true;
    }
    wallet.lastNonce.set(k.address, nonce);
    ok(msg, known ? "The node already had this transaction; following it below." : "Sent. The transaction is in the pool; follow it below.");
    trackSent({ id: signed.id, to, amount, nonce, status: "pending" });
    emit("sent");
    $("send-form")?.reset();
    setText("send-data-count", "0 / 1024 bytes");
  } catch (e) {
    fail(msg, errorText(e), e instanceof ApiError ? e.code : undefined);
  }
}

function renderSent() {
  const box = $("send-result");
  if (!box) return;
  box.hidden = wallet.sent.length === 0;
  if (box.hidden) return;
  const [last, ...rest] = wallet.sent;
  fill(box, 
    h("div", { class: "title-row" }, h("h2", { text: "Last transaction" }), badge(last.status, last.status, "tx-status")),
    h("p", null, h("a", { id: "sent-tx-id", class: "mono wrap", href: `#/tx/${last.id}`, "data-value": last.id, text: last.id })),
    statusSteps(last.status),
    h("p", { class: "muted", text: last.error || STATUS_WORDS[last.status] || "" }),
    h("dl", { class: "kv" }, kv("To", "sent-to", addrLink(last.to)), kv("Amount", "sent-amount", fmtAmount(last.amount)), kv("Block", "sent-block", has(last.block_number) ? blockLink(last.block_number, `#${last.block_number}`) : "—"), kv("Confirmations", "sent-confirmations", has(last.confirmations) ? String(last.confirmations) : "—")),
    rest.length
      ? [
          h("h3", { text: "Earlier from this page" }),
          table(
            "sent-txs",
            ["Transaction", "To", "Amount", "Status"],
            rest.map((s) => ({ attrs: { "data-test": "sent-tx", "data-id": s.id, "data-status": s.status }, cells: [txLink(s.id), addrLink(s.to), fmtAmount(s.amount), badge(s.status)] })),
          ),
        ]
      : null,
  );
}

// ---------------------------------------------------------------- start

function start() {
  $("search-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const input = $("search");
    search(input.value);
  });
  window.addEventListener("hashchange", route);
  for (const kind of ["status", "stream"]) bus.addEventListener(kind, renderStrip);
  route();
  watchVisibility();
  pollLoop();
  loadStoredWallet();
  document.body.dataset.ready = "true";
  // The event stream opens only after the first render, and after
  // STREAM_DELAY_MS (see there): polling carries the page until then.
  firstRender.then(() => {
    if (live.stream === "connecting") {
      live.stream = "polling";
      emit("stream");
    }
    setTimeout(() => {
      streamAllowed = true;
      startStream();
    }, STREAM_DELAY_MS);
  });
}

start();
