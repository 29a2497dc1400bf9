// Routing by MX through a real DNS server on loopback: preference order,
// implicit MX, null MX, NXDOMAIN, and a DNS failure that means "later";
// AAAA addresses beside A ones, and the pool's address family choosing.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createResolver } from '../../src/net/resolver.ts';
import { createMxRouter, forFamily } from '../../src/delivery/route/mx.ts';
import { manualClock } from '../helpers/app.ts';

let dns: DnsServer;
before(async () => {
  dns = await startDnsServer({
    'two.example': { MX: [{ exchange: 'backup.two.example', priority: 20 }, { exchange: 'mx.two.example', priority: 10 }] },
    'mx.two.example': { A: ['127.0.0.2'] },
    'backup.two.example': { A: ['127.0.0.3'] },
    'implicit.example': { A: ['127.0.0.4'] },
    'nullmx.example': { MX: [{ exchange: '.', priority: 0 }], A: ['127.0.0.5'] },
    'dangling.example': { MX: [{ exchange: 'nowhere.dangling.example', priority: 10 }] },
    'text-only.example': { TXT: ['v=spf1 -all'] },
    'dual.example': { MX: [{ exchange: 'mx6.dual.example', priority: 5 }, { exchange: 'mx.dual.example', priority: 10 }] },
    'mx6.dual.example': { AAAA: ['2001:db8::25'] },
    'mx.dual.example': { A: ['127.0.0.6'], AAAA: ['2001:db8::26'] },
    'implicit6.example': { AAAA: ['2001:db8::27'] },
    'nullmx6.example': { MX: [{ exchange: '.', priority: 0 }], AAAA: ['2001:db8::28'] },
    'stale.example': { MX: [{ exchange: 'mx.two.example', priority: 10 }] },
    'shared.example': { MX: [{ exchange: 'mx.two.example', priority: 10 }] },
  });
});
after(() => dns.close());

const router = (clock = manualClock()) => createMxRouter(createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 }), clock);

test('MX hosts in preference order with their addresses', async () => {
  assert.deepEqual(await router().route('Two.Example'), {
    kind: 'hosts', implicit: false,
    hosts: [{ host: 'mx.two.example', priority: 10, ips: ['127.0.0.2'] }, { host: 'backup.two.example', priority: 20, ips: ['127.0.0.3'] }],
  });
});

test('no MX: the domain itself (implicit MX, RFC 5321 5.1)', async () => {
  assert.deepEqual(await router().route('implicit.example'), { kind: 'hosts', implicit: true, hosts: [{ host: 'implicit.example', priority: 0, ips: ['127.0.0.4'] }] });
});

test('null MX, NXDOMAIN, no address: no mail, at once', async () => {
  assert.deepEqual(await router().route('nullmx.example'), { kind: 'no-mail', reason: 'null-mx' });
  assert.deepEqual(await router().route('absent.example'), { kind: 'no-mail', reason: 'nxdomain' });
  assert.deepEqual(await router().route('dangling.example'), { kind: 'no-mail', reason: 'no-address' });
  assert.deepEqual(await router().route('text-only.example'), { kind: 'no-mail', reason: 'no-address' });
});

test('answers are cached; a DNS failure is "try later", not "no such domain"', async () => {
  const clock = manualClock();
  const r = router(clock);
  await r.route('two.example');
  dns.remove('two.example');
  assert.equal((await r.route('two.example')).kind, 'hosts', 'cached');
  clock.advance(6 * 60_000);
  // names below it still exist, so the name answers NODATA, not NXDOMAIN
  assert.deepEqual(await r.route('two.example'), { kind: 'no-mail', reason: 'no-address' });
  const dead = createMxRouter(createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 }), manualClock());
  assert.equal((await dead.route('two.example')).kind, 'dns-error');
});

test('AAAA beside A (RFC 5321 5.1): an IPv6-only MX is a host, IPv4 first where a host has both', async () => {
  assert.deepEqual(await router().route('dual.example'), {
    kind: 'hosts', implicit: false,
    hosts: [{ host: 'mx6.dual.example', priority: 5, ips: ['2001:db8::25'] }, { host: 'mx.dual.example', priority: 10, ips: ['127.0.0.6', '2001:db8::26'] }],
  });
  assert.deepEqual(await router().route('implicit6.example'), { kind: 'hosts', implicit: true, hosts: [{ host: 'implicit6.example', priority: 0, ips: ['2001:db8::27'] }] });
  assert.deepEqual(await router().route('nullmx6.example'), { kind: 'no-mail', reason: 'null-mx' });
});

test("the pool's address family: an IPv4 pool skips IPv6-only hosts, an IPv6 pool IPv4-only ones", async () => {
  const r = await router().route('dual.example');
  assert.equal(r.kind, 'hosts');
  const hosts = (r as { hosts: Parameters<typeof forFamily>[0] }).hosts;
  assert.deepEqual(forFamily(hosts, '192.0.2.10'), [{ host: 'mx.dual.example', priority: 10, ips: ['127.0.0.6'] }]);
  assert.deepEqual(forFamily(hosts, '2001:db8::1'), [{ host: 'mx6.dual.example', priority: 5, ips: ['2001:db8::25'] }, { host: 'mx.dual.example', priority: 10, ips: ['2001:db8::26'] }]);
  assert.deepEqual(forFamily(hosts, undefined), hosts, 'no source address: every address');
  assert.deepEqual(forFamily([{ host: 'implicit6.example', priority: 0, ips: ['2001:db8::27'] }], '192.0.2.10'), []);
});

/** The real resolver of the loopback server, or one whose server never answers: a DNS outage switched on and off. */
function switchable() {
  const live = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  const dead = createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 100, tries: 1 });
  const s = { down: false, mxAsked: 0, resolver: undefined as unknown as ReturnType<typeof createResolver> };
  const pick = () => (s.down ? dead : live);
  s.resolver = {
    txt: (n) => pick().txt(n), a: (n) => pick().a(n), aaaa: (n) => pick().aaaa(n), ptr: (n) => pick().ptr(n),
    mx: (n) => { s.mxAsked++; return pick().mx(n); },
  };
  return s;
}

test('a failed lookup keeps the last answer for a while (RFC 8767), then says "try later"; a domain never answered is asked again soon', async () => {
  const clock = manualClock();
  const dnsSwitch = switchable();
  const r = createMxRouter(dnsSwitch.resolver, clock);
  const first = await r.route('stale.example');
  assert.equal(first.kind, 'hosts');
  dnsSwitch.down = true;
  clock.advance(6 * 60_000);
  assert.deepEqual(await r.route('stale.example'), first, 'the outage does not stop mail to a domain answered 6 minutes ago');
  clock.advance(60 * 60_000);
  assert.deepEqual(await r.route('stale.example'), { kind: 'dns-error', code: 'ECONNREFUSED' }, 'an answer over an hour stale is not used');
  // never answered: "try later" is remembered for seconds, not a minute
  assert.equal((await r.route('implicit.example')).kind, 'dns-error');
  dnsSwitch.down = false;
  clock.advance(11_000);
  assert.equal((await r.route('implicit.example')).kind, 'hosts');
  assert.equal((await r.route('stale.example')).kind, 'hosts');
});

test('recipients waiting for the same domain share one lookup', async () => {
  const dnsSwitch = switchable();
  const r = createMxRouter(dnsSwitch.resolver, manualClock());
  const routes = await Promise.all(Array.from({ length: 50 }, () => r.route('shared.example')));
  assert.equal(dnsSwitch.mxAsked, 1);
  assert.ok(routes.every((x) => x === routes[0] && x.kind === 'hosts'));
});
