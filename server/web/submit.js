// submit.js — the job submission form. Choices come from the API (/v1/spaces, /v1/mcus,
// /v1/strategies); the body is the job spec of POST /v1/jobs; a rejected field comes
// back as error.field ("budgets.sram_bytes", "objectives[1]", "strategy.settings.x")
// and is shown under the input that produced it (longest data-field prefix).
import { ApiError, api, curl } from './api.js';
import { PROXY_MAXIMISE, bytes, fill, h, hz, showCurl } from './util.js';

const DEFAULT_PROXIES = ['ntk', 'linear_regions'];
const DEFAULT_OBJECTIVES = 'ntk, latency_ms, peak_sram_bytes';

function field(name, label, input, hint, full = false) {
  return h('div', { class: full ? 'field full' : 'field', dataset: { field: name } },
    h('label', { for: `f-${name}` }, label), input,
    hint && h('div', { class: 'hint' }, hint), h('div', { class: 'err' }));
}
const inp = (name, attrs = {}) => h('input', { id: `f-${name}`, name, autocomplete: 'off', ...attrs });

/** Parses a JSON object text; '' is absent. Throws an ApiError-like for the field. */
function jsonField(text, name) {
  if (!text.trim()) return undefined;
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch { /* reported below */ }
  throw new ApiError(422, { error: { code: 'invalid', field: name, message: 'must be a JSON object' } });
}

export function submitPage(root) {
  const alert = h('div', { class: 'alert' });
  const form = h('form', { class: 'job', novalidate: true, id: 'submit-form' });
  let mcus = [];
  const ctl = new AbortController();

  fill(root,
    h('div', { class: 'pagehead' }, h('h1', {}, 'New job'),
      h('span', { class: 'sub' }, 'Search a space for the CNNs that fit your microcontroller.')),
    alert, form);

  const el = {
    name: inp('name', { placeholder: 'defaults to the space name' }),
    space: h('select', { id: 'f-space', name: 'space' }),
    spaceSettings: h('textarea', { id: 'f-space.settings', rows: 2, placeholder: '{}  (space settings, JSON)' }),
    mcu: h('select', { id: 'f-mcu', name: 'mcu' }),
    mcuInfo: h('div', { class: 'mcu-info' }),
    sram: inp('budgets.sram_bytes', { type: 'number', min: 0, step: 'any' }),
    flash: inp('budgets.flash_bytes', { type: 'number', min: 0, step: 'any' }),
    latency: inp('budgets.latency_ms', { type: 'number', min: 0, step: 'any', placeholder: 'no limit' }),
    proxies: h('div', { class: 'checks', id: 'f-proxies' }, Object.keys(PROXY_MAXIMISE).map((p) =>
      h('label', {}, h('input', { type: 'checkbox', value: p, checked: DEFAULT_PROXIES.includes(p) }), p))),
    objectives: inp('objectives', { value: DEFAULT_OBJECTIVES }),
    strategy: h('select', { id: 'f-strategy.name', name: 'strategy' }),
    strategyInfo: h('div', { class: 'hint' }),
    strategySettings: h('textarea', { id: 'f-strategy.settings', rows: 3, placeholder: '{}  (strategy settings, JSON)' }),
    maxCand: inp('budget.max_candidates', { type: 'number', min: 1, value: 1000 }),
    maxSec: inp('budget.max_seconds', { type: 'number', min: 1, value: 3600 }),
    epsilon: inp('convergence.epsilon', { type: 'number', step: 'any', value: 0.001 }),
    patience: inp('convergence.patience', { type: 'number', min: 1, value: 10 }),
    batch: inp('batch_size', { type: 'number', min: 1, value: 64 }),
    seed: inp('seed', { type: 'number', min: 0, value: 1 }),
  };

  const submitBtn = h('button', { class: 'primary', type: 'submit' }, 'Submit job');
  fill(form,
    h('div', { class: 'panel' }, h('header', {}, h('h2', {}, 'Search')), h('div', { class: 'body' },
      h('div', { class: 'fields' },
        field('name', 'Name', el.name),
        field('space', 'Search space', el.space),
        field('space.settings', 'Space settings', el.spaceSettings, null, true),
        field('proxies', 'Zero-cost proxies', el.proxies, 'Scored on every candidate at initialisation.', true),
        field('objectives', 'Objectives', el.objectives,
          'Comma-separated: proxies and cost figures (latency_ms, peak_sram_bytes, flash_bytes, macs, params).', true),
        field('strategy.name', 'Strategy', el.strategy, el.strategyInfo),
        field('strategy.settings', 'Strategy settings', el.strategySettings, null)))),
    h('div', { class: 'panel' }, h('header', {}, h('h2', {}, 'Target and limits')), h('div', { class: 'body' },
      h('div', { class: 'fields' },
        field('mcu', 'Microcontroller', el.mcu, el.mcuInfo, true),
        field('budgets.sram_bytes', 'SRAM limit (KiB)', el.sram, 'Peak activations + scratch + runtime.'),
        field('budgets.flash_bytes', 'Flash limit (KiB)', el.flash, 'Weights + metadata + runtime.'),
        field('budgets.latency_ms', 'Latency limit (ms)', el.latency),
        field('budget.max_candidates', 'Candidate budget', el.maxCand),
        field('budget.max_seconds', 'Time budget (s)', el.maxSec),
        field('convergence.epsilon', 'Convergence ε (hypervolume)', el.epsilon),
        field('convergence.patience', 'Patience (generations)', el.patience),
        field('batch_size', 'Batch size', el.batch),
        field('seed', 'Seed', el.seed)))),
    h('div', { class: 'formbar' }, submitBtn,
      h('button', { type: 'button', class: 'ghost', onclick: () => copyCurl() }, 'Copy as curl'),
      h('span', { class: 'muted', id: 'submit-status' })));

  function mcuChanged() {
    const m = mcus.find((x) => x.id === el.mcu.value);
    if (!m) return;
    fill(el.mcuInfo, [m.name, m.core, hz(m.clock_hz), `${bytes(m.sram_bytes)} SRAM`,
      `${bytes(m.flash_bytes)} flash`, m.runtime].filter(Boolean).join(' · '));
    el.sram.placeholder = `MCU: ${(m.sram_bytes / 1024).toFixed(0)}`;
    el.flash.placeholder = `MCU: ${(m.flash_bytes / 1024).toFixed(0)}`;
  }
  el.mcu.addEventListener('change', mcuChanged);

  async function loadChoices() {
    try {
      const [sp, mc, st] = await Promise.all(['/v1/spaces', '/v1/mcus', '/v1/strategies']
        .map((p) => api(p, { signal: ctl.signal })));
      fill(el.space, sp.spaces.map((s) => h('option', { value: s.name },
        `${s.name}${s.summary ? ` — ${s.summary}` : ''}`)));
      mcus = mc.mcus;
      fill(el.mcu, mcus.map((m) => h('option', { value: m.id },
        `${m.id} — ${bytes(m.sram_bytes)} SRAM, ${bytes(m.flash_bytes)} flash${m.clock_hz ? `, ${hz(m.clock_hz)}` : ''}`)));
      fill(el.strategy, st.strategies.map((s) => h('option', { value: s.name }, s.name)));
      const info = () => { el.strategyInfo.textContent = st.strategies.find((s) => s.name === el.strategy.value)?.summary || ''; };
      el.strategy.addEventListener('change', info);
      info();
      mcuChanged();
    } catch (e) {
      if (e.name !== 'AbortError') alert.textContent = `Could not load the choices: ${e.message}`;
    }
  }

  /** The job spec the form describes (only what was set; the server fills defaults). */
  function spec() {
    const n = (x) => (x.value.trim() === '' ? undefined : Number(x.value));
    const kib = (x) => (n(x) === undefined ? undefined : Math.round(n(x) * 1024));
    const s = {};
    if (el.name.value.trim()) s.name = el.name.value.trim();
    s.space = { name: el.space.value };
    const ss = jsonField(el.spaceSettings.value, 'space.settings');
    if (ss) s.space.settings = ss;
    s.mcu = el.mcu.value;
    const budgets = { sram_bytes: kib(el.sram), flash_bytes: kib(el.flash), latency_ms: n(el.latency) };
    if (Object.values(budgets).some((v) => v !== undefined)) s.budgets = budgets;
    s.proxies = Object.fromEntries([...el.proxies.querySelectorAll('input:checked')].map((c) => [c.value, {}]));
    const objs = el.objectives.value.split(',').map((x) => x.trim()).filter(Boolean);
    if (objs.length) s.objectives = objs;
    s.strategy = { name: el.strategy.value };
    const st = jsonField(el.strategySettings.value, 'strategy.settings');
    if (st) s.strategy.settings = st;
    s.budget = { max_candidates: n(el.maxCand), max_seconds: n(el.maxSec) };
    s.convergence = { epsilon: n(el.epsilon), patience: n(el.patience) };
    s.batch_size = n(el.batch);
    s.seed = n(el.seed);
    return JSON.parse(JSON.stringify(s)); // drops undefined
  }

  function clearErrors() {
    alert.textContent = '';
    for (const f of form.querySelectorAll('.field.invalid')) f.classList.remove('invalid');
  }

  /** Shows err under the field it names, or above the form. */
  function showError(err) {
    const name = err.field || '';
    let best = null;
    for (const f of form.querySelectorAll('.field[data-field]')) {
      const k = f.dataset.field;
      const hit = name === k || name.startsWith(`${k}.`) || name.startsWith(`${k}[`);
      if (hit && (!best || k.length > best.dataset.field.length)) best = f;
    }
    if (!best) {
      alert.textContent = `${name ? `${name}: ` : ''}${err.message}`;
      return;
    }
    best.classList.add('invalid');
    best.querySelector('.err').textContent = name && name !== best.dataset.field
      ? `${name}: ${err.message}` : err.message;
    best.querySelector('input, select, textarea')?.focus();
  }

  function copyCurl() {
    clearErrors();
    try {
      showCurl(curl('POST', '/v1/jobs', spec()));
    } catch (e) {
      showError(e);
    }
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors();
    submitBtn.disabled = true;
    try {
      const job = await api('/v1/jobs', { method: 'POST', body: spec() });
      location.hash = `#/jobs/${job.id}`;
    } catch (e) {
      if (e instanceof ApiError) showError(e);
      else alert.textContent = e.message;
    } finally {
      submitBtn.disabled = false;
    }
  });
  form.addEventListener('input', (ev) => ev.target.closest('.field')?.classList.remove('invalid'));

  loadChoices();
  return { destroy: () => ctl.abort() };
}
