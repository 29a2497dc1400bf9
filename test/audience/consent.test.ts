// The consent rules as a table (MJ-5, AF-16) and the consent header (AF-17).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentHeaderValue, consentSatisfies } from '../../src/audience/consent.ts';

const T = Date.parse('2026-11-20T08:30:00Z');
const rec = (o: Partial<Parameters<typeof consentSatisfies>[1]>) => ({ opt_in: 'single' as const, confirmed_at: null, relationship: null, informed_how: null, ...o });
const double = { opt_in: 'double' as const, allow_relationship: 0 };
const single = { opt_in: 'single' as const, allow_relationship: 0 };
const customers = { opt_in: 'single' as const, allow_relationship: 1 };

const table: [string, Parameters<typeof consentSatisfies>[0], Parameters<typeof consentSatisfies>[1], boolean][] = [
  ['double list, confirmed double opt-in', double, rec({ opt_in: 'double', confirmed_at: T }), true],
  ['double list, unconfirmed single opt-in', double, rec({}), false],
  ['double list, "confirmed" without a confirmation time', double, rec({ opt_in: 'confirmed' }), false],
  ['single list, single opt-in', single, rec({}), true],
  ['single list, relationship without opt-in, not allowed', single, rec({ opt_in: 'none', relationship: 'customer', informed_how: 'receipt' }), false],
  ['customer list, relationship stated with how informed', customers, rec({ opt_in: 'none', relationship: 'customer', informed_how: 'receipt' }), true],
  ['customer list, relationship without how informed', customers, rec({ opt_in: 'none', relationship: 'customer', informed_how: ' ' }), false],
];
for (const [name, list, record, expected] of table) {
  test(`consent: ${name} → ${expected ? 'mailable' : 'not mailable'}`, () => assert.equal(consentSatisfies(list, record), expected));
}

test('the consent header says when, how and from where, in one ASCII line (AF-17)', () => {
  const v = consentHeaderValue({ source: 'form', opt_in: 'double', collected_at: T, ip: '203.0.113.7', confirmed_at: T + 60_000, confirm_ip: '2001:db8::1' });
  assert.equal(v, 'method=double; source=form; date=2026-11-20T08:30:00Z; ip=203.0.113.7; confirmed=2026-11-20T08:31:00Z; confirm-ip=2001:db8::1');
  assert.match(consentHeaderValue({ source: 'import', opt_in: 'none', collected_at: T, ip: null, confirmed_at: null, confirm_ip: null }), /^method=none; source=import; date=[^;]+$/);
});

test('an IDN address is found whether typed in Unicode or in its stored ASCII form', async () => {
  const { addressHash } = await import('../../src/audience/address.ts');
  assert.equal(addressHash('josé@café.fr'), addressHash('josé@xn--caf-dma.fr'));
  assert.equal(addressHash('Ann@Example.ORG'), addressHash('ann@example.org'));
});
