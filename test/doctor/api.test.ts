// The doctor at the edges: GET /v1/domains/:id/checks, POST /v1/preflight,
// `envoi doctor` and `envoi preflight`, and the gate — in smtp mode a domain
// whose last report fails a blocking check cannot submit or schedule a
// campaign, and the refusal says why; fixing DNS and checking again lifts it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { runEnvoi } from '../helpers/cli.ts';
import { OLD, doctorConfig, doctorEnv, goodZone, publish, startWorld, type World } from './world.ts';

for (const dialect of DIALECTS) {
  describe(`doctor API, CLI and gate (${dialect})`, () => {
    let w: World;
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let campaignId: string;
    let dmarc: string[];
    const api = (m: string, p: string, body?: unknown) => t.api(m, p, { token: acme.token, body });

    before(async () => {
      w = await startWorld();
      t = await startTestApp(dialect, { ...doctorConfig(w), delivery: { mode: 'smtp', port: w.port, caFile: w.caFile, pollMs: 50 } } as never);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      const zone = goodZone('shop.example', (await api('GET', '/v1/domains/shop.example/records')).body.data);
      dmarc = zone['_dmarc.shop.example'].TXT!;
      delete zone['_dmarc.shop.example'];
      publish(w.dns, zone);
      w.registrations.set('shop.example', OLD);
      assert.equal((await api('POST', '/v1/domains/shop.example/verify')).status, 200, 'DKIM is published: verified');
      await api('PUT', '/v1/profile', { organisation: 'Shop SARL', postalAddress: '1 rue X, 75001 Paris', phone: '+33 1 00 00 00 00', organisationDomain: 'shop.example', timezone: 'Europe/Paris' });
      assert.equal((await api('POST', '/v1/lists', { name: 'news', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: 'News from Shop', optIn: 'single' })).status, 201);
      assert.equal((await api('POST', '/v1/templates', { name: 'autumn', format: 'html', subject: 'Our autumn collection', body: '<p>Hello, the autumn collection is here. Shop SARL</p>' })).status, 201);
      const c = await api('POST', '/v1/campaigns', { name: 'Autumn', template: 'autumn', lists: ['news'] });
      assert.equal(c.status, 201, c.text);
      campaignId = c.body.id;
    });
    after(async () => {
      await t.close();
      await w.close();
    });

    test('no report yet: ?cached answers 404; a check runs and is kept', async () => {
      assert.equal((await api('GET', '/v1/domains/shop.example/checks?cached=true')).status, 404);
      assert.equal((await api('GET', '/v1/domains/nope.example/checks')).status, 404);
    });

    test('the gate: a failing blocking check stops submit, with the reason and the fix; a fixed zone lifts it', async () => {
      const r = await api('GET', '/v1/domains/shop.example/checks');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.blocked, true);
      assert.deepEqual(r.body.checks.filter((c: { status: string }) => c.status === 'fail').map((c: { id: string }) => c.id), ['dmarc.record']);
      const refused = await api('POST', `/v1/campaigns/${campaignId}/submit`);
      assert.equal(refused.status, 422, refused.text);
      assert.equal(refused.body.code, 'domain.checks_failed');
      assert.match(refused.body.detail, /shop\.example fails 1 blocking check.*dmarc\.record.*fix: TXT _dmarc\.shop\.example/);
      assert.equal((await api('GET', `/v1/campaigns/${campaignId}`)).body.status, 'draft');

      w.dns.set('_dmarc.shop.example', { TXT: dmarc });
      assert.equal((await api('GET', '/v1/domains/shop.example/checks?cached=true')).body.blocked, true, 'the cached report until the doctor runs again');
      const again = await api('GET', '/v1/domains/shop.example/checks');
      assert.equal(again.body.blocked, false);
      assert.equal(again.body.summary.fail, 0, JSON.stringify(again.body.checks.filter((c: { status: string }) => c.status !== 'pass')));
      const submitted = await api('POST', `/v1/campaigns/${campaignId}/submit`);
      assert.equal(submitted.body.status, 'approved', submitted.text);
      assert.equal((await api('POST', `/v1/campaigns/${campaignId}/schedule`, {})).body.status, 'scheduled');
    });

    test('POST /v1/preflight judges a campaign, a raw message, and refuses what is not a message', async () => {
      const c = await api('POST', '/v1/preflight', { campaign: campaignId });
      assert.equal(c.status, 200, c.text);
      assert.equal(c.body.verdict, 'accepted', JSON.stringify(c.body.gmail));
      assert.equal(c.body.context.kind, 'marketing');
      assert.match(c.body.context.envelopeFrom, /@bounce-mk\.shop\.example$/);
      assert.equal(c.body.checks.find((x: { id: string }) => x.id === 'preflight.unsubscribe').status, 'pass', 'the campaign\'s RFC 8058 headers are signed');
      const raw = ['From: news@shop.example', 'To: a@b.test', 'Subject: hi', 'Date: Wed, 25 Nov 2026 09:00:00 +0000', 'Message-ID: <x1@shop.example>', '', 'hello', ''].join('\r\n');
      const m = await api('POST', '/v1/preflight', { raw, kind: 'transactional', ip: '127.0.0.3' });
      assert.equal(m.status, 200, m.text);
      assert.deepEqual(m.body.gmail, []);
      const junk = await api('POST', '/v1/preflight', { raw: 'not a message at all' });
      assert.equal(junk.status, 400);
      assert.equal(junk.body.code, 'message.invalid');
      assert.equal((await api('POST', '/v1/preflight', { raw, campaign: campaignId })).status, 400);
      // another tenant sees neither this campaign nor this domain
      const other = await tenantWithDomain(t, 'other', 'other.example');
      assert.equal((await t.api('POST', '/v1/preflight', { token: other.token, body: { campaign: campaignId } })).status, 404);
      assert.equal((await t.api('GET', '/v1/domains/shop.example/checks', { token: other.token })).status, 404);
    });

    test('envoi doctor and envoi preflight', async () => {
      const env = { ...t.cliEnv, ...doctorEnv(w) };
      const json = await runEnvoi(env, ['doctor', 'shop.example', '--json']);
      assert.equal(json.code, 0, json.stderr);
      const report = JSON.parse(json.stdout);
      assert.equal(report.domain, 'shop.example');
      assert.equal(report.blocked, false);
      const human = await runEnvoi(env, ['doctor', 'SHOP.example.']);
      // once, under a full CI load, this printed nothing: say what the process did
      assert.match(human.stdout, /^shop\.example: \d+ pass, 0 warn, 0 fail\n/, `exit ${human.code}, stderr: ${human.stderr}`);
      assert.match(human.stdout, /\nok +dmarc\.record +_dmarc\.shop\.example +\[GM-8\]\n/);
      const bad = await runEnvoi(env, ['doctor', 'not a domain']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /"not a domain" is not a domain name/);

      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-preflight-'));
      const eml = path.join(dir, 'm.eml');
      fs.writeFileSync(eml, ['From: news@shop.example', 'To: a@b.test', 'Subject: hi', 'Date: Wed, 25 Nov 2026 09:00:00 +0000', 'Message-ID: <x2@shop.example>', '', 'hello', ''].join('\r\n'));
      const pf = await runEnvoi(env, ['preflight', eml, '--kind', 'transactional']);
      assert.equal(pf.code, 0, pf.stderr + pf.stdout);
      assert.match(pf.stdout, /Gmail would accept it/);
      fs.writeFileSync(eml, 'garbage\n');
      const junk = await runEnvoi(env, ['preflight', eml]);
      assert.equal(junk.code, 1);
      assert.match(junk.stderr, /not an email message/);
      const camp = await runEnvoi(env, ['preflight', '--campaign', campaignId, '--json']);
      assert.equal(camp.code, 0, camp.stderr);
      assert.equal(JSON.parse(camp.stdout).verdict, 'accepted');
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
}
