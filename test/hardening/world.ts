// Two tenants on one running envoi, as the security tests need them: tenant
// A, the attacker, with a key and a domain; tenant B, the victim, with one
// resource of every kind the API has (list, contact, template, campaign sent
// with tracked links, message, sandbox capture, import, webhook, feedback
// item, key, stream, suppression, domain fault) and the strings that would
// betray B's data in a response.
import assert from 'node:assert/strict';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import type { ConfigInput } from '../../src/config/schema.ts';
import type { Clock } from '../../src/clock.ts';
import type { Dialect } from '../helpers/store.ts';
import { talk } from '../peers/smtp-talk.ts';

export type Tenant = Awaited<ReturnType<typeof tenantWithDomain>> & { name: string; domain: string };

export interface VictimIds {
  tenant: string; list: string; contact: string; template: string; campaign: string; message: string; sandbox: string; import: string;
  webhook: string; feedback: string; key: string; firstKey: string; domain: string; fault: string; stream: string; suppressed: string; contactEmail: string; listName: string;
  /** a dashboard user of B (src/web/) */
  user: string;
}

export interface World {
  t: TestApp;
  a: Tenant;
  b: Tenant;
  ids: VictimIds;
  /** B's campaign as received: its one-click unsubscribe, tracked click and open pixel paths */
  links: { unsubscribe: string; click: string; open: string; clickTarget: string; verp: string; mailtoUnsubscribe: string };
  /** strings only B's data holds: none may appear in an answer to A */
  markers: string[];
  api(who: Tenant, method: string, path: string, body?: unknown): ReturnType<TestApp['api']>;
  /** one message through the inbound MX (no AUTH); the reply to the final "." */
  inbound(from: string, to: string, message: string): Promise<{ code: number; text: string }>;
  close(): Promise<void>;
}

export const PROFILE = (domain: string) => ({ organisation: `${domain} SARL`, postalAddress: '1 rue X, 75001 Paris', phone: '+33 1 00 00 00 00', organisationDomain: domain, timezone: 'Europe/Paris' });

export async function startWorld(dialect: Dialect, overrides: ConfigInput = {} as ConfigInput, opts: { clock?: Clock } = {}): Promise<World> {
  const t = await startTestApp(dialect, { webhooks: { allowPrivateTargets: true }, ...overrides } as ConfigInput, opts);
  try {
    const a = { ...(await tenantWithDomain(t, 'alpha', 'alpha-shop.example')), name: 'alpha', domain: 'alpha-shop.example' };
    const b = { ...(await tenantWithDomain(t, 'beta', 'beta-shop.example')), name: 'beta', domain: 'beta-shop.example' };
    const api = (who: Tenant, method: string, path: string, body?: unknown) => t.api(method, path, { token: who.token, body });
    const must = async (r: Promise<Awaited<ReturnType<TestApp['api']>>>, status: number[] = [200, 201, 202, 204]) => {
      const x = await r;
      assert.ok(status.includes(x.status), `${x.status} ${x.text.slice(0, 300)}`);
      return x;
    };
    const inbound = async (from: string, to: string, message: string) => {
      const s = await talk({ port: t.app.ports.inbound, ca: t.ca });
      try {
        await s.ehlo('mx.isp.example');
        await s.command(`MAIL FROM:<${from}>`);
        const rcpt = await s.command(`RCPT TO:<${to}>`);
        if (rcpt.code !== 250) return { code: rcpt.code, text: rcpt.text };
        await s.command('DATA');
        const done = await s.command(`${message.replace(/\r?\n/g, '\r\n')}\r\n.`);
        await s.command('QUIT').catch(() => undefined);
        return { code: done.code, text: done.text };
      } finally {
        s.close();
      }
    };

    // B: everything a tenant can own
    await must(api(b, 'PUT', '/v1/profile', { ...PROFILE(b.domain), trackingHost: `links.${b.domain}` }));
    const list = await must(api(b, 'POST', '/v1/lists', { name: 'beta-news', fromAddress: `news@${b.domain}`, fromName: 'Beta Shop', consentText: 'Beta news by email', optIn: 'single' }));
    const sub = await must(api(b, 'POST', '/v1/lists/beta-news/subscriptions', { email: 'bob@beta-customer.example', fields: { first_name: 'Bobbeta' }, consent: { source: 'form', optIn: 'single' } }));
    const tpl = await must(api(b, 'POST', '/v1/templates', {
      name: 'beta-template', format: 'html', subject: 'Beta private subject',
      body: '<p>Hello, here is the beta news of the week: <a href="https://beta-shop.example/sale">the sale</a>. Beta Shop SARL</p>',
    }));
    const campaign = await must(api(b, 'POST', '/v1/campaigns', { name: 'beta-campaign', template: 'beta-template', lists: ['beta-news'], trackClicks: true, trackOpens: true }));
    assert.equal((await must(api(b, 'POST', `/v1/campaigns/${campaign.body.id}/submit`))).body.status, 'approved');
    await must(api(b, 'POST', `/v1/campaigns/${campaign.body.id}/schedule`, {}));
    const message = await must(api(b, 'POST', '/v1/messages', { from: `orders@${b.domain}`, to: 'carol@beta-customer.example', subject: 'Beta order 42', text: 'Your beta order' }));
    const csv = 'email,first_name\ndan@beta-customer.example,Danbeta\n';
    await must(t.api('POST', '/v1/imports?list=beta-news&source=customer&collectedAt=2026-05-01T00:00:00Z&method=single&consentText=Beta%20news%20by%20email',
      { token: b.token, rawBody: csv, headers: { 'content-type': 'text/csv' } }));
    const webhook = await must(api(b, 'POST', '/v1/webhooks', { url: 'https://127.0.0.1:9/beta-hook', description: 'beta hook' }));
    const key = await must(api(b, 'POST', '/v1/keys', { label: 'beta second key' }));
    await must(api(b, 'PUT', '/v1/streams/beta-stream', { kind: 'transactional' }));
    await must(api(b, 'POST', '/v1/suppressions', { email: 'gone@beta-customer.example', note: 'beta note' }));
    const domain = await must(api(b, 'GET', `/v1/domains/${b.domain}`));
    const fault = await t.app.services.faults.record({
      domainId: domain.body.id, provider: 'google', code: 421, text: '421-4.7.30 DKIM does not pass (beta-shop.example)',
      rule: { match: { enhanced: '4.7.30' }, example: '421-4.7.30', action: 'domain-fault', fault: { cause: 'dkim', remedy: 'publish the DKIM record' } },
    });
    const arf = [
      `From: abuse-desk@isp.example`, `To: abuse@${b.domain}`, 'Subject: Beta abuse report', 'Content-Type: text/plain', '',
      'A customer complained about mail from beta-shop.example.',
    ].join('\r\n');
    assert.equal((await inbound('abuse-desk@isp.example', `abuse@${b.domain}`, arf)).code, 250);

    // what is asynchronous: the campaign's delivery, the import, the feedback item
    const received = await eventually(async () => {
      const l = (await api(b, 'GET', '/v1/sandbox/messages?limit=50')).body.data as { id: string; subject: string; mail_from: string }[];
      const c = l.find((e) => e.subject === 'Beta private subject');
      const m = l.find((e) => e.subject === 'Beta order 42');
      return c && m ? { c, m } : undefined;
    }, 20_000);
    const imp = await eventually(async () => (await api(b, 'GET', '/v1/imports')).body.data.find((i: { status: string }) => i.status === 'completed'), 20_000);
    const fb = await eventually(async () => (await api(b, 'GET', '/v1/feedback')).body.data[0], 20_000);
    const raw = (await api(b, 'GET', `/v1/sandbox/messages/${received.c.id}/raw`)).text.replace(/=\r\n/g, '').replace(/=3D/g, '=');
    const unsubscribe = /List-Unsubscribe: <https:\/\/[^/]+(\/u\/[^>]+)>/.exec(raw.replace(/\r\n\s+/g, ' '))?.[1];
    const click = /https:\/\/[^/"]+(\/c\/[A-Za-z0-9_.-]+)/.exec(raw)?.[1];
    const open = /https:\/\/[^/"]+(\/o\/[A-Za-z0-9_.-]+)/.exec(raw)?.[1];
    const mailtoUnsubscribe = /<mailto:(u-[^@>]+@[^?>]+)/.exec(raw.replace(/\r\n\s+/g, ' '))?.[1];
    assert.ok(unsubscribe && click && open && mailtoUnsubscribe, `links in the campaign: ${unsubscribe} ${click} ${open} ${mailtoUnsubscribe}`);

    const dashboardUser = await api(b, 'POST', '/v1/users', { email: 'boss@beta-customer.example', password: 'beta password 12345' });
    const ids: VictimIds = {
      tenant: b.tenantId, list: list.body.id, contact: sub.body.contactId, template: tpl.body.id, campaign: campaign.body.id, message: message.body.id,
      sandbox: received.m.id, import: imp.id, webhook: webhook.body.id, feedback: fb.id, key: key.body.id, firstKey: b.keyId, domain: domain.body.id, fault: fault.id,
      stream: 'beta-stream', suppressed: 'gone@beta-customer.example', contactEmail: 'bob@beta-customer.example', listName: 'beta-news',
      user: dashboardUser.body.id,
    };
    const markers = [
      b.tenantId, b.keyId, b.domain, 'beta-customer.example', 'Beta private subject', 'Beta order 42', 'Beta news by email', 'Bobbeta', 'Danbeta', 'beta-hook',
      'beta hook', 'beta note', 'beta second key', 'Beta abuse report', 'beta-template', 'beta-campaign', 'beta-news', ...Object.values(ids),
    // a stream name is a name in each tenant's own namespace: A may have a "beta-stream" of its own
    ].filter((m) => m !== ids.stream);
    return {
      t, a, b, ids, markers, api, inbound,
      links: { unsubscribe, click, open, clickTarget: 'https://beta-shop.example/sale', verp: received.c.mail_from, mailtoUnsubscribe },
      close: () => t.close(),
    };
  } catch (e) {
    await t.close();
    throw e;
  }
}
