// The resolver against a real DNS server on loopback: answers, the error codes
// callers use to tell "no record" from "could not check", and timeouts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createResolver, ipFromReverseName, mailauthResolver, type Resolver } from '../../src/net/resolver.ts';
import { startDnsServer } from '../peers/dns.ts';

const LONG = 'v=DKIM1; k=rsa; p=' + 'MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'.repeat(9) + 'IDAQAB'; // ~420 chars, like a 2048-bit key

let dns: Awaited<ReturnType<typeof startDnsServer>>;
let r: Resolver;

before(async () => {
  dns = await startDnsServer({
    'Example.COM': {
      TXT: ['v=spf1 ip4:192.0.2.0/24 -all', 'x'.repeat(600)],
      MX: [{ exchange: 'mx1.example.com', priority: 10 }, { exchange: 'mx2.example.com', priority: 20 }],
      A: ['192.0.2.10'],
      AAAA: ['2001:db8::10'],
    },
    's1._domainkey.example.com': { TXT: [LONG] },
    'www.example.com': { CNAME: 'example.com' },
    '10.2.0.192.in-addr.arpa': { PTR: ['mx1.example.com'] },
    '0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa': { PTR: ['mx6.example.com'] },
  });
  r = createResolver({ servers: [dns.address], timeoutMs: 1000, tries: 1 });
});

after(() => dns.close());

async function code(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(() => undefined, (err: NodeJS.ErrnoException) => err.code);
}

describe('answers', () => {
  test('long TXT values come back split in 255-byte strings that join to the value', async () => {
    const [record] = await r.txt('s1._domainkey.example.com');
    assert.ok(record.length >= 2);
    assert.ok(record.every((s) => Buffer.byteLength(s) <= 255));
    assert.equal(record.join(''), LONG);
    const both = (await r.txt('example.com')).map((parts) => parts.join('')).sort();
    assert.deepEqual(both, ['v=spf1 ip4:192.0.2.0/24 -all', 'x'.repeat(600)]);
  });

  test('an answer too big for UDP is fetched again over TCP', async () => {
    dns.set('big.example.com', { TXT: ['y'.repeat(3000)] });
    assert.equal((await r.txt('big.example.com'))[0].join(''), 'y'.repeat(3000));
  });

  test('names are case-insensitive; MX, A, AAAA, CNAME', async () => {
    assert.deepEqual((await r.mx('EXAMPLE.com')).sort((a, b) => a.priority - b.priority), [
      { exchange: 'mx1.example.com', priority: 10 },
      { exchange: 'mx2.example.com', priority: 20 },
    ]);
    assert.deepEqual(await r.a('example.com'), ['192.0.2.10']);
    assert.deepEqual(await r.aaaa('example.com'), ['2001:db8::10']);
    assert.deepEqual(await r.a('WWW.example.com'), ['192.0.2.10'], 'followed the CNAME');
  });

  test('reverse lookups for IPv4 and IPv6', async () => {
    assert.deepEqual(await r.ptr('192.0.2.10'), ['mx1.example.com']);
    assert.deepEqual(await r.ptr('2001:db8::10'), ['mx6.example.com']);
  });

  test('records can be changed while running', async () => {
    dns.set('new.example.com', { TXT: ['hello'] });
    assert.deepEqual(await r.txt('new.example.com'), [['hello']]);
    dns.remove('new.example.com');
    assert.equal(await code(r.txt('new.example.com')), 'ENOTFOUND');
  });
});

describe('errors keep node codes', () => {
  test('unknown name: NXDOMAIN gives ENOTFOUND', async () => {
    assert.equal(await code(r.txt('nothing.example.com')), 'ENOTFOUND');
    assert.equal(await code(r.ptr('192.0.2.99')), 'ENOTFOUND');
  });

  test('known name without that type, or an empty non-terminal: ENODATA', async () => {
    assert.equal(await code(r.mx('s1._domainkey.example.com')), 'ENODATA');
    assert.equal(await code(r.txt('_domainkey.example.com')), 'ENODATA');
  });

  test('a server that never answers gives ETIMEOUT quickly', async () => {
    const silent = dgram.createSocket('udp4'); // bound, reads queries, never replies
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
    try {
      const slow = createResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 50, tries: 1 });
      const start = Date.now();
      assert.equal(await code(slow.txt('example.com')), 'ETIMEOUT');
      assert.ok(Date.now() - start < 2000, `took ${Date.now() - start} ms`);
    } finally {
      silent.close();
    }
  });

  test('a closed port fails fast with a "could not check" code, not a "no record" one', async () => {
    const probe = await startDnsServer();
    const closed = probe.address;
    await probe.close();
    const start = Date.now();
    // loopback answers ICMP port-unreachable, which c-ares reports as ECONNREFUSED
    const got = await code(createResolver({ servers: [closed], timeoutMs: 50, tries: 1 }).txt('example.com'));
    assert.ok(got === 'ECONNREFUSED' || got === 'ETIMEOUT', String(got));
    assert.ok(Date.now() - start < 2000);
  });
});

describe('mailauthResolver', () => {
  const m = () => mailauthResolver(r);

  test('returns what dns.resolve returns', async () => {
    const txt = await m()('s1._domainkey.example.com', 'TXT');
    assert.equal(txt[0].join(''), LONG);
    assert.deepEqual(await m()('example.com', 'A'), ['192.0.2.10']);
    assert.deepEqual(await m()('example.com', 'AAAA'), ['2001:db8::10']);
    assert.equal((await m()('example.com', 'MX')).length, 2);
    // mailauth builds the reverse name itself and asks for its PTR
    assert.deepEqual(await m()('10.2.0.192.in-addr.arpa', 'PTR'), ['mx1.example.com']);
  });

  test('errors carry ENOTFOUND / ENODATA', async () => {
    assert.equal(await code(m()('nothing.example.com', 'TXT')), 'ENOTFOUND');
    assert.equal(await code(m()('s1._domainkey.example.com', 'A')), 'ENODATA');
    assert.equal(await code(m()('example.com', 'NAPTR')), 'ENOTIMP');
  });

  test('reverse names map back to addresses', () => {
    const cases: [string, string | null][] = [
      ['10.2.0.192.in-addr.arpa', '192.0.2.10'],
      ['10.2.0.192.IN-ADDR.ARPA.', '192.0.2.10'],
      ['0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', '2001:0db8:0000:0000:0000:0000:0000:0010'],
      ['2.0.192.in-addr.arpa', null],
      ['1.0.ip6.arpa', null],
      ['example.com', null],
    ];
    for (const [name, ip] of cases) assert.equal(ipFromReverseName(name), ip, name);
  });
});
