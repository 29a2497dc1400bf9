// Property-based tests against a running envoi: random JSON bodies to the
// write routes of the API (and to the Mailjet endpoint), and random command
// lines to both SMTP listeners. Properties: the API never answers 5xx and
// always answers a problem document for a refusal; every SMTP reply of 4xx
// or 5xx carries an enhanced status code, no command goes unanswered (or the
// server closes the session), and the listeners still serve a normal
// session afterwards.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import net from 'node:net';
import fc from 'fast-check';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { fuzz, hostileString } from './fuzz.ts';

/** JSON values with the shapes of our bodies' fields, and the odd values a client sends. */
const jsonish: fc.Arbitrary<unknown> = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small' },
    hostileString(40), fc.emailAddress(), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null),
    fc.constantFrom('orders@shop.example', 'news', 'mjml', 'html', 'single', 'double', 'form', 'transactional', 'marketing', '2026-05-01T00:00:00Z', 'https://x.example/', '__proto__', 'constructor'),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('__proto__', 'constructor', 'email', 'name')), tie('v'), { maxKeys: 4 }),
  ),
})).v;

/** A body with the route's own field names, each holding anything. */
const shaped = (fields: string[]) => fc.dictionary(fc.oneof(fc.constantFrom(...fields), fc.string({ maxLength: 6 })), jsonish, { maxKeys: fields.length + 1 });

const WRITES: [string, string, string[]][] = [
  ['POST', '/v1/messages', ['from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'text', 'html', 'headers', 'attachments', 'template', 'variables', 'stream', 'customId']],
  ['POST', '/v1/lists', ['name', 'description', 'fromAddress', 'fromName', 'optIn', 'consentText', 'stream', 'allowRelationship']],
  ['POST', '/v1/lists/news/subscriptions', ['email', 'fields', 'consent']],
  ['POST', '/v1/templates', ['name', 'format', 'subject', 'body', 'text']],
  ['POST', '/v1/campaigns', ['name', 'template', 'lists', 'segment', 'fromAddress', 'fromName', 'replyTo', 'trackClicks', 'trackOpens']],
  ['POST', '/v1/audience/count', ['lists', 'segment']],
  ['POST', '/v1/suppressions', ['email', 'reason', 'note']],
  ['POST', '/v1/webhooks', ['url', 'events', 'format', 'batch', 'description']],
  ['POST', '/v1/keys', ['label']],
  ['POST', '/v1/domains', ['name']],
  ['PUT', '/v1/profile', ['organisation', 'postalAddress', 'phone', 'organisationDomain', 'timezone', 'trackingHost']],
  ['PUT', '/v1/streams/fuzz', ['kind', 'fromAddress', 'bounceLabel', 'ipPool']],
  ['PATCH', '/v1/contacts/kim%40customer.example', ['fields']],
  ['POST', '/v3.1/send', ['Messages', 'SandboxMode', 'Globals']],
];

/** A valid body per route (same order as WRITES): mutated one path at a time, it gets past validation into the stages. */
const BASES: unknown[] = [
  { from: 'orders@shop.example', to: ['a@customer.example'], subject: 'Hello', text: 'Hi', headers: { 'X-Ref': '1' } },
  { name: 'fuzz-list', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'News', optIn: 'single' },
  { email: 'x@customer.example', fields: { first_name: 'X' }, consent: { source: 'form', optIn: 'single', ip: '192.0.2.1' } },
  { name: 'fuzz-template', format: 'html', subject: 'Hi {{ contact.first_name | default: "there" }}', body: '<p>News of the week. Shop SARL</p>' },
  { name: 'fuzz-campaign', template: 'base', lists: ['news'], segment: 'email contains "a"' },
  { lists: ['news'], segment: 'fields.first_name = "X" or last_open > 30 days ago' },
  { email: 'gone@customer.example', reason: 'manual', note: 'asked' },
  { url: 'https://hooks.shop.example/in', events: ['delivered'] },
  { label: 'fuzz key' },
  { name: 'other.example' },
  { organisation: 'Shop', postalAddress: '1 rue X, Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example', timezone: 'Europe/Paris' },
  { kind: 'marketing', bounceLabel: 'bounce-fuzz' },
  { fields: { first_name: 'Kim', vip: true } },
  { Messages: [{ From: { Email: 'orders@shop.example', Name: 'Shop' }, To: [{ Email: 'a@customer.example' }], Subject: 'Hi', TextPart: 'Hi' }] },
];

/** Every path to a value in a JSON value. */
function paths(v: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [at];
  const keys = Array.isArray(v) ? v.map((_x, i) => i) : Object.keys(v);
  return [at, ...keys.flatMap((k) => paths((v as Record<string | number, unknown>)[k], [...at, k]))];
}

/** The value with the thing at `path` replaced (or removed). */
function mutateJson(v: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (!path.length) return remove ? undefined : value;
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  const [head, ...rest] = path;
  const next = mutateJson(copy[head], rest, value, remove);
  if (next === undefined) delete copy[head];
  else copy[head] = next;
  return copy;
}

const ENHANCED = /^[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}(\s|$)/;

for (const dialect of DIALECTS) {
  describe(`hostile input at the edges of a running envoi (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let agent: https.Agent;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      agent = new https.Agent({ keepAlive: true, maxSockets: 8, ca: t.ca });
      await t.api('POST', '/v1/lists', { token: acme.token, body: { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'News', optIn: 'single' } });
      await t.api('POST', '/v1/lists/news/subscriptions', { token: acme.token, body: { email: 'kim@customer.example', consent: { source: 'form', optIn: 'single' } } });
      await t.api('PUT', '/v1/profile', { token: acme.token, body: BASES[10] });
      await t.api('POST', '/v1/templates', { token: acme.token, body: { name: 'base', format: 'html', subject: 'Base', body: '<p>News of the week. Shop SARL</p>' } });
    });
    after(async () => {
      agent?.destroy();
      await t?.close();
    });

    function send(method: string, path: string, payload: string | undefined, contentType = 'application/json'): Promise<{ status: number; type: string; text: string }> {
      const headers: Record<string, string> = path.startsWith('/v3.1/')
        ? { authorization: `Basic ${Buffer.from(`${acme.keyId}:${acme.secret}`).toString('base64')}` }
        : { authorization: `Bearer ${acme.token}` };
      if (payload !== undefined) headers['content-type'] = contentType;
      return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: t.app.ports.http, method, path, headers, agent, servername: 'localhost' }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    }

    test('JSON API: random bodies never cause a 5xx; refusals are problem documents', async (t2) => {
      const statuses = new Map<number, number>();
      const mutated = fc.nat({ max: WRITES.length - 1 }).chain((i) => fc.tuple(
        fc.constant(i),
        // mostly a string where a string was (it passes the type check and reaches the stage's own checks), now and then anything
        fc.array(fc.tuple(fc.nat(), fc.oneof({ arbitrary: hostileString(60), weight: 3 }, { arbitrary: jsonish, weight: 1 }), fc.boolean()), { minLength: 1, maxLength: 2 }).map((edits) => {
          let v = BASES[i];
          for (const [n, value, remove] of edits) {
            const all = paths(v);
            v = mutateJson(v, all[n % all.length], value, remove && all.length > 1) ?? {};
          }
          return JSON.stringify(v);
        }),
      ));
      const body = fc.oneof(
        { arbitrary: mutated, weight: 6 },
        { arbitrary: fc.nat({ max: WRITES.length - 1 }).chain((i) => fc.tuple(fc.constant(i), shaped(WRITES[i][2]).map((o) => JSON.stringify(o)))), weight: 2 },
        { arbitrary: fc.tuple(fc.nat({ max: WRITES.length - 1 }), jsonish.map((v) => JSON.stringify(v) ?? 'null')), weight: 2 },
        { arbitrary: fc.tuple(fc.nat({ max: WRITES.length - 1 }), fc.oneof(fc.string({ maxLength: 200 }), fc.constantFrom('{', '{"a":', '[1,2', '{"__proto__":{"admin":true}}', '\uFEFF{}', '{"a":1}{"b":2}', `{"a":${'['.repeat(5000)}`, '"\\ud800"'))), weight: 2 },
      );
      await fuzz(t2, `JSON bodies to ${WRITES.length} API routes (${dialect})`, 250, fc.asyncProperty(body, async ([i, payload]) => {
        const [method, path] = WRITES[i];
        const r = await send(method, path, payload);
        statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        assert.ok(r.status < 500, `${method} ${path} ${payload.slice(0, 300)} → ${r.status} ${r.text.slice(0, 300)}`);
        if (r.status >= 400 && !path.startsWith('/v3.1/')) assert.match(r.type, /application\/problem\+json/, `${path}: ${r.status} ${r.type}`);
      }));
      t2.diagnostic(`statuses: ${JSON.stringify([...statuses].sort())}`);
      assert.ok([...statuses.keys()].some((s) => s < 300), 'some random bodies are valid and accepted');
    });

    test('odd content types, encodings and sizes are refused, never a 5xx', async () => {
      const cases: [string, string, string | undefined, string][] = [
        ['POST', '/v1/lists', '<xml/>', 'application/xml'],
        ['POST', '/v1/lists', 'name=x', 'application/x-www-form-urlencoded'],
        ['POST', '/v1/lists', '{"name":"x"}', 'text/plain'],
        ['POST', '/v1/lists', '{}', 'application/json; charset=utf-16'],
        ['POST', '/v1/lists', undefined, 'application/json'],
        ['POST', '/v1/imports?list=news', 'email\n\u0000\n', 'text/csv'],
        ['POST', '/v1/imports?list=news&encoding=ebcdic', 'email\nx@y.example\n', 'text/csv'],
        ['POST', '/v1/messages', JSON.stringify({ from: 'orders@shop.example', to: 'a@b.example', subject: 's', text: 'x'.repeat(11 * 1024 * 1024) }), 'application/json'],
        ['GET', `/v1/contacts/${'%'.repeat(3)}`, undefined, 'application/json'],
        ['GET', `/v1/contacts/${encodeURIComponent('\u0000')}`, undefined, 'application/json'],
        // NUL reached PostgreSQL (a 500) and a lone "%" threw in a second decoding: both found here
        ...['/v1/contacts/%2500', '/v1/contacts/%25', '/v1/lists/%00', '/v1/templates/%00', '/v1/lists/news/subscriptions/%25', '/v1/contacts?q=%00',
          '/v1/sandbox/messages?before=%00', '/f/%00', '/u/%00', '/confirm/%00'].map((p): [string, string, undefined, string] => ['GET', p, undefined, 'application/json']),
        ['DELETE', '/v1/suppressions/%25', undefined, 'application/json'],
        ['DELETE', '/v1/keys/%00', undefined, 'application/json'],
        ['POST', '/v1/campaigns', JSON.stringify({ name: '\u0000', template: 'base', lists: ['news'] }), 'application/json'],
        ['POST', '/v1/suppressions', JSON.stringify({ email: 'n@customer.example', note: 'a\u0000b' }), 'application/json'],
        ['GET', `/v1/lists/${'a'.repeat(5000)}`, undefined, 'application/json'],
        ['GET', '/v1/contacts?limit=-1&after=%00', undefined, 'application/json'],
        ['GET', '/v1/feedback?limit=1e309&before=%FF', undefined, 'application/json'],
        ['GET', '/v1/sandbox/messages?limit=NaN', undefined, 'application/json'],
      ];
      for (const [method, path, payload, type] of cases) {
        const r = await send(method, path, payload, type);
        assert.ok(r.status < 500, `${method} ${path.slice(0, 60)} (${type}) → ${r.status} ${r.text.slice(0, 200)}`);
      }
    });

    /**
     * A raw SMTP session that records every reply line and notices a close.
     * Each command waits for a complete reply, the close, or a time bound.
     */
    async function smtpSession(port: number) {
      const socket = net.connect({ host: '127.0.0.1', port });
      let buffer = '';
      const lines: string[] = [];
      let closed = false;
      let wake: (() => void) | undefined;
      socket.on('data', (c) => {
        buffer += c.toString('latin1');
        let nl: number;
        while ((nl = buffer.indexOf('\r\n')) >= 0) {
          lines.push(buffer.slice(0, nl));
          buffer = buffer.slice(nl + 2);
        }
        wake?.();
      });
      socket.on('error', () => {});
      socket.on('close', () => { closed = true; wake?.(); });
      /** the next complete reply (its last line has a space after the code), or null when the session closed */
      const reply = async (ms = 5000): Promise<string[] | null> => {
        const until = Date.now() + ms;
        for (;;) {
          const end = lines.findIndex((l) => /^\d{3}( |$)/.test(l));
          if (end >= 0) return lines.splice(0, end + 1);
          if (closed) return null;
          if (Date.now() > until) throw new Error(`no reply within ${ms} ms`);
          await new Promise<void>((r) => { wake = r; setTimeout(r, 50); });
        }
      };
      const greeting = await reply();
      assert.ok(greeting?.[0].startsWith('220'), String(greeting));
      return {
        get closed() { return closed; },
        reply,
        write: (bytes: Buffer) => { if (!closed) socket.write(bytes); },
        close: () => socket.destroy(),
      };
    }

    const VERBS = ['EHLO', 'HELO', 'MAIL FROM:', 'RCPT TO:', 'DATA', 'RSET', 'NOOP', 'QUIT', 'VRFY', 'EXPN', 'HELP', 'AUTH PLAIN', 'AUTH LOGIN', 'AUTH CRAM-MD5',
      'AUTH XOAUTH2', 'BDAT 10', 'STARTTLS ', 'XCLIENT ADDR=1.2.3.4', 'XFORWARD NAME=x', 'ETRN', 'TURN', 'GET / HTTP/1.1', 'MAIL FROM:<> SIZE=99999999999', 'MAIL FROM:<a@b.example> BODY=8BITMIME SMTPUTF8',
      'RCPT TO:<a@b.example> NOTIFY=SUCCESS ORCPT=rfc822;x', 'MAIL FROM:<a@b.example> AUTH=<>', 'WIZ', 'KILL', 'SHELL'];
    const arg = fc.oneof(
      fc.constant(''), fc.stringMatching(/^[\x21-\x7e]{0,40}$/), fc.constantFrom('<>', '<a@b.example>', '<@x:a@b.example>', '<"a b"@c.example>', '<a@[127.0.0.1]>', `<${'a'.repeat(300)}@b.example>`,
        'abuse@localhost', '<postmaster>', 'SIZE=-1', '=', '\u00e9\u00e8', '%', 'a'.repeat(2000)),
      fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b).toString('latin1').replace(/[\r\n]/g, '')),
    );
    const line = fc.tuple(fc.oneof({ arbitrary: fc.constantFrom(...VERBS), weight: 4 }, { arbitrary: fc.stringMatching(/^[A-Za-z]{1,10}$/), weight: 1 }), arg)
      .map(([v, a]) => `${v}${v.endsWith(':') || v.endsWith(' ') ? '' : ' '}${a}`.trimEnd());

    for (const listener of ['submission', 'inbound'] as const) {
      test(`SMTP ${listener}: random command lines always get a reply with an enhanced code, or a close`, async (t2) => {
        const port = t.app.ports[listener];
        let replies = 0;
        let closes = 0;
        let sessions = 0;
        // one session serves case after case until the server closes it: a new one costs smtp-server's greeting delay (~100 ms)
        let s: Awaited<ReturnType<typeof smtpSession>> | undefined;
        await fuzz(t2, `SMTP command lines to ${listener} (${dialect})`, 40, fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 12 }), async (commands) => {
          if (!s || s.closed) {
            s?.close();
            s = await smtpSession(port);
            sessions++;
          }
          for (const c of commands) {
            if (s.closed) break;
            if (/^STARTTLS/i.test(c)) continue; // a 220 to STARTTLS hands the socket to TLS: the TLS tests cover it
            s.write(Buffer.from(`${c}\r\n`, 'latin1'));
            let r = await s.reply();
            if (r === null) { closes++; break; }
            if (r[r.length - 1].startsWith('354')) {
              // DATA was taken: end the message
              s.write(Buffer.from('Subject: fuzz\r\n\r\nbody\r\n.\r\n'));
              r = await s.reply();
              if (r === null) { closes++; break; }
            }
            if (/^334/.test(r[r.length - 1])) {
              // an AUTH exchange asks for more: answer garbage once
              s.write(Buffer.from('Z2FyYmFnZQ==\r\n'));
              const r2 = await s.reply();
              if (r2 === null) { closes++; break; }
              r = r2;
            }
            replies++;
            for (const l of r) {
              assert.match(l, /^\d{3}[ -]/, `"${c}" → ${l}`);
              if (Number(l.slice(0, 3)) >= 400) assert.match(l, ENHANCED, `"${c}" → ${l}`);
            }
          }
        }));
        s?.close();
        t2.diagnostic(`${sessions} sessions`);
        t2.diagnostic(`${replies} replies checked, ${closes} sessions closed by the server`);
        // the listener still serves a normal session
        const after = await smtpSession(port);
        after.write(Buffer.from('EHLO after.fuzz.example\r\n'));
        assert.match((await after.reply())!.at(-1)!, /^250 /);
        after.write(Buffer.from('QUIT\r\n'));
        await after.reply();
        after.close();
      });
    }
  });
}
