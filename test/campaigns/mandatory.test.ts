// The mandatory parts of marketing mail (MJ-7, MC-11, MC-12, MJ-8): inserted
// when the template lacks them, not twice when it has them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { onBehalf, withMandatoryParts } from '../../src/campaigns/mandatory.ts';

const identity = { organisation: 'Agence Dupont', postalAddress: '3 place Bellecour, 69002 Lyon', phone: '+33 4 00 00 00 00', organisationDomain: 'dupont.example' };
const base = { unsubscribeUrl: 'https://e.example/u/abc-0123456789abcd', identity, fromDomain: 'news.dupont.example', fromName: 'Dupont', listName: 'letters' };

test('a template without them gets the unsubscribe link and the identity, before </body>', () => {
  const r = withMandatoryParts({ ...base, html: '<html><body><p>Hi</p></body></html>', text: 'Hi' });
  assert.match(r.html, /<p>Hi<\/p><div[^>]*>.*3 place Bellecour.*href="https:\/\/e\.example\/u\/abc-0123456789abcd".*<\/div><\/body>/s);
  assert.match(r.text, /Hi\n\n--\nAgence Dupont · 3 place Bellecour, 69002 Lyon · \+33 4 00 00 00 00\n.*Unsubscribe: https:\/\/e\.example\/u\/abc-0123456789abcd\n$/s);
  assert.doesNotMatch(r.text, /on behalf/, 'the From is on the organisation\'s own domain');
});

test('a template that has them is left alone', () => {
  const html = `<p>Hi</p><p>Agence Dupont, 3 place Bellecour, 69002 Lyon</p><a href="${base.unsubscribeUrl}">stop</a>`;
  const text = `Hi\n3 place Bellecour, 69002 Lyon\nstop: ${base.unsubscribeUrl}`;
  const r = withMandatoryParts({ ...base, html, text });
  assert.equal(r.html, html);
  assert.equal(r.text, text);
});

test("mail from a client's domain says on whose behalf it is sent (MJ-8)", () => {
  const r = withMandatoryParts({ ...base, fromDomain: 'boulangerie.example', fromName: 'Boulangerie Martin', html: '<p>Bread</p>', text: 'Bread' });
  assert.match(r.html, /Sent by Agence Dupont on behalf of Boulangerie Martin\./);
  assert.match(r.text, /Sent by Agence Dupont on behalf of Boulangerie Martin\./);
  assert.equal(onBehalf('mail.dupont.example', 'dupont.example'), false);
  assert.equal(onBehalf('shop.co.uk', 'dupont.co.uk'), true);
});

test('values are escaped in the HTML footer', () => {
  const r = withMandatoryParts({ ...base, identity: { ...identity, organisation: 'A&B <Ltd>' }, html: '<p>x</p>', text: 'x' });
  assert.match(r.html, /A&amp;B &lt;Ltd&gt;/);
});
