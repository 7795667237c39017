// app.js — the dashboard shell: hash routing between the pages (job list, submit form,
// job page with candidate detail), the token dialog, the theme switch, the connection
// indicator. Each page is a function (root, route) returning
// {key, route(r), destroy()}: a route change within the same key (e.g. opening a
// candidate on the job page) calls route() instead of rebuilding the page.
import { apiEvents, token } from './api.js';
import { jobsPage } from './jobs.js';
import { submitPage } from './submit.js';
import { jobPage } from './job.js';
import { $ } from './util.js';

const view = $('#view');
let page = null;

const routes = [
  [/^#\/jobs\/(\d+)(?:\/c\/(\d+))?$/, (m) => ({ key: `job${m[1]}`, nav: 'jobs', make: jobPage,
    args: { id: +m[1], cid: m[2] ? +m[2] : null } })],
  [/^#\/new$/, () => ({ key: 'new', nav: 'new', make: submitPage, args: {} })],
  [/^#\/jobs(?:\?(.*))?$/, (m) => ({ key: `jobs?${m[1] || ''}`, nav: 'jobs', make: jobsPage,
    args: { params: new URLSearchParams(m[1] || '') } })],
];

function resolve(hash) {
  for (const [re, fn] of routes) {
    const m = re.exec(hash);
    if (m) return fn(m);
  }
  return null;
}

function onRoute() {
  const r = resolve(location.hash);
  if (!r) {
    location.replace('#/jobs');
    return;
  }
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('on', a.dataset.nav === r.nav);
  if (page && page.key === r.key && page.route) {
    page.route(r.args);
    return;
  }
  page?.destroy?.();
  view.replaceChildren();
  window.scrollTo(0, 0);
  page = r.make(view, r.args);
  page.key = r.key;
}

/* ---- token ---- */
const dlg = $('#token-dlg');
function tokenLabel() {
  $('#token-btn').textContent = token.get() ? 'Token ✓' : 'Token';
}
function askToken(why) {
  if (dlg.open) return;
  $('#token-why').textContent = why
    ? `${why}. Paste a bearer token; it is kept in this tab's session storage only.`
    : 'If this server requires bearer tokens, paste one here. It is kept in this tab\'s session storage only.';
  $('#token-input').value = token.get();
  dlg.showModal();
}
dlg.addEventListener('close', () => {
  if (dlg.returnValue === 'save') token.set($('#token-input').value.trim());
  if (dlg.returnValue === 'clear') token.set('');
  tokenLabel();
  if (dlg.returnValue === 'save' || dlg.returnValue === 'clear') {
    page?.destroy?.();
    page = null;
    onRoute();
  }
});
$('#token-btn').addEventListener('click', () => askToken());

/* ---- connection ---- */
const conn = $('#conn');
apiEvents.addEventListener('online', () => { conn.className = 'conn ok'; conn.textContent = 'connected'; });
apiEvents.addEventListener('offline', () => { conn.className = 'conn bad'; conn.textContent = 'offline'; });
apiEvents.addEventListener('unauthorized', (e) => askToken(e.detail));

/* ---- theme ---- */
$('#theme-btn').addEventListener('click', () => {
  const t = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = t;
  localStorage.setItem('monas.theme', t);
  window.dispatchEvent(new Event('themechange'));
});

tokenLabel();
window.addEventListener('hashchange', onRoute);
onRoute();
