// Webhook policy, pure and table-tested: backoff within the retry window,
// signatures, which addresses a webhook may go to, URL checks, and the two
// event shapes (envoi's own and Mailjet's Event API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { afterFailure, webhookRetryDelay } from '../../src/webhooks/backoff.ts';
import { sign, signatureHeader, verifySignature } from '../../src/webhooks/signing.ts';
import { checkUrl, nonPublicReason } from '../../src/webhooks/targets.ts';
import { envoiTypesFor, mailjetEvent, nativeEvent, wanted, type SourceEvent } from '../../src/webhooks/shapes.ts';
import { mailjetIds } from '../../src/ids.ts';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;

test('backoff: 30 s doubling to an hour', () => {
  const table: [number, number][] = [
    [1, 30 * SEC], [2, MIN], [3, 2 * MIN], [4, 4 * MIN], [5, 8 * MIN], [6, 16 * MIN], [7, 32 * MIN],
    [8, HOUR], [9, HOUR], [40, HOUR], [5000, HOUR],
    [0, 30 * SEC], [-1, 30 * SEC], [Number.NaN, 30 * SEC],
  ];
  for (const [attempt, ms] of table) assert.equal(webhookRetryDelay(attempt), ms, `attempt ${attempt}`);
  assert.equal(webhookRetryDelay(1, () => 0), 27 * SEC);
  assert.equal(webhookRetryDelay(1, () => 0.5), 30 * SEC);
  assert.equal(webhookRetryDelay(8, () => 0.99999), Math.round(HOUR * (0.9 + 0.2 * 0.99999)));
});

test('backoff: retried until the window ends, the last try at its end, then failed', () => {
  const created = 1_000_000;
  const w = 24 * HOUR;
  const table: [attempts: number, now: number, expect: ReturnType<typeof afterFailure>][] = [
    [1, created, { status: 'pending', nextAttemptAt: created + 30 * SEC }],
    [3, created + 10 * MIN, { status: 'pending', nextAttemptAt: created + 12 * MIN }],
    [20, created + 23.5 * HOUR, { status: 'pending', nextAttemptAt: created + w }], // clamped to the deadline
    [21, created + w, { status: 'failed' }],
    [2, created + 30 * HOUR, { status: 'failed' }], // a receiver down longer than the window
  ];
  for (const [attempts, now, expect] of table) assert.deepEqual(afterFailure({ attempts, createdAt: created, now, windowMs: w }), expect, `${attempts} at +${now - created}`);
  // how many tries a receiver that never answers gets in 24 h
  let t = created;
  let n = 0;
  for (;;) {
    n++;
    const d = afterFailure({ attempts: n, createdAt: created, now: t, windowMs: w });
    if (d.status === 'failed') break;
    t = d.nextAttemptAt;
  }
  assert.equal(n, 31);
});

test('signature: HMAC-SHA256 of "t.body", verified in constant time, stale and forged ones refused', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1"}';
  const expected = crypto.createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
  assert.equal(sign(secret, 1700000000, body), expected);
  const header = signatureHeader(secret, 1700000000, body);
  assert.equal(header, `t=1700000000,v1=${expected}`);
  const table: [string | undefined, string, number, string][] = [
    [header, body, 1700000000, 'ok'],
    [header, body, 1700000299, 'ok'],
    [header, body, 1700000301, 'stale'],
    [header, body + ' ', 1700000000, 'mismatch'],
    [`t=1700000000,v1=${'0'.repeat(64)},v1=${expected}`, body, 1700000000, 'ok'], // a rotated secret: any v1 may match
    [signatureHeader('other', 1700000000, body), body, 1700000000, 'mismatch'],
    [`t=1700000001,v1=${expected}`, body, 1700000000, 'mismatch'], // the timestamp is inside the MAC
    ['v1=' + expected, body, 1700000000, 'malformed'],
    ['t=1700000000', body, 1700000000, 'malformed'],
    [undefined, body, 1700000000, 'malformed'],
  ];
  for (const [h, b, now, want] of table) assert.equal(verifySignature(secret, h, b, now), want, String(h));
});

test('targets: only public unicast addresses', () => {
  const table: [string, string | null][] = [
    ['93.184.215.14', null],
    ['8.8.8.8', null],
    ['2606:4700:4700::1111', null],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', null],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private (shared address space)'],
    ['169.254.169.254', 'link-local'], // cloud metadata
    ['0.0.0.0', 'unspecified ("this network")'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'documentation'],
    ['198.18.0.1', 'reserved (benchmarking)'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:127.0.0.1', 'loopback'], // IPv4-mapped
    ['::ffff:7f00:1', 'loopback'], // the same, as URL normalises it
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', null],
    ['64:ff9b::a9fe:a9fe', 'link-local'], // NAT64 of 169.254.169.254
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['fd00::1', 'private (unique local)'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['not-an-ip', 'not an IP address'],
  ];
  for (const [ip, want] of table) assert.equal(nonPublicReason(ip), want, ip);
});

test('URLs: https only unless allowed, no fragment, userinfo taken out as Basic credentials', () => {
  const strict = { allowHttp: false };
  assert.deepEqual(checkUrl('https://hooks.example.com/envoi?x=1', strict), { ok: true, value: { url: 'https://hooks.example.com/envoi?x=1', auth: null } });
  const withAuth = checkUrl('https://mj:p%40ss@hooks.example.com/mailjet', strict);
  assert.deepEqual(withAuth, { ok: true, value: { url: 'https://hooks.example.com/mailjet', auth: { username: 'mj', password: 'p@ss' } } });
  for (const bad of ['http://hooks.example.com/', 'ftp://hooks.example.com/', 'https://hooks.example.com/#x', '/relative', 'https://a.example/\r\nX: y', `https://a.example/${'x'.repeat(2100)}`]) {
    const r = checkUrl(bad, strict);
    assert.ok(!r.ok && r.error.code === 'request.invalid' && r.error.field === 'url', bad);
  }
  assert.ok(checkUrl('http://hooks.example.com/', { allowHttp: true }).ok);
});

const base: SourceEvent = {
  id: 42, type: 'delivered', at: Date.parse('2026-11-25T09:00:00.500Z'), tenantId: 'tn_1', data: {},
  messageId: 'msg_1', recipientId: 'rcp_1', email: 'kim@customer.example', customId: 'order-17',
  campaignId: null, campaignName: null, contactId: null, listId: null,
};

test('native shape: envoi\'s own JSON, with named data fields only', () => {
  const ev = { ...base, data: { to: 'kim@customer.example', target: 'sandbox', transcript: 'C: EHLO…', headers: 'From: …' } };
  assert.deepEqual(nativeEvent(ev), {
    id: 'evt_42', type: 'delivered', at: '2026-11-25T09:00:00.500Z', tenant: 'tn_1', messageId: 'msg_1', recipientId: 'rcp_1',
    recipient: 'kim@customer.example', campaign: null, customId: 'order-17', data: { target: 'sandbox' },
  });
  const bounce = nativeEvent({ ...base, type: 'bounced', data: { code: 550, enhanced: '5.1.1', text: 'no such user', classification: { kind: 'bounced', category: 'unknown-user', hard: true }, transcript: 'x' } });
  assert.deepEqual(bounce.data, { hard: true, category: 'unknown-user', code: 550, enhanced: '5.1.1', text: 'no such user' });
  assert.equal(bounce.type, 'bounce');
  const expired = nativeEvent({ ...base, type: 'expired', data: { stage: 'connect', text: 'ECONNREFUSED', reason: 'expired' } });
  assert.deepEqual([expired.type, expired.data], ['bounce', { hard: false, expired: true, text: 'ECONNREFUSED' }]);
  const dropped = nativeEvent({ ...base, type: 'dropped', data: { reason: 'suppressed (complaint)' } });
  assert.deepEqual([dropped.type, dropped.data], ['blocked', { dropped: true, reason: 'suppressed (complaint)' }]);
  const unsub = nativeEvent({ ...base, type: 'unsubscribed', messageId: null, recipientId: null, listId: 'lst_1', data: { list: 'lst_1', source: 'one-click' } });
  assert.deepEqual([unsub.type, unsub.data], ['unsub', { list: 'lst_1', source: 'one-click' }]);
  // a guardrail acting on the tenant (issue 7's warn step) reaches the tenant's endpoint
  const rep = nativeEvent({ ...base, type: 'reputation_action', messageId: null, recipientId: null, data: { rule: 'mailjet.bounces', step: 'warn', scope: 'tenant', key: 'tn_1', window: '2026-11-25', reason: 'bounce rate 9 % > 8 %' } });
  assert.deepEqual([rep.type, rep.data], ['reputation', { rule: 'mailjet.bounces', step: 'warn', scope: 'tenant', key: 'tn_1', window: '2026-11-25', reason: 'bounce rate 9 % > 8 %' }]);
  assert.deepEqual(envoiTypesFor(['reputation']), ['reputation_action']);
});

test('Mailjet shape: the Event API fields, MessageID as the Send API answered it', () => {
  const ids = mailjetIds('rcp_1');
  const common = {
    time: Math.floor(base.at / 1000), MessageID: ids.id, Message_GUID: ids.uuid, email: 'kim@customer.example',
    mj_campaign_id: 0, mj_contact_id: 0, customcampaign: '', CustomID: 'order-17', Payload: '',
  };
  const table: [Partial<SourceEvent>, Record<string, unknown>][] = [
    [{ type: 'delivered', data: { code: 250, text: '2.0.0 OK queued' } }, { event: 'sent', mj_message_id: String(ids.id), smtp_reply: 'sent (250 2.0.0 OK queued)' }],
    [{ type: 'bounced', data: { code: 550, enhanced: '5.1.1', text: 'user unknown', classification: { category: 'unknown-user', hard: true } } },
      { event: 'bounce', blocked: true, hard_bounce: true, error_related_to: 'recipient', error: 'user unknown', comment: '550 5.1.1 user unknown' }],
    [{ type: 'bounced', data: { async: true, hard: true, category: 'mailbox-full', status: '5.2.2', diagnostic: 'mailbox full' } },
      { event: 'bounce', blocked: true, hard_bounce: true, error_related_to: 'recipient', error: 'quota exceeded', comment: '5.2.2 mailbox full' }],
    [{ type: 'bounced', data: { category: 'unknown-domain', hard: true, text: 'x.example: no MX' } },
      { event: 'bounce', blocked: true, hard_bounce: true, error_related_to: 'domain', error: 'invalid domain', comment: 'x.example: no MX' }],
    [{ type: 'expired', data: { stage: 'connect', text: 'connect ECONNREFUSED' } },
      { event: 'bounce', blocked: false, hard_bounce: false, error_related_to: 'system', error: 'connection issue', comment: 'connect ECONNREFUSED' }],
    [{ type: 'blocked', data: { code: 550, enhanced: '5.7.1', text: 'listed at a DNSBL', classification: { category: 'blocklist', permanent: true } } },
      { event: 'blocked', error_related_to: 'spam', error: 'sender blocked', comment: '550 5.7.1 listed at a DNSBL' }],
    [{ type: 'dropped', data: { reason: 'suppressed (hard_bounce)' } }, { event: 'blocked', error_related_to: 'mailjet', error: 'preblocked', comment: 'suppressed (hard_bounce)' }],
    [{ type: 'complained', data: { feedbackType: 'abuse', source: 'bounce', userAgent: 'Yahoo!-Mail-Feedback/2.0' } }, { event: 'spam', source: 'Yahoo!-Mail-Feedback/2.0' }],
    [{ type: 'opened', data: {} }, { event: 'open', ip: '', geo: '', agent: '' }],
    [{ type: 'clicked', data: { url: 'https://shop.example/sale' } }, { event: 'click', url: 'https://shop.example/sale', ip: '', geo: '', agent: '' }],
  ];
  for (const [ev, extra] of table) assert.deepEqual(mailjetEvent({ ...base, ...ev }), { ...common, ...extra }, String(ev.type));

  const unsub = mailjetEvent({ ...base, type: 'unsubscribed', messageId: null, recipientId: null, customId: null, contactId: 'ct_1', listId: 'lst_1', data: { list: 'lst_1' } });
  assert.equal(unsub.event, 'unsub');
  assert.equal(unsub.MessageID, 0);
  assert.ok(Number.isSafeInteger(unsub.mj_list_id) && (unsub.mj_list_id as number) > 0);
  assert.ok(Number.isSafeInteger(unsub.mj_contact_id) && (unsub.mj_contact_id as number) > 0);
  const camp = mailjetEvent({ ...base, campaignId: 'cmp_1', campaignName: 'Sale' });
  assert.equal(camp.customcampaign, 'Sale');
  assert.ok(Number.isSafeInteger(camp.mj_campaign_id) && (camp.mj_campaign_id as number) > 0);
});

test('subscriptions: sent is delivered; machine opens only when asked for', () => {
  assert.deepEqual(envoiTypesFor(['sent']), ['delivered']);
  assert.deepEqual(envoiTypesFor(['bounce', 'blocked']).sort(), ['blocked', 'bounced', 'dropped', 'expired']);
  assert.deepEqual(envoiTypesFor(['open', 'click', 'spam', 'unsub']).sort(), ['clicked', 'complained', 'opened', 'unsubscribed']);
  const human = { type: 'opened', data: {} };
  const machine = { type: 'opened', data: { machine: true } };
  assert.equal(wanted({ types: ['open'], machineOpens: false }, human), true);
  assert.equal(wanted({ types: ['open'], machineOpens: false }, machine), false);
  assert.equal(wanted({ types: ['open'], machineOpens: true }, machine), true);
  assert.equal(wanted({ types: ['sent'], machineOpens: false }, { type: 'delivered', data: {} }), true);
  assert.equal(wanted({ types: ['click'], machineOpens: false }, { type: 'accepted', data: {} }), false);
});
