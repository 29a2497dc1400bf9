// The one way the dashboard talks to envoi: the same /v1 API as API keys,
// authenticated by the session cookie. Every state-changing request echoes
// the CSRF cookie in X-CSRF-Token; a 401 sends the person to sign in.

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly field?: string) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};
export function whenSignedOut(fn: () => void): void {
  onUnauthorized = fn;
}

function csrfCookie(): string {
  const m = /(?:^|;\s*)__Host-envoi_csrf=([^;]*)/.exec(document.cookie);
  return m ? m[1] : '';
}

export async function api<T = any>(method: string, path: string, body?: unknown): Promise<T> {
  return send<T>(method, path, body === undefined ? undefined : { type: 'application/json', data: JSON.stringify(body) });
}

/** A file as the request body (a CSV import): the browser streams it from disk. */
export function upload<T = any>(path: string, file: Blob, type: string): Promise<T> {
  return send<T>('POST', path, { type, data: file });
}

async function send<T>(method: string, path: string, body?: { type: string; data: string | Blob }): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = body.type;
  if (method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = csrfCookie();
  const res = await fetch(path, { method, headers, credentials: 'same-origin', body: body?.data });
  if (res.status === 204) return undefined as T;
  const type = res.headers.get('content-type') ?? '';
  const data = type.includes('json') ? await res.json() : await res.text();
  if (!res.ok) {
    if (res.status === 401 && path !== '/v1/session') onUnauthorized();
    const p = typeof data === 'object' && data ? data : { detail: String(data), code: 'error' };
    throw new ApiError(res.status, p.code ?? 'error', p.detail ?? p.title ?? `HTTP ${res.status}`, p.field);
  }
  return data as T;
}

/** Query string from the defined values only. */
export function qs(params: Record<string, string | number | undefined | null>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

export interface User {
  id: string;
  email: string;
  role: 'operator' | 'tenant';
  tenantId: string | null;
}
