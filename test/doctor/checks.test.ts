// The doctor's judgements are pure functions of looked-up facts: table tests
// with real-looking records and answers (STYLE 4).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { countLookups, finalAll, judgeSenderId, judgeSpf, parseSpf, withMechanism } from '../../src/doctor/spf.ts';
import { judgeDkimKey, keyBits, type DkimKeyFacts } from '../../src/doctor/dkim.ts';
import { aligned, judgeDmarc, orgDomain, parseDmarc } from '../../src/doctor/dmarc.ts';
import { residentialReason, judgePtr } from '../../src/doctor/ptr.ts';
import { judgeDnsbl, queryName, readAnswer, zonesFrom } from '../../src/doctor/dnsbl.ts';
import { judgeTls, judgeMtaSts } from '../../src/doctor/tls-check.ts';
import { judgeAge, registrationOf, registrationDate } from '../../src/doctor/rdap.ts';
import { judgeAbuse } from '../../src/doctor/abuse.ts';
import { judgeBounceMx, judgeFromMx } from '../../src/doctor/mx.ts';
import { gateReason } from '../../src/doctor/gate.ts';
import { summarise, type Lookup } from '../../src/doctor/types.ts';
import type { ProbeResult } from '../../src/doctor/smtp-probe.ts';
import type { AuthFacts } from '../../src/doctor/preflight/gmail.ts';

const f = <T>(value: T): Lookup<T> => ({ kind: 'found', value });
const none: Lookup<never> = { kind: 'none' };
const err = (code: string): Lookup<never> => ({ kind: 'error', code });
const tree = (o: Record<string, string[] | Lookup<string[]>>) => new Map(Object.entries(o).map(([k, v]) => [k, Array.isArray(v) ? f(v) : v]));
const DAY = 86_400_000;
const NOW = Date.parse('2026-11-25T09:00:00Z');

describe('SPF', () => {
  test('parse: terms, qualifiers and syntax errors', () => {
    const table: [string, string[]][] = [
      ['v=spf1 a:mta.envoi.test ip4:192.0.2.0/24 ip6:2001:db8::/32 include:_spf.example.net ~all', []],
      ['v=spf1 ip4:192.0.2.300 -all', ['ip4:192.0.2.300: not an IPv4 address']],
      ['v=spf1 ip4:192.0.2.1/33 -all', ['ip4:192.0.2.1/33: prefix length must be 0-32']],
      ['v=spf1 ip6:2001:db8::/129 -all', ['ip6:2001:db8::/129: prefix length must be 0-128']],
      ['v=spf1 include -all', ['include: include needs a domain']],
      ['v=spf1 foo:bar -all', ['unknown mechanism "foo:bar"']],
      ['v=spf1 redirect=a.test redirect=b.test', ['redirect= appears twice']],
      ['v=spf1 all:x', ['all:x: all takes no value']],
      ['spf1 -all', ['the record does not start with v=spf1']],
    ];
    for (const [record, errors] of table) assert.deepEqual(parseSpf(record).errors, errors, record);
    const p = parseSpf('v=spf1 -a ~mx ?all');
    assert.deepEqual(p.terms.map((t) => t.kind === 'mechanism' ? `${t.qualifier}${t.name}` : t.name), ['-a', '~mx', '?all']);
  });

  test('lookups count through nested includes and redirects, each loop and dead include reported', () => {
    const t = tree({
      'd.test': ['v=spf1 a mx include:i1.test ip4:192.0.2.1 redirect=r.test'],
      'i1.test': ['v=spf1 include:i2.test exists:%{i}.x.test ~all'],
      'i2.test': ['v=spf1 a:h.test ptr ~all'],
      'r.test': ['v=spf1 mx -all'],
    });
    // a redirect next to no all: d(a, mx, include, redirect)=4 + i1(include, exists)=2 + i2(a, ptr)=2 + r(mx)=1
    assert.deepEqual(countLookups('d.test', t), { total: 9, perName: [['d.test', 4], ['i1.test', 2], ['i2.test', 2], ['r.test', 1]], broken: [] });
    const loop = tree({ 'a.test': ['v=spf1 include:b.test -all'], 'b.test': ['v=spf1 include:a.test -all'] });
    assert.equal(countLookups('a.test', loop).broken[0].why, 'include loop (a.test → b.test → a.test)');
    const dead = tree({ 'a.test': ['v=spf1 include:gone.test include:two.test include:slow.test -all'], 'gone.test': none, 'two.test': ['v=spf1 -all', 'v=spf1 ~all'], 'slow.test': err('ETIMEOUT') });
    assert.deepEqual(countLookups('a.test', dead).broken.map((b) => `${b.name}: ${b.why}`), ['gone.test: no SPF record', 'two.test: 2 SPF records', 'slow.test: lookup failed (ETIMEOUT)']);
  });

  test('the final all is found through a redirect', () => {
    assert.deepEqual(finalAll('a.test', tree({ 'a.test': ['v=spf1 redirect=b.test'], 'b.test': ['v=spf1 ip4:192.0.2.1 -all'] })), { qualifier: '-', explicit: true, at: 'b.test' });
    assert.deepEqual(finalAll('a.test', tree({ 'a.test': ['v=spf1 all'] })), { qualifier: '+', explicit: false, at: 'a.test' });
    assert.equal(finalAll('a.test', tree({ 'a.test': ['v=spf1 a'] })), null);
  });

  test('withMechanism inserts before all or redirect', () => {
    assert.equal(withMechanism('v=spf1 a:x.test -all', 'ip4:192.0.2.9'), 'v=spf1 a:x.test ip4:192.0.2.9 -all');
    assert.equal(withMechanism('v=spf1 a redirect=r.test', 'ip4:192.0.2.9'), 'v=spf1 a ip4:192.0.2.9 redirect=r.test');
    assert.equal(withMechanism('v=spf1 a', 'ip4:192.0.2.9'), 'v=spf1 a ip4:192.0.2.9');
  });

  test('judgements: which check fails for each broken record, and whether it blocks', () => {
    const judge = (records: string[] | Lookup<string[]>, role: 'envelope' | 'from', results = [{ ip: '192.0.2.1', result: 'pass' }]) =>
      judgeSpf({ name: 'x.test', tree: tree({ 'x.test': records }), results }, { role, expected: 'v=spf1 a:mta.test -all' });
    const fails = (cs: ReturnType<typeof judge>) => cs.filter((c) => c.status === 'fail').map((c) => `${c.id}${c.blocking ? '!' : ''}`);
    assert.deepEqual(fails(judge(['v=spf1 a -all'], 'envelope')), []);
    assert.deepEqual(fails(judge([], 'envelope')), ['spf.record!']);
    assert.deepEqual(judge([], 'from').map((c) => c.status), ['warn'], 'a From domain without SPF warns');
    assert.deepEqual(fails(judge(['v=spf1 a -all', 'v=spf1 mx -all'], 'from')), ['spf.record']);
    assert.deepEqual(fails(judge(['v=spf1 a +all'], 'envelope')), ['spf.all!']);
    assert.deepEqual(fails(judge(['v=spf1 ip4:nope -all'], 'envelope', [{ ip: '192.0.2.1', result: 'permerror' }])), ['spf.syntax!']);
    assert.deepEqual(fails(judge(['v=spf1 a -all'], 'envelope', [{ ip: '192.0.2.1', result: 'softfail' }])), ['spf.authorised!']);
    assert.equal(judge(['v=spf1 a ?all'], 'envelope').find((c) => c.id === 'spf.all')!.status, 'warn');
    assert.equal(judge(['v=spf1 a'], 'envelope').find((c) => c.id === 'spf.all')!.status, 'warn');
    assert.equal(judge(['v=spf1 a -all'], 'envelope', [{ ip: '192.0.2.1', result: 'temperror' }]).find((c) => c.id === 'spf.authorised')!.status, 'warn');
    assert.deepEqual(judge(err('ESERVFAIL'), 'envelope').map((c) => `${c.id} ${c.status}`), ['spf.record warn']);
    assert.deepEqual(judge(['v=spf1 a -all'], 'envelope', []).find((c) => c.id === 'spf.authorised')!.status, 'warn', 'no IP known');
  });

  test('Sender ID is reported as obsolete', () => {
    assert.equal(judgeSenderId('x.test', f(['spf2.0/pra ip4:192.0.2.1 -all', 'v=spf1 -all'])).status, 'warn');
    assert.match(judgeSenderId('x.test', f(['v=spf1 -all'])).found, /obsolete \(RFC 6686\)/);
  });
});

describe('DKIM', () => {
  const rsa = (bits: number) => crypto.generateKeyPairSync('rsa', { modulusLength: bits }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  const k2048 = rsa(2048);
  const facts = (published: Lookup<string[]>, o: Partial<DkimKeyFacts> = {}): DkimKeyFacts => ({
    name: 's1._domainkey.x.test', selector: 's1', algorithm: 'rsa-sha256', expectedKey: k2048, expectedRecord: `v=DKIM1; k=rsa; p=${k2048}`,
    published, signature: { result: 'pass' }, ...o,
  });
  const st = (cs: ReturnType<typeof judgeDkimKey>) => cs.map((c) => `${c.id} ${c.status}`);

  test('key sizes are read from the published key', () => {
    assert.equal(keyBits(k2048, 'rsa-sha256'), 2048);
    assert.equal(keyBits(Buffer.alloc(32).toString('base64'), 'ed25519-sha256'), 256);
    assert.equal(keyBits('not-a-key', 'rsa-sha256'), null);
  });

  test('each broken key record fails its own check', () => {
    assert.deepEqual(st(judgeDkimKey(facts(f([`v=DKIM1; k=rsa; p=${k2048}`])))), ['dkim.published pass', 'dkim.key pass', 'dkim.size pass', 'dkim.signature pass']);
    // published split across strings with spaces, as DNS consoles do
    assert.deepEqual(st(judgeDkimKey(facts(f([`v=DKIM1; k=rsa; p=${k2048.slice(0, 100)} ${k2048.slice(100)}`])))).slice(1, 2), ['dkim.key pass']);
    assert.deepEqual(st(judgeDkimKey(facts(none))), ['dkim.published fail']);
    assert.deepEqual(st(judgeDkimKey(facts(f(['v=DKIM1; k=rsa; p='])))), ['dkim.published pass', 'dkim.key fail', 'dkim.size fail']);
    const k1024 = rsa(1024);
    assert.deepEqual(st(judgeDkimKey(facts(f([`v=DKIM1; p=${k1024}`]), { expectedKey: k1024 }))), ['dkim.published pass', 'dkim.key pass', 'dkim.size warn', 'dkim.signature pass']);
    const k512 = rsa(512);
    assert.deepEqual(st(judgeDkimKey(facts(f([`v=DKIM1; p=${k512}`]), { expectedKey: k512 }))).slice(2), ['dkim.size fail', 'dkim.signature pass']);
    assert.deepEqual(st(judgeDkimKey(facts(f([`v=DKIM1; p=${k2048}`]), { signature: { result: 'fail', comment: 'bad signature' } }))).slice(3), ['dkim.signature fail']);
    assert.deepEqual(st(judgeDkimKey(facts(err('ETIMEOUT')))), ['dkim.published warn']);
  });
});

describe('DMARC', () => {
  test('organizational domains by the Public Suffix List', () => {
    for (const [d, org] of [['mail.example.co.uk', 'example.co.uk'], ['bounce-mk.shop.example', 'shop.example'], ['a.b.example.com', 'example.com'], ['xn--bcher-kva.example', 'xn--bcher-kva.example']]) assert.equal(orgDomain(d), org, d);
    assert.equal(aligned('bounce-mk.shop.example', 'shop.example', false), true);
    assert.equal(aligned('bounce-mk.shop.example', 'shop.example', true), false);
    assert.equal(aligned('shop.example.co.uk', 'other.co.uk', false), false);
  });

  test('record syntax', () => {
    assert.equal(parseDmarc('v=DMARC1; p=reject; rua=mailto:d@x.test').error, undefined);
    assert.equal(parseDmarc('v=DMARC1; rua=mailto:d@x.test').error, 'the record has no p= policy');
    assert.equal(parseDmarc('v=DMARC1; p=block').error, 'p=block is not none, quarantine or reject');
    assert.equal(parseDmarc('p=none; v=DMARC1').error, 'the record does not start with v=DMARC1');
  });

  test('DMARC judgements: missing, duplicated, invalid, strict alignment, BIMI at enforcement', () => {
    const base = { domain: 'shop.example', dkimDomain: 'shop.example', spfDomains: ['bounce-mk.shop.example'], bimi: none };
    const st = (cs: ReturnType<typeof judgeDmarc>) => cs.map((c) => `${c.id} ${c.status}`);
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=none; rua=mailto:d@shop.example']) })), ['dmarc.record pass', 'dmarc.rua pass', 'dmarc.alignment pass']);
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=none']) })), ['dmarc.record pass', 'dmarc.rua warn', 'dmarc.alignment pass']);
    assert.deepEqual(st(judgeDmarc({ ...base, own: none })), ['dmarc.record fail']);
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=none', 'v=DMARC1; p=reject']) })), ['dmarc.record fail']);
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=maybe']) })), ['dmarc.record fail']);
    // strict SPF alignment: the bounce subdomain no longer aligns, DKIM still carries DMARC
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=none; rua=mailto:d@shop.example; aspf=s']) })).slice(2), ['dmarc.alignment warn']);
    // nothing can align: DKIM signs for another domain and SPF is strict
    const c = judgeDmarc({ ...base, dkimDomain: 'esp.test', own: f(['v=DMARC1; p=none; rua=mailto:d@shop.example; aspf=s']) }).find((x) => x.id === 'dmarc.alignment')!;
    assert.equal(c.status, 'fail');
    assert.ok(c.blocking);
    // enforcement notes BIMI
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=reject; rua=mailto:d@shop.example']) })).slice(3), ['bimi warn']);
    assert.deepEqual(st(judgeDmarc({ ...base, own: f(['v=DMARC1; p=quarantine; rua=mailto:d@shop.example']), bimi: f(['v=BIMI1; l=https://shop.example/l.svg']) })).slice(3), ['bimi pass']);
    // could not ask the organizational domain
    assert.deepEqual(st(judgeDmarc({ ...base, domain: 'mail.shop.example', own: none, org: err('ETIMEOUT') })), ['dmarc.record warn']);
  });
});

describe('reverse DNS', () => {
  test('residential and dynamic names, from real generic naming schemes', () => {
    const table: [string, string, RegExp | null][] = [
      ['dsl-203-0-113-42.example-isp.net', '203.0.113.42', /"dsl"/],
      ['203-0-113-42.dynamic.example-isp.net', '203.0.113.42', /"dynamic"/],
      ['pool-203-0-113-42.nycmny.fios.example.net', '203.0.113.42', /"pool"/],
      ['cpe-203-0-113-42.example.rr.com', '203.0.113.42', /"cpe"/],
      ['ppp-42.example-isp.net', '203.0.113.42', /"ppp"/],
      ['42.113.0.203.in-addr.example-isp.net', '203.0.113.42', /spells out the IP/],
      ['host203000113042.example-isp.net', '203.0.113.42', /spells out the IP/],
      ['cb00712a.example-isp.net', '203.0.113.42', /spells out the IP/],
      ['mail.shop.example', '203.0.113.42', null],
      ['mta1.envoi.test', '203.0.113.42', null],
      ['smtp.generaldynamics.com', '203.0.113.42', null],
      ['o1.email.dsl.com', '203.0.113.42', null],
    ];
    for (const [name, ip, want] of table) {
      const got = residentialReason(name, ip);
      if (want === null) assert.equal(got, null, name);
      else assert.match(got ?? '', want, name);
    }
  });

  test('each PTR fault fails its own check', () => {
    const st = (cs: ReturnType<typeof judgePtr>) => cs.map((c) => `${c.id} ${c.status}`);
    const ok = { ip: '192.0.2.1', ptr: f(['mta.envoi.test']), forward: { 'mta.envoi.test': f(['192.0.2.1']) }, ehloName: 'mta.envoi.test' };
    assert.deepEqual(st(judgePtr(ok)), ['ptr.present pass', 'ptr.forward pass', 'ptr.residential pass', 'ptr.ehlo pass']);
    assert.deepEqual(st(judgePtr({ ...ok, ptr: none })), ['ptr.present fail']);
    assert.deepEqual(st(judgePtr({ ...ok, ptr: err('ETIMEOUT') })), ['ptr.present warn']);
    assert.deepEqual(st(judgePtr({ ...ok, forward: { 'mta.envoi.test': none } })), ['ptr.present pass', 'ptr.forward fail', 'ptr.residential pass']);
    assert.deepEqual(st(judgePtr({ ...ok, forward: { 'mta.envoi.test': err('ESERVFAIL') } })), ['ptr.present pass', 'ptr.forward warn', 'ptr.residential pass']);
    assert.deepEqual(st(judgePtr({ ...ok, ehloName: 'localhost' })).slice(3), ['ptr.ehlo fail']);
    // IPv6, written two ways
    assert.deepEqual(st(judgePtr({ ip: '2001:db8::1', ptr: f(['mta.envoi.test']), forward: { 'mta.envoi.test': f(['2001:0db8:0:0:0:0:0:1']) }, ehloName: 'mta.envoi.test' })).slice(1, 2), ['ptr.forward pass']);
  });
});

describe('DNS blocklists', () => {
  const [zen, , , , dbl, uribl, surbl] = zonesFrom(['zen.spamhaus.org', 'bl.spamcop.net', 'b.barracudacentral.org', 'psbl.surriel.com', 'dbl.spamhaus.org', 'multi.uribl.com', 'multi.surbl.org']);
  test('query names', () => {
    assert.equal(queryName(zen, '192.0.2.10'), '10.2.0.192.zen.spamhaus.org');
    assert.equal(queryName(zen, '2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org');
    assert.equal(queryName(dbl, 'shop.example'), 'shop.example.dbl.spamhaus.org');
    assert.equal(queryName(dbl, '192.0.2.10'), null);
    assert.equal(queryName(zen, 'shop.example'), null);
    assert.deepEqual(zonesFrom(['domain:dbl.example.net', 'rbl.example.net']).map((z) => z.kind), ['domain', 'ip']);
  });

  test('DNSBL answers and their meanings: listed, refused by the list, bitmask zones', () => {
    assert.deepEqual(readAnswer(zen, none), { kind: 'clear' });
    assert.deepEqual(readAnswer(zen, f(['127.0.0.4'])), { kind: 'listed', codes: [{ code: '127.0.0.4', meaning: 'XBL: exploited or infected host (CBL)' }] });
    assert.deepEqual(readAnswer(zen, f(['127.0.0.10'])), { kind: 'listed', codes: [{ code: '127.0.0.10', meaning: 'PBL (ISP): end-user address that should not send direct to MX' }] });
    assert.equal(readAnswer(zen, f(['127.255.255.254'])).kind, 'refused');
    assert.equal(readAnswer(uribl, f(['127.0.0.1'])).kind, 'refused');
    assert.deepEqual(readAnswer(surbl, f(['127.0.0.24'])), { kind: 'listed', codes: [{ code: '127.0.0.24', meaning: 'phishing (PH), malware (MW)' }] });
    assert.equal(readAnswer(zen, f(['198.51.100.7'])).kind, 'refused', 'an NXDOMAIN-rewriting resolver');
    const [custom] = zonesFrom(['rbl.example.net']);
    assert.equal(readAnswer(custom, f(['127.0.0.1'])).kind, 'refused');
    assert.equal(readAnswer(custom, f(['127.0.0.5'])).kind, 'listed');
    const c = judgeDnsbl({ target: '192.0.2.10', answers: [{ zone: zen, answer: f(['127.0.0.2']) }, { zone: custom, answer: err('ETIMEOUT') }] });
    assert.equal(c.status, 'fail');
    assert.match(c.found, /zen\.spamhaus\.org: 127\.0\.0\.2 \(SBL/);
    assert.equal(judgeDnsbl({ target: '192.0.2.10', answers: [{ zone: custom, answer: err('ETIMEOUT') }] }).status, 'warn');
  });
});

describe('SMTP and TLS facts', () => {
  const probe = (o: Partial<ProbeResult> = {}): ProbeResult => ({ address: '192.0.2.1', error: null, greeting: { code: 220, text: 'mx ESMTP' }, starttls: true, tls: { authorized: true, validTo: NOW + 90 * DAY }, rcpt: [], ...o });
  test('TLS certificates: trusted, untrusted, wrong name, expiring within 14 days, expired, no STARTTLS', () => {
    const st = (p: ProbeResult) => judgeTls('mta.envoi.test', 'inbound', p, NOW).status;
    assert.equal(st(probe()), 'pass');
    assert.equal(st(probe({ tls: { authorized: true, validTo: NOW + 10 * DAY } })), 'fail');
    assert.equal(st(probe({ tls: { authorized: true, validTo: NOW - DAY } })), 'fail');
    assert.equal(st(probe({ tls: { authorized: false, authorizationError: 'SELF_SIGNED_CERT_IN_CHAIN', validTo: NOW + 90 * DAY } })), 'fail');
    assert.equal(st(probe({ tls: { authorized: true, nameError: "Host: mta.envoi.test. is not in the cert's altnames", validTo: NOW + 90 * DAY } })), 'fail');
    assert.equal(st(probe({ starttls: false, tls: undefined })), 'fail');
    assert.equal(st(probe({ error: 'connect ECONNREFUSED', tls: undefined })), 'warn');
    assert.equal(judgeMtaSts('x.test', err('ETIMEOUT')).status, 'warn');
  });

  test('MX answers, null MX, bounce MX is envoi; abuse@ accepted, greylisted, refused', () => {
    assert.equal(judgeFromMx('x.test', f([{ exchange: '.', priority: 0 }]), undefined).status, 'fail', 'null MX');
    assert.equal(judgeFromMx('x.test', f([{ exchange: 'mx.x.test', priority: 10 }]), { exchange: 'mx.x.test', result: probe({ error: 'connect ETIMEDOUT' }) }).status, 'fail');
    assert.equal(judgeFromMx('x.test', err('ESERVFAIL'), undefined).status, 'warn');
    assert.equal(judgeBounceMx('b.x.test', f([{ exchange: 'MTA.envoi.test.', priority: 10 }]), 'mta.envoi.test').status, 'pass');
    const rcpt = (code: number) => probe({ rcpt: [{ address: 'abuse@x.test', reply: { code, text: 'x' } }, { address: 'postmaster@x.test', reply: { code: 250, text: 'ok' } }] });
    const st = (code: number) => judgeAbuse({ domain: 'x.test', routedToEnvoi: false, probe: { exchange: 'mx.x.test', result: rcpt(code) } }).map((c) => c.status);
    assert.deepEqual(st(250), ['pass', 'pass']);
    assert.deepEqual(st(450), ['warn', 'pass'], 'greylisting');
    assert.deepEqual(st(550), ['fail', 'pass']);
    assert.deepEqual(judgeAbuse({ domain: 'x.test', routedToEnvoi: true }).map((c) => c.status), ['pass', 'pass']);
  });
});

describe('domain age (RDAP)', () => {
  test('RDAP registration date through an injected fetch, and the age verdict', async () => {
    assert.equal(registrationOf({ events: [{ eventAction: 'expiration', eventDate: '2030-01-01T00:00:00Z' }, { eventAction: 'registration', eventDate: '2015-03-01T00:00:00Z' }] }), Date.parse('2015-03-01T00:00:00Z'));
    assert.equal(registrationOf({ events: 'nope' }), null);
    assert.equal(registrationOf(null), null);
    assert.equal(judgeAge('x.test', f(NOW - 400 * DAY), NOW).status, 'pass');
    assert.equal(judgeAge('x.test', f(NOW - 29 * DAY), NOW).status, 'warn');
    assert.equal(judgeAge('x.test', none, NOW).status, 'warn');
    assert.equal(judgeAge('x.test', err('HTTP 503'), NOW).status, 'warn');
    // the client takes an injected fetch: no network here
    const calls: string[] = [];
    const fake = async (url: string) => {
      calls.push(url);
      return { ok: true, status: 200, json: async () => ({ events: [{ eventAction: 'registration', eventDate: '2020-01-02T00:00:00Z' }] }) };
    };
    assert.deepEqual(await registrationDate(fake, 'https://rdap.test/', 'xn--bcher-kva.example', 1000), f(Date.parse('2020-01-02T00:00:00Z')));
    assert.deepEqual(calls, ['https://rdap.test/domain/xn--bcher-kva.example']);
    const broken = async () => ({ ok: true, status: 200, json: async () => { throw new SyntaxError('Unexpected token <'); } });
    assert.equal((await registrationDate(broken, 'https://rdap.test', 'x.test', 1000)).kind, 'error');
  });
});

test('the gate\'s reason names each blocking failure with its fix; warnings and non-blocking failures never gate', () => {
  const c = (id: string, status: 'pass' | 'warn' | 'fail', blocking: boolean) => ({ id, subject: 's', status, requirements: [], found: `${id} found`, fix: `${id} fix`, blocking });
  assert.equal(gateReason(summarise('dom_1', 'x.test', NOW, [c('ptr.ehlo', 'fail', false), c('domain.age', 'warn', false)])), null);
  const why = gateReason(summarise('dom_1', 'x.test', NOW, [c('dmarc.record', 'fail', true), c('ptr.ehlo', 'fail', false)]))!;
  assert.match(why, /^x\.test fails 1 blocking check of the doctor .*: dmarc\.record \(s\): dmarc\.record found — fix: dmarc\.record fix\. Fix them, then run `envoi doctor x\.test` again\.$/);
});

describe('preflight judgements', async () => {
  const { predictGmail } = await import('../../src/doctor/preflight/gmail.ts');
  const { parseMessage } = await import('../../src/doctor/preflight/message.ts');
  const { loadProviders } = await import('../../src/policy/providers.ts');
  const google = loadProviders().find((p) => p.name === 'google');
  const good: AuthFacts = { ip: '192.0.2.1', ptrOk: true, spf: { domain: 'bounce-mk.shop.example', result: 'pass' }, dkim: [{ domain: 'shop.example', result: 'pass' }], dmarcRecord: 'found', aligned: true, tlsRequired: true };

  test('each broken fact gives its own Gmail code, and only it', () => {
    const table: [Partial<AuthFacts>, string[]][] = [
      [{}, []],
      [{ ptrOk: false }, ['4.7.23']],
      [{ ptrOk: null }, []],
      [{ spf: { domain: 'bounce-mk.shop.example', result: 'softfail' } }, ['4.7.27']],
      [{ spf: { domain: 'bounce-mk.shop.example', result: 'temperror' } }, []],
      [{ ip: null, spf: null, ptrOk: null }, []],
      [{ tlsRequired: false }, ['4.7.29']],
      [{ dkim: [{ domain: 'shop.example', result: 'fail' }] }, ['4.7.30']],
      [{ dkim: [] }, ['4.7.30']],
      [{ dmarcRecord: 'none', aligned: false }, ['4.7.31']],
      [{ dmarcRecord: 'invalid', aligned: false }, ['4.7.31']],
      [{ dmarcRecord: 'error', aligned: false }, []],
      [{ aligned: false }, ['4.7.32']],
      // nothing authenticates at all: SPF's and DKIM's codes, not a third one for DMARC
      [{ aligned: false, spf: { domain: 'x', result: 'fail' }, dkim: [] }, ['4.7.27', '4.7.30']],
    ];
    for (const [change, want] of table) assert.deepEqual(predictGmail({ ...good, ...change }, google).map((p) => p.code), want, JSON.stringify(change));
    const [p] = predictGmail({ ...good, ptrOk: false }, google);
    assert.match(p.reply, /^421 4\.7\.23 /);
    assert.match(p.remedy, /PTR/);
  });

  test('RFC 5322 problems', () => {
    const msg = (lines: string[]) => Buffer.from(lines.join('\r\n'));
    const base = ['From: a@x.test', 'To: b@y.test', 'Date: Wed, 25 Nov 2026 09:00:00 +0000', 'Message-ID: <1@x.test>', 'Subject: s', '', 'body', ''];
    const problems = (lines: string[]) => { const r = parseMessage(msg(lines)); assert.ok(r.ok); return r.value.problems; };
    assert.deepEqual(problems(base), []);
    assert.deepEqual(problems(base.filter((l) => !l.startsWith('Date'))), ['0 date fields (exactly one required, RFC 5322 §3.6)']);
    assert.deepEqual(problems(['Subject: again', ...base]), ['2 subject fields (at most one allowed, RFC 5322 §3.6)']);
    assert.deepEqual(problems(base.filter((l) => !l.startsWith('Message-ID'))), ['no Message-ID (Gmail refuses messages without one)']);
    assert.deepEqual(problems(['From: a@x.test, c@x.test', ...base.slice(1)]), ['From must name exactly one address (else a Sender field is needed)']);
    assert.deepEqual(problems(['X-Long: ' + 'a'.repeat(1000), ...base]), ['header line 1 is longer than 998 octets (RFC 5322 §2.1.1)']);
    assert.deepEqual(problems(['From: "Doe, John" <j@x.test>', ...base.slice(1)]), []);
    const lf = parseMessage(Buffer.from(base.join('\n')));
    assert.ok(lf.ok);
    assert.deepEqual(lf.value.problems, ['bare LF line endings: SMTP needs CRLF (relays rewrite them, which can break DKIM)']);
    assert.equal(parseMessage(Buffer.from('hello world\n')).ok, false);
  });
});
