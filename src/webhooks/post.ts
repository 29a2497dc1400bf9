// One webhook POST, its outcome as a value. No redirect is followed (a 3xx
// is a failure: following it would let a receiver point envoi anywhere);
// the answer is read up to a cap and only its status and first characters
// are kept; the whole exchange has one deadline. The socket resolves the
// host through the SSRF guard (targets.ts).
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { guardedLookup, hostOf, nonPublicReason } from './targets.ts';

export interface PostRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  /** HTTP Basic credentials from the endpoint URL's userinfo */
  auth?: { username: string; password: string } | null;
}

export interface PostOptions {
  timeoutMs: number;
  allowPrivate: boolean;
  /** keep-alive agents, one per scheme */
  agents?: { http: http.Agent; https: https.Agent };
  /** trusted CAs when no agent is given */
  ca?: string[];
  maxResponseBytes?: number;
}

export type PostOutcome =
  | { ok: true; status: number; ms: number }
  | { ok: false; status: number | null; error: string; ms: number };

const SNIPPET = 200;

export function postWebhook(req: PostRequest, o: PostOptions): Promise<PostOutcome> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const cap = o.maxResponseBytes ?? 64 * 1024;
  // a socket to an IP literal skips `lookup`: judge the address here
  const host = hostOf(req.url);
  const literal = net.isIP(host) && !o.allowPrivate ? nonPublicReason(host) : null;
  if (literal) return Promise.resolve({ ok: false, status: null, error: `ETARGETREFUSED: ${host} is a ${literal} address`, ms: 0 });
  return new Promise((resolve) => {
    let settled = false;
    const done = (out: PostOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(out);
    };
    const u = new URL(req.url);
    const secure = u.protocol === 'https:';
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'user-agent': 'envoi-webhooks/1',
      'content-length': Buffer.byteLength(req.body),
      ...req.headers,
    };
    if (req.auth) headers.authorization = 'Basic ' + Buffer.from(`${req.auth.username}:${req.auth.password}`).toString('base64');
    const options: https.RequestOptions = {
      method: 'POST',
      headers,
      lookup: guardedLookup(o.allowPrivate) as never,
      agent: o.agents ? (secure ? o.agents.https : o.agents.http) : undefined,
      ...(secure && !o.agents && o.ca ? { ca: o.ca } : {}),
    };
    const r = (secure ? https : http).request(u, options, (res) => {
      const status = res.statusCode ?? 0;
      let read = 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        if (read < SNIPPET * 4) chunks.push(c.subarray(0, SNIPPET * 4 - read));
        read += c.length;
        // enough: a receiver that streams megabytes does not hold a slot
        if (read > cap) res.destroy();
      });
      const finish = () => {
        if (status >= 200 && status < 300) return done({ ok: true, status, ms: ms() });
        const text = Buffer.concat(chunks).toString('utf8').replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, SNIPPET);
        const why = status >= 300 && status < 400 ? `redirect to ${String(res.headers.location ?? '?').slice(0, SNIPPET)} not followed` : text;
        done({ ok: false, status, error: `HTTP ${status}${why ? `: ${why}` : ''}`, ms: ms() });
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
    });
    const timer = setTimeout(() => r.destroy(Object.assign(new Error(`no answer within ${o.timeoutMs} ms`), { code: 'ETIMEDOUT' })), o.timeoutMs);
    r.on('error', (e: NodeJS.ErrnoException) => done({ ok: false, status: null, error: describe(e), ms: ms() }));
    r.end(req.body);
  });
}

function describe(e: NodeJS.ErrnoException): string {
  const msg = e.message.replace(/[\r\n]+/g, ' ').slice(0, 300);
  return e.code && !msg.includes(e.code) ? `${e.code}: ${msg}` : msg;
}
