// Whole messages from SMTP submission: header block checks (MC-3), bare LF,
// and what envoi removes or adds (AF-11: Received lines are never touched).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRaw, rawFrom, rewriteHeaders, toCrlf } from '../../src/compose/raw.ts';

const msg = (head: string, body = 'Hello\r\n') => Buffer.from(head.replace(/\n/g, '\r\n') + '\r\n\r\n' + body);

test('Bcc and Return-Path are dropped, Received lines kept byte for byte, headers prepended', () => {
  const p = parseRaw(msg('Received: from a.example by b.example;\n\tWed, 25 Nov 2026 10:00:00 +0000\nFrom: A <a@shop.example>\nBcc: hidden@example.org,\n  other@example.org\nReturn-Path: <forged@example.org>\nSubject: x'));
  assert.ok(p.ok);
  const out = rewriteHeaders(p.value, ['bcc', 'return-path'], { 'Feedback-ID': 'tx:s:t:envoi' }).toString();
  assert.equal(out, 'Feedback-ID: tx:s:t:envoi\r\nReceived: from a.example by b.example;\r\n\tWed, 25 Nov 2026 10:00:00 +0000\r\nFrom: A <a@shop.example>\r\nSubject: x\r\n\r\nHello\r\n');
});

test('bare LF becomes CRLF, CRLF stays', () => {
  assert.equal(toCrlf(Buffer.from('a\nb\r\nc\rd')).toString(), 'a\r\nb\r\nc\r\nd');
  const same = Buffer.from('a\r\nb\r\n');
  assert.equal(toCrlf(same), same);
});

const bad: [string, Buffer, RegExp][] = [
  ['a header line over 998 octets', msg('From: a@shop.example\nX-Long: ' + 'x'.repeat(1000)), /998/],
  ['a body line over 998 octets', msg('From: a@shop.example', 'y'.repeat(1200) + '\r\n'), /998/],
  ['a malformed header line', msg('From: a@shop.example\nnot a header'), /malformed/],
  ['a leading continuation line', msg(' folded\nFrom: a@shop.example'), /continuation/],
];
for (const [name, raw, re] of bad) {
  test(`refused: ${name}`, () => {
    const r = parseRaw(raw);
    assert.equal(r.ok, false);
    assert.match(!r.ok ? r.error.detail : '', re);
  });
}

test('From must name exactly one mailbox', () => {
  const two = parseRaw(msg('From: a@shop.example, b@shop.example\nSubject: x'));
  assert.ok(two.ok);
  assert.equal(rawFrom(two.value).ok, false);
  const none = parseRaw(msg('Subject: x'));
  assert.ok(none.ok);
  assert.equal(rawFrom(none.value).ok, false);
  const one = parseRaw(msg('From: "Shop, Inc." <Orders@Shop.Example>'));
  assert.ok(one.ok);
  const f = rawFrom(one.value);
  assert.deepEqual(f.ok && f.value, { email: 'Orders@shop.example', domain: 'shop.example' });
});
