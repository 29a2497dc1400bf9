// Where input enters the pipeline: addresses, header injection, reserved
// headers (AF-10, STYLE 13). Table tests of pure functions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAddress } from '../../src/compose/address.ts';
import { validateMessage } from '../../src/compose/validate.ts';
import type { OutgoingMessage } from '../../src/compose/types.ts';

const addresses: [string, string | null][] = [
  ['alice@example.com', 'alice@example.com'],
  ['Alice.Smith+tag@Example.COM', 'Alice.Smith+tag@example.com'],
  ['jose@dominio.españa.es', 'jose@dominio.xn--espaa-rta.es'],
  ['user@bücher.de', 'user@xn--bcher-kva.de'],
  ['a@b', null], ['@example.com', null], ['alice@', null], ['alice@@example.com', null], ['al ice@example.com', null],
  ['alice.@example.com', null], ['.alice@example.com', null], ['a..b@example.com', null], ['alice@[127.0.0.1]', null],
  ['alice@127.0.0.1', null], ['alice@-bad.example', null], ['alice@example.123', null], ['x'.repeat(65) + '@example.com', null],
  ['alice@example.com\r\nBcc: v@x.example', null], ['"quoted"@example.com', null],
];
for (const [input, expected] of addresses) {
  test(`address ${JSON.stringify(input)} → ${expected ?? 'refused'}`, () => {
    const r = parseAddress(input);
    assert.equal(r.ok ? r.value.email : null, expected);
  });
}

const base: OutgoingMessage = { from: { email: 'a@shop.example' }, to: [{ email: 'b@example.org' }], subject: 'Hi', text: 'x' };
const refused: [string, Partial<OutgoingMessage>, string][] = [
  ['LF in subject', { subject: 'a\nb' }, 'message.header_injection'],
  ['CR in a display name', { to: [{ email: 'b@example.org', name: 'B\rX' }] }, 'message.header_injection'],
  ['NUL in a header value', { headers: { 'X-Tag': 'a\u0000b' } }, 'message.header_injection'],
  ['colon in a header name', { headers: { 'X-A:b': 'v' } }, 'message.header_injection'],
  ['a reserved header', { headers: { 'List-Unsubscribe': '<https://x.example>' } }, 'request.invalid'],
  ['Received is reserved (AF-11)', { headers: { Received: 'from forged' } }, 'request.invalid'],
  ['CR in a custom id', { customId: 'a\r\nb' }, 'message.header_injection'],
  ['CR in an attachment name', { attachments: [{ filename: 'a\r\n.txt', contentType: 'text/plain', content: Buffer.from('x') }] }, 'message.header_injection'],
  ['a bad content type', { attachments: [{ filename: 'a.txt', contentType: 'text plain', content: Buffer.from('x') }] }, 'request.invalid'],
  ['no To', { to: [] }, 'message.no_recipients'],
  ['no body', { text: undefined }, 'request.invalid'],
  ['empty subject', { subject: '  ' }, 'request.invalid'],
];
for (const [name, over, code] of refused) {
  test(`message with ${name} → ${code}`, () => {
    const r = validateMessage({ ...base, ...over }, 50);
    assert.equal(r.ok ? 'ok' : r.error.code, code);
  });
}

test('duplicate recipients across To/Cc/Bcc are delivered once', () => {
  const r = validateMessage({ ...base, to: [{ email: 'b@example.org' }], cc: [{ email: 'B@example.org' }], bcc: [{ email: 'c@example.org' }] }, 50);
  assert.ok(r.ok);
  assert.deepEqual(r.value.recipients, [{ email: 'b@example.org', kind: 'to' }, { email: 'c@example.org', kind: 'bcc' }]);
});

test('the recipient limit holds', () => {
  const to = Array.from({ length: 3 }, (_, i) => ({ email: `r${i}@example.org` }));
  assert.equal(validateMessage({ ...base, to }, 2).ok, false);
  assert.equal(validateMessage({ ...base, to }, 3).ok, true);
});
