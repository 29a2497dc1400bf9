// Tenant isolation, walked from the route table: every /v1 route the HTTPS
// server registered (src/http/server.ts `routeTable`) is called with tenant
// A's key on tenant B's resources. Each must answer 404 (403 where only an
// operator may call it) and say nothing of B; afterwards B's resources are
// all still there, unchanged. A route added tomorrow with a parameter this
// walk has no resource for fails the test until it is given one here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { routeTable } from '../../src/http/server.ts';
import { CSRF_HEADER } from '../../src/web/cookies.ts';
import { startWorld, type VictimIds, type World } from './world.ts';

/** For each parameterised /v1 route: the values of its parameters that name B's resources (several refs where a route takes an id or a name). */
const RESOURCES: Record<string, (ids: VictimIds, w: World) => Record<string, string>[]> = {
  '/v1/templates/:id': (i) => [{ id: i.template }, { id: 'beta-template' }],
  '/v1/campaigns/:id': (i) => [{ id: i.campaign }],
  '/v1/contacts/:id': (i) => [{ id: i.contact }, { id: i.contactEmail }],
  '/v1/suppressions/:email': (i) => [{ email: i.suppressed }],
  '/v1/domains/:id': (i, w) => [{ id: i.domain }, { id: w.b.domain }],
  '/v1/domains/:id/faults/:faultId/clear': (i, w) => [{ id: i.domain, faultId: i.fault }, { id: w.a.domain, faultId: i.fault }],
  '/v1/feedback/:id': (i) => [{ id: i.feedback }],
  '/v1/imports/:id': (i) => [{ id: i.import }],
  '/v1/keys/:id': (i) => [{ id: i.key }, { id: i.firstKey }],
  '/v1/lists/:id': (i) => [{ id: i.list }, { id: i.listName }],
  '/v1/lists/:id/subscriptions/:contact': (i) => [{ id: i.list, contact: i.contact }, { id: i.listName, contact: i.contactEmail }, { id: 'alpha-news', contact: i.contact }],
  '/v1/messages/:id': (i) => [{ id: i.message }],
  '/v1/sandbox/messages/:id': (i) => [{ id: i.sandbox }],
  '/v1/webhooks/:id': (i) => [{ id: i.webhook }],
  '/v1/tenants/:id': (i) => [{ id: i.tenant }],
  '/v1/users/:id': (i) => [{ id: i.user }],
};

/**
 * Routes whose parameter is a name in the caller's own namespace, not a
 * reference to anyone's resource: A's call acts on A's own (a stream A
 * names "beta-stream" is A's), so it may succeed; B's is checked unchanged.
 */
const OWN_NAMESPACE = new Set(['PUT /v1/streams/:name']);

/** Parameterised /v1 routes that need no resource (none today); each must say why. */
const NEEDS_NONE = new Map<string, string>([]);

/** Bodies valid enough that a refusal can only come from the lookup, not from validation. */
const BODIES: Record<string, unknown> = {
  'PUT /v1/templates/:id': { format: 'html', subject: 'x', body: '<p>x</p>' },
  'PUT /v1/campaigns/:id': { name: 'x', template: 'alpha-template', lists: ['alpha-news'] },
  'POST /v1/campaigns/:id/preview': {},
  'POST /v1/campaigns/:id/schedule': {},
  'POST /v1/campaigns/:id/test': { to: ['eve@alpha-customer.example'] },
  'PATCH /v1/contacts/:id': { fields: { first_name: 'Eve' } },
  'PATCH /v1/lists/:id': { consentText: 'changed by A' },
  'POST /v1/lists/:id/subscriptions': { email: 'eve@alpha-customer.example', consent: { source: 'form', optIn: 'single' } },
  'PATCH /v1/webhooks/:id': { active: false },
  'PUT /v1/streams/:name': { kind: 'transactional' },
};

const pattern = (url: string) => RESOURCES[url] ?? RESOURCES[Object.keys(RESOURCES).filter((p) => url.startsWith(`${p}/`)).sort((x, y) => y.length - x.length)[0]];
const fill = (url: string, params: Record<string, string>) => url.replace(/:(\w+)/g, (_m, name: string) => {
  assert.ok(params[name] !== undefined, `${url}: no value for :${name}`);
  return encodeURIComponent(params[name]);
});

/** The markers of B's data in an answer, leaving out what the caller itself sent. */
function leaked(w: World, text: string, sent: string): string[] {
  const given = decodeURIComponent(sent).toLowerCase();
  return w.markers.filter((m) => m && !given.includes(m.toLowerCase()) && text.toLowerCase().includes(m.toLowerCase()));
}

for (const dialect of DIALECTS) {
  describe(`tenant isolation, walked from the route table (${dialect})`, () => {
    let w: World;
    let checks = 0;
    let consentHash = '';
    before(async () => {
      w = await startWorld(dialect);
      // A owns a list and a template of its own, so routes that take a second reference get past it
      await w.api(w.a, 'POST', '/v1/lists', { name: 'alpha-news', fromAddress: `news@${w.a.domain}`, fromName: 'Alpha', consentText: 'Alpha news', optIn: 'single' });
      await w.api(w.a, 'POST', '/v1/templates', { name: 'alpha-template', format: 'html', subject: 'Alpha', body: '<p>Alpha news of the week. Alpha SARL</p>' });
      consentHash = (await w.api(w.b, 'GET', `/v1/lists/${w.ids.list}`)).body.consentTextSha256;
    });
    after(() => w?.close());

    /** The walk of every parameterised /v1 route with one way of being A: an API key, or a dashboard session. */
    async function walk(as: { token?: string; headers?: Record<string, string> }): Promise<{ routes: number; requests: number }> {
      const routes = [...routeTable.values()].filter((r) => r.url.startsWith('/v1/') && r.method !== 'HEAD' && /[:*]/.test(r.url));
      assert.ok(routes.length >= 30, `the route table has ${routes.length} parameterised /v1 routes`);
      const uncovered = routes.filter((r) => !pattern(r.url) && !NEEDS_NONE.has(`${r.method} ${r.url}`) && !OWN_NAMESPACE.has(`${r.method} ${r.url}`));
      assert.deepEqual(uncovered.map((r) => `${r.method} ${r.url}`), [],
        'routes with parameters the isolation walk has no tenant-B resource for: add them to RESOURCES (or NEEDS_NONE, saying why) in test/hardening/isolation.test.ts');
      const failures: string[] = [];
      let requests = 0;
      for (const r of routes) {
        const key = `${r.method} ${r.url}`;
        if (NEEDS_NONE.has(key)) continue;
        const refs = OWN_NAMESPACE.has(key) ? [{ name: w.ids.stream }] : pattern(r.url)(w.ids, w);
        for (const params of refs) {
          const path = fill(r.url, params);
          const body = BODIES[key];
          const res = await w.t.api(r.method, path, { ...as, body });
          requests++;
          const expected = OWN_NAMESPACE.has(key) ? [200, 201] : r.auth === 'operator' ? [403] : [404];
          if (!expected.includes(res.status)) failures.push(`${r.method} ${path} (${r.auth}): ${res.status} ${res.text.slice(0, 160)}`);
          const found = leaked(w, res.text, path + JSON.stringify(body ?? ''));
          if (found.length) failures.push(`${r.method} ${path}: the answer names B's ${found.join(', ')}`);
        }
      }
      assert.deepEqual(failures, []);
      checks += requests;
      return { routes: routes.length, requests };
    }

    test('every parameterised /v1 route answers 404 (403 for operator routes) on B\'s resources and says nothing of B', async (t) => {
      // the control: the same reads with B's own key do find B's data, so the walk would see a leak
      const own = await w.api(w.b, 'GET', `/v1/contacts/${w.ids.contact}`);
      assert.equal(own.status, 200);
      assert.ok(leaked(w, own.text, `/v1/contacts/${w.ids.contact}`).length >= 3, 'the markers find B\'s data in B\'s own answer');
      const r = await walk({ token: w.a.token });
      t.diagnostic(`isolation: ${r.routes} parameterised routes, ${r.requests} cross-tenant requests with A's API key`);
    });

    test('the same walk with a dashboard session of A', async (t) => {
      if (!routeTable.has('POST /v1/session') || !routeTable.has('POST /v1/users')) {
        t.skip('no dashboard sessions in this build');
        return;
      }
      const password = 'alpha correct horse battery';
      const created = await w.api(w.a, 'POST', '/v1/users', { email: `eve@${w.a.domain}`, password });
      assert.equal(created.status, 201, created.text);
      const login = await w.t.api('POST', '/v1/session', { body: { email: `eve@${w.a.domain}`, password } });
      assert.equal(login.status, 201, login.text);
      const cookie = ([login.headers['set-cookie'] ?? []].flat() as string[]).map((c) => c.split(';')[0]).join('; ');
      const session = { headers: { cookie, [CSRF_HEADER]: login.body.csrf as string } };
      // the session works as A (control), then walks B's resources
      assert.equal((await w.t.api('GET', '/v1/lists/alpha-news', session)).status, 200);
      const r = await walk(session);
      t.diagnostic(`isolation: ${r.requests} cross-tenant requests with A's dashboard session`);
    });

    test('every unparameterised /v1 GET with A\'s key lists nothing of B', async (t) => {
      const routes = [...routeTable.values()].filter((r) => r.url.startsWith('/v1/') && r.method === 'GET' && !/[:*]/.test(r.url));
      const failures: string[] = [];
      for (const r of routes) {
        for (const query of ['', '?limit=500', '?q=beta', `?list=${w.ids.list}`, `?email=${encodeURIComponent(w.ids.contactEmail)}`]) {
          const res = await w.t.api('GET', r.url + query, { token: w.a.token });
          checks++;
          if (res.status >= 500) failures.push(`GET ${r.url}${query}: ${res.status}`);
          if (r.auth === 'operator' && res.status !== 403) failures.push(`GET ${r.url}: operator-only, answered ${res.status} to a tenant`);
          const found = leaked(w, res.text, r.url + query);
          if (found.length) failures.push(`GET ${r.url}${query}: names B's ${found.join(', ')}`);
        }
      }
      assert.deepEqual(failures, []);
      t.diagnostic(`isolation: ${routes.length} listing routes read with A's key`);
    });

    test('B\'s resources named inside bodies and queries are not found either', async (t) => {
      const i = w.ids;
      const cases: [string, string, unknown, number[]][] = [
        ['POST', '/v1/campaigns', { name: 'steal', template: i.template, lists: ['alpha-news'] }, [404]],
        ['POST', '/v1/campaigns', { name: 'steal', template: 'alpha-template', lists: [i.list] }, [404]],
        ['POST', '/v1/audience/count', { lists: [i.list] }, [404]],
        ['POST', '/v1/audience/count', { lists: [i.listName] }, [404]],
        ['POST', '/v1/messages', { from: `orders@${w.a.domain}`, to: 'x@alpha-customer.example', template: i.template }, [404]],
        ['POST', '/v1/messages', { from: `orders@${w.b.domain}`, to: 'x@alpha-customer.example', subject: 'spoof', text: 'spoof' }, [403, 422]],
        ['GET', `/v1/consent/proof?email=${encodeURIComponent(i.contactEmail)}`, undefined, [404]],
        ['GET', `/v1/imports?list=${i.list}`, undefined, [404]],
        ['POST', `/v1/imports?list=${i.list}&source=customer&collectedAt=2026-05-01T00:00:00Z&method=single&consentText=x`, 'email\nx@y.example\n', [404]],
      ];
      const failures: string[] = [];
      for (const [method, path, body, expected] of cases) {
        const res = typeof body === 'string'
          ? await w.t.api(method, path, { token: w.a.token, rawBody: body, headers: { 'content-type': 'text/csv' } })
          : await w.t.api(method, path, { token: w.a.token, body });
        checks++;
        if (!expected.includes(res.status)) failures.push(`${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
        const found = leaked(w, res.text, path + JSON.stringify(body ?? ''));
        if (found.length) failures.push(`${method} ${path}: names B's ${found.join(', ')}`);
      }
      assert.deepEqual(failures, []);
      t.diagnostic(`isolation: ${cases.length} references to B inside bodies and queries`);
    });

    test('afterwards B\'s resources are all there, unchanged', async (t) => {
      const i = w.ids;
      const get = async (path: string) => {
        const r = await w.api(w.b, 'GET', path);
        assert.equal(r.status, 200, `${path}: ${r.status} ${r.text.slice(0, 200)}`);
        return r.body;
      };
      assert.equal((await get(`/v1/lists/${i.list}`)).name, 'beta-news');
      const contact = await get(`/v1/contacts/${i.contact}`);
      assert.equal(contact.fields.first_name, 'Bobbeta');
      assert.deepEqual(contact.subscriptions.map((s: { status: string }) => s.status), ['subscribed']);
      assert.equal((await get(`/v1/templates/${i.template}`)).subject, 'Beta private subject');
      assert.equal((await get(`/v1/campaigns/${i.campaign}`)).status, 'completed');
      await get(`/v1/messages/${i.message}`);
      await get(`/v1/sandbox/messages/${i.sandbox}`);
      assert.equal((await get(`/v1/imports/${i.import}`)).status, 'completed');
      assert.equal((await get(`/v1/webhooks/${i.webhook}`)).active, true);
      await get(`/v1/feedback/${i.feedback}`);
      assert.ok((await get('/v1/keys')).data.some((k: { id: string }) => k.id === i.key));
      assert.equal((await get(`/v1/domains/${i.domain}`)).name, w.b.domain);
      assert.ok((await get(`/v1/domains/${i.domain}/faults`)).data.some((f: { id: string; clearedAt?: string | null }) => f.id === i.fault && !f.clearedAt));
      assert.equal((await get('/v1/streams')).data.find((s: { name: string }) => s.name === 'beta-stream')?.kind, 'transactional');
      assert.ok((await get('/v1/suppressions?q=gone')).data.some((s: { email: string }) => s.email === i.suppressed));
      assert.equal((await get(`/v1/lists/${i.list}`)).consentTextSha256, consentHash, 'the consent text is B\'s own');
      if (i.user) assert.ok((await get('/v1/users')).data.some((u: { id: string }) => u.id === i.user), 'B\'s dashboard user is still there');
      t.diagnostic(`isolation: ${checks} checks in all, B unchanged`);
    });
  });
}
