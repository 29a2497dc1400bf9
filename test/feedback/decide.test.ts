// The feedback decision table (pure): what each kind of inbound message does
// to the recipient it is about. And the machine-open rules.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, type Target } from '../../src/feedback/decide.ts';
import type { FeedbackRecipient, ParsedFeedback } from '../../src/feedback/parse/index.ts';
import { machineVerdict } from '../../src/policy/machine-opens.ts';
import { mailboxOf, recipientsNamedIn } from '../../src/feedback/mailboxes.ts';
import { createSecrets } from '../../src/accounts/secrets.ts';
import { recipientToken } from '../../src/compose/recipient-token.ts';
import { verpAddress } from '../../src/compose/verp.ts';

const target: Target = { recipientId: 'rcp_1', tenantId: 'ten_1', address: 'kim@customer.example', messageId: 'msg_1', listId: 'lst_1', contactId: 'con_1', campaignId: 'cmp_1' };
const rcpt = (o: Partial<FeedbackRecipient>): FeedbackRecipient => ({ address: 'kim@customer.example', hard: null, category: 'undefined', status: null, diagnostic: null, action: null, remoteMta: null, feedbackType: null, ...o });
const parsed = (kind: ParsedFeedback['kind'], recipients: FeedbackRecipient[] = []): ParsedFeedback => ({ kind, recipients, original: null, reporter: {}, subject: 's', from: null, problems: [] });
const opts = { autoSubmitted: false, nullSender: false };
const kinds = (d: ReturnType<typeof decide>) => d.actions.map((a) => (a.kind === 'event' ? `event:${a.type}` : a.kind === 'suppress' ? `suppress:${a.reason}` : a.kind));

test('decisions: each kind of feedback and what it does', () => {
  const table: [string, ReturnType<typeof decide>, string, string[], boolean][] = [
    ['hard bounce suppresses', decide('bounce', parsed('bounce', [rcpt({ hard: true, status: '5.1.1', category: 'unknown-user' })]), target, opts), 'processed', ['suppress:hard_bounce', 'event:bounced'], false],
    ['soft bounce only counts', decide('bounce', parsed('bounce', [rcpt({ hard: false, status: '4.2.2', category: 'mailbox-full' })]), target, opts), 'processed', ['event:bounced'], false],
    ['a delivered notice is no failure', decide('bounce', parsed('delivery-report', [rcpt({ hard: null, action: 'delivered' })]), target, opts), 'processed', [], false],
    ['auto-reply recorded', decide('bounce', parsed('autoreply'), target, opts), 'processed', ['event:auto_replied'], false],
    ['ARF abuse suppresses', decide('abuse', parsed('complaint', [rcpt({ feedbackType: 'abuse' })]), target, opts), 'processed', ['suppress:complaint', 'event:complained'], false],
    ['ARF opt-out unsubscribes', decide('abuse', parsed('complaint', [rcpt({ feedbackType: 'opt-out' })]), target, opts), 'processed', ['unsubscribe'], false],
    ['ARF not-spam changes nothing', decide('abuse', parsed('complaint', [rcpt({ feedbackType: 'not-spam' })]), target, opts), 'processed', [], false],
    ['a person at abuse@ is a complaint, answered', decide('abuse', parsed('unknown'), target, opts), 'processed', ['suppress:complaint', 'event:complained'], true],
    ['a person at abuse@ about nothing we know: kept, answered', decide('abuse', parsed('unknown'), null, opts), 'unmatched', [], true],
    ['an automatic message to postmaster@ is not answered', decide('postmaster', parsed('unknown'), null, { ...opts, autoSubmitted: true }), 'unmatched', [], false],
    ['a null sender is never answered', decide('postmaster', parsed('unknown'), null, { ...opts, nullSender: true }), 'unmatched', [], false],
    ['unparseable bounce kept for review', decide('bounce', parsed('unknown'), target, opts), 'unparsed', ['event:feedback_unparsed'], false],
    ['a bounce about a message we never sent', decide('postmaster', parsed('bounce', [rcpt({ hard: true })]), null, opts), 'unmatched', [], false],
    ['mailto unsubscribe', decide('unsubscribe', parsed('unknown'), target, opts), 'processed', ['unsubscribe'], false],
  ];
  for (const [name, d, status, actions, ack] of table) {
    assert.equal(d.status, status, name);
    assert.deepEqual(kinds(d), actions, name);
    assert.equal(d.acknowledge, ack, name);
  }
});

test('the bounce is about our recipient when the DSN lists several', () => {
  const d = decide('bounce', parsed('bounce', [rcpt({ address: 'other@customer.example', hard: false }), rcpt({ hard: true, status: '5.1.1' })]), target, opts);
  assert.equal(d.about?.status, '5.1.1');
});

test('machine opens and clicks: Apple MPP, scanners, prefetch within seconds of delivery', () => {
  const person = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148';
  assert.deepEqual(machineVerdict({ userAgent: 'Mozilla/5.0', ip: '203.0.113.9', sinceDeliveryMs: 3600_000 }, 'open'), { machine: true, reason: 'apple-mpp' });
  assert.deepEqual(machineVerdict({ userAgent: person, ip: '17.58.0.1', sinceDeliveryMs: 3600_000 }, 'open'), { machine: true, reason: 'apple-mpp' });
  assert.deepEqual(machineVerdict({ userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))', ip: '198.51.100.1', sinceDeliveryMs: 2000 }, 'click'), { machine: true, reason: 'scanner' });
  assert.deepEqual(machineVerdict({ userAgent: person, ip: '198.51.100.1', sinceDeliveryMs: 3000 }, 'click'), { machine: true, reason: 'prefetch' });
  assert.deepEqual(machineVerdict({ userAgent: person, ip: '198.51.100.1', sinceDeliveryMs: 600_000 }, 'click'), { machine: false });
  assert.deepEqual(machineVerdict({ userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36 Edge/120 GoogleImageProxy', ip: '66.249.84.1', sinceDeliveryMs: 60_000 }, 'open'), { machine: false }, 'Gmail fetches images when the reader opens');
});

test('mailboxes: signed tokens only, abuse@/postmaster@ only of our domains', () => {
  const secrets = createSecrets(Buffer.alloc(32, 7));
  const rid = 'rcp_0000000000000000000000000a';
  const verp = verpAddress(secrets, rid, 'bounces.shop.example');
  assert.deepEqual(mailboxOf(secrets, verp, () => false), { kind: 'bounce', recipientId: rid });
  assert.deepEqual(mailboxOf(secrets, verp.toUpperCase(), () => false), { kind: 'bounce', recipientId: rid }, 'some MTAs upper-case local parts');
  assert.equal(mailboxOf(secrets, verp.replace(/[0-9a-f]@/, (m) => (m[0] === '0' ? '1@' : '0@')), () => false), null, 'an altered token');
  assert.deepEqual(mailboxOf(secrets, `u-${recipientToken(secrets, 'unsub', rid)}@bounces.shop.example`, () => false), { kind: 'unsubscribe', recipientId: rid });
  assert.deepEqual(mailboxOf(secrets, 'Abuse@Shop.Example', (d) => d === 'shop.example'), { kind: 'abuse', domain: 'shop.example' });
  assert.equal(mailboxOf(secrets, 'abuse@elsewhere.example', (d) => d === 'shop.example'), null);
  assert.equal(mailboxOf(secrets, 'info@shop.example', () => true), null);
  assert.deepEqual(recipientsNamedIn(secrets, `Return-Path: <${verp}>\nList-Unsubscribe: <https://x/u/${recipientToken(secrets, 'unsub', 'rcp_0000000000000000000000000b')}>`), [rid, 'rcp_0000000000000000000000000b']);
  assert.deepEqual(recipientsNamedIn(secrets, 'Return-Path: <b-0000000000000000000000000a-00000000000000@x>'), [], 'forged tokens name nobody');
});
