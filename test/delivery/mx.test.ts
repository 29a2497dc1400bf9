// Routing by MX through a real DNS server on loopback: preference order,
// implicit MX, null MX, NXDOMAIN, and a DNS failure that means "later".
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createResolver } from '../../src/net/resolver.ts';
import { createMxRouter } from '../../src/delivery/route/mx.ts';
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
