// api.js — the dashboard's only way to the server: the public REST API v1, with the
// bearer token (kept in this tab's sessionStorage) and errors as ApiError carrying the
// API's {code, message, field}. Also renders equivalent curl commands.

const TOKEN_KEY = 'monas.token';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (v) => (v ? sessionStorage.setItem(TOKEN_KEY, v) : sessionStorage.removeItem(TOKEN_KEY)),
};

/** Fired on the connection state: 'online', 'offline', 'unauthorized' (detail: message). */
export const apiEvents = new EventTarget();
const emit = (type, detail) => apiEvents.dispatchEvent(new CustomEvent(type, { detail }));

export class ApiError extends Error {
  constructor(status, body) {
    const e = body?.error ?? {};
    super(e.message || `HTTP ${status}`);
    this.status = status;
    this.code = e.code || '';
    this.field = e.field || '';
  }
}

/** Calls the API; resolves to the parsed JSON (null for 204), or the Response when raw. */
export async function api(path, { method = 'GET', body, raw = false, signal } = {}) {
  const headers = {};
  const t = token.get();
  if (t) headers.Authorization = `Bearer ${t}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let r;
  try {
    r = await fetch(path, {
      method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    emit('offline', 'cannot reach the server');
    throw new ApiError(0, { error: { code: 'network', message: 'cannot reach the server' } });
  }
  emit('online');
  if (!r.ok) {
    let b = null;
    try { b = await r.json(); } catch { /* not JSON */ }
    const err = new ApiError(r.status, b ?? { error: { message: `${r.status} ${r.statusText}` } });
    if (r.status === 401 || r.status === 403) emit('unauthorized', err.message);
    throw err;
  }
  if (raw) return r;
  return r.status === 204 ? null : r.json();
}

/** Downloads path (authorised) as a file named name. */
export async function download(path, name) {
  const r = await api(path, { raw: true });
  const url = URL.createObjectURL(await r.blob());
  const a = Object.assign(document.createElement('a'), { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

const quote = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/** The curl command that does the same request (token from $MONAS_TOKEN). */
export function curl(method, path, body) {
  const parts = ['curl -sS'];
  if (method !== 'GET') parts.push(`-X ${method}`);
  if (token.get()) parts.push('-H "Authorization: Bearer $MONAS_TOKEN"');
  if (body !== undefined) {
    parts.push("-H 'Content-Type: application/json'");
    parts.push(`-d ${quote(JSON.stringify(body, null, 2))}`);
  }
  parts.push(quote(location.origin + path));
  return parts.join(' \\\n  ');
}
