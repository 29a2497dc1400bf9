// The webhook POST against a real HTTPS receiver on loopback: trusted only
// through the test CA, no redirect followed, answers read up to a cap, a
// deadline, and the SSRF guard at connect time (a name that resolves to
// loopback is refused when private targets are not allowed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestCa, type TestCa } from '../peers/ca.ts';
import { postWebhook } from '../../src/webhooks/post.ts';
import { startReceiver, type Receiver } from './receiver.ts';

describe('webhook POST', () => {
  let ca: TestCa;
  let rx: Receiver;
  before(async () => {
    ca = await createTestCa();
    rx = await startReceiver(ca);
  });
  after(() => rx.close());
  const opts = () => ({ timeoutMs: 2000, allowPrivate: true, ca: [ca.caPem] });

  test('a 2xx is delivered; headers and Basic credentials arrive', async () => {
    rx.answer = (_q, res) => res.writeHead(204).end();
    const out = await postWebhook({ url: rx.url, body: '{"a":1}', headers: { 'Envoi-Signature': 't=1,v1=x' }, auth: { username: 'mj', password: 'p@ss' } }, opts());
    assert.equal(out.ok, true);
    const got = rx.received.at(-1)!;
    assert.equal(got.body, '{"a":1}');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['envoi-signature'], 't=1,v1=x');
    assert.equal(got.headers.authorization, 'Basic ' + Buffer.from('mj:p@ss').toString('base64'));
  });

  test('a certificate from an unknown CA is refused', async () => {
    const out = await postWebhook({ url: rx.url, body: '{}', headers: {} }, { timeoutMs: 2000, allowPrivate: true });
    assert.equal(out.ok, false);
    assert.match(!out.ok ? out.error : '', /certificate/i);
  });

  test('a redirect is not followed; an error answer is kept short', async () => {
    rx.answer = (_q, res) => res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
    const n = rx.received.length;
    const out = await postWebhook({ url: rx.url, body: '{}', headers: {} }, opts());
    assert.deepEqual(out.ok ? null : [out.status, out.error], [302, 'HTTP 302: redirect to http://169.254.169.254/latest/meta-data/ not followed']);
    assert.equal(rx.received.length, n + 1);
    rx.answer = (_q, res) => res.writeHead(500).end('boom\r\n' + 'x'.repeat(10_000));
    const err = await postWebhook({ url: rx.url, body: '{}', headers: {} }, opts());
    assert.ok(!err.ok && err.status === 500 && err.error.startsWith('HTTP 500: boom x') && err.error.length <= 220, !err.ok ? err.error : '');
  });

  test('a huge answer is cut at the cap; a slow one at the deadline', async () => {
    rx.answer = (_q, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(64 * 1024, 'x');
      const pump = () => { while (res.write(chunk)) { /* until the socket pushes back */ } };
      res.on('drain', pump);
      pump();
    };
    const big = await postWebhook({ url: rx.url, body: '{}', headers: {} }, { ...opts(), maxResponseBytes: 128 * 1024 });
    assert.equal(big.ok, true);
    rx.answer = () => { /* never answers */ };
    const slow = await postWebhook({ url: rx.url, body: '{}', headers: {} }, { ...opts(), timeoutMs: 300 });
    assert.ok(!slow.ok && slow.status === null && /ETIMEDOUT|300 ms/.test(slow.error), JSON.stringify(slow));
    assert.ok(slow.ms < 2000);
  });

  test('SSRF: loopback refused at connect time, by name and by literal, before anything is sent', async () => {
    rx.answer = (_q, res) => res.writeHead(200).end();
    const n = rx.received.length;
    for (const url of [`https://localhost:${rx.port}/hooks`, rx.url, `https://[::ffff:127.0.0.1]:${rx.port}/`]) {
      const out = await postWebhook({ url, body: '{}', headers: {} }, { ...opts(), allowPrivate: false });
      assert.ok(!out.ok && /ETARGETREFUSED/.test(out.error) && /loopback/.test(out.error), `${url}: ${JSON.stringify(out)}`);
    }
    assert.equal(rx.received.length, n, 'nothing reached the receiver');
  });
});
