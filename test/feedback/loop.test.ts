// The feedback loop end to end, on each dialect: a campaign goes out (sandbox),
// then a remote MTA — nodemailer's SMTP client over STARTTLS — brings back
// what real receivers send: a DSN to the VERP address, an ARF report and a
// person's report to abuse@, an auto-reply, a mailto unsubscribe. The
// address is suppressed or unsubscribed at once, events are written, abuse
// reports are listed and answered, and nothing that is not ours is taken.
// The open pixel counts a person's open and flags Apple's proxy fetch.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { runEnvoi } from '../helpers/cli.ts';

type Sent = { id: string; rcptTo: string; mailFrom: string; raw: string };

async function mta(t: TestApp, envelope: { from: string; to: string[] }, message: string | Buffer): Promise<{ accepted: string[]; rejected: string[]; response: string; rejectedErrors?: { response?: string }[] }> {
  const conn = new SMTPConnection({ host: '127.0.0.1', port: t.app.ports.inbound, tls: { ca: t.ca, servername: 'localhost' } });
  conn.on('error', () => {});
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  try {
    return await new Promise((resolve, reject) => conn.send(envelope, Buffer.isBuffer(message) ? message : Buffer.from(message.replace(/\r?\n/g, '\r\n')), (err, info) => {
      if (err) return (err as { rejected?: unknown }).rejected ? resolve({ accepted: [], rejected: envelope.to, response: (err as { response?: string }).response ?? '', rejectedErrors: (err as { rejectedErrors?: { response?: string }[] }).rejectedErrors }) : reject(err);
      resolve(info as never);
    }));
  } finally {
    conn.quit();
  }
}

const dsn = (verp: string, rcpt: string, status: string, diag: string) => `From: Mail Delivery System <MAILER-DAEMON@mx.customer.example>
To: ${verp}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BND"

--BND
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--BND
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.customer.example
Arrival-Date: Wed, 25 Nov 2026 10:00:00 +0100

Final-Recipient: rfc822; ${rcpt}
Original-Recipient: rfc822;${rcpt}
Action: failed
Status: ${status}
Remote-MTA: dns; store.customer.example
Diagnostic-Code: smtp; ${diag}

--BND
Content-Type: text/rfc822-headers

Return-Path: <${verp}>
To: ${rcpt}
Subject: Spring sale

--BND--
`;

const arf = (rcpt: string, original: string) => `From: Yahoo! Mail AntiSpam Feedback <feedback@arf.mail.yahoo.com>
To: abuse@shop.example
Subject: FW: Spring sale
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="ARF"

--ARF
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.25.

--ARF
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: Yahoo!-Mail-Feedback/2.0
Version: 0.1
Original-Mail-From: <bounce@shop.example>
Original-Rcpt-To: <${rcpt}>
Received-Date: Wed, 25 Nov 2026 10:00:00 +0100
Source-IP: 192.0.2.25
Reported-Domain: shop.example

--ARF
Content-Type: message/rfc822

${original.replace(/\r\n/g, '\n')}
--ARF--
`;

for (const dialect of DIALECTS) {
  describe(`feedback loop (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const sent = new Map<string, Sent>();
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
    const suppressed = async (email: string) => (await api('GET', `/v1/suppressions?q=${encodeURIComponent(email)}`)).body.data.find((s: { email: string }) => s.email === email);

    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      await api('PUT', '/v1/profile', { organisation: 'Shop', postalAddress: '1 rue X, Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example', trackingHost: 'links.shop.example' });
      await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'yes', optIn: 'single' });
      for (const who of ['kim', 'lee', 'max', 'ana', 'bob', 'eve']) {
        await api('POST', '/v1/lists/news/subscriptions', { email: `${who}@customer.example`, consent: { source: 'form', optIn: 'single' } });
      }
      await api('POST', '/v1/lists', { name: 'offers', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'yes', optIn: 'single' });
      await api('POST', '/v1/lists/offers/subscriptions', { email: 'bob@customer.example', consent: { source: 'form', optIn: 'single' } });
      await api('POST', '/v1/templates', { name: 't', format: 'html', subject: 'Spring sale', body: '<html><body><p>See <a href="https://shop.example/sale">the sale</a>. Shop</p></body></html>' });
      const c = await api('POST', '/v1/campaigns', { name: 'Spring', template: 't', lists: ['news'] });
      await api('POST', `/v1/campaigns/${c.body.id}/submit`);
      await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {});
      const list = await eventually(async () => {
        const d = (await api('GET', '/v1/sandbox/messages?limit=50')).body.data.filter((x: { subject: string }) => x.subject === 'Spring sale');
        return d.length === 6 ? d : undefined;
      });
      for (const m of list) {
        const raw = (await t.api('GET', `/v1/sandbox/messages/${m.id}/raw`, { token: acme.token })).text;
        sent.set(m.rcptTo ?? m.rcpt_to, { id: m.id, rcptTo: m.rcptTo ?? m.rcpt_to, mailFrom: m.mailFrom ?? m.mail_from, raw });
      }
    });
    after(() => t.close());

    test('an address that is not ours, or a forged token, is refused at RCPT with 550 5.1.1', async () => {
      const kim = sent.get('kim@customer.example')!;
      const forged = kim.mailFrom.replace(/-([0-9a-f]{14})@/, (_m, mac: string) => `-${mac.startsWith('0') ? '1' : '0'}${mac.slice(1)}@`);
      for (const to of ['someone@elsewhere.example', forged, 'news@shop.example', 'abuse@not-ours.example']) {
        const r = await mta(t, { from: 'x@y.example', to: [to] }, 'Subject: x\n\nx\n');
        assert.deepEqual(r.accepted, [], to);
        assert.match(r.rejectedErrors?.[0]?.response ?? r.response, /^550 5\.1\.1 /, to);
      }
      assert.equal((await t.api('GET', '/v1/feedback', { token: t.operatorToken })).body.data.length, 0, 'nothing stored');
    });

    test('an asynchronous DSN to the VERP address suppresses a hard bounce at once and records it', async () => {
      const kim = sent.get('kim@customer.example')!;
      const r = await mta(t, { from: '', to: [kim.mailFrom] }, dsn(kim.mailFrom, kim.rcptTo, '5.1.1', '550 5.1.1 <kim@customer.example>: Recipient address rejected: User unknown'));
      assert.match(r.response, /^250 /);
      const s = await suppressed('kim@customer.example');
      assert.equal(s?.reason, 'hard_bounce');
      const fb = (await api('GET', '/v1/feedback')).body.data[0];
      assert.equal(fb.mailbox, 'bounce');
      assert.equal(fb.kind, 'bounce');
      assert.equal(fb.status, 'processed');
      assert.equal(fb.address, 'kim@customer.example');
      assert.ok(fb.done.some((x: string) => /suppressed \(hard_bounce\)/.test(x)), fb.done.join('; '));
      const raw = await t.api('GET', `/v1/feedback/${fb.id}/raw`, { token: acme.token });
      assert.match(raw.text, /message\/delivery-status/, 'the raw message is kept');
    });

    test('a soft bounce (mailbox full) is recorded but does not suppress', async () => {
      const max = sent.get('max@customer.example')!;
      await mta(t, { from: '', to: [max.mailFrom] }, dsn(max.mailFrom, max.rcptTo, '4.2.2', '452 4.2.2 Mailbox full'));
      const fb = await eventually(async () => (await api('GET', '/v1/feedback')).body.data.find((x: { address: string }) => x.address === 'max@customer.example'));
      assert.equal(fb.about.hard, false);
      assert.equal(await suppressed('max@customer.example'), undefined);
    });

    test('an ARF abuse report to abuse@ with the original message suppresses the complainer', async () => {
      const lee = sent.get('lee@customer.example')!;
      const r = await mta(t, { from: 'feedback@arf.mail.yahoo.com', to: ['abuse@shop.example'] }, arf(lee.rcptTo, lee.raw));
      assert.match(r.response, /^250 /);
      assert.equal((await suppressed('lee@customer.example'))?.reason, 'complaint');
      const fb = (await api('GET', '/v1/feedback?mailbox=abuse')).body.data[0];
      assert.equal(fb.kind, 'complaint');
      assert.equal(fb.address, 'lee@customer.example');
      assert.equal(fb.acknowledgedAt, null, 'machine reports are not answered');
      assert.equal(fb.reporter.sourceIp, '192.0.2.25');
    });

    test('a person writing to abuse@ is stored, counted as a complaint, and answered once a day', async () => {
      const ana = sent.get('ana@customer.example')!;
      const headers = ana.raw.slice(0, ana.raw.indexOf('\r\n\r\n'));
      const report = `From: Ana <ana@customer.example>\nTo: abuse@shop.example\nSubject: Stop spamming me\n\nI never signed up for this. Here are the headers:\n\n${headers.replace(/\r\n/g, '\n').split('\n').map((l) => `> ${l}`).join('\n')}\n`;
      await mta(t, { from: 'ana@customer.example', to: ['abuse@shop.example'] }, report);
      assert.equal((await suppressed('ana@customer.example'))?.reason, 'complaint');
      const fb = (await api('GET', '/v1/feedback?mailbox=abuse')).body.data[0];
      assert.equal(fb.subject, 'Stop spamming me');
      assert.ok(fb.acknowledgedAt, fb.done.join('; '));
      const ack = await eventually(async () => (await api('GET', '/v1/sandbox/messages?limit=50')).body.data.find((x: { subject: string }) => x.subject === 'Re: Stop spamming me'));
      const ackRaw = (await t.api('GET', `/v1/sandbox/messages/${ack.id}/raw`, { token: acme.token })).text;
      assert.match(ackRaw, /^From: abuse@shop\.example/m);
      assert.match(ackRaw, /^Auto-Submitted: auto-replied/m);
      await mta(t, { from: 'ana@customer.example', to: ['abuse@shop.example'] }, 'From: ana@customer.example\nSubject: again\n\nStill here.\n');
      const second = (await api('GET', '/v1/feedback?mailbox=abuse')).body.data[0];
      assert.equal(second.subject, 'again');
      assert.equal(second.acknowledgedAt, null, 'one answer per sender a day');
      // nor is a null sender ever answered
      await mta(t, { from: '', to: ['postmaster@shop.example'] }, 'From: x@z.example\nSubject: hello\n\nhi\n');
      assert.equal((await api('GET', '/v1/feedback?mailbox=postmaster')).body.data[0].acknowledgedAt, null);
    });

    test('an auto-reply to the VERP address is recorded and is not a failure', async () => {
      const bob = sent.get('bob@customer.example')!;
      await mta(t, { from: 'bob@customer.example', to: [bob.mailFrom] }, 'From: bob@customer.example\nTo: news@shop.example\nSubject: Out of office\nAuto-Submitted: auto-replied\n\nI am away until Monday.\n');
      const fb = (await api('GET', '/v1/feedback?mailbox=bounce')).body.data[0];
      assert.equal(fb.kind, 'autoreply');
      assert.equal(await suppressed('bob@customer.example'), undefined);
    });

    test('a mail to the List-Unsubscribe mailto address unsubscribes from the list', async () => {
      const eve = sent.get('eve@customer.example')!;
      const mailto = /<mailto:(u-[^@>]+@[^?>]+)/.exec(eve.raw.replace(/\r\n\s+/g, ' '))![1];
      const r = await mta(t, { from: 'eve@customer.example', to: [mailto] }, 'From: eve@customer.example\nSubject: unsubscribe\n\n');
      assert.match(r.response, /^250 /);
      const contact = (await api('GET', `/v1/contacts/${encodeURIComponent('eve@customer.example')}`)).body;
      const sub = (contact.subscriptions ?? []).find((s: { list: string }) => s.list === 'news');
      assert.equal(sub?.status, 'unsubscribed', JSON.stringify(contact));
    });

    test('the unsubscribe page shows the list preferences: another list of the same contact can be left there', async () => {
      const bob = sent.get('bob@customer.example')!;
      const path = new URL(/List-Unsubscribe: <(https:[^>]+)>/.exec(bob.raw.replace(/\r\n\s+/g, ' '))![1]).pathname;
      const page = await t.api('GET', path);
      assert.match(page.text, /Your other lists/);
      const offers = /name="list" value="([^"]+)"/.exec(page.text)![1];
      const foreign = await t.api('POST', path, { rawBody: 'list=lst_not_his', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(foreign.status, 400, 'a list the contact is not on changes nothing');
      const r = await t.api('POST', path, { rawBody: `list=${offers}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(r.status, 200);
      const subs = (await api('GET', `/v1/contacts/${encodeURIComponent('bob@customer.example')}`)).body.subscriptions as { list: string; status: string }[];
      assert.equal(subs.find((x) => x.list === 'offers')?.status, 'unsubscribed');
      assert.notEqual(subs.find((x) => x.list === 'news')?.status, 'unsubscribed');
    });

    test('a bounce about a message we never sent is kept, unmatched, and changes nothing', async () => {
      const r = await mta(t, { from: '', to: ['postmaster@shop.example'] }, dsn('someone@else.example', 'stranger@customer.example', '5.1.1', '550 5.1.1 user unknown'));
      assert.match(r.response, /^250 /);
      const fb = (await api('GET', '/v1/feedback?mailbox=postmaster')).body.data[0];
      assert.equal(fb.status, 'unmatched');
      assert.equal(await suppressed('stranger@customer.example'), undefined);
    });

    test('malformed input never loses the message: it is kept raw for review', async () => {
      const bob = sent.get('bob@customer.example')!;
      const junk = Buffer.concat([Buffer.from('Content-Type: multipart/report; boundary="x"\r\nSubject: =?utf-8?B?////?=\r\nX-Bin: '), Buffer.from([0xff, 0xfe, 0x00, 0x80]), Buffer.from('\r\n\r\n--x\r\nContent-Type: message/delivery-status\r\n\r\n\r\n--x')]);
      const r = await mta(t, { from: '', to: [bob.mailFrom] }, junk);
      assert.match(r.response, /^250 /);
      const fb = (await api('GET', '/v1/feedback?mailbox=bounce')).body.data[0];
      assert.ok(['unparsed', 'processed'].includes(fb.status), fb.status);
      assert.equal((await t.api('GET', `/v1/feedback/${fb.id}/raw`, { token: acme.token })).text.length > 0, true);
    });

    test('the CLI lists what came back, and shows one with what was done', async () => {
      const list = await runEnvoi(t.cliEnv, ['feedback', 'list', '--tenant', 'acme', '--mailbox', 'abuse', '--json']);
      assert.equal(list.code, 0, list.stderr);
      const rows = JSON.parse(list.stdout) as { id: string; mailbox: string; summary: { done: string[] } }[];
      assert.ok(rows.length >= 2 && rows.every((r) => r.mailbox === 'abuse'));
      const show = await runEnvoi(t.cliEnv, ['feedback', 'show', rows[rows.length - 1].id]);
      assert.match(show.stdout, /suppressed \(complaint\)/);
    });

    test('another tenant sees none of this', async () => {
      const other = await tenantWithDomain(t, 'other', 'other.example');
      assert.equal((await t.api('GET', '/v1/feedback', { token: other.token })).body.data.length, 0);
      const mine = (await api('GET', '/v1/feedback')).body.data[0];
      assert.equal((await t.api('GET', `/v1/feedback/${mine.id}`, { token: other.token })).status, 404);
    });

    test('the open pixel counts a person\'s open; Apple\'s proxy fetch is recorded as a machine open', async () => {
      const max = sent.get('max@customer.example')!;
      const pixel = /<img src="https:\/\/links\.shop\.example(\/o\/[^"]+)"/.exec(max.raw.replace(/=\r\n/g, '').replace(/=3D/g, '='))?.[1];
      assert.ok(pixel, 'the campaign carries an open pixel on the tenant\'s tracking host');
      const mpp = await t.api('GET', pixel!, { headers: { 'user-agent': 'Mozilla/5.0' } });
      assert.equal(mpp.status, 200);
      assert.equal(mpp.headers['content-type'], 'image/gif');
      let contact = (await api('GET', `/v1/contacts/${encodeURIComponent('max@customer.example')}`)).body;
      assert.equal(contact.lastOpenAt, null, 'a machine open is no engagement');
      await t.api('GET', pixel!, { headers: { 'user-agent': 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)' } });
      contact = (await api('GET', `/v1/contacts/${encodeURIComponent('max@customer.example')}`)).body;
      assert.ok(contact.lastOpenAt, 'a person\'s open counts');
      const forged = await t.api('GET', pixel!.replace(/.$/, (c) => (c === '0' ? '1' : '0')));
      assert.equal(forged.status, 200, 'the pixel always answers with the image');
    });
  });
}
