// charts.js — the job page's two charts on uPlot (vendored, global `uPlot`): the
// hypervolume over time (line) and the candidates scatter (points in three series:
// over budget, feasible, Pareto front) with dashed MCU limit lines, a highlighted
// selection, a hover tooltip and click-to-pick. Colours follow the CSS theme.
import { h } from './util.js';

const css = (k) => getComputedStyle(document.documentElement).getPropertyValue(`--${k}`).trim();

function axis(fmt) {
  return {
    stroke: css('muted'),
    grid: { stroke: css('line'), width: 1 },
    ticks: { stroke: css('line'), width: 1, size: 4 },
    font: '11px system-ui, sans-serif',
    values: fmt ? (u, vals) => vals.map((v) => (v == null ? '' : fmt(v))) : undefined,
    size: 56,
  };
}

/** Keeps a uPlot sized to its container; rebuilds it on a theme change. */
function mount(el, height, make) {
  let u = null;
  let data = null;
  const build = () => {
    u?.destroy();
    u = make(Math.max(200, el.clientWidth), height, data);
  };
  const ro = new ResizeObserver(() => u && u.setSize({ width: Math.max(200, el.clientWidth), height }));
  ro.observe(el);
  const onTheme = () => build();
  window.addEventListener('themechange', onTheme);
  return {
    get u() { return u; },
    set(d) { data = d; if (!u) build(); else u.setData(d); },
    rebuild(d) { data = d; build(); },
    destroy() { ro.disconnect(); window.removeEventListener('themechange', onTheme); u?.destroy(); u = null; },
  };
}

/** Hypervolume against seconds since the job started. set(history, createdAt). */
export function hvChart(el, { durFmt }) {
  const note = h('div', { class: 'note' }, 'No generation finished yet');
  el.append(note);
  const m = mount(el, 300, (width, height, data) => new uPlot({
    width, height, legend: { show: false },
    cursor: { points: { size: 7 }, drag: { x: true, y: false } },
    scales: { x: { time: false } },
    axes: [axis(durFmt), axis((v) => v.toFixed(3))],
    series: [{}, {
      label: 'hypervolume', stroke: css('accent'), width: 2, fill: `${css('accent')}22`,
      points: { show: true, size: 4, fill: css('accent') },
    }],
  }, data || [[], []], el));
  return {
    set(history, createdAt) {
      const t0 = Date.parse(createdAt);
      const xs = history.map((p) => (Date.parse(p.at) - t0) / 1000);
      note.style.display = history.length ? 'none' : '';
      m.set([xs, history.map((p) => p.hypervolume)]);
    },
    destroy: () => m.destroy(),
  };
}

/** Range of a scale that also shows the limit lines on it. */
function ranger(log, limits) {
  return (u, min, max) => {
    if (min == null || max == null) return [0, 1];
    for (const v of limits) {
      if (v == null || (log && v <= 0)) continue;
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (log) return uPlot.rangeLog(min, max, 10, true);
    if (min === max) return [min - 1, max + 1];
    return uPlot.rangeNum(min, max, 0.08, true);
  };
}

/**
 * The candidates scatter. set({points, x, y, xLog, yLog, xLimit, yLimit, fmtX, fmtY})
 * where points are {id, x, y, kind: 'over'|'feasible'|'front', key}. onPick(id) on click.
 * el.dataset.points / .frontPoints hold what is drawn.
 */
export function scatterChart(el, { onPick }) {
  const tip = h('div', { class: 'tip' });
  const note = h('div', { class: 'note' }, 'No scored candidates yet');
  el.append(tip, note);
  let pts = [];   // sorted by x, index-aligned with the uPlot data
  let opts = null;
  let selected = null;
  let hover = -1;

  function drawExtras(u) {
    const { ctx } = u;
    const { left, top, width, height } = u.bbox;
    const dpr = devicePixelRatio || 1;
    ctx.save();
    ctx.beginPath();
    ctx.rect(left, top, width, height);
    ctx.clip();
    ctx.strokeStyle = css('limit');
    ctx.fillStyle = css('limit');
    ctx.lineWidth = 1.5 * dpr;
    ctx.setLineDash([6 * dpr, 4 * dpr]);
    ctx.font = `${11 * dpr}px system-ui, sans-serif`;
    const lim = (v, scale, label) => {
      if (v == null) return;
      const p = u.valToPos(v, scale, true);
      ctx.beginPath();
      if (scale === 'x') {
        ctx.moveTo(p, top); ctx.lineTo(p, top + height);
        ctx.stroke();
        ctx.fillText(label, p + 4 * dpr, top + 12 * dpr);
      } else {
        ctx.moveTo(left, p); ctx.lineTo(left + width, p);
        ctx.stroke();
        ctx.fillText(label, left + 4 * dpr, p - 4 * dpr);
      }
    };
    lim(opts?.xLimit, 'x', `limit ${opts?.fmtX(opts.xLimit)}`);
    lim(opts?.yLimit, 'y', `limit ${opts?.fmtY(opts.yLimit)}`);
    ctx.setLineDash([]);
    for (const [i, color, r] of [[hover, css('text'), 6], [pts.findIndex((p) => p.id === selected), css('text'), 8]]) {
      if (i < 0 || !pts[i]) continue;
      ctx.beginPath();
      ctx.strokeStyle = color;
      ctx.lineWidth = 2 * dpr;
      ctx.arc(u.valToPos(pts[i].x, 'x', true), u.valToPos(pts[i].y, 'y', true), r * dpr, 0, 2 * Math.PI);
      ctx.stroke();
    }
    ctx.restore();
  }

  /** Index of the point nearest the cursor within 10 px, or -1. */
  function nearest(u) {
    const { left, top } = u.cursor;
    if (left == null || left < 0) return -1;
    let best = -1;
    let bd = 100;
    for (let i = 0; i < pts.length; i++) {
      const dx = u.valToPos(pts[i].x, 'x') - left;
      if (dx * dx > bd) continue;
      const dy = u.valToPos(pts[i].y, 'y') - top;
      const d = dx * dx + dy * dy;
      if (d < bd || (d === bd && pts[i].kind === 'front')) { bd = d; best = i; }
    }
    return best;
  }

  const series = (label, color, size, stroke) => ({
    label, paths: () => null,
    points: { show: true, size, width: stroke ? 1.5 : 0, stroke: stroke || color, fill: color },
  });

  const m = mount(el, 380, (width, height, data) => {
    const n = pts.length;
    const small = n > 3000 ? 3 : n > 800 ? 4 : 5;
    const u = new uPlot({
      width, height, legend: { show: false },
      cursor: { points: { show: false }, drag: { x: true, y: true, uni: 20 } },
      scales: {
        x: { time: false, distr: opts?.xLog ? 3 : 1, log: 10, range: ranger(opts?.xLog, [opts?.xLimit]) },
        y: { distr: opts?.yLog ? 3 : 1, log: 10, range: ranger(opts?.yLog, [opts?.yLimit]) },
      },
      axes: [axis(opts?.fmtX), axis(opts?.fmtY)],
      series: [{},
        series('over budget', css('over'), small),
        series('feasible', css('feasible'), small + 1),
        series('front', css('front'), small + 4, css('panel'))],
      hooks: {
        draw: [drawExtras],
        setCursor: [(u) => {
          const i = nearest(u);
          if (i !== hover) { hover = i; u.redraw(false); }
          if (i < 0) { tip.style.display = 'none'; return; }
          const p = pts[i];
          tip.replaceChildren(
            h('div', {}, h('b', {}, `#${p.id}`), ` ${p.kind === 'front' ? '★ front' : p.kind === 'over' ? 'over budget' : 'feasible'}`),
            h('div', {}, `${opts.xLabel}: ${p.degX ? 'degenerate' : opts.fmtX(p.x)}`),
            h('div', {}, `${opts.yLabel}: ${p.degY ? 'degenerate' : opts.fmtY(p.y)}`),
            h('div', { class: 'k' }, p.key));
          tip.style.display = 'block';
          const x = u.valToPos(p.x, 'x') + u.over.offsetLeft;
          const y = u.valToPos(p.y, 'y') + u.over.offsetTop;
          tip.style.left = `${Math.min(x + 12, el.clientWidth - tip.offsetWidth - 4)}px`;
          tip.style.top = `${Math.max(0, y - tip.offsetHeight - 10)}px`;
        }],
      },
    }, data || [[], [], [], []], el);
    u.over.addEventListener('click', () => {
      const i = nearest(u);
      if (i >= 0) onPick(pts[i].id);
    });
    u.over.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
    return u;
  });

  return {
    set(o, rebuild) {
      opts = o;
      pts = o.points.filter((p) => p.x != null && p.y != null && (!o.xLog || p.x > 0) && (!o.yLog || p.y > 0));
      pts.sort((a, b) => a.x - b.x);
      const col = (kind) => pts.map((p) => (p.kind === kind ? p.y : null));
      const data = [pts.map((p) => p.x), col('over'), col('feasible'), col('front')];
      note.style.display = pts.length ? 'none' : '';
      el.dataset.points = String(pts.length);
      el.dataset.frontPoints = String(data[3].filter((v) => v != null).length);
      if (rebuild) m.rebuild(data);
      else m.set(data);
    },
    select(id) { selected = id; m.u?.redraw(false); },
    destroy: () => m.destroy(),
  };
}
