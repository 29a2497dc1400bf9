// SMTP submission into a running envoi, with nodemailer's real client:
// STARTTLS + AUTH with a tenant key → signed message in the sandbox; no relay
// for anyone unauthenticated, on the submission and the inbound listener.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { talk } from '../peers/smtp-talk.ts';

for (const dialect of DIALECTS) {
  describe(`SMTP submission end to end (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    const transport = (auth?: { user: string; pass: string }) => nodemailer.createTransport({
      host: '127.0.0.1', port: t.app.ports.submission, secure: false, requireTLS: true,
      tls: { ca: t.ca, servername: 'localhost' }, ...(auth ? { auth } : {}),
    });

    test('STARTTLS + AUTH with the tenant key: the message is stored, signed and captured', async () => {
      const info = await transport({ user: acme.keyId, pass: acme.secret }).sendMail({
        from: '"Shop" <orders@shop.example>', to: 'alice@customer.example', bcc: 'audit@shop.example',
        subject: 'Order shipped', text: 'On its way.', messageId: '<order-9@shop.example>',
      });
      assert.match(info.response, /^250 /);
      const entries = await eventually(async () => {
        const list = (await t.api('GET', '/v1/sandbox/messages', { token: acme.token })).body.data as { id: string; rcpt_to: string; subject: string }[];
        const mine = list.filter((e) => e.subject === 'Order shipped');
        return mine.length === 2 ? mine : undefined;
      });
      assert.deepEqual(entries.map((e) => e.rcpt_to).sort(), ['alice@customer.example', 'audit@shop.example']);
      const raw = (await t.api('GET', `/v1/sandbox/messages/${entries[0].id}/raw`, { token: acme.token })).text;
      assert.equal((raw.match(/^DKIM-Signature:/gm) ?? []).length, 2);
      assert.match(raw, /^Message-ID: <order-9@shop\.example>\r$/m, "the application's Message-ID is kept");
      assert.match(raw, /^Feedback-ID: tx:transactional:acme:envoi\r$/m);
      assert.doesNotMatch(raw, /^Bcc:/im, 'Bcc never travels');
    });

    test('a From on a domain the tenant does not own is refused with 553 5.7.1', async () => {
      await assert.rejects(
        transport({ user: acme.keyId, pass: acme.secret }).sendMail({ from: 'ceo@bank.example', to: 'x@customer.example', subject: 's', text: 't' }),
        (e: { responseCode?: number; response?: string }) => e.responseCode === 553 && /5\.7\.1/.test(e.response ?? ''),
      );
    });

    test('wrong credentials: 535 5.7.8', async () => {
      await assert.rejects(
        transport({ user: acme.keyId, pass: 'wrong' }).sendMail({ from: 'orders@shop.example', to: 'x@customer.example', subject: 's', text: 't' }),
        (e: { responseCode?: number; response?: string }) => e.responseCode === 535 && /5\.7\.8/.test(e.response ?? ''),
      );
    });

    test('no open relay: unauthenticated mail is refused on submission and inbound, nothing is stored', async () => {
      const before = (await t.api('GET', '/v1/sandbox/messages?limit=500', { token: t.operatorToken })).body.data.length;
      const sub = await talk({ port: t.app.ports.submission, ca: t.ca });
      await sub.ehlo('spammer.example');
      await sub.starttls('localhost');
      await sub.ehlo('spammer.example');
      const mail = await sub.command('MAIL FROM:<orders@shop.example>');
      assert.equal(mail.code, 530);
      assert.match(mail.text, /^530 5\.7\.0/);
      const rcpt = await sub.command('RCPT TO:<victim@elsewhere.example>');
      assert.ok(rcpt.code >= 500, rcpt.text);
      sub.close();

      const inb = await talk({ port: t.app.ports.inbound, ca: t.ca });
      await inb.ehlo('spammer.example');
      assert.equal((await inb.command('MAIL FROM:<someone@elsewhere.example>')).code, 250);
      for (const target of ['victim@elsewhere.example', 'victim%elsewhere.example@shop.example', 'news@shop.example', 'postmaster@elsewhere.example']) {
        const r = await inb.command(`RCPT TO:<${target}>`);
        assert.equal(r.code, 550, `${target}: ${r.text}`);
        assert.match(r.text, /^550 5\.1\.1/);
      }
      inb.close();
      const afterCount = (await t.api('GET', '/v1/sandbox/messages?limit=500', { token: t.operatorToken })).body.data.length;
      assert.equal(afterCount, before);
    });
  });
}
