// Issue 4's edges: scheduling in the tenant's time zone, a list deleted while
// scheduled, a test send, header injection through a personalised field,
// template errors with line and column, transactional mail from a template.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { localToUtc } from '../../src/campaigns/local-time.ts';

const profile = { organisation: 'Shop SARL', postalAddress: '12 rue de la Paix, 75002 Paris', phone: '+33 1 23 45 67 89', organisationDomain: 'shop.example', timezone: 'Europe/Paris' };
const consent = { source: 'form', optIn: 'confirmed', collectedAt: '2026-10-01T08:00:00Z', confirmedAt: '2026-10-01T08:05:00Z' };

test('wall-clock times in a time zone, across daylight saving', () => {
  assert.equal(new Date(localToUtc('2026-12-01T09:00', 'Europe/Paris')!).toISOString(), '2026-12-01T08:00:00.000Z');
  assert.equal(new Date(localToUtc('2026-07-01T09:00', 'Europe/Paris')!).toISOString(), '2026-07-01T07:00:00.000Z');
  assert.equal(new Date(localToUtc('2026-03-29T03:30', 'Europe/Paris')!).toISOString(), '2026-03-29T01:30:00.000Z');
  assert.equal(new Date(localToUtc('2026-07-01T09:00:00Z', 'Europe/Paris')!).toISOString(), '2026-07-01T09:00:00.000Z');
  assert.equal(localToUtc('tomorrow', 'Europe/Paris'), null);
});

for (const dialect of DIALECTS) {
  describe(`campaign edges (${dialect})`, () => {
    const clock = manualClock(Date.parse('2026-11-25T10:00:00Z'));
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });
    before(async () => {
      t = await startTestApp(dialect, {}, { clock });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      await api('PUT', '/v1/profile', profile);
      await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'News please' });
      await api('POST', '/v1/lists/news/subscriptions', { email: 'eve@customer.example', fields: { first_name: 'Eve\r\nBcc: evil@attacker.example' }, consent });
      await api('POST', '/v1/templates', { name: 'hello', format: 'html', subject: 'Hello {{ contact.first_name }}', body: '<p>Hi {{ contact.first_name }}, news from Shop SARL.</p>' });
    });
    after(() => t.close());

    test('scheduled in the tenant time zone; a list deleted meanwhile pauses the campaign with the reason', async () => {
      await api('POST', '/v1/lists', { name: 'doomed', fromAddress: 'news@shop.example', fromName: 'Shop News', consentText: 'yes' });
      const c = await api('POST', '/v1/campaigns', { name: 'Later', template: 'hello', lists: ['doomed'] });
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/submit`)).body.status, 'approved');
      const s = await api('POST', `/v1/campaigns/${c.body.id}/schedule`, { at: '2026-12-01T09:00' });
      assert.equal(s.body.scheduledAt, '2026-12-01T08:00:00.000Z');
      assert.equal((await api('DELETE', '/v1/lists/doomed')).status, 204);
      clock.set(Date.parse('2026-12-01T08:00:01Z'));
      const paused = await eventually(async () => {
        const x = await api('GET', `/v1/campaigns/${c.body.id}`);
        return x.body.status === 'paused' ? x.body : undefined;
      });
      assert.match(paused.statusReason, /list deleted while scheduled/);
      assert.equal(paused.enqueued, 0);
    });

    test('a personalised field cannot inject a header; a test send is marked and reaches only the test address', async () => {
      const c = await api('POST', '/v1/campaigns', { name: 'Now', template: 'hello', lists: ['news'] });
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/submit`)).body.status, 'approved');
      const test = await api('POST', `/v1/campaigns/${c.body.id}/test`, { to: ['qa@shop.example'], contact: { first_name: 'Tester' } });
      assert.equal(test.status, 202, test.text);
      await api('POST', `/v1/campaigns/${c.body.id}/schedule`, {});
      const entries = await eventually(async () => {
        const list = (await api('GET', '/v1/sandbox/messages?limit=500')).body.data as { rcpt_to: string; id: string; subject: string }[];
        const eve = list.find((e) => e.rcpt_to === 'eve@customer.example');
        const qa = list.find((e) => e.rcpt_to === 'qa@shop.example');
        return eve && qa ? { eve, qa } : undefined;
      });
      const qa = (await api('GET', `/v1/sandbox/messages/${entries.qa.id}/raw`)).text;
      assert.match(qa, /^Subject: \[TEST\] Hello Tester\r$/m);
      const eve = (await api('GET', `/v1/sandbox/messages/${entries.eve.id}/raw`)).text;
      const head = eve.slice(0, eve.indexOf('\r\n\r\n'));
      assert.doesNotMatch(head, /^Bcc:/im);
      assert.doesNotMatch(head, /^[^:\s]*evil@attacker/m);
      const subject = /^Subject: (.*(?:\r\n[ \t].*)*)/m.exec(head)![1];
      assert.doesNotMatch(subject.replace(/\r\n[ \t]/g, ' '), /\r|\n/);
    });

    test('the preview renders for a chosen contact, with the content checks', async () => {
      await api('POST', '/v1/lists/news/subscriptions', { email: 'ines@customer.example', fields: { first_name: 'Inès' }, consent });
      const c = await api('POST', '/v1/campaigns', { name: 'Preview', template: 'hello', lists: ['news'] });
      const p = await api('POST', `/v1/campaigns/${c.body.id}/preview`, { email: 'ines@customer.example' });
      assert.equal(p.status, 200, p.text);
      assert.equal(p.body.subject, 'Hello Inès');
      assert.ok(Array.isArray(p.body.findings));
      assert.equal((await api('POST', `/v1/campaigns/${c.body.id}/preview`, { email: 'nobody@customer.example' })).status, 404);
    });

    test('template errors name the line and column; undefined variables are refused, never "undefined"', async () => {
      const bad = await api('POST', '/v1/templates', { name: 'broken', format: 'html', subject: 'x', body: '<p>one</p>\n<p>{% if contact.vip %}VIP</p>' });
      assert.equal(bad.status, 400);
      assert.match(bad.body.detail, /line 2/);
      const mj = await api('POST', '/v1/templates', { name: 'badmjml', format: 'mjml', subject: 'x', body: '<mjml><mj-body>\n<mj-section><mj-colum><mj-text>x</mj-text></mj-colum></mj-section></mj-body></mjml>' });
      assert.equal(mj.status, 400);
      assert.match(mj.body.detail, /line 2/);
      await api('POST', '/v1/templates', { name: 'receipt', format: 'html', subject: 'Receipt {{ order.id }}', body: '<p>Total: {{ order.total }} €</p>' });
      const ok = await api('POST', '/v1/messages', { from: 'orders@shop.example', to: ['zoe@customer.example'], template: 'receipt', variables: { order: { id: 'A-17', total: '42.00' } } });
      assert.equal(ok.status, 202, ok.text);
      const e = await eventually(async () => (await api('GET', '/v1/sandbox/messages?limit=500')).body.data.find((x: { message_id: string }) => x.message_id === ok.body.id));
      assert.equal(e.subject, 'Receipt A-17');
      const missing = await api('POST', '/v1/messages', { from: 'orders@shop.example', to: ['zoe@customer.example'], template: 'receipt', variables: { order: { id: 'A-18' } } });
      assert.equal(missing.status, 400);
      assert.match(missing.body.detail, /order\.total/);
    });

    test('a template over the size limit is refused', async () => {
      const huge = await api('POST', '/v1/templates', { name: 'huge', format: 'html', subject: 'x', body: '<p>' + 'a'.repeat(10 * 1024 * 1024 + 10) + '</p>' });
      assert.equal(huge.status, 400);
      assert.match(huge.body.detail, /bytes/);
    });
  });
}
