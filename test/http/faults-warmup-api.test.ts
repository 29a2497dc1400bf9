// Domain faults and warm-up ramps at the edges: a tenant lists and clears
// its domains' faults (another tenant's are not found), sees its own ramps
// on GET /v1/warmup (an operator sees all), and `envoi warmup status` prints
// the same. The faults and ramps come from the stages, as the engine makes them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { runEnvoi } from '../helpers/cli.ts';
import { loadProviders, reactionFor } from '../../src/policy/providers.ts';

const google = loadProviders().find((p) => p.name === 'google')!;
const SPF = '4.7.27 This mail has been rate limited because SPF of the sending domain does not pass.';

for (const dialect of DIALECTS) {
  describe(`domain faults and warm-up through the API and the CLI (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let rival: Awaited<ReturnType<typeof tenantWithDomain>>;
    let acmeDomain: string;
    before(async () => {
      t = await startTestApp(dialect);
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      rival = await tenantWithDomain(t, 'rival', 'rival.example');
      acmeDomain = (await t.app.services.domains.find(acme.tenantId, 'shop.example'))!.id;
      const rivalDomain = (await t.app.services.domains.find(rival.tenantId, 'rival.example'))!.id;
      await t.app.services.warmup.take('shared', acmeDomain, 'google');
      await t.app.services.warmup.take('shared', rivalDomain, 'yahoo');
    });
    after(() => t.close());

    test('a fault with its remedy, listed and cleared by its tenant only', async () => {
      const f = await t.app.services.faults.record({ domainId: acmeDomain, provider: 'google', rule: reactionFor(google, 451, SPF)!, code: 451, text: SPF });
      const list = await t.api('GET', '/v1/domains/shop.example/faults', { token: acme.token });
      assert.equal(list.status, 200, list.text);
      assert.equal(list.body.data.length, 1);
      const [view] = list.body.data;
      assert.equal(view.id, f.id);
      assert.equal(view.code, '4.7.27');
      assert.equal(view.cause, 'spf');
      assert.equal(view.active, true);
      assert.match(view.remedy, /SPF/);
      assert.match(view.example, /^451 4\.7\.27/);

      assert.equal((await t.api('GET', `/v1/domains/${acmeDomain}/faults`, { token: rival.token })).status, 404, "another tenant's domain");
      assert.equal((await t.api('POST', `/v1/domains/${acmeDomain}/faults/${f.id}/clear`, { token: rival.token })).status, 404);
      assert.equal((await t.api('POST', `/v1/domains/rival.example/faults/${f.id}/clear`, { token: rival.token })).status, 404, 'not through its own domain either');
      assert.equal((await t.app.services.faults.activeFault(acmeDomain, 'google'))?.id, f.id, 'still open');

      const cleared = await t.api('POST', `/v1/domains/shop.example/faults/${f.id}/clear`, { token: acme.token });
      assert.equal(cleared.status, 200, cleared.text);
      assert.equal(cleared.body.active, false);
      assert.equal(cleared.body.clearedBy, `key:${acme.keyId}`);
      assert.equal(await t.app.services.faults.activeFault(acmeDomain, 'google'), null);
      assert.equal((await t.api('POST', `/v1/domains/shop.example/faults/${f.id}/clear`, { token: acme.token })).status, 409);
    });

    test('GET /v1/warmup: a tenant sees its ramps, an operator every one', async () => {
      const mine = await t.api('GET', '/v1/warmup', { token: acme.token });
      assert.equal(mine.status, 200, mine.text);
      assert.deepEqual(mine.body.data.map((r: { domain: string; provider: string; budget: number; dayIndex: number }) => [r.domain, r.provider, r.budget, r.dayIndex]),
        [['shop.example', 'google', 300, 0]]);
      const all = await t.api('GET', '/v1/warmup', { token: t.operatorToken });
      assert.deepEqual(all.body.data.map((r: { domain: string }) => r.domain), ['rival.example', 'shop.example']);
    });

    test('envoi warmup status', async () => {
      const r = await runEnvoi(t.cliEnv, ['warmup', 'status', '--tenant', 'acme']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^domain\s+provider\s+pool\s+day\s+index\s+budget/m);
      assert.match(r.stdout, /shop\.example\s+google\s+shared\s+\d{4}-\d\d-\d\d\s+0\s+300\s+0\s+start/);
      assert.doesNotMatch(r.stdout, /rival/);
      const json = await runEnvoi(t.cliEnv, ['warmup', 'status', '--json']);
      assert.equal(JSON.parse(json.stdout).length, 2);
    });
  });
}
