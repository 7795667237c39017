// job.js — one job, live: status and counters (polled), hypervolume history, the
// candidates scatter with selectable axes, the server-sorted candidate table, and the
// candidate detail drawer (#/jobs/ID/c/CID). Scatter data is synced incrementally: the
// candidates are re-read from the lowest id that is not final yet (ids are proposed in
// order, so that window stays small), and the front comes from /front.
import { api, curl, download } from './api.js';
import { hvChart, scatterChart } from './charts.js';
import {
  COST, PROXY_MAXIMISE, badge, bytes, dur, fill, h, metric, metricFmt, metricLabel, ms, num,
  progressBar, showCurl, toast,
} from './util.js';

const POLL_MS = 1500;
const FINAL = new Set(['scored', 'dead', 'rejected']);
const PAGE = 50;
const LIMIT_OF = { latency_ms: 'latency_ms', peak_sram_bytes: 'sram_bytes', flash_bytes: 'flash_bytes' };

/** Direction of a metric for ranks: from the job's objectives, else the proxy's nature. */
function maximised(job, k) {
  const o = job.spec.objectives.find((x) => x.name === k);
  if (o) return o.direction === 'max';
  return k in COST ? false : !!PROXY_MAXIMISE[k];
}

export function jobPage(root, { id, cid }) {
  let job = null;
  let timer = 0;
  let dead = false;
  let lastScored = -1;
  let frontIds = new Set();
  let watermark = 0;
  const cands = new Map();
  const axes = { x: 'latency_ms', y: null, xLog: false, yLog: false };

  /* ---- layout ---- */
  const title = h('h1', {}, `Job ${id}`);
  const state = h('span');
  const reason = h('span', { class: 'sub' });
  const cancelBtn = h('button', { type: 'button', class: 'danger', onclick: cancel }, 'Cancel job');
  const head = h('div', { class: 'pagehead' }, title, state, reason, h('span', { class: 'spacer' }),
    h('button', { type: 'button', onclick: () => download(`/v1/jobs/${id}/front`, `monas-job${id}-front.json`).catch((e) => toast(e.message)) }, '↓ Front JSON'),
    h('button', { type: 'button', onclick: () => download(`/v1/jobs/${id}/front?format=csv`, `monas-job${id}-front.csv`).catch((e) => toast(e.message)) }, '↓ Front CSV'),
    h('button', { type: 'button', onclick: curlDialog }, 'curl'),
    cancelBtn);
  const err = h('div', { class: 'alert' });
  const stats = h('div', { class: 'stats', id: 'stats' });
  const hvEl = h('div', { class: 'chart', id: 'hv-chart' });
  const scEl = h('div', { class: 'chart', id: 'scatter' });
  const xSel = h('select', { id: 'axis-x', onchange: () => { axes.x = xSel.value; redrawScatter(true); } });
  const ySel = h('select', { id: 'axis-y', onchange: () => { axes.y = ySel.value; redrawScatter(true); } });
  const xLog = h('input', { type: 'checkbox', onchange: () => { axes.xLog = xLog.checked; redrawScatter(true); } });
  const yLog = h('input', { type: 'checkbox', onchange: () => { axes.yLog = yLog.checked; redrawScatter(true); } });
  const legend = h('div', { class: 'legend' });
  const table = candidateTable();

  fill(root, head, err, stats,
    h('div', { class: 'charts' },
      h('div', { class: 'panel' }, h('header', {}, h('h2', {}, 'Hypervolume over time')), h('div', { class: 'body' }, hvEl)),
      h('div', { class: 'panel' }, h('header', {}, h('h2', {}, 'Candidates'), h('span', { class: 'spacer' }),
        h('div', { class: 'row axes' },
          h('label', {}, 'x', xSel), h('label', {}, xLog, 'log'),
          h('label', {}, 'y', ySel), h('label', {}, yLog, 'log'))),
      h('div', { class: 'body' }, scEl, legend))),
    table.el);

  const hv = hvChart(hvEl, { durFmt: dur });
  const scatter = scatterChart(scEl, { onPick: (c) => { location.hash = `#/jobs/${id}/c/${c}`; } });
  let drawer = null;

  /* ---- status ---- */
  function stat(label, value, detail, bar) {
    return h('div', { class: 'panel stat' }, h('div', { class: 'label' }, label),
      h('div', { class: 'value' }, value), bar, detail && h('div', { class: 'detail' }, detail));
  }

  function renderStatus() {
    const j = job;
    const p = j.progress;
    const b = j.budget_used;
    title.textContent = j.name;
    fill(state, badge(j.status));
    reason.textContent = `#${j.id} · ${j.spec.space.name} on ${j.spec.mcu.id} · ${j.spec.strategy.name}${j.reason ? ` · ${j.reason}` : ''}`;
    cancelBtn.style.display = j.status === 'running' ? '' : 'none';
    const open = p.queued + p.leased;
    fill(stats,
      stat('Progress', h('span', { id: 'stat-scored' }, num(p.scored), h('small', {}, ` / ${num(b.max_candidates)}`)),
        `${num(open)} open · ${num(p.dead)} dead · ${num(p.rejected)} rejected`,
        progressBar(b.candidates / b.max_candidates)),
      stat('Rate', h('span', { id: 'stat-rate' }, (j.scored_per_second ?? 0).toFixed(1), h('small', {}, ' cand/s')), 'scored, last 60 s'),
      stat('Workers', h('span', { id: 'stat-workers' }, num(j.active_workers ?? 0)), `${num(j.active_leases ?? 0)} active leases`),
      stat('Hypervolume', j.hypervolume ? j.hypervolume.toFixed(4) : '–',
        `generation ${j.generation} · ${j.stale_generations}/${j.spec.convergence.patience} stale`),
      stat('Front', h('span', { id: 'stat-front' }, num(j.front_size)), 'non-dominated, within limits'),
      stat('Elapsed', dur(b.seconds), `of ${dur(b.max_seconds)} budget`, progressBar(b.seconds / b.max_seconds)));
  }

  /* ---- scatter ---- */
  function axisOptions() {
    const proxies = Object.keys(job.spec.proxies);
    const costs = Object.keys(COST);
    const groups = [
      ['Cost', costs.map((k) => [k, metricLabel(k)])],
      ['Proxy', proxies.filter((k) => !costs.includes(k)).map((k) => [k, k])],
      ['Rank', proxies.map((k) => [`rank:${k}`, `rank by ${k}`])],
    ];
    for (const sel of [xSel, ySel]) {
      fill(sel, groups.map(([g, items]) => h('optgroup', { label: g }, items.map(([v, l]) => h('option', { value: v }, l)))));
    }
    const firstProxy = job.spec.objectives.map((o) => o.name).find((n) => proxies.includes(n)) || proxies[0];
    axes.y = axes.y || firstProxy;
    xSel.value = axes.x;
    ySel.value = axes.y;
  }

  /** Per-proxy ranks over the scored candidates held (1 = best), computed when asked. */
  function ranks(k) {
    const max = maximised(job, k);
    const list = [...cands.values()].filter((c) => metric(c, k) != null);
    list.sort((a, b) => (max ? metric(b, k) - metric(a, k) : metric(a, k) - metric(b, k)));
    return new Map(list.map((c, i) => [c.id, i + 1]));
  }

  /** A proxy reported its degenerate-value sentinel for c (metric() hides those). */
  const isDegenerate = (c, k) => !k.startsWith('rank:') && !(k in COST) &&
    typeof c.scores?.[k] === 'number' && metric(c, k) == null;

  /** Draws degenerate values just beyond the worst real value on that axis, so every
   * candidate (front members included) stays on the chart without wrecking its scale. */
  function pinDegenerate(points, axis, k, log) {
    const deg = axis === 'x' ? 'degX' : 'degY';
    const vals = points.filter((p) => !p[deg] && p[axis] != null && (!log || p[axis] > 0)).map((p) => p[axis]);
    if (!vals.length) return;
    const lo = Math.min(...vals);
    const hi = Math.max(...vals);
    const span = hi - lo || Math.abs(hi) || 1;
    const worst = maximised(job, k) ? (log ? lo / 1.5 : lo - 0.08 * span) : (log ? hi * 1.5 : hi + 0.08 * span);
    for (const p of points) if (p[deg]) p[axis] = worst;
  }

  function redrawScatter(rebuild = false) {
    if (!job) return;
    const value = (k) => {
      if (!k.startsWith('rank:')) return (c) => metric(c, k);
      const r = ranks(k.slice(5));
      return (c) => r.get(c.id) ?? null;
    };
    const fx = value(axes.x);
    const fy = value(axes.y);
    const fmt = (k) => (k.startsWith('rank:') ? (v) => `#${num(v)}` : metricFmt(k));
    const lim = (k) => (LIMIT_OF[k] ? job.spec.budgets?.[LIMIT_OF[k]] ?? null : null);
    const points = [];
    let over = 0;
    let feas = 0;
    for (const c of cands.values()) {
      if (c.status !== 'scored') continue;
      const kind = frontIds.has(c.id) ? 'front' : c.fits === false ? 'over' : 'feasible';
      if (kind === 'over') over++; else if (kind === 'feasible') feas++;
      points.push({ id: c.id, x: fx(c), y: fy(c), kind, key: c.key,
        degX: isDegenerate(c, axes.x), degY: isDegenerate(c, axes.y) });
    }
    pinDegenerate(points, 'x', axes.x, axes.xLog);
    pinDegenerate(points, 'y', axes.y, axes.yLog);
    scatter.set({
      points, xLog: axes.xLog, yLog: axes.yLog, xLimit: lim(axes.x), yLimit: lim(axes.y),
      fmtX: fmt(axes.x), fmtY: fmt(axes.y),
      xLabel: xSel.selectedOptions[0]?.textContent || axes.x, yLabel: ySel.selectedOptions[0]?.textContent || axes.y,
    }, rebuild);
    fill(legend,
      h('span', { id: 'legend-front' }, h('i', { style: 'background:var(--front)' }), `front ${scEl.dataset.frontPoints}`),
      h('span', {}, h('i', { style: 'background:var(--feasible)' }), `feasible ${feas}`),
      h('span', {}, h('i', { style: 'background:var(--over)' }), `over budget ${over}`),
      h('span', {}, h('i', { class: 'limit' }), 'limit'));
  }

  /** Reads candidates from the watermark on; advances it over final ones. */
  async function syncCandidates() {
    let after = watermark;
    let advancing = true;
    for (;;) {
      const r = await api(`/v1/jobs/${id}/candidates?after=${after}&limit=1000`);
      for (const c of r.candidates) {
        cands.set(c.id, { id: c.id, key: c.key, status: c.status, scores: c.scores, cost: c.cost, fits: c.fits });
        if (advancing && FINAL.has(c.status)) watermark = c.id;
        else advancing = false;
      }
      if (r.next_after == null || dead) break;
      after = r.next_after;
    }
    const f = await api(`/v1/jobs/${id}/front`);
    frontIds = new Set(f.candidates.map((c) => c.id));
  }

  /* ---- polling ---- */
  async function poll() {
    clearTimeout(timer);
    try {
      const first = !job;
      job = await api(`/v1/jobs/${id}`);
      if (dead) return;
      err.textContent = '';
      if (first) {
        axisOptions();
        table.columns();
      }
      renderStatus();
      hv.set(job.history, job.created_at);
      const scored = job.progress.scored + job.progress.dead + job.progress.rejected;
      if (scored !== lastScored || first) {
        lastScored = scored;
        await syncCandidates();
        if (dead) return;
        redrawScatter(first);
        table.load();
      }
    } catch (e) {
      err.textContent = `Could not load job ${id}: ${e.message}`;
      if (e.status === 404) return; // no such job: nothing will change
    }
    if (!dead && (!job || job.status === 'running')) timer = setTimeout(poll, POLL_MS);
  }

  async function cancel() {
    if (!confirm(`Cancel job ${id}? Candidates in flight are discarded.`)) return;
    try {
      await api(`/v1/jobs/${id}/cancel`, { method: 'POST' });
      toast('Job cancelled');
      poll();
    } catch (e) {
      toast(e.message);
    }
  }

  async function curlDialog() {
    const spec = structuredClone(job?.spec ?? {});
    try { // a built-in MCU is named by its id rather than its whole profile
      const { mcus } = await api('/v1/mcus');
      if (mcus.some((m) => m.id === spec.mcu?.id)) spec.mcu = spec.mcu.id;
    } catch { /* keep the profile */ }
    showCurl([
      '# status; ?wait=60 long-polls until the job ends (at most 60 s)',
      curl('GET', `/v1/jobs/${id}?wait=60`),
      '', '# the Pareto front (JSON; ?format=csv for CSV)',
      curl('GET', `/v1/jobs/${id}/front?format=csv`),
      '', '# candidates, 100 at a time; continue with &after=<next_after>',
      curl('GET', `/v1/jobs/${id}/candidates?status=scored&limit=100`),
      '', '# cancel',
      curl('POST', `/v1/jobs/${id}/cancel`),
      '', '# submit the same search again',
      curl('POST', '/v1/jobs', spec),
    ].join('\n'));
  }

  /* ---- candidate table (server-side sort and keyset pagination) ---- */
  function candidateTable() {
    const t = { sort: 'id', order: 'desc', status: '', front: false, fits: false, cursors: [{}], next: null };
    const thead = h('thead');
    const tbody = h('tbody');
    const info = h('span');
    const prev = h('button', { type: 'button', onclick: () => { t.cursors.pop(); load(); } }, '← Prev');
    const next = h('button', { type: 'button', onclick: () => { t.cursors.push(t.next); load(); } }, 'Next →');
    const statusSel = h('select', { onchange: () => { t.status = statusSel.value; reset(); } },
      ['', 'scored', 'queued', 'leased', 'dead', 'rejected'].map((s) => h('option', { value: s }, s || 'any status')));
    const chk = (label, key) => h('label', { class: 'row' }, h('input', {
      type: 'checkbox', onchange: (e) => { t[key] = e.target.checked; reset(); },
    }), label);
    let cols = [];
    const el = h('div', { class: 'panel', id: 'candidates' },
      h('header', {}, h('h2', {}, 'Candidate table'), h('span', { class: 'spacer' }),
        h('div', { class: 'row' }, statusSel, chk('front only', 'front'), chk('within limits', 'fits'))),
      h('div', { class: 'tablewrap' }, h('table', { class: 'grid' }, thead, tbody)),
      h('div', { class: 'pager' }, info, h('span', { class: 'spacer' }), prev, next));

    function reset() { t.cursors = [{}]; load(); }

    function columns() {
      const proxies = Object.keys(job.spec.proxies).filter((k) => !(k in COST));
      cols = [
        { k: 'id', label: 'ID', sort: 'id', num: true, v: (c) => c.id },
        { k: 'key', label: 'Architecture', cls: 'key', v: (c) => c.key },
        { k: 'status', label: 'Status', v: (c) => badge(c.status) },
        ...proxies.map((p) => ({ k: p, label: p, sort: p, num: true, v: (c) => (c.scores && c.scores[p] != null && metric(c, p) == null ? 'degenerate' : num(metric(c, p))) })),
        ...Object.keys(COST).map((k) => ({ k, label: metricLabel(k), sort: k, num: true, v: (c) => metricFmt(k)(metric(c, k)) })),
        { k: 'fits', label: 'Fits', v: (c) => (c.fits == null ? '' : c.fits ? h('span', { class: 'yes' }, '✓') : h('span', { class: 'no' }, '✗')) },
        { k: 'front', label: 'Front', v: (c) => (c.on_front ? h('span', { class: 'star', title: 'on the Pareto front' }, '★') : '') },
      ];
      fill(thead, h('tr', {}, cols.map((c) => h('th', {
        class: [c.num && 'num', c.sort && 'sortable'].filter(Boolean).join(' '),
        dataset: { sort: c.sort || '' },
        onclick: c.sort ? () => {
          if (t.sort === c.sort) t.order = t.order === 'asc' ? 'desc' : 'asc';
          else { t.sort = c.sort; t.order = c.sort === 'id' ? 'desc' : maximised(job, c.sort) ? 'desc' : 'asc'; }
          reset();
        } : null,
      }, c.label, t.sort === c.sort && h('span', { class: 'arrow' }, t.order === 'asc' ? '▲' : '▼')))));
    }

    async function load() {
      if (!job) return;
      const cur = t.cursors[t.cursors.length - 1];
      const q = new URLSearchParams({ limit: PAGE, sort: t.sort, order: t.order });
      if (cur.after != null) q.set('after', cur.after);
      if (cur.after_value != null) q.set('after_value', cur.after_value);
      if (t.status) q.set('status', t.status);
      if (t.front) q.set('on_front', 1);
      if (t.fits) q.set('fits', 1);
      try {
        const r = await api(`/v1/jobs/${id}/candidates?${q}`);
        t.next = r.next_after == null ? null : { after: r.next_after, after_value: r.next_after_value };
        columns();
        fill(tbody, r.candidates.length ? r.candidates.map((c) => h('tr', {
          class: [c.fits === false && 'over', c.id === drawer?.cid && 'sel'].filter(Boolean).join(' '),
          dataset: { id: c.id },
          onclick: () => { location.hash = `#/jobs/${id}/c/${c.id}`; },
        }, cols.map((col) => h('td', { class: [col.num && 'num', col.cls].filter(Boolean).join(' '), title: col.k === 'key' ? c.key : null }, col.v(c)))))
          : h('tr', { class: 'empty' }, h('td', { colspan: cols.length }, 'No candidates match.')));
        const first = (t.cursors.length - 1) * PAGE;
        info.textContent = r.candidates.length ? `rows ${first + 1}–${first + r.candidates.length}` : '';
      } catch (e) {
        info.textContent = e.message;
      }
      prev.disabled = t.cursors.length < 2;
      next.disabled = t.next == null;
    }
    return { el, load, columns };
  }

  /* ---- detail drawer ---- */
  async function openDetail(c) {
    closeDetail();
    const body = h('div', { class: 'body' }, h('p', { class: 'muted' }, 'Loading…'));
    const el = h('aside', { class: 'drawer', id: 'detail', dataset: { cid: c } },
      h('header', {}, h('h3', { style: 'margin:0' }, `Candidate #${c}`), h('span', { class: 'spacer' }),
        h('button', { type: 'button', class: 'ghost', title: 'Close (Esc)', onclick: () => { location.hash = `#/jobs/${id}`; } }, '✕')),
      body);
    drawer = { cid: c, el };
    document.body.append(el);
    scatter.select(c);
    for (const tr of root.querySelectorAll('#candidates tbody tr')) tr.classList.toggle('sel', +tr.dataset.id === c);
    try {
      const cand = await api(`/v1/jobs/${id}/candidates/${c}?layers=1`);
      if (drawer?.cid !== c) return;
      fill(body, detailSections(cand));
    } catch (e) {
      fill(body, h('div', { class: 'alert' }, e.message));
    }
  }

  function closeDetail() {
    drawer?.el.remove();
    drawer = null;
    scatter.select(null);
    for (const tr of root.querySelectorAll('#candidates tbody tr.sel')) tr.classList.remove('sel');
  }

  function detailSections(c) {
    const budgets = job?.spec.budgets ?? {};
    const sec = (t, ...kids) => h('section', {}, h('h2', {}, t), ...kids);
    const out = [h('div', { class: 'row', style: 'margin-bottom:14px' }, badge(c.status),
      c.on_front && h('span', { class: 'badge converged' }, '★ Pareto front'),
      c.fits === true && h('span', { class: 'badge scored' }, 'within limits'),
      c.fits === false && h('span', { class: 'badge failed' }, 'over budget'))];
    out.push(sec('Architecture', archView(c)));
    if (c.scores) {
      out.push(sec('Proxy scores', h('dl', { class: 'kv' }, Object.keys(c.scores).flatMap((k) => {
        const r = ranks(k).get(c.id);
        const v = metric(c, k);
        return [h('dt', {}, k), h('dd', {}, v == null ? 'degenerate' : num(v),
          r && h('span', { class: 'faint' }, `  rank ${r} of ${ranks(k).size}`))];
      }))));
    }
    if (c.cost) {
      out.push(sec('MCU cost', h('table', { class: 'grid', id: 'cost-table' }, h('tbody', {},
        Object.keys(COST).filter((k) => c.cost[k] != null).map((k) => {
          const lim = budgets[LIMIT_OF[k]];
          return h('tr', {}, h('td', {}, metricLabel(k)), h('td', { class: 'num' }, metricFmt(k)(c.cost[k])),
            h('td', { style: 'width:45%' }, lim ? h('div', { class: 'progress-cell' },
              progressBar(c.cost[k] / lim, c.cost[k] > lim),
              h('span', { class: 'num faint' }, `${Math.round((100 * c.cost[k]) / lim)}% of ${metricFmt(k)(lim)}`)) : ''));
        })))));
    }
    out.push(sec('Per layer', layerTable(c)));
    out.push(sec('Scoring', h('dl', { class: 'kv' },
      h('dt', {}, 'worker'), h('dd', {}, c.worker_id ?? '–'),
      h('dt', {}, 'scoring time'), h('dd', {}, c.seconds != null ? dur(c.seconds) : '–'),
      h('dt', {}, 'attempts'), h('dd', {}, c.attempts),
      h('dt', {}, 'proposed'), h('dd', {}, c.created_at ?? '–'),
      h('dt', {}, 'scored'), h('dd', {}, c.scored_at ?? '–'),
      c.error && [h('dt', {}, 'error'), h('dd', { class: 'no' }, c.error)],
      c.origin && [h('dt', {}, 'origin'), h('dd', { class: 'mono' }, JSON.stringify(c.origin))])));
    return out;
  }

  /** NAS-Bench-201 cells as their six edges; other spaces as their JSON. */
  function archView(c) {
    const m = typeof c.arch === 'string' && [...c.arch.matchAll(/([a-z_0-9]+)~(\d)/g)];
    const key = h('pre', { class: 'code', id: 'arch-key' }, typeof c.arch === 'string' ? c.arch : JSON.stringify(c.arch, null, 2));
    if (!m || m.length !== 6) return key;
    const to = [1, 2, 2, 3, 3, 3];
    return [h('div', { class: 'cell', style: 'margin-bottom:8px' }, m.map((e, i) =>
      h('div', { class: e[1] === 'none' ? 'edge none' : 'edge' }, h('b', {}, `node ${e[2]} → ${to[i]}`), e[1]))), key];
  }

  /** The cost model's per-layer table (GET candidate ?layers=1), with totals. */
  function layerTable(c) {
    const layers = c.layers;
    if (!Array.isArray(layers) || !layers.length) {
      return h('p', { class: 'muted', id: 'layers-missing' },
        'No per-layer breakdown: the architecture could not be lowered on this server.');
    }
    const sum = (k) => layers.reduce((a, l) => a + (l[k] || 0), 0);
    const peak = Math.max(...layers.map((l) => l.activation_bytes || 0));
    return h('div', { class: 'tablewrap', style: 'max-height:460px' }, h('table', { class: 'grid', id: 'layers' },
      h('thead', {}, h('tr', {}, h('th', { class: 'num' }, '#'), h('th', {}, 'Layer'), h('th', {}, 'Output'),
        h('th', { class: 'num' }, 'MACs'), h('th', { class: 'num' }, 'Latency'),
        h('th', { class: 'num' }, 'Activations'), h('th', { class: 'num' }, 'Params'))),
      h('tbody', {}, layers.map((l, i) => h('tr', { class: l.activation_bytes === peak ? 'peak' : '' },
        h('td', { class: 'num faint' }, l.index ?? i),
        h('td', {}, h('span', { class: 'mono' }, l.op ?? ''), l.name && l.name !== l.op && h('span', { class: 'faint' }, ` ${l.name}`)),
        h('td', { class: 'mono' }, Array.isArray(l.out_shape) ? l.out_shape.join('×') : ''),
        h('td', { class: 'num' }, num(l.macs)),
        h('td', { class: 'num' }, ms(l.latency_ms)),
        h('td', { class: 'num' }, bytes(l.activation_bytes)),
        h('td', { class: 'num' }, num(l.params))))),
      h('tfoot', {}, h('tr', {}, h('td', {}), h('td', {}, h('b', {}, 'total')), h('td', {}),
        h('td', { class: 'num' }, num(sum('macs'))), h('td', { class: 'num' }, ms(sum('latency_ms'))),
        h('td', { class: 'num faint' }, `peak ${bytes(peak)}`), h('td', { class: 'num' }, num(sum('params')))))));
  }

  const onKey = (e) => { if (e.key === 'Escape' && drawer) location.hash = `#/jobs/${id}`; };
  document.addEventListener('keydown', onKey);

  function route(r) {
    if (r.cid) openDetail(r.cid);
    else closeDetail();
  }

  poll().then(() => route({ cid }));
  return {
    route,
    destroy() {
      dead = true;
      clearTimeout(timer);
      document.removeEventListener('keydown', onKey);
      closeDetail();
      hv.destroy();
      scatter.destroy();
    },
  };
}
