// GM-3: freemail domains, table-tested.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isFreemailDomain } from '../../src/policy/freemail.ts';

const cases: [string, boolean][] = [
  ['gmail.com', true], ['GMAIL.COM', true], ['googlemail.com', true], ['yahoo.fr', true], ['yahoo.co.uk', true],
  ['hotmail.es', true], ['outlook.com', true], ['live.fr', true], ['aol.com', true], ['icloud.com', true],
  ['orange.fr', true], ['wanadoo.fr', true], ['free.fr', true], ['laposte.net', true], ['gmx.de', true], ['web.de', true], ['mail.com', true],
  ['example.com', false], ['shop.example', false], ['gmail-marketing.example', false], ['mygmail.com', false],
  ['news.orange-business.com', false], ['free.example', false], ['yahoo.example', false],
];

for (const [domain, expected] of cases) {
  test(`${domain} → ${expected ? 'freemail' : 'not freemail'}`, () => assert.equal(isFreemailDomain(domain), expected));
}
