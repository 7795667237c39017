// util.js — DOM building, number/size/time formatting and small UI helpers shared by
// the dashboard's pages.

/** Element builder: h('td', {class: 'num', onclick}, 'text', childNode, ...). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

/** Replaces el's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  for (const c of children.flat(Infinity)) if (c != null && c !== false) el.append(c);
  return el;
}

const trim = (s) => s.replace(/\.?0+$/, '');

/** A number in at most 4 significant digits with k/M/G suffixes. */
export function num(v) {
  if (v == null || !Number.isFinite(+v)) return '–';
  v = +v;
  const a = Math.abs(v);
  if (a >= 1e12) return v.toExponential(2);
  if (a >= 1e9) return trim((v / 1e9).toFixed(2)) + 'G';
  if (a >= 1e6) return trim((v / 1e6).toFixed(2)) + 'M';
  if (a >= 1e4) return trim((v / 1e3).toFixed(1)) + 'k';
  if (Number.isInteger(v)) return String(v);
  if (a >= 100) return v.toFixed(1);
  if (a >= 1) return trim(v.toFixed(3));
  if (a === 0) return '0';
  return v.toPrecision(3);
}

export function bytes(v) {
  if (v == null || !Number.isFinite(+v)) return '–';
  v = +v;
  if (Math.abs(v) >= 1024 * 1024) return trim((v / 1048576).toFixed(2)) + ' MiB';
  if (Math.abs(v) >= 1024) return trim((v / 1024).toFixed(1)) + ' KiB';
  return Math.round(v) + ' B';
}

export const ms = (v) => (v == null || !Number.isFinite(+v) ? '–' : `${num(+v)} ms`);

export function hz(v) {
  if (!v) return '';
  return v >= 1e6 ? `${trim((v / 1e6).toFixed(1))} MHz` : `${trim((v / 1e3).toFixed(1))} kHz`;
}

/** Seconds as "42 s", "3m 05s", "2h 10m". */
export function dur(s) {
  if (s == null || !Number.isFinite(s)) return '–';
  s = Math.max(0, s);
  if (s > 0 && s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 60) return `${s < 10 ? trim(s.toFixed(1)) : Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export const secondsSince = (iso) => (Date.now() - Date.parse(iso)) / 1000;
export const age = (iso) => (iso ? `${dur(secondsSince(iso))} ago` : '–');

/** What a metric is and how to show it: cost figures are known; anything else is a proxy. */
export const COST = {
  latency_ms: { label: 'Latency', fmt: ms, limit: 'latency_ms' },
  peak_sram_bytes: { label: 'Peak SRAM', fmt: bytes, limit: 'sram_bytes' },
  flash_bytes: { label: 'Flash', fmt: bytes, limit: 'flash_bytes' },
  macs: { label: 'MACs', fmt: num },
  params: { label: 'Params', fmt: num },
};
export const PROXY_MAXIMISE = {
  ntk: false, linear_regions: true, synflow: true, snip: true, grad_norm: true,
  jacob_cov: true, naswot: true, zen: true, params: true, flops: true,
};
export const metricLabel = (k) => COST[k]?.label ?? k;
export const metricFmt = (k) => COST[k]?.fmt ?? num;
/** Proxies report ±1e30 for a degenerate value (see the proxy docs): not a measurement. */
const SENTINEL = 1e29;
/** A candidate's value of metric k (a cost figure or a proxy score), or null when it is
 * missing or a proxy's degenerate-value sentinel (so charts and tables skip it). */
export function metric(c, k) {
  const v = k in COST ? c.cost?.[k] : c.scores?.[k];
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) < SENTINEL ? v : null;
}

let toastTimer;
export function toast(msg) {
  const t = $('#toast');
  t.textContent = msg;
  t.classList.add('show');
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => t.classList.remove('show'), 2200);
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const ta = h('textarea', { style: 'position:fixed;opacity:0' }, text);
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast('Copied to clipboard');
}

export const badge = (status) => h('span', { class: `badge ${status}` }, status);

export function progressBar(frac, over = false) {
  const pct = Math.max(0, Math.min(1, frac || 0)) * 100;
  return h('div', { class: over ? 'bar over' : 'bar' }, h('span', { style: `width:${pct.toFixed(1)}%` }));
}

/** Shows text in the curl dialog with its Copy button. */
export function showCurl(text) {
  const dlg = $('#curl-dlg');
  $('#curl-text').textContent = text;
  $('#curl-copy').onclick = () => copyText(text);
  dlg.showModal();
}
