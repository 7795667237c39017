// dashboard.test.mjs — the dashboard in a real browser: Debian's chromium driven by
// playwright-core against a real monasd (tokens required) and a worker. It enters the
// token, triggers a validation error (shown next to its field), submits a job through
// the form, watches the job page update live until the job ends, checks the scatter
// shows as many front points as GET /v1/jobs/{id}/front returns, opens a candidate's
// detail, and saves screenshots to build/artifacts/.
//
// Environment: MONAS_BIN_DIR (monasd, monas-worker), CHROMIUM (the browser binary),
// ARTIFACTS (screenshot folder). The job is scored by a real `monas-worker run`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = resolve(process.env.MONAS_BIN_DIR || '../../build');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARTIFACTS = resolve(process.env.ARTIFACTS || '../../build/artifacts');
const ADMIN = 'browser-admin-token';
const WORKER = 'browser-worker-token';
const BUDGET = 64;

const tmp = mkdtempSync(join(tmpdir(), 'monas-browser-'));
const procs = [];
let base = '';
let browser = null;
let page = null;
const pageErrors = [];

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 10000) {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function start(bin, args, env, name) {
  const log = join(tmp, `${name}.log`);
  const p = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks = [];
  p.stdout.on('data', (d) => chunks.push(d));
  p.stderr.on('data', (d) => chunks.push(d));
  p.on('exit', () => writeFileSync(log, Buffer.concat(chunks)));
  procs.push(p);
  return p;
}

async function apiGet(path) {
  const r = await fetch(base + path, { headers: { Authorization: `Bearer ${ADMIN}` } });
  assert.equal(r.status, 200, `GET ${path}`);
  return r.json();
}

/** Starts a real worker with the worker-scope token. */
function startWorker() {
  writeFileSync(join(tmp, 'worker-token'), `${WORKER}\n`);
  start(join(BIN, 'monas-worker'), ['run', '--coordinator', base, '--token-file',
    join(tmp, 'worker-token')], {}, 'worker');
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const portFile = join(tmp, 'port');
  start(join(BIN, 'monasd'), ['--listen', '127.0.0.1:0', '--db', join(tmp, 'monas.db'),
    '--port-file', portFile, '--reap-interval-ms', '200'],
  { MONAS_TOKENS: `${ADMIN} admin;${WORKER} worker` }, 'monasd');
  const port = await waitFor('monasd to listen', () => existsSync(portFile) && readFileSync(portFile, 'utf8').trim());
  base = `http://127.0.0.1:${port}`;

  const context = await chromium.launchPersistentContext(mkdtempSync(join(tmp, 'profile-')), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  browser = context;
  page = context.pages()[0] ?? await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  for (const p of procs) if (p.exitCode == null) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => (p.exitCode == null ? new Promise((r) => p.on('exit', r)) : null)));
  if (process.exitCode) console.log(`# logs kept in ${tmp}`);
  else rmSync(tmp, { recursive: true, force: true });
});

test('dashboard: token, validation error, submit, live job page, front, detail', async () => {
  /* The API needs a token: the page asks for one. */
  await page.goto(`${base}/#/new`);
  await page.locator('#token-dlg[open]').waitFor();
  await page.fill('#token-input', ADMIN);
  await page.click('#token-dlg button[value="save"]');
  await page.locator('#f-mcu option').first().waitFor({ state: 'attached' });
  assert.match(await page.textContent('.mcu-info'), /SRAM/);

  /* A value the API refuses: its error appears under that field. */
  await page.fill('#f-name', 'browser-test');
  await page.selectOption('#f-mcu', 'stm32f746');
  await page.fill('[id="f-budgets.sram_bytes"]', '0');
  await page.fill('[id="f-budget.max_candidates"]', String(BUDGET));
  await page.fill('#f-batch_size', '8');
  const [bad] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/v1/jobs') && r.request().method() === 'POST'),
    page.click('#submit-form button[type="submit"]'),
  ]);
  assert.equal(bad.status(), 422);
  assert.equal((await bad.json()).error.field, 'budgets.sram_bytes');
  const fieldErr = page.locator('.field[data-field="budgets.sram_bytes"].invalid .err');
  await fieldErr.waitFor();
  assert.match(await fieldErr.textContent(), /sram_bytes/);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-form-error.png'), fullPage: true });

  /* Fixed, it submits and lands on the job page. */
  await page.fill('[id="f-budgets.sram_bytes"]', '');
  await page.click('#submit-form button[type="submit"]');
  await page.waitForURL(/#\/jobs\/\d+$/);
  const id = +page.url().match(/#\/jobs\/(\d+)$/)[1];
  await page.evaluate(() => { window.__noReload = true; });

  /* Live: the page shows the job idle, then the worker starts and the counts move
   * without a reload. */
  await page.locator('#stat-scored', { hasText: `0 / ${BUDGET}` }).waitFor();
  const seen = new Set([await page.textContent('#stat-scored')]);
  startWorker();
  const job = await waitFor('the job to end', async () => {
    seen.add(await page.textContent('#stat-scored').catch(() => ''));
    const j = await apiGet(`/v1/jobs/${id}`);
    return j.status !== 'running' && j;
  }, 180000);
  await page.locator('.pagehead .badge', { hasText: job.status }).waitFor({ timeout: 10000 });
  seen.add(await page.textContent('#stat-scored'));
  assert.ok(seen.size >= 2, `the page showed progress changing (saw ${[...seen].join(', ')})`);
  assert.equal(await page.evaluate(() => window.__noReload), true, 'no page reload');

  /* The scatter draws exactly the front the API reports. */
  const front = await apiGet(`/v1/jobs/${id}/front`);
  assert.ok(front.candidates.length > 0, 'a non-empty front');
  await page.waitForFunction((n) => document.querySelector('#scatter')?.dataset.frontPoints === String(n),
    front.candidates.length, { timeout: 10000 });
  assert.equal(await page.textContent('#legend-front'), `front ${front.candidates.length}`);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-job.png'), fullPage: true });

  /* A front member's detail, from the table filtered to the front. */
  await page.check('#candidates header input[type="checkbox"] >> nth=0');
  const row = page.locator('#candidates tbody tr[data-id]').first();
  await row.waitFor();
  await page.waitForFunction((n) => document.querySelectorAll('#candidates tbody tr[data-id]').length === n,
    Math.min(front.candidates.length, 50));
  const cid = +(await row.getAttribute('data-id'));
  assert.ok(front.candidates.some((c) => c.id === cid), 'the filtered table lists front members');
  await row.click();
  await page.waitForURL(new RegExp(`#/jobs/${id}/c/${cid}$`));
  const drawer = page.locator('#detail');
  await drawer.locator('#cost-table').waitFor();
  assert.match(await drawer.textContent(), new RegExp(`Candidate #${cid}`));
  assert.match(await drawer.textContent(), /Pareto front/);
  assert.match(await drawer.locator('#arch-key').textContent(), /\S/);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-candidate.png') });

  /* The job list shows the job with its summary. */
  await page.goto(`${base}/#/jobs`);
  const listed = page.locator(`#jobs tbody tr[data-id="${id}"]`);
  await listed.waitFor();
  assert.match(await listed.textContent(), /browser-test.*nb201.*stm32f746/);
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-jobs.png') });
  assert.deepEqual(pageErrors, [], 'no script errors in the page');
});
