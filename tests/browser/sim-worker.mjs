// sim-worker.mjs — a stand-in for `monas-worker run` used by the browser test only
// when build/monas-worker has no `run` command yet: it leases candidates through the
// public worker API and posts deterministic made-up scores derived from the
// architecture key (not real proxies), so a job moves through its whole lifecycle.

const OPS = { none: 0, skip_connect: 0.2, nor_conv_1x1: 1, nor_conv_3x3: 9, avg_pool_3x3: 0.5 };

function hash(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return ((h >>> 0) % 10007) / 10007;
}

/** Made-up but consistent figures for an nb201-style key. */
export function fakeScore(key, proxies) {
  const ops = [...String(key).matchAll(/([a-z_0-9]+)~\d/g)].map((m) => m[1]);
  const w = ops.reduce((a, op) => a + (OPS[op] ?? 1), 0) + 0.3;
  const j = hash(String(key));
  const macs = Math.round(1.2e6 * w * (1 + 0.1 * j));
  const params = Math.round(800 * w * (1 + 0.2 * j));
  const cost = {
    macs,
    params,
    latency_ms: +(macs / 3.5e5 + 2 + 8 * j).toFixed(3),
    peak_sram_bytes: Math.round(60000 + 4000 * w * (0.6 + j)),
    flash_bytes: 40000 + params * 2,
  };
  const scores = {};
  for (const p of proxies) scores[p] = p === 'ntk' ? +(400 / (w + 0.5) + 90 * j).toFixed(4)
                                                  : +(w * 50 * (0.7 + 0.6 * hash(p + key))).toFixed(4);
  return { scores, cost };
}

/** Leases and scores until stop() says so; returns the number of results posted. */
export async function runSimWorker(base, token, { stop, workerId = 'sim-1', capacity = 16 }) {
  const hdr = { 'Content-Type': 'application/json' };
  if (token) hdr.Authorization = `Bearer ${token}`;
  const health = await (await fetch(`${base}/healthz`)).json();
  const sv = health.scoring_version;
  let posted = 0;
  while (!stop()) {
    const r = await fetch(`${base}/v1/leases`, {
      method: 'POST', headers: hdr,
      body: JSON.stringify({ worker_id: workerId, version: 'sim', scoring_version: sv, capacity }),
    });
    if (r.status === 204) { await new Promise((res) => setTimeout(res, 100)); continue; }
    if (!r.ok) throw new Error(`lease: ${r.status} ${await r.text()}`);
    const lease = await r.json();
    const proxies = Object.keys(lease.job?.proxies ?? { ntk: {}, linear_regions: {} });
    const results = lease.candidates.map((c) => ({
      candidate_id: c.id, ok: true, seconds: 0.01, ...fakeScore(c.key, proxies),
    }));
    await new Promise((res) => setTimeout(res, 60)); // a little scoring time: live updates show
    const p = await fetch(`${base}/v1/leases/${lease.lease_id}/results`, {
      method: 'POST', headers: hdr,
      body: JSON.stringify({ worker_id: workerId, scoring_version: sv, results }),
    });
    if (!p.ok) throw new Error(`results: ${p.status} ${await p.text()}`);
    posted += results.length;
  }
  return posted;
}
