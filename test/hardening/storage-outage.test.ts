// Issue 10's local fault: the database goes away and comes back. envoi runs
// on PostgreSQL through a TCP proxy the test cuts (every connection reset,
// new ones refused: what a stopped server looks like) for a few seconds.
// Meanwhile the API says 503 with Retry-After (not a 500, not a hang) and
// SMTP submission a temporary 421 4.3.2, so clients keep their messages;
// after it is back, envoi recovers by itself: new messages are accepted and
// every message accepted before, during (none) and after is delivered.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { DIALECTS, PG_URL } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { startTcpProxy, type TcpProxy } from '../peers/tcp-proxy.ts';

const OUTAGE_MS = Number(process.env.ENVOI_OUTAGE_MS ?? 4_000);

if (DIALECTS.includes('postgres')) {
  describe('PostgreSQL goes away and comes back', () => {
    let t: TestApp;
    let proxy: TcpProxy;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;

    before(async () => {
      const target = new URL(PG_URL);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      const viaProxy = new URL(PG_URL);
      viaProxy.port = String(proxy.port);
      t = await startTestApp('postgres', {}, { pgUrl: viaProxy.toString() });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(async () => {
      proxy.restore();
      await t.close();
      await proxy.close();
    });

    const send = (n: string) => t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to: [`${n}@example.net`], subject: n, text: 'Your receipt' } });
    const delivered = (id: string) => eventually(async () => {
      const r = await t.api('GET', `/v1/messages/${id}`, { token: acme.token });
      return r.status === 200 && r.body.recipients.every((x: { status: string }) => x.status === 'delivered');
    }, 30_000);

    test('503 with Retry-After and SMTP 421 4.3.2 while it is away; recovery by itself; nothing accepted is lost', async (t2) => {
      const accepted: string[] = [];
      for (const n of ['before1', 'before2', 'before3']) {
        const r = await send(n);
        assert.equal(r.status, 202, r.text);
        accepted.push(r.body.id);
      }
      proxy.cut();
      const started = Date.now();
      const during = await send('during');
      assert.equal(during.status, 503, during.text);
      assert.equal(during.headers['retry-after'], '30');
      assert.equal(during.body.code, 'unavailable');
      assert.ok(Date.now() - started < 12_000, 'answered, not held');

      // SMTP submission: a temporary failure, the client keeps the message
      const smtp = nodemailer.createTransport({
        host: '127.0.0.1', port: t.app.ports.submission, secure: false, requireTLS: true, tls: { rejectUnauthorized: false },
        auth: { user: acme.keyId, pass: acme.secret },
      });
      const refused = await smtp.sendMail({ from: 'orders@shop.example', to: 'smtp@example.net', subject: 'during', text: 'x' }).then(() => null, (e: { responseCode?: number; response?: string }) => e);
      assert.ok(refused, 'not accepted while the database is away');
      assert.equal(refused.responseCode, 421, `a temporary reply: ${refused.response}`);
      assert.match(refused.response ?? '', /^421 4\.3\.2 /, 'the enhanced code says the system is not accepting messages now');
      smtp.close();

      await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - started))));
      proxy.restore();
      // back: the pools reconnect on their own
      const afterwards = await eventually(async () => {
        const r = await send('after1');
        return r.status === 202 ? r : undefined;
      }, 30_000);
      accepted.push(afterwards.body.id);
      const r2 = await send('after2');
      assert.equal(r2.status, 202, r2.text);
      accepted.push(r2.body.id);
      for (const id of accepted) await delivered(id);
      t2.diagnostic(`outage of ${Date.now() - started} ms: ${accepted.length} accepted messages delivered, the one sent during it refused with 503 (and 4xx over SMTP)`);
    });
  });
}
