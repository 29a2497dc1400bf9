// Dashboard sign-in at the HTTP edge, on both dialects: cookie flags, the
// session as the same principal as an API key, CSRF on state-changing
// requests, login throttling, sign-out; and the pure parts (hashing, throttle).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { startTestApp, tenantWithDomain, type TestApp, type ApiResponse } from '../helpers/app.ts';
import { createUsers } from '../../src/web/users.ts';
import { hashPassword, needsRehash, paramsOf, verifyPassword } from '../../src/web/passwords.ts';
import { createLoginThrottle } from '../../src/web/throttle.ts';

const PW = 'correct horse battery staple';

function cookiesOf(r: ApiResponse): { header: string; session: string; csrf: string; raw: string[] } {
  const raw = [r.headers['set-cookie'] ?? []].flat();
  const get = (name: string) => raw.find((c) => c.startsWith(name + '='))?.split(';')[0].slice(name.length + 1) ?? '';
  const session = get('__Host-envoi_session');
  const csrf = get('__Host-envoi_csrf');
  return { header: `__Host-envoi_session=${session}; __Host-envoi_csrf=${csrf}`, session, csrf, raw };
}

for (const dialect of DIALECTS) {
  describe(`dashboard sessions (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
      const r = await createUsers(t.app.store.db, t.app.clock).create({ email: 'ops@example.org', password: PW, tenantId: null });
      assert.ok(r.ok);
    });
    after(async () => t?.close());

    const login = (email: string, password: string, headers: Record<string, string> = {}) =>
      t.api('POST', '/v1/session', { body: { email, password }, headers });

    it('refuses a wrong password and an unknown address alike', async () => {
      const a = await login('ops@example.org', 'not the password');
      const b = await login('nobody@example.org', 'not the password');
      assert.equal(a.status, 401);
      assert.equal(b.status, 401);
      assert.equal(a.body.detail, b.body.detail);
      assert.equal(a.headers['set-cookie'], undefined);
    });

    it('signs in with HttpOnly, Secure, SameSite=Strict cookies and acts as an operator', async () => {
      const r = await login('OPS@example.org', PW);
      assert.equal(r.status, 201, r.text);
      assert.equal(r.body.user.role, 'operator');
      const c = cookiesOf(r);
      const session = c.raw.find((x) => x.startsWith('__Host-envoi_session='))!;
      const csrf = c.raw.find((x) => x.startsWith('__Host-envoi_csrf='))!;
      for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) assert.ok(session.includes(flag), `${flag} in ${session}`);
      assert.ok(!csrf.includes('HttpOnly') && csrf.includes('Secure') && csrf.includes('SameSite=Strict'));
      assert.equal(c.csrf, r.body.csrf);

      const me = await t.api('GET', '/v1/session', { headers: { cookie: c.header } });
      assert.equal(me.body.user.email, 'ops@example.org');
      assert.equal((await t.api('GET', '/v1/tenants', { headers: { cookie: c.header } })).status, 200);

      // a state-changing request from the session needs the CSRF header, equal to the cookie
      const noCsrf = await t.api('POST', '/v1/tenants', { body: { name: 'acme' }, headers: { cookie: c.header } });
      assert.equal(noCsrf.status, 403);
      assert.match(noCsrf.body.detail, /x-csrf-token/);
      const forged = await t.api('POST', '/v1/tenants', { body: { name: 'acme' }, headers: { cookie: `__Host-envoi_session=${c.session}; __Host-envoi_csrf=x`, 'x-csrf-token': 'x' } });
      assert.equal(forged.status, 403);
      const good = await t.api('POST', '/v1/tenants', { body: { name: 'acme' }, headers: { cookie: c.header, 'x-csrf-token': c.csrf } });
      assert.equal(good.status, 201, good.text);
    });

    it('gives a tenant user made through the API the tenant principal; Bearer keys work as before', async () => {
      const k = await tenantWithDomain(t, 'shop', 'shop.example');
      const made = await t.api('POST', '/v1/users', { token: k.token, body: { email: 'kim@shop.example', password: PW } });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.tenantId, k.tenantId);
      // a tenant cannot make users elsewhere
      assert.equal((await t.api('POST', '/v1/users', { token: k.token, body: { email: 'x@shop.example', password: PW, tenant: 'acme' } })).status, 403);

      const c = cookiesOf(await login('kim@shop.example', PW));
      const domains = await t.api('GET', '/v1/domains', { headers: { cookie: c.header } });
      assert.equal(domains.status, 200);
      assert.equal(domains.body.data[0].name, 'shop.example');
      assert.equal((await t.api('GET', '/v1/tenants', { headers: { cookie: c.header } })).status, 403);
      const key = await t.api('POST', '/v1/keys', { body: { label: 'from the dashboard' }, headers: { cookie: c.header, 'x-csrf-token': c.csrf } });
      assert.equal(key.status, 201);
      assert.equal((await t.api('GET', '/v1/domains', { token: key.body.token })).status, 200);
      assert.equal((await t.api('GET', '/v1/domains', { token: 'ek_nope.nope' })).status, 401);
    });

    it('refuses a url-encoded sign-in (what a cross-site form can send)', async () => {
      const r = await t.api('POST', '/v1/session', { rawBody: `email=ops%40example.org&password=${encodeURIComponent(PW)}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(r.status, 415);
    });

    it('ends the session on sign-out', async () => {
      const c = cookiesOf(await login('ops@example.org', PW));
      assert.equal((await t.api('DELETE', '/v1/session', { headers: { cookie: c.header } })).status, 403);
      const out = await t.api('DELETE', '/v1/session', { headers: { cookie: c.header, 'x-csrf-token': c.csrf } });
      assert.equal(out.status, 204);
      assert.ok(String(out.headers['set-cookie']).includes('Max-Age=0'));
      assert.equal((await t.api('GET', '/v1/session', { headers: { cookie: c.header } })).status, 401);
    });

    it('throttles an account after 5 failures, even with the right password then', async () => {
      const r = await createUsers(t.app.store.db, t.app.clock).create({ email: 'target@example.org', password: PW, tenantId: null });
      assert.ok(r.ok);
      for (let i = 0; i < 5; i++) assert.equal((await login('target@example.org', `wrong ${i} password`)).status, 401);
      const blocked = await login('target@example.org', PW);
      assert.equal(blocked.status, 429);
      assert.ok(Number(blocked.headers['retry-after']) > 0);
      // other accounts from the same address are not locked out by it
      assert.equal((await login('ops@example.org', PW)).status, 201);
    });
  });
}

describe('passwords and the login throttle', () => {
  it('hashes with scrypt, parameters in the hash, and verifies', async () => {
    const h = await hashPassword(PW, { log2N: 14, r: 8, p: 1 });
    assert.match(h, /^scrypt\$14\$8\$1\$/);
    assert.equal(await verifyPassword(PW, h), true);
    assert.equal(await verifyPassword(PW + ' ', h), false);
    assert.equal(await verifyPassword(PW, 'sha256$abc'), false);
    assert.equal(needsRehash(h), true);
    assert.equal(paramsOf(h)?.key.length, 32);
  });

  it('counts failures per address and per account in fixed windows', () => {
    let now = 0;
    const th = createLoginThrottle(() => now, { perIp: { max: 3, windowMs: 1000 }, perAccount: { max: 2, windowMs: 1000 } });
    const table: [string, string, 'fail' | 'ok', number][] = [
      // ip, account, outcome, retryAfter before the attempt
      ['1.1.1.1', 'a', 'fail', 0],
      ['1.1.1.1', 'a', 'fail', 0],
      ['1.1.1.1', 'a', 'fail', 1000], // the account is at 2
      ['1.1.1.1', 'b', 'fail', 0],
      ['1.1.1.1', 'c', 'fail', 1000], // the address is at 3
      ['2.2.2.2', 'c', 'ok', 0],
    ];
    for (const [ip, acct, outcome, wait] of table) {
      assert.equal(th.retryAfter(ip, acct), wait, `${ip} ${acct}`);
      if (wait === 0) (outcome === 'fail' ? th.failed(ip, acct) : th.succeeded(acct));
    }
    now = 1000;
    assert.equal(th.retryAfter('1.1.1.1', 'a'), 0);
  });
});
