// The feedback parser (issue 6): agreement with the labelled corpus of real
// bounces and complaints (test/fixtures/corpus, a copy of ../shared/corpus: Sisimai's expected results),
// the pattern data against its own examples, and the messages a parser
// meets on the internet: no recipient, 8-bit headers, broken MIME, 30 MB.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { DEFAULT_CORPUS, scoreCorpus } from '../../bench/feedback-corpus.ts';
import { parseFeedback, splitMbox } from '../../src/feedback/parse/index.ts';
import { hardness } from '../../src/feedback/parse/categories.ts';
import { classifyFailure, firstRule, type FailureFacts } from '../../src/feedback/parse/classify.ts';
import { parseDeliveryStatus } from '../../src/feedback/parse/dsn.ts';
import { layout, parseLayout, recipientRegExp } from '../../src/feedback/parse/layout.ts';
import { diagnosticRules, parseDiagnosticRules } from '../../src/feedback/parse/rules.ts';
import { MAX_RAW_HEADERS } from '../../src/feedback/parse/returned.ts';
import patterns from '../../src/feedback/parse/data/patterns.json' with { type: 'json' };
import layoutData from '../../src/feedback/parse/data/layout.json' with { type: 'json' };

const bounceFile = (name: string) => fs.readFileSync(path.join(DEFAULT_CORPUS, 'bounces', name));
const crlf = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

/** A multipart/report as MTAs write them. */
function report(opts: { type?: 'delivery-status' | 'feedback-report'; text?: string; fields: string; returned?: string; returnedType?: string; headers?: string }): Buffer {
  const type = opts.type ?? 'delivery-status';
  const parts = [
    `--B\nContent-Type: text/plain; charset=us-ascii\n\n${opts.text ?? 'This is a report.'}\n`,
    `--B\nContent-Type: message/${type}\n\n${opts.fields}\n`,
    ...(opts.returned ? [`--B\nContent-Type: ${opts.returnedType ?? 'message/rfc822'}\n\n${opts.returned}\n`] : []),
  ];
  return crlf(`${opts.headers ?? 'From: MAILER-DAEMON@mx.example.net\nTo: b-r1-abc@bounces.shop.test\nSubject: Undelivered Mail Returned to Sender'}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=${type}; boundary="B"

${parts.join('')}--B--
`);
}

const RETURNED = `Return-Path: <b-r1-abc@bounces.shop.test>
Message-ID: <m1@shop.test>
From: Shop <news@shop.test>
To: jane@example.org
Subject: Our news
Feedback-ID: c1:t1:envoi
List-Unsubscribe: <https://shop.test/u/abc>

Hello`;

describe('the labelled corpus', () => {
  test('≥ 98 % agreement on the recipient and on hard/soft', async () => {
    const s = await scoreCorpus();
    const rate = (x: { ok: number; total: number }) => x.ok / x.total;
    const misses = s.rows.filter((r) => !r.recipientOk || r.hardOk === false).map((r) => `${r.file} ${r.expected.recipient}: got ${r.got?.address} ${r.got?.category}/${r.got?.hard}`);
    assert.ok(s.recipient.total >= 140 && s.hard.total >= 120, 'the whole corpus was scored');
    assert.ok(rate(s.recipient) >= 0.98, `recipient ${s.recipient.ok}/${s.recipient.total}\n${misses.join('\n')}`);
    assert.ok(rate(s.hard) >= 0.98, `hard/soft ${s.hard.ok}/${s.hard.total}\n${misses.join('\n')}`);
    assert.ok(rate(s.feedbackType) >= 0.98, `feedback type ${s.feedbackType.ok}/${s.feedbackType.total}`);
    // never a soft failure or a notice taken for a hard bounce: that would suppress a good address
    assert.equal(s.confusion.soft?.hard ?? 0, 0);
    assert.equal(s.confusion.null?.hard ?? 0, 0);
    for (const [file, results] of s.results) {
      for (const r of results) assert.notEqual(r.kind, 'unknown', `${file}: ${r.problems.join('; ')}`);
    }
  });
});

describe('pattern data', () => {
  const factsOf = (example: string): FailureFacts => {
    const m = /^Diagnostic-Code:\s*([\w-]+);\s*(.*)$/i.exec(example);
    return m
      ? { action: 'failed', status: null, diagnostic: m[2], diagnosticType: m[1].toLowerCase(), command: null }
      : { action: 'failed', status: null, diagnostic: example, diagnosticType: 'smtp', command: null };
  };

  test('every diagnostic rule classifies its own example', () => {
    assert.ok(diagnosticRules().length > 30);
    for (const r of diagnosticRules()) assert.equal(firstRule(factsOf(r.example))?.id, r.id, `rule ${r.id}: ${r.example}`);
  });

  test('the pattern file is validated: weak rules, duplicates, categories', () => {
    const rule = patterns.rules[0];
    assert.throws(() => parseDiagnosticRules({ rules: [rule, rule] }), /duplicate rule id/);
    assert.throws(() => parseDiagnosticRules({ rules: [{ ...rule, weak: true }] }), /only unknown-user rules can be weak/);
    assert.throws(() => parseDiagnosticRules({ rules: [{ ...rule, category: 'bounced' }] }), /not a category/);
    assert.throws(() => parseDiagnosticRules({ rules: [{ ...rule, match: { text: '(' } }] }), /regular expression/);
  });

  test('every layout pattern matches its example', () => {
    parseLayout(layoutData);
    for (const r of layoutData.recipientLines) {
      const m = recipientRegExp(r.pattern, 'im').exec(r.example);
      assert.ok(m?.groups?.addr, `recipient line ${r.id}: ${r.example}`);
    }
    const l = layout();
    const pairs: [RegExp[], { example: string }[]][] = [
      [l.returnedMarkers, layoutData.returnedMarkers], [l.bounceSenders, layoutData.bounceSenders], [l.bounceSubjects, layoutData.bounceSubjects],
      [l.bounceText, layoutData.bounceText], [l.autoReplySubjects, layoutData.autoReplySubjects],
    ];
    for (const [res, entries] of pairs) entries.forEach((e, i) => assert.match(e.example, res[i]));
  });

  test('hard only for a gone mailbox or domain, and for "not accepted" when final', () => {
    assert.equal(hardness('unknown-user', 5), true);
    assert.equal(hardness('has-moved', 5), true);
    assert.equal(hardness('not-accepted', 5), true);
    assert.equal(hardness('not-accepted', 4), false);
    assert.equal(hardness('mailbox-full', 5), false);
    assert.equal(hardness('delivered', 5), null);
  });

  test('"user unknown" is proof only at RCPT or with x.1.1; after DATA it is a filter', () => {
    const c = (diagnostic: string, command: FailureFacts['command'], status: string | null = null) =>
      classifyFailure({ action: 'failed', status, diagnostic, diagnosticType: 'smtp', command });
    assert.deepEqual([c('550 5.2.1 <a@x.jp>... User Unknown', 'RCPT').category, c('550 5.2.1 <a@x.jp>... User Unknown', 'RCPT').hard], ['unknown-user', true]);
    assert.deepEqual([c('550 5.2.1 <a@x.jp>... User Unknown', null).category, c('550 5.2.1 <a@x.jp>... User Unknown', null).hard], ['filtered', false]);
    assert.equal(c('550 Unknown user a@docomo.ne.jp', 'DATA').hard, false);
    assert.equal(c('550 5.1.1 <a@x.jp>... User Unknown', 'DATA').hard, true);
    assert.equal(c('450 4.1.1 <a@x.jp>: Recipient address rejected: User unknown', 'RCPT').category, 'filtered'); // temporary, never proof
    assert.equal(c("554 delivery error: dd This user doesn't have a yahoo.com account (jane@yahoo.com)", null).hard, true); // a directory's own words
    assert.equal(c('552 5.2.2 Over quota', null, '5.1.1').category, 'mailbox-full'); // the remote words beat the summary code
  });
});

describe('DSN fields', () => {
  test('recipients run together without blank lines, source routes, pipes', () => {
    const r = parseDeliveryStatus([
      'Reporting-MTA: dns; mx.example.net', '',
      'Final-Recipient: rfc822; <Jane.Doe@Example.ORG>', 'Action: failed', 'Status: 5.1.1 (bad mailbox)', 'Diagnostic-Code: smtp; 550 5.1.1 <Jane.Doe@Example.ORG>:', '  User unknown',
      'Final-Recipient: rfc822;@relay.example.net:bob@server', 'Original-Recipient: rfc822;Bob@Example.net', 'Action: delayed', 'Status: 4.2.2',
      'Final-Recipient: rfc822;|/usr/bin/procmail carol@example.com', 'Action: failed', 'Status: 5.0.0',
    ].join('\n'));
    assert.equal(r.reportingMta, 'mx.example.net');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.action, x.status]), [
      ['jane.doe@example.org', 'failed', '5.1.1'], ['bob@example.net', 'delayed', '4.2.2'], ['carol@example.com', 'failed', '5.0.0'],
    ]);
    assert.equal(r.recipients[0].diagnostic, '550 5.1.1 <Jane.Doe@Example.ORG>: User unknown');
    assert.equal(r.recipients[0].statusComment, 'bad mailbox');
  });
});

describe('parseFeedback', () => {
  test('a DSN: recipient, category, the returned headers the inbound server matches on', async () => {
    const raw = report({
      fields: 'Reporting-MTA: dns; mx.example.net\nArrival-Date: Thu, 29 Apr 2021 23:34:45 +0900\n\nFinal-Recipient: rfc822; JANE@Example.org\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx1.example.org\nDiagnostic-Code: smtp; 550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown in local recipient table',
      text: '<jane@example.org>: host mx1.example.org[192.0.2.1] said: 550 5.1.1\n    <jane@example.org>: Recipient address rejected: User unknown in local\n    recipient table (in reply to RCPT TO command)',
      returned: RETURNED,
    });
    const r = await parseFeedback(raw);
    assert.equal(r.kind, 'bounce');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.hard, x.category, x.status, x.action, x.remoteMta]), [['jane@example.org', true, 'unknown-user', '5.1.1', 'failed', 'mx1.example.org']]);
    assert.deepEqual(r.reporter, { reportingMta: 'mx.example.net', arrivalDate: 'Thu, 29 Apr 2021 23:34:45 +0900' });
    const h = r.original!.headers;
    assert.deepEqual([h['message-id'], h['return-path'], h.to, h['feedback-id'], h['list-unsubscribe'], h.subject],
      ['<m1@shop.test>', '<b-r1-abc@bounces.shop.test>', 'jane@example.org', 'c1:t1:envoi', '<https://shop.test/u/abc>', 'Our news']);
    assert.match(r.original!.rawHeaders, /^Return-Path: <b-r1-abc@bounces\.shop\.test>\r?\nMessage-ID/);
    assert.equal(r.subject, 'Undelivered Mail Returned to Sender');
    assert.equal(r.from, 'mailer-daemon@mx.example.net');
    assert.deepEqual(r.problems, []);
  });

  test('a DSN that names no recipient still says what failed', async () => {
    const r = await parseFeedback(report({ fields: 'Reporting-MTA: dns; mx.example.net\n\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full' }));
    assert.equal(r.kind, 'bounce');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.category, x.hard]), [[null, 'mailbox-full', false]]);
    // with the returned message, its To is the recipient
    const withOriginal = await parseFeedback(report({ fields: 'Reporting-MTA: dns; mx.example.net\n\nAction: failed\nStatus: 5.2.2', returned: RETURNED }));
    assert.equal(withOriginal.recipients[0].address, 'jane@example.org');
    // nothing per recipient at all: a bounce, no recipient, and a problem to show
    const empty = await parseFeedback(report({ fields: 'Reporting-MTA: dns; mx.example.net' }));
    assert.equal(empty.kind, 'bounce');
    assert.deepEqual(empty.recipients, []);
    assert.ok(empty.problems.some((p) => /without a recipient/.test(p)));
  });

  test('8-bit, non-UTF-8 headers are read as Latin-1, never thrown at', async () => {
    const raw = Buffer.concat([
      Buffer.from('From: '), Buffer.from('Andr\xe9 <andre@example.fr>', 'latin1'),
      Buffer.from('\r\nSubject: '), Buffer.from('R\xe9ponse automatique : absent', 'latin1'),
      Buffer.from('\r\nAuto-Submitted: auto-replied\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n'),
      Buffer.from('Je suis absent jusqu\'au 3 ao\xfbt.\r\n', 'latin1'),
    ]);
    const r = await parseFeedback(raw);
    assert.equal(r.kind, 'autoreply');
    assert.equal(r.subject, 'Réponse automatique : absent');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.hard, x.category]), [['andre@example.fr', null, 'auto-reply']]);
    // Shift_JIS bytes in a bounce's headers and body
    const sjis = Buffer.concat([Buffer.from('From: MAILER-DAEMON@mx.example.jp\r\nSubject: '), Buffer.from([0x83, 0x47, 0x83, 0x89, 0x81, 0x5b]), Buffer.from('\r\n\r\n<neko@example.jp>:\r\n550 5.1.1 <neko@example.jp>... User Unknown\r\n'), Buffer.from([0x82, 0xa0, 0xff, 0xfe])]);
    const b = await parseFeedback(sjis);
    assert.equal(b.kind, 'bounce');
    assert.equal(b.recipients[0].address, 'neko@example.jp');
  });

  test('malformed MIME: a multipart whose boundary never comes, garbage, nothing', async () => {
    const noBoundary = crlf(`From: postmaster@example.net
Subject: Delivery Notification: Delivery has failed
Content-Type: multipart/report; boundary="never"; report-type=delivery-status

Your message cannot be delivered to the following recipients:

Reporting-MTA: dns; mx.example.net

Action: failed
Status: 5.0.0
Final-recipient: rfc822;bob@example.org
Diagnostic-code: smtp; 550 5.1.1 bob@example.org... User unknown
`);
    const r = await parseFeedback(noBoundary);
    assert.equal(r.kind, 'bounce');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.hard]), [['bob@example.org', true]]);
    assert.ok(r.problems.some((p) => /body was read as text/.test(p)), r.problems.join());

    const garbage = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 7919 + 13) % 256));
    const g = await parseFeedback(garbage);
    assert.equal(g.kind, 'unknown');
    assert.ok(g.problems.length > 0);

    const nested = Buffer.from(Array.from({ length: 400 }, (_, i) => `Content-Type: multipart/mixed; boundary="b${i}"\r\n\r\n--b${i}\r\n`).join(''));
    const n = await parseFeedback(nested);
    assert.equal(n.kind, 'unknown');
    assert.ok(n.problems.length > 0);

    const none = await parseFeedback(Buffer.alloc(0));
    assert.equal(none.kind, 'unknown');
    assert.ok(none.problems.length > 0);
  });

  test('truncated input is read as far as it goes', async () => {
    const full = bounceFile('lhost-postfix-59.eml');
    for (const fraction of [0.45, 0.6, 0.8]) {
      const r = await parseFeedback(full.subarray(0, Math.floor(full.length * fraction)));
      assert.equal(r.kind, 'bounce', `cut at ${fraction}`);
      assert.equal(r.recipients[0]?.address, 'kijitora@ggl.example.org');
    }
    const head = await parseFeedback(full.subarray(0, 300));
    assert.notEqual(head, undefined);
  });

  test('a 30 MB bounce is read in its first part, fast', async () => {
    const b64line = Buffer.alloc(57, 7).toString('base64') + '\r\n';
    const attachment = b64line.repeat(Math.ceil((30 * 1024 * 1024) / b64line.length));
    const returned = `${RETURNED.replace('\n\nHello', '')}\nContent-Type: multipart/mixed; boundary="R"\n\n--R\nContent-Type: application/pdf\nContent-Transfer-Encoding: base64\n\n${attachment}--R--`;
    const raw = report({ fields: 'Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; jane@example.org\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full', returned });
    assert.ok(raw.length > 30 * 1024 * 1024);
    const t0 = performance.now();
    const r = await parseFeedback(raw);
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `${ms.toFixed(0)} ms`);
    assert.equal(r.kind, 'bounce');
    assert.deepEqual(r.recipients.map((x) => [x.address, x.category]), [['jane@example.org', 'mailbox-full']]);
    assert.equal(r.original?.headers['message-id'], '<m1@shop.test>');
    assert.ok(r.problems.some((p) => /only the first/.test(p)));
  });

  test('the returned headers are kept up to 64 KB', async () => {
    const many = Array.from({ length: 2000 }, (_, i) => `X-Trace-${i}: ${'x'.repeat(40)}`).join('\n');
    const r = await parseFeedback(report({ fields: 'Final-Recipient: rfc822; jane@example.org\nAction: failed\nStatus: 5.1.1', returned: `Message-ID: <m1@shop.test>\n${many}\n\nbody`, returnedType: 'text/rfc822-headers' }));
    assert.equal(r.original?.headers['message-id'], '<m1@shop.test>');
    assert.ok(r.original!.rawHeaders.length <= MAX_RAW_HEADERS);
  });

  test('auto-replies: RFC 3834, the old headers, the subject alone; a bounce marked auto-replied stays a bounce', async () => {
    const rfc3834 = await parseFeedback(bounceFile('rfc3834-05.eml'));
    assert.equal(rfc3834.kind, 'autoreply');
    assert.deepEqual(rfc3834.recipients.map((x) => [x.address, x.hard, x.category]), [['foo@bar.net', null, 'auto-reply']]);
    const xauto = await parseFeedback(crlf('From: Jane <jane@example.org>\nSubject: Re: Our news\nX-Autoreply: yes\n\nI am away.\n'));
    assert.equal(xauto.kind, 'autoreply');
    const subjectOnly = await parseFeedback(crlf('From: jane@example.org\nSubject: Out of Office: Our news\n\nBack on Monday.\n'));
    assert.equal(subjectOnly.kind, 'autoreply');
    const precedence = await parseFeedback(crlf('From: jane@example.org\nSubject: Re: hello\nPrecedence: auto_reply\n\nAway.\n'));
    assert.equal(precedence.kind, 'autoreply');
    const human = await parseFeedback(crlf('From: jane@example.org\nSubject: Re: Our news\n\nPlease call me.\n'));
    assert.equal(human.kind, 'unknown');
    const postfix = await parseFeedback(bounceFile('lhost-postfix-28.eml')); // Auto-Submitted: auto-replied
    assert.equal(postfix.kind, 'bounce');
  });

  test('delivery notices are not failures', async () => {
    const [first, second] = await Promise.all(splitMbox(bounceFile('rfc3464-28.eml')).map((m) => parseFeedback(m)));
    for (const r of [first, second]) {
      assert.equal(r.kind, 'delivery-report');
      assert.deepEqual(r.recipients.map((x) => [x.hard, x.category]), [[null, 'delivered']]);
    }
    assert.deepEqual([first.recipients[0].address, second.recipients[0].address], ['kijitora@neko.example.jp', 'info@neko.example.jp']);
    const relayed = await parseFeedback(report({ fields: 'Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; jane@example.org\nAction: relayed\nStatus: 2.0.0' }));
    assert.equal(relayed.kind, 'delivery-report');
    assert.equal(relayed.recipients[0].hard, null);
    // a single mbox message through parseFeedback directly: the first, with a problem said
    const direct = await parseFeedback(bounceFile('rfc3464-28.eml'));
    assert.equal(direct.recipients[0].address, 'kijitora@neko.example.jp');
    assert.ok(direct.problems.some((p) => /mbox/.test(p)));
  });

  test('an ARF report without the original message', async () => {
    const fields = 'Feedback-Type: abuse\nUser-Agent: SomeGenerator/1.0\nVersion: 1\nOriginal-Mail-From: <b-r1-abc@bounces.shop.test>\nOriginal-Rcpt-To: <Jane@Example.org>\nArrival-Date: Thu, 8 Mar 2005 14:00:00 EDT\nSource-IP: 192.0.2.1\nReported-Domain: shop.test';
    const r = await parseFeedback(report({ type: 'feedback-report', fields, headers: 'From: <abuse@example.net>\nTo: fbl@shop.test\nSubject: FW: Our news' }));
    assert.equal(r.kind, 'complaint');
    assert.equal(r.original, null);
    assert.deepEqual(r.recipients.map((x) => [x.address, x.hard, x.category, x.feedbackType]), [['jane@example.org', null, 'complaint', 'abuse']]);
    assert.deepEqual(r.reporter, { sourceIp: '192.0.2.1', userAgent: 'SomeGenerator/1.0', arrivalDate: 'Thu, 8 Mar 2005 14:00:00 EDT', reportedDomain: 'shop.test' });
    const anonymous = await parseFeedback(report({ type: 'feedback-report', fields: 'Feedback-Type: opt-out\nVersion: 1', headers: 'From: <abuse@example.net>\nSubject: unsubscribe' }));
    assert.deepEqual(anonymous.recipients.map((x) => [x.address, x.feedbackType]), [[null, 'opt-out']]);
  });

  test('Amazon SES notifications by mail', async () => {
    const complaint = await parseFeedback(fs.readFileSync(path.join(DEFAULT_CORPUS, 'arf', 'sisimai-lhost-amazonses-11.eml')));
    assert.equal(complaint.kind, 'complaint');
    assert.deepEqual(complaint.recipients.map((x) => [x.address, x.feedbackType]), [['complaint@simulator.amazonses.com', 'abuse']]);
    assert.equal(complaint.original?.headers.subject, 'Nyaan');
    const json = JSON.stringify({ notificationType: 'Bounce', bounce: { bounceType: 'Permanent', reportingMTA: 'dsn; a8-70.smtp-out.amazonses.com', bouncedRecipients: [{ emailAddress: 'Jane@Example.org', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }] }, mail: { headers: [{ name: 'Message-ID', value: '<m1@shop.test>' }] } });
    const bounce = await parseFeedback(crlf(`From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\nContent-Type: text/plain\n\n${json}\n`));
    assert.equal(bounce.kind, 'bounce');
    assert.deepEqual(bounce.recipients.map((x) => [x.address, x.hard, x.category]), [['jane@example.org', true, 'unknown-user']]);
    assert.equal(bounce.original?.headers['message-id'], '<m1@shop.test>');
  });

  test('addresses come bare and lower-cased, as the corpus writes them', async () => {
    const text = await parseFeedback(crlf(`From: MAILER-DAEMON@gmx.example
Subject: Mail delivery failed: returning message to sender

This message was created automatically by mail delivery software.

"Shironeko@Example.JP":
SMTP error from remote server after RCPT command:
host: mx.example.jp
5.2.2 <Shironeko@Example.JP>... Mailbox Full
`));
    assert.deepEqual(text.recipients.map((x) => [x.address, x.category, x.hard]), [['shironeko@example.jp', 'mailbox-full', false]]);
    const routed = await parseFeedback(report({ fields: 'Original-recipient: rfc822;Kijitora@Example.NET\nFinal-recipient: rfc822;@smtp.example.net:kijitora@server\nAction: failed\nStatus: 5.2.0\nDiagnostic-code: smtp;522 5.2.0 Delivery failed: Over quota' }));
    assert.equal(routed.recipients[0].address, 'kijitora@example.net');
  });
});
