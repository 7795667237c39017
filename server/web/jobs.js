// jobs.js — the job list: newest first, filtered by state, paginated with the API's
// `after` cursor, refreshed every few seconds while visible.
import { api } from './api.js';
import { age, badge, fill, h, num, progressBar } from './util.js';

const STATES = ['', 'running', 'converged', 'exhausted', 'cancelled', 'failed'];
const PAGE = 25;
const REFRESH_MS = 4000;

export function jobsPage(root, { params }) {
  const status = STATES.includes(params.get('status')) ? params.get('status') : '';
  const cursors = [0]; // `after` of each page seen; the last is the current page's
  let timer = 0;
  let next = null;

  const tbody = h('tbody');
  const info = h('span');
  const prev = h('button', { type: 'button', onclick: () => { cursors.pop(); load(); } }, '← Newer');
  const more = h('button', { type: 'button', onclick: () => { cursors.push(next); load(); } }, 'Older →');
  const err = h('div', { class: 'alert' });
  const seg = h('div', { class: 'seg', role: 'tablist' }, STATES.map((s) =>
    h('button', {
      type: 'button', class: s === status ? 'on' : '', dataset: { state: s || 'all' },
      onclick: () => { location.hash = s ? `#/jobs?status=${s}` : '#/jobs'; },
    }, s || 'all')));

  fill(root,
    h('div', { class: 'pagehead' }, h('h1', {}, 'Jobs'), seg, h('span', { class: 'spacer' }),
      h('a', { class: 'btn', href: '#/new' }, '+ New job')),
    err,
    h('div', { class: 'panel' },
      h('div', { class: 'tablewrap' }, h('table', { class: 'grid', id: 'jobs' },
        h('thead', {}, h('tr', {},
          h('th', { class: 'num' }, 'ID'), h('th', {}, 'Name'), h('th', {}, 'Space'), h('th', {}, 'MCU'),
          h('th', {}, 'Strategy'), h('th', {}, 'State'), h('th', { style: 'min-width:190px' }, 'Progress'),
          h('th', { class: 'num' }, 'Hypervolume'), h('th', { class: 'num' }, 'Age'))),
        tbody)),
      h('div', { class: 'pager' }, info, h('span', { class: 'spacer' }), prev, more)));

  function row(j) {
    const frac = j.max_candidates ? j.scored / j.max_candidates : 0;
    return h('tr', { dataset: { id: j.id }, onclick: () => { location.hash = `#/jobs/${j.id}`; } },
      h('td', { class: 'num' }, j.id),
      h('td', {}, h('a', { href: `#/jobs/${j.id}` }, j.name)),
      h('td', {}, j.space || '–'), h('td', {}, j.mcu || '–'), h('td', {}, j.strategy || '–'),
      h('td', { title: j.reason || '' }, badge(j.status)),
      h('td', {}, h('div', { class: 'progress-cell' }, progressBar(frac),
        h('span', { class: 'num' }, `${num(j.scored)} / ${num(j.max_candidates)}`))),
      h('td', { class: 'num' }, j.hypervolume ? j.hypervolume.toFixed(4) : '–'),
      h('td', { class: 'num', title: j.created_at }, age(j.created_at)));
  }

  async function load() {
    clearTimeout(timer);
    const after = cursors[cursors.length - 1];
    const q = `order=desc&limit=${PAGE}&after=${after}${status ? `&status=${status}` : ''}`;
    try {
      const r = await api(`/v1/jobs?${q}`);
      err.textContent = '';
      next = r.next_after;
      fill(tbody, r.jobs.length ? r.jobs.map(row)
        : h('tr', { class: 'empty' }, h('td', { colspan: 9 },
          status ? `No ${status} jobs.` : 'No jobs yet. ', !status && h('a', { href: '#/new' }, 'Submit one.'))));
      const first = (cursors.length - 1) * PAGE;
      info.textContent = r.jobs.length ? `${first + 1}–${first + r.jobs.length}` : '';
    } catch (e) {
      err.textContent = `Could not load jobs: ${e.message}`;
    }
    prev.disabled = cursors.length < 2;
    more.disabled = next == null;
    timer = setTimeout(load, REFRESH_MS);
  }
  load();

  return { destroy: () => clearTimeout(timer) };
}
