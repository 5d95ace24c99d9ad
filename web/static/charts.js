// charts.js — the dashboard's activity charts: transfers per second and block
// time over the last minutes of the chain, drawn as plain SVG (no library).
// The series are computed by pure functions so they can be checked alone.

const SVG = "http://www.w3.org/2000/svg";

/** WINDOW_MS is how much of the chain the charts show, ending at its newest block. */
export const WINDOW_MS = 5 * 60 * 1000;
/** BUCKET_MS is the width of one transfers-per-second bar. */
export const BUCKET_MS = 10 * 1000;

function ms(t) {
  const n = Number(t);
  if (!Number.isFinite(n) || n <= 0) return undefined;
  return n < 1e12 ? n * 1000 : n; // seconds or milliseconds
}

/**
 * activity turns blocks (any order, each with number, time and tx_count or
 * transactions) into the two series over the window ending at the newest
 * block's time: tps[i] = {start, end, txs, value} buckets oldest first, and
 * blockTimes = [{number, time, seconds}] for each block whose parent is
 * known, oldest first. The chain's clock is the reference, not this
 * computer's, so a skewed clock or an idle chain still shows its last minutes.
 */
export function activity(blocks, windowMs = WINDOW_MS, bucketMs = BUCKET_MS) {
  const byNumber = new Map();
  for (const b of blocks || []) {
    if (!b || typeof b !== "object") continue;
    const n = Number(b.number);
    const t = ms(b.time);
    if (!Number.isSafeInteger(n) || t === undefined) continue;
    const txs = Array.isArray(b.transactions) ? b.transactions.length : Number(b.tx_count) || 0;
    byNumber.set(n, { number: n, time: t, txs });
  }
  const list = [...byNumber.values()].sort((a, b) => a.number - b.number);
  if (list.length === 0) return { end: undefined, tps: [], blockTimes: [], totalTxs: 0 };
  const end = list[list.length - 1].time;
  const start = end - windowMs;
  const nBuckets = Math.max(1, Math.ceil(windowMs / bucketMs));
  const tps = [];
  for (let i = 0; i < nBuckets; i++) {
    const s = start + i * bucketMs;
    tps.push({ start: s, end: s + bucketMs, txs: 0, value: 0 });
  }
  let totalTxs = 0;
  for (const b of list) {
    if (b.time <= start) continue;
    const i = Math.min(nBuckets - 1, Math.floor((b.time - start - 1) / bucketMs));
    tps[i].txs += b.txs;
    totalTxs += b.txs;
  }
  for (const bk of tps) bk.value = bk.txs / (bucketMs / 1000);
  const blockTimes = [];
  for (const b of list) {
    const p = byNumber.get(b.number - 1);
    if (!p || b.time <= start) continue;
    blockTimes.push({ number: b.number, time: b.time, seconds: Math.max(0, (b.time - p.time) / 1000) });
  }
  return { end, tps, blockTimes, totalTxs };
}

/** niceMax rounds a maximum up to 1, 2 or 5 times a power of ten. */
export function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function el(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function fmt(v) {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1).replace(/\.0$/, "");
  return v.toFixed(2).replace(/\.?0+$/, "") || "0";
}

// Chart geometry in SVG user units; the SVG scales to its box.
const W = 600;
const H = 180;
const PAD = { left: 44, right: 10, top: 12, bottom: 24 };

function frame(svg, yMax, unit, windowMs) {
  const plotH = H - PAD.top - PAD.bottom;
  for (const f of [0, 0.5, 1]) {
    const y = PAD.top + plotH * (1 - f);
    svg.append(el("line", { class: "chart-grid", x1: PAD.left, x2: W - PAD.right, y1: y, y2: y }));
    svg.append(el("text", { class: "chart-label", x: PAD.left - 6, y: y + 4, "text-anchor": "end" }, fmt(yMax * f)));
  }
  svg.append(el("text", { class: "chart-label", x: PAD.left, y: H - 6 }, `−${Math.round(windowMs / 60000)} min`));
  svg.append(el("text", { class: "chart-label", x: W - PAD.right, y: H - 6, "text-anchor": "end" }, "newest block"));
  svg.append(el("text", { class: "chart-label chart-unit", x: PAD.left + 4, y: PAD.top + 10 }, unit));
}

function x(t, end, windowMs) {
  const plotW = W - PAD.left - PAD.right;
  return PAD.left + plotW * (1 - (end - t) / windowMs);
}

/** tpsChart draws transfers per second as bars, one per bucket. */
export function tpsChart(series, windowMs = WINDOW_MS) {
  const svg = el("svg", { id: "chart-tps", class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img" });
  const yMax = niceMax(Math.max(0, ...series.tps.map((b) => b.value)));
  svg.append(el("title", {}, "Transfers per second over the last minutes"));
  frame(svg, yMax, "transfers / s", windowMs);
  const plotH = H - PAD.top - PAD.bottom;
  for (const b of series.tps) {
    const x0 = x(b.start, series.end, windowMs);
    const x1 = x(b.end, series.end, windowMs);
    const h = (plotH * b.value) / yMax;
    const r = el("rect", { class: "chart-bar", "data-test": "tps-bar", "data-value": b.value, x: x0 + 1, width: Math.max(1, x1 - x0 - 2), y: PAD.top + plotH - h, height: h });
    r.append(el("title", {}, `${fmt(b.value)} transfers/s (${b.txs} in ${Math.round((b.end - b.start) / 1000)} s)`));
    svg.append(r);
  }
  return svg;
}

/** blockTimeChart draws the seconds between consecutive blocks as a line with points. */
export function blockTimeChart(series, windowMs = WINDOW_MS, intervalMs) {
  const svg = el("svg", { id: "chart-blocktime", class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img" });
  const slot = intervalMs > 0 ? intervalMs / 1000 : 0;
  const yMax = niceMax(Math.max(slot * 2, ...series.blockTimes.map((p) => p.seconds)));
  svg.append(el("title", {}, "Seconds between consecutive blocks over the last minutes"));
  frame(svg, yMax, "seconds per block", windowMs);
  const plotH = H - PAD.top - PAD.bottom;
  const y = (v) => PAD.top + plotH * (1 - Math.min(v, yMax) / yMax);
  if (slot > 0) {
    svg.append(el("line", { class: "chart-slot", x1: PAD.left, x2: W - PAD.right, y1: y(slot), y2: y(slot) }));
  }
  const pts = series.blockTimes.map((p) => [x(p.time, series.end, windowMs), y(p.seconds), p]);
  if (pts.length > 1) {
    svg.append(el("path", { class: "chart-line", d: pts.map(([px, py], i) => `${i ? "L" : "M"}${px.toFixed(1)},${py.toFixed(1)}`).join(" ") }));
  }
  for (const [px, py, p] of pts) {
    const c = el("circle", { class: "chart-point", "data-test": "blocktime-point", cx: px.toFixed(1), cy: py.toFixed(1), r: 2.5 });
    c.append(el("title", {}, `block #${p.number}: ${fmt(p.seconds)} s after its parent`));
    svg.append(c);
  }
  return svg;
}
