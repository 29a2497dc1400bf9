// The mailbox simulator: a new user sends to <behaviour>@simulator.envoi.test
// and watches the whole loop in the sandbox — delivery, a bounce at RCPT, a
// DSN after acceptance, a soft bounce then success, a complaint, an
// auto-reply, and Gmail's authentication rules — each through the same
// outcome paths and the same inbound parser as real mail.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { simulatorBehaviour } from '../../src/delivery/simulator/mailbox.ts';

test('simulator addresses: the name says the behaviour, +labels allowed, other domains are not simulated', () => {
  assert.equal(simulatorBehaviour('bounce@simulator.envoi.test'), 'bounce');
  assert.equal(simulatorBehaviour('Bounce-Async+run7@SIMULATOR.envoi.test'), 'bounce-async');
  assert.equal(simulatorBehaviour('whoever@simulator.envoi.test'), 'delivered');
  assert.equal(simulatorBehaviour('bounce@example.com'), null);
});

for (const dialect of DIALECTS) {
  describe(`mailbox simulator (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
    const send = async (to: string) => {
      const r = await api('POST', '/v1/messages', { from: { email: 'hello@shop.example' }, to: [{ email: to }], subject: `to ${to}`, text: 'Hello' });
      assert.equal(r.status, 202, r.text);
      return r.body.id as string;
    };
    const events = async (id: string) => (await api('GET', `/v1/messages/${id}`)).body.events as { type: string; data: Record<string, unknown> }[];
    const suppression = async (email: string) => (await api('GET', `/v1/suppressions?q=${encodeURIComponent(email)}`)).body.data.find((s: { email: string }) => s.email === email);

    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('delivered@ is delivered and captured', async () => {
      const id = await send('delivered@simulator.envoi.test');
      await eventually(async () => (await events(id)).some((e) => e.type === 'delivered'));
    });

    test('bounce@ is refused 550 5.1.1 and suppressed', async () => {
      const id = await send('bounce+a@simulator.envoi.test');
      const e = await eventually(async () => (await events(id)).find((x) => x.type === 'bounced'));
      assert.equal(e.data.enhanced, '5.1.1');
      assert.equal((await suppression('bounce+a@simulator.envoi.test'))?.reason, 'hard_bounce');
    });

    test('bounce-async@ is delivered, then its DSN comes back through the inbound parser and suppresses', async () => {
      const id = await send('bounce-async@simulator.envoi.test');
      const e = await eventually(async () => (await events(id)).find((x) => x.type === 'bounced'));
      assert.equal(e.data.async, true);
      assert.equal(e.data.hard, true);
      assert.ok((await events(id)).some((x) => x.type === 'delivered'), 'accepted first');
      assert.equal((await suppression('bounce-async@simulator.envoi.test'))?.reason, 'hard_bounce');
      const fb = (await api('GET', '/v1/feedback')).body.data.find((x: { address: string }) => x.address === 'bounce-async@simulator.envoi.test');
      assert.equal(fb.kind, 'bounce');
    });

    test('complaint@ is delivered, then an ARF report suppresses it as a complaint', async () => {
      const id = await send('complaint@simulator.envoi.test');
      await eventually(async () => (await events(id)).find((x) => x.type === 'complained'));
      assert.equal((await suppression('complaint@simulator.envoi.test'))?.reason, 'complaint');
    });

    test('autoreply@ answers with a vacation reply that is no failure', async () => {
      const id = await send('autoreply@simulator.envoi.test');
      await eventually(async () => (await events(id)).find((x) => x.type === 'auto_replied'));
      assert.equal(await suppression('autoreply@simulator.envoi.test'), undefined);
    });

    test('softbounce@ is deferred with 452 4.2.2, then delivered', async () => {
      const id = await send('softbounce@simulator.envoi.test');
      const deferred = await eventually(async () => (await events(id)).find((x) => x.type === 'deferred'));
      assert.equal(deferred.data.enhanced, '4.2.2');
      await eventually(async () => (await events(id)).some((x) => x.type === 'delivered'), 15_000);
    });

    test('gmail-strict@ accepts what envoi signs, and answers 4.7.30 when the DKIM signature breaks', async () => {
      const id = await send('gmail-strict@simulator.envoi.test');
      await eventually(async () => (await events(id)).some((x) => x.type === 'delivered'));
      const msg = await t.app.store.db.selectFrom('messages').select('raw').where('id', '=', id).executeTakeFirstOrThrow();
      const rcpt = await t.app.store.db.selectFrom('recipients').selectAll().where('message_id', '=', id).executeTakeFirstOrThrow();
      const { createSimulator } = await import('../../src/delivery/simulator/index.ts');
      const s = createSimulator({ db: t.app.store.db, clock: t.app.clock, sandbox: t.app.services.sandbox, domains: t.app.services.domains, outcomes: undefined as never, inbound: () => undefined });
      assert.equal(await s.gmailVerdict(rcpt, Buffer.from(msg.raw)), null);
      const tampered = Buffer.from(Buffer.from(msg.raw).toString('utf8').replace('Hello', 'Hellp'));
      assert.deepEqual(await s.gmailVerdict(rcpt, tampered), { code: 421, enhanced: '4.7.30' });
    });
  });
}
