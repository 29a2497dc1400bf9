// MTA-STS lookups (RFC 8461) against real peers on loopback: the TXT record
// from a DNS server, the policy from an HTTPS server with a certificate from
// the test CA. Fetched once and cached for max_age; a new TXT id fetches it
// again; when the policy host goes away the cached policy still applies until
// it expires (§5); a redirect, an oversized or invalid file, or a certificate
// not valid for mta-sts.<domain> is no policy.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startPolicyServer, type PolicyServer } from '../peers/https-policy.ts';
import { createResolver } from '../../src/net/resolver.ts';
import { createMtaSts, httpsPolicyFetcher } from '../../src/delivery/route/mta-sts.ts';
import { manualClock } from '../helpers/app.ts';

const policy = (mode: string, mx: string[], maxAge = 86400) => `version: STSv1\r\nmode: ${mode}\r\n${mx.map((m) => `mx: ${m}\r\n`).join('')}max_age: ${maxAge}\r\n`;

let dns: DnsServer;
let web: PolicyServer;
let caPem: string;
const DOMAINS = ['a.test', 'b.test', 'redirect.test', 'big.test', 'invalid.test', 'gone.test'];

before(async () => {
  const ca = await createTestCa();
  caPem = ca.caPem;
  web = await startPolicyServer({ host: '127.0.0.61', tls: await ca.issue(DOMAINS.map((d) => `mta-sts.${d}`)) });
  dns = await startDnsServer({ 'plain.test': { MX: [{ exchange: 'mx.plain.test', priority: 10 }] } });
  for (const d of [...DOMAINS, 'wrongcert.test']) {
    dns.set(`_mta-sts.${d}`, { TXT: ['v=STSv1; id=1;'] });
    dns.set(`mta-sts.${d}`, { A: ['127.0.0.61'] });
  }
  web.set('a.test', policy('enforce', ['*.a.test']));
  web.set('b.test', policy('testing', ['mx.b.test']));
  web.set('wrongcert.test', policy('enforce', ['mx.wrongcert.test']));
  web.set('redirect.test', { status: 301, headers: { location: 'https://mta-sts.a.test/.well-known/mta-sts.txt' } });
  web.set('big.test', policy('enforce', ['mx.big.test']) + `x-padding: ${'x'.repeat(70_000)}\r\n`);
  web.set('invalid.test', 'version: STSv1\r\nmode: enforce\r\nmax_age: 86400\r\n');
  web.set('gone.test', policy('enforce', ['mx.gone.test'], 3600));
});
after(async () => {
  await web.close();
  await dns.close();
});

function sts(clock = manualClock()) {
  const resolver = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  return createMtaSts({ resolver, clock, fetchPolicy: httpsPolicyFetcher(resolver, { port: web.port, ca: caPem, timeoutMs: 2_000 }) });
}

test('no _mta-sts record: no policy, and no fetch', async () => {
  const before = web.requests.length;
  assert.deepEqual(await sts().policyFor('plain.test'), { kind: 'none' });
  assert.deepEqual(await sts().policyFor('nxdomain.test'), { kind: 'none' });
  assert.equal(web.requests.length, before);
});

test('a policy is fetched over verified HTTPS, then cached: one fetch for many messages', async () => {
  const s = sts();
  const before = web.requests.filter((h) => h === 'mta-sts.a.test').length;
  const got = await Promise.all([s.policyFor('A.test'), s.policyFor('a.test'), s.policyFor('a.test.')]);
  for (const g of got) assert.deepEqual(g, { kind: 'policy', domain: 'a.test', id: '1', policy: { mode: 'enforce', mx: ['*.a.test'], maxAge: 86400 } });
  assert.deepEqual(await s.policyFor('b.test'), { kind: 'policy', domain: 'b.test', id: '1', policy: { mode: 'testing', mx: ['mx.b.test'], maxAge: 86400 } });
  assert.equal(web.requests.filter((h) => h === 'mta-sts.a.test').length, before + 1);
});

test('a new id in the TXT record fetches the policy again (once the record is looked at again)', async () => {
  const clock = manualClock();
  const s = sts(clock);
  dns.set('_mta-sts.b.test', { TXT: ['v=STSv1; id=1;'] });
  web.set('b.test', policy('testing', ['mx.b.test']));
  assert.equal(((await s.policyFor('b.test')) as { policy: { mode: string } }).policy.mode, 'testing');
  dns.set('_mta-sts.b.test', { TXT: ['v=STSv1; id=2;'] });
  web.set('b.test', policy('enforce', ['mx.b.test']));
  assert.equal(((await s.policyFor('b.test')) as { id: string }).id, '1', 'the TXT answer is trusted for a few minutes');
  clock.advance(6 * 60_000);
  const now = await s.policyFor('b.test');
  assert.equal(now.kind, 'policy');
  assert.deepEqual([(now as { id: string }).id, (now as { policy: { mode: string } }).policy.mode], ['2', 'enforce']);
});

test('the policy host goes away: the cached policy still applies until max_age, then none', async () => {
  const clock = manualClock();
  const s = sts(clock);
  assert.equal(((await s.policyFor('gone.test')) as { policy: { mode: string } }).policy.mode, 'enforce');
  // an attacker (or an outage) changes the id and takes the policy host away
  dns.set('_mta-sts.gone.test', { TXT: ['v=STSv1; id=2;'] });
  dns.set('mta-sts.gone.test', { A: ['127.0.0.62'] });
  clock.advance(10 * 60_000);
  const cached = await s.policyFor('gone.test');
  assert.equal(cached.kind, 'policy');
  assert.deepEqual((cached as { policy: unknown }).policy, { mode: 'enforce', mx: ['mx.gone.test'], maxAge: 3600 });
  assert.match((cached as { note: string }).note, /mta-sts\.gone\.test.*the cached policy applies/);
  // the TXT record stripped: the cached policy still holds
  dns.remove('_mta-sts.gone.test');
  clock.advance(10 * 60_000);
  assert.equal((await s.policyFor('gone.test')).kind, 'policy');
  // past max_age (3600 s) with nothing to fetch: no policy any more
  dns.set('_mta-sts.gone.test', { TXT: ['v=STSv1; id=3;'] });
  clock.advance(3600_000);
  const expired = await s.policyFor('gone.test');
  assert.equal(expired.kind, 'none');
  assert.match((expired as { note: string }).note, /mta-sts\.gone\.test/);
});

test('a redirect, a file over 64 KB, an invalid policy, a certificate not for mta-sts.<domain>: no policy, with the reason', async () => {
  const s = sts();
  const cases: [string, RegExp][] = [
    ['redirect.test', /HTTP 301 \(redirects are not followed\)/],
    ['big.test', /larger than 65536 bytes/],
    ['invalid.test', /invalid: mode enforce without any mx/],
    ['wrongcert.test', /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i],
  ];
  for (const [domain, why] of cases) {
    const got = await s.policyFor(domain);
    assert.equal(got.kind, 'none', domain);
    assert.match((got as { note: string }).note, why, domain);
  }
});
