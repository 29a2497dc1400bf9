// Serves the built dashboard (web/dist, made by `npm run build:web`) at `/`.
// A hash router in the page means only `/` and `/assets/*` are served here,
// and no dashboard path can shadow an API or public route. The page's CSP
// allows nothing but its own script; images only as data: URIs, because a
// captured message shown in the sandbox view inherits this policy, and its
// remote images and open pixel must not load (no tracking by looking).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Logger } from 'pino';

export const DEFAULT_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

const CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", 'img-src data:', "font-src 'self'",
  "connect-src 'self'", "frame-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.woff2': 'font/woff2', '.map': 'application/json', '.ico': 'image/x-icon',
};

function secure(reply: FastifyReply): FastifyReply {
  return reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer').header('x-frame-options', 'DENY');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>envoi</title>
<body style="font:16px/1.5 system-ui;max-width:40rem;margin:4rem auto;padding:0 1rem">
<h1>The dashboard is not built</h1>
<p>The API works; the web dashboard's files (<code>web/dist</code>) are missing.
Build them with <code>npm run build:web</code> (<code>npm install</code> does it too), then reload.</p>`;

export function staticRoutes(app: FastifyInstance, o: { dist?: string; logger: Logger }): void {
  const dist = o.dist ?? DEFAULT_DIST;
  const index = path.join(dist, 'index.html');
  if (!fs.existsSync(index)) o.logger.warn({ dist }, 'the dashboard is not built: run `npm run build:web`; / answers 503 until then');

  app.get('/', { config: { auth: 'public' } }, async (_req, reply) => {
    const html = await fs.promises.readFile(index).catch(() => undefined);
    secure(reply).header('cache-control', 'no-cache');
    if (!html) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get<{ Params: { file: string } }>('/assets/:file', { config: { auth: 'public' } }, async (req, reply) => {
    const name = req.params.file;
    const type = TYPES[path.extname(name)];
    // Vite's file names: no path separators, no dot files
    const body = /^[\w-][\w.-]*$/.test(name) && type ? await fs.promises.readFile(path.join(dist, 'assets', name)).catch(() => undefined) : undefined;
    if (!body) return reply.code(404).type('text/plain').send('not found');
    // names carry a content hash: a new build has new names
    return secure(reply).header('cache-control', 'public, max-age=31536000, immutable').type(type).send(body);
  });
}
