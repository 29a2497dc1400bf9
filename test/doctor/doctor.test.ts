// The doctor against crafted zones on a loopback DNS server, with the From
// domain's MX, envoi's inbound MX and an RDAP server on loopback: a correctly
// published domain passes everything; each broken zone fails exactly the
// right check, with the right fix; DNS trouble warns "could not check" and
// never passes or crashes; the last report is kept for the gate.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { DIALECTS } from '../helpers/store.ts';
import { openTestCore } from '../helpers/app.ts';
import { createDoctor, type Doctor } from '../../src/doctor/index.ts';
import { createResolver, type Resolver } from '../../src/net/resolver.ts';
import type { Domain } from '../../src/store/schema.ts';
import type { Check, DomainReport } from '../../src/doctor/types.ts';
import { ENVOI_HOST, ENVOI_IP, OLD, doctorConfig, goodZone, publish, startWorld, type World } from './world.ts';

type Core = Awaited<ReturnType<typeof openTestCore>>;

const failed = (r: DomainReport) => r.checks.filter((c) => c.status === 'fail');
const ids = (cs: Check[]) => cs.map((c) => c.id).sort();
const one = (r: DomainReport, id: string, subject?: string) => {
  const c = r.checks.find((x) => x.id === id && (subject === undefined || x.subject === subject));
  assert.ok(c, `a ${id} check${subject ? ` for ${subject}` : ''}`);
  return c;
};

for (const dialect of DIALECTS) {
  describe(`doctor on crafted zones (${dialect})`, () => {
    let w: World;
    let core: Core;
    let shop: Domain;
    let tenantId: string;
    let touched: string[] = [];
    const zoneOf = async (d: Domain) => goodZone(d.name, await core.services.domains.records(d));
    /** sets records for one case; beforeEach removes them and publishes the good zone again */
    const set = (name: string, rr: Parameters<World['dns']['set']>[1]) => {
      touched.push(name);
      w.dns.set(name, rr);
    };
    const doctorWith = (o: { resolver?: Resolver; config?: (c: Core['config']) => Core['config'] }): Doctor => createDoctor({
      db: core.store.db, clock: core.clock, resolver: o.resolver ?? core.services.resolver, domains: core.services.domains, streams: core.services.streams,
      config: o.config ? o.config(core.config) : core.config,
    });

    before(async () => {
      w = await startWorld();
      core = await openTestCore(dialect, doctorConfig(w) as never);
      const t = await core.services.tenants.create('acme');
      assert.ok(t.ok);
      tenantId = t.value.tenant.id;
      const d = await core.services.domains.add(tenantId, 'shop.example');
      assert.ok(d.ok);
      shop = d.value;
      w.registrations.set('shop.example', OLD);
    });
    after(async () => {
      await core.dispose();
      await w.close();
    });
    beforeEach(async () => {
      for (const n of touched) w.dns.remove(n);
      touched = [];
      w.rcptReplies.clear();
      publish(w.dns, await zoneOf(shop));
    });

    test('a correctly published domain passes every check, and the report is kept', async () => {
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id} ${c.subject}: ${c.found}`), []);
      assert.equal(r.blocked, false);
      for (const id of ['spf.lookups', 'spf.authorised', 'dkim.signature', 'dmarc.alignment', 'mx.bounce', 'mx.from', 'abuse.mailbox', 'ptr.forward', 'ptr.ehlo', 'dnsbl', 'tls.certificate', 'domain.age', 'senderid']) one(r, id);
      // both streams' envelope domains and the From domain get SPF checks; both DKIM selectors are checked
      assert.deepEqual(r.checks.filter((c) => c.id === 'spf.record').map((c) => c.subject).sort(), ['bounce-mk.shop.example', 'bounce-tx.shop.example', 'shop.example']);
      assert.equal(r.checks.filter((c) => c.id === 'dkim.signature').length, 2);
      assert.equal(one(r, 'ptr.present').subject, ENVOI_IP, 'the sending IP comes from the EHLO name');
      assert.deepEqual(await core.services.doctor.last(shop.id), r);
      assert.equal((await core.services.doctor.gate(shop.id)).ok, true);
    });

    test('SPF with 11 lookups through nested includes fails spf.lookups, and only it', async () => {
      set('bounce-mk.shop.example', { TXT: [`v=spf1 a:${ENVOI_HOST} include:l1.spf.test -all`], MX: [{ priority: 10, exchange: ENVOI_HOST }] });
      set('l1.spf.test', { TXT: ['v=spf1 include:l2.spf.test a:h1.spf.test a:h2.spf.test a:h3.spf.test ~all'] });
      set('l2.spf.test', { TXT: ['v=spf1 a:h4.spf.test a:h5.spf.test a:h6.spf.test a:h7.spf.test a:h8.spf.test ~all'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['spf.lookups bounce-mk.shop.example']);
      const c = one(r, 'spf.lookups', 'bounce-mk.shop.example');
      assert.match(c.found, /^11 DNS-querying mechanisms/);
      assert.match(c.found, /l1\.spf\.test: 4, l2\.spf\.test: 5/);
      assert.ok(c.blocking, 'the envelope domain\'s SPF blocks marketing');
      assert.equal(r.blocked, true);
    });

    test('SPF +all fails spf.all with the record to publish', async () => {
      set('bounce-mk.shop.example', { TXT: [`v=spf1 a:${ENVOI_HOST} +all`], MX: [{ priority: 10, exchange: ENVOI_HOST }] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['spf.all bounce-mk.shop.example']);
      assert.equal(one(r, 'spf.all', 'bounce-mk.shop.example').fix, `replace it with -all: TXT bounce-mk.shop.example "v=spf1 a:${ENVOI_HOST} -all"`);
    });

    test('two SPF records fail spf.record (permerror)', async () => {
      const zone = await zoneOf(shop);
      set('shop.example', { ...zone['shop.example'], TXT: [...zone['shop.example'].TXT!, 'v=spf1 include:_spf.google.com ~all'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['spf.record shop.example']);
      assert.match(one(r, 'spf.record', 'shop.example').found, /2 SPF records: receivers answer permerror/);
    });

    test('a sending IP missing from the envelope SPF fails spf.authorised with the record that adds it', async () => {
      const r = await doctorWith({ config: (c) => ({ ...c, doctor: { ...c.doctor, sendingIps: [ENVOI_IP, '127.0.0.9'] } }) }).check(shop);
      assert.deepEqual(failed(r).map((c) => c.id + ' ' + c.subject).filter((s) => s.startsWith('spf')).sort(), ['spf.authorised bounce-mk.shop.example ← 127.0.0.9', 'spf.authorised bounce-tx.shop.example ← 127.0.0.9']);
      assert.equal(one(r, 'spf.authorised', 'bounce-mk.shop.example ← 127.0.0.9').fix, `authorise it: TXT bounce-mk.shop.example "v=spf1 a:${ENVOI_HOST} ip4:127.0.0.9 -all"`);
    });

    test('a DKIM key that differs from envoi\'s fails dkim.key, and only it', async () => {
      const [rsa] = (await core.services.domains.activeKeys(shop.id)).filter((k) => k.algorithm === 'rsa-sha256');
      const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
      set(`${rsa.selector}._domainkey.shop.example`, { TXT: [`v=DKIM1; k=rsa; p=${other}`] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), [`dkim.key ${rsa.selector}._domainkey.shop.example`]);
      assert.equal(one(r, 'dkim.key').fix, `replace the record: TXT ${rsa.selector}._domainkey.shop.example "v=DKIM1; k=rsa; p=${rsa.public_key}"`);
    });

    test('missing DMARC fails dmarc.record, blocks the domain, and the gate says why', async () => {
      w.dns.remove('_dmarc.shop.example');
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(ids(failed(r)), ['dmarc.record']);
      assert.equal(one(r, 'dmarc.record').fix, 'TXT _dmarc.shop.example "v=DMARC1; p=none; rua=mailto:dmarc-reports@shop.example; adkim=r; aspf=r"');
      const g = await core.services.doctor.gate(shop.id);
      assert.equal(g.ok, false);
      assert.ok(!g.ok && g.error.code === 'domain.checks_failed' && /dmarc\.record.*no DMARC record.*fix: TXT _dmarc\.shop\.example/.test(g.error.detail), JSON.stringify(g));
    });

    test('a PTR missing fails ptr.present (Gmail 4.7.23)', async () => {
      w.dns.remove('3.0.0.127.in-addr.arpa');
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(ids(failed(r)), ['ptr.present']);
      assert.match(one(r, 'ptr.present').found, /4\.7\.23/);
    });

    test('a PTR that does not resolve back fails ptr.forward, and only it', async () => {
      set('3.0.0.127.in-addr.arpa', { PTR: ['mail.elsewhere.test'] });
      set('mail.elsewhere.test', { A: ['127.0.0.99'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(ids(failed(r)), ['ptr.forward']);
      assert.equal(one(r, 'ptr.forward').fix, 'publish A mail.elsewhere.test 127.0.0.3');
    });

    test('a residential PTR fails ptr.residential with the advice to relay through a smart host', async () => {
      const home = 'dsl-127-0-0-3.pool.isp.test';
      set('3.0.0.127.in-addr.arpa', { PTR: [home] });
      set(home, { A: [ENVOI_IP] });
      // EHLO says the PTR name, as a careful operator would: only the residential look remains
      const r = await doctorWith({ config: (c) => ({ ...c, delivery: { ...c.delivery, ehloName: home } }) }).check(shop);
      assert.deepEqual(ids(failed(r)), ['ptr.residential']);
      const c = one(r, 'ptr.residential');
      assert.match(c.found, /"dsl" marks a DSL line/);
      assert.match(c.fix!, /smart host/);
      assert.deepEqual(c.requirements, ['MC-4', 'AF-4']);
    });

    test('an EHLO name other than the PTR name fails ptr.ehlo (not blocking)', async () => {
      set('other.envoi.test', { A: [ENVOI_IP] });
      const r = await doctorWith({ config: (c) => ({ ...c, delivery: { ...c.delivery, ehloName: 'other.envoi.test' } }) }).check(shop);
      assert.deepEqual(ids(failed(r)), ['ptr.ehlo']);
      assert.equal(r.blocked, false);
      assert.equal(one(r, 'ptr.ehlo').fix, `set delivery.ehloName to "${ENVOI_HOST}", or point the PTR of 127.0.0.3 to other.envoi.test`);
    });

    test('a DNSBL listing 127.0.0.2 for the sending IP fails dnsbl, naming the zone and the code', async () => {
      set('3.0.0.127.zen.spamhaus.org', { A: ['127.0.0.2'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), [`dnsbl ${ENVOI_IP}`]);
      assert.match(one(r, 'dnsbl', ENVOI_IP).found, /zen\.spamhaus\.org: 127\.0\.0\.2 \(SBL: known spam source/);
      assert.equal(r.blocked, true);
    });

    test('a blocklist answering "public resolver refused" warns, never lists', async () => {
      set('3.0.0.127.zen.spamhaus.org', { A: ['127.255.255.254'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r), []);
      const c = one(r, 'dnsbl', ENVOI_IP);
      assert.equal(c.status, 'warn');
      assert.match(c.found, /could not check zen\.spamhaus\.org \(127\.255\.255\.254: query through a public or open resolver/);
    });

    test('a domain listed in a domain blocklist fails dnsbl for the domain', async () => {
      set('shop.example.dbl.spamhaus.org', { A: ['127.0.1.2'] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['dnsbl shop.example']);
      assert.match(one(r, 'dnsbl', 'shop.example').found, /dbl\.spamhaus\.org: 127\.0\.1\.2 \(spam domain\)/);
    });

    test('abuse@ refused by the domain\'s MX fails abuse.mailbox (RCPT probe, no message sent)', async () => {
      const before = w.fromMx.received.length;
      w.rcptReplies.set('abuse@shop.example', { code: 550, text: '5.1.1 No such user' });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['abuse.mailbox abuse@shop.example']);
      assert.match(one(r, 'abuse.mailbox', 'abuse@shop.example').found, /refuses it \(550 5\.1\.1 No such user\)/);
      assert.equal(one(r, 'abuse.mailbox', 'postmaster@shop.example').status, 'pass');
      assert.equal(w.fromMx.received.length, before, 'no message was sent');
    });

    test('no MX on the From domain fails mx.from; the abuse@ probe then warns', async () => {
      const zone = await zoneOf(shop);
      set('shop.example', { TXT: zone['shop.example'].TXT });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(ids(failed(r)), ['mx.from']);
      assert.equal(one(r, 'abuse.mailbox', 'abuse@shop.example').status, 'warn');
    });

    test('a bounce subdomain whose MX is not envoi fails mx.bounce with the MX to publish', async () => {
      const zone = await zoneOf(shop);
      set('bounce-tx.shop.example', { ...zone['bounce-tx.shop.example'], MX: [{ priority: 10, exchange: 'mx.shop.example' }] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r).map((c) => `${c.id} ${c.subject}`), ['mx.bounce bounce-tx.shop.example']);
      assert.equal(one(r, 'mx.bounce', 'bounce-tx.shop.example').fix, `replace the MX records of bounce-tx.shop.example: MX bounce-tx.shop.example 10 ${ENVOI_HOST}`);
    });

    test('an inbound certificate from an untrusted CA fails tls.certificate', async () => {
      const r = await doctorWith({ config: (c) => ({ ...c, doctor: { ...c.doctor, caFile: undefined } }) }).check(shop);
      assert.deepEqual(ids(failed(r)), ['tls.certificate']);
      assert.match(one(r, 'tls.certificate').found, /not trusted/);
    });

    test('a young domain warns (MJ-8); an unknown registration date warns too', async () => {
      w.registrations.set('shop.example', new Date(core.clock.now() - 5 * 86_400_000).toISOString());
      let r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r), []);
      assert.equal(one(r, 'domain.age').status, 'warn');
      assert.match(one(r, 'domain.age').found, /5 days ago/);
      w.registrations.delete('shop.example');
      r = await core.services.doctor.check(shop);
      assert.equal(one(r, 'domain.age').status, 'warn');
      assert.match(one(r, 'domain.age').found, /unknown/);
      w.registrations.set('shop.example', OLD);
    });

    test('DMARC on the organizational domain only: mail.example.co.uk inherits from example.co.uk', async () => {
      const d = await core.services.domains.add(tenantId, 'mail.example.co.uk');
      assert.ok(d.ok);
      const zone = await zoneOf(d.value);
      delete zone['_dmarc.mail.example.co.uk'];
      zone['_dmarc.example.co.uk'] = { TXT: ['v=DMARC1; p=quarantine; sp=none; rua=mailto:d@example.co.uk'] };
      publish(w.dns, zone);
      touched.push(...Object.keys(zone));
      w.registrations.set('example.co.uk', OLD);
      const r = await core.services.doctor.check(d.value);
      assert.deepEqual(failed(r), []);
      const c = one(r, 'dmarc.record');
      assert.equal(c.subject, '_dmarc.example.co.uk');
      assert.match(c.found, /p=none inherited from the organizational domain example\.co\.uk/);
      assert.equal(one(r, 'domain.age').subject, 'example.co.uk', 'RDAP is asked about the registered domain');
    });

    test('an IDN domain is checked under its A-label', async () => {
      const d = await core.services.domains.add(tenantId, 'bücher.example');
      assert.ok(d.ok);
      assert.equal(d.value.name, 'xn--bcher-kva.example');
      const zone = await zoneOf(d.value);
      publish(w.dns, zone);
      touched.push(...Object.keys(zone));
      w.registrations.set('xn--bcher-kva.example', OLD);
      const r = await core.services.doctor.check(d.value);
      assert.deepEqual(r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.found}`), []);
    });

    test('SERVFAIL on one name warns "could not check" there and passes nothing it could not see', async () => {
      const real = core.services.resolver;
      const servfail: Resolver = { ...real, txt: (n) => (n === '_dmarc.shop.example' ? Promise.reject(Object.assign(new Error('servfail'), { code: 'ESERVFAIL' })) : real.txt(n)) };
      const r = await doctorWith({ resolver: servfail }).check(shop);
      assert.deepEqual(failed(r), []);
      const c = one(r, 'dmarc.record');
      assert.equal(c.status, 'warn');
      assert.match(c.found, /could not check.*ESERVFAIL/);
      assert.ok(!r.checks.some((x) => x.id === 'dmarc.alignment'), 'no alignment verdict without the record');
    });

    test('a dead DNS server: every DNS check warns, none passes, none fails, nothing crashes', async () => {
      const dead = createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 50, tries: 1 });
      const r = await doctorWith({ resolver: dead }).check(shop);
      assert.deepEqual(failed(r), []);
      const passed = r.checks.filter((c) => c.status === 'pass').map((c) => c.id);
      assert.deepEqual(passed, ['domain.age'], 'only RDAP, which needs no DNS here, passes');
      assert.equal(r.blocked, false);
    });

    test('a CNAME loop is "could not check", not "no record"', async () => {
      set('_dmarc.shop.example', { CNAME: 'loop-a.shop.example' });
      set('loop-a.shop.example', { CNAME: 'loop-b.shop.example' });
      set('loop-b.shop.example', { CNAME: 'loop-a.shop.example' });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r), []);
      assert.match(one(r, 'dmarc.record').found, /could not check.*ECNAMECHAIN/);
    });

    test('an enormous SPF record is read whole (TCP) and flagged as too big for UDP', async () => {
      const zone = await zoneOf(shop);
      const big = `v=spf1 a:${ENVOI_HOST} ${Array.from({ length: 300 }, (_, i) => `ip4:10.${i % 250}.0.0/16`).join(' ')} ~all`;
      set('shop.example', { ...zone['shop.example'], TXT: [big] });
      const r = await core.services.doctor.check(shop);
      assert.deepEqual(failed(r), []);
      assert.equal(one(r, 'spf.size', 'shop.example').status, 'warn');
      assert.equal(one(r, 'spf.syntax', 'shop.example').status, 'pass');
    });
  });
}
