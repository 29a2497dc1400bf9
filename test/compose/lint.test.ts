// The content lint of issue 4, table-tested: for each finding ID one message
// that triggers exactly it, clean messages in three languages that trigger
// nothing, the verdict, and the From/Reply-To DNS checks against a real DNS
// server on loopback (plus a silent one, for timeouts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { lint, verdict, type Finding, type LintInput, type Severity } from '../../src/compose/lint/index.ts';
import { createResolver, type Resolver } from '../../src/net/resolver.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { CLEAN, CLEAN_FR, frWithParagraph, ZONE } from './lint-fixtures.ts';

let dns: DnsServer;
let silent: dgram.Socket;
let resolver: Resolver;
let silentResolver: Resolver;

before(async () => {
  dns = await startDnsServer(ZONE);
  resolver = createResolver({ servers: [dns.address], timeoutMs: 1000, tries: 1 });
  // a DNS server that never answers: every lookup times out
  silent = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', () => resolve()));
  silentResolver = createResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 50, tries: 1 });
});

after(async () => {
  silent.close();
  await dns.close();
});

/** Lookups for *.slow.example go to the silent server, the rest to the zone. */
function splitResolver(): Resolver {
  const pick = (name: string) => (name.endsWith('slow.example') ? silentResolver : resolver);
  return {
    txt: (n) => pick(n).txt(n), mx: (n) => pick(n).mx(n), a: (n) => pick(n).a(n),
    aaaa: (n) => pick(n).aaaa(n), ptr: (ip) => resolver.ptr(ip),
  };
}

const html = (p: string) => frWithParagraph(`${p} Nos confitures de printemps vous attendent, cuites en petite quantité dans notre atelier de Quimper, avec les fruits du jardin.`);

type Case = [name: string, id: string, severity: Severity, input: LintInput, requirements: string[], opts?: { noResolver?: boolean; split?: boolean }];

const cases: Case[] = [
  ['From address that does not parse', 'from.invalid', 'block', { ...CLEAN_FR, from: { email: 'lettre@@maison-dupont.example', name: 'Maison Dupont' } }, ['AF-10']],
  ['campaign without a From display name', 'from.name-missing', 'block', { ...CLEAN_FR, from: { email: 'lettre@maison-dupont.example' } }, ['AF-15', 'MJ-8']],
  ['transactional mail without a From display name', 'from.name-missing', 'warn', { ...CLEAN_FR, kind: 'transactional', from: { email: 'lettre@maison-dupont.example', name: ' ' } }, ['AF-15', 'MJ-8']],
  ['display name that names a role, not the tenant', 'from.name-not-sender', 'warn', { ...CLEAN_FR, from: { email: 'lettre@maison-dupont.example', name: 'Newsletter' } }, ['AF-15']],
  ['display name of roles only, no tenant name known', 'from.name-not-sender', 'warn', { ...CLEAN_FR, senderName: undefined, from: { email: 'info@maison-dupont.example', name: 'Le service client' } }, ['AF-15']],
  ['display name showing another domain', 'from.name-domain', 'review', { ...CLEAN_FR, from: { email: 'lettre@maison-dupont.example', name: 'Maison Dupont via shop-partner.com' } }, ['MJ-8', 'AF-10']],
  ['From on a freemail domain', 'from.freemail', 'block', { ...CLEAN_FR, from: { email: 'maison.dupont@gmail.com', name: 'Maison Dupont' } }, ['GM-3']],
  ['Reply-To that does not parse', 'reply-to.invalid', 'block', { ...CLEAN_FR, replyTo: { email: 'contact@' } }, ['AF-10']],
  ['Reply-To on a freemail domain', 'reply-to.freemail', 'warn', { ...CLEAN_FR, replyTo: { email: 'maison.dupont@gmail.com' } }, ['MJ-8']],
  ['From domain that does not exist (NXDOMAIN)', 'from.domain-unresolvable', 'block', { ...CLEAN_FR, from: { email: 'lettre@disparu.example', name: 'Maison Dupont' } }, ['AF-10']],
  ['Reply-To domain with no MX and no A', 'reply-to.domain-unresolvable', 'block', { ...CLEAN_FR, replyTo: { email: 'contact@bare.example' } }, ['AF-10']],
  ['From domain whose DNS times out', 'from.dns-unchecked', 'warn', { ...CLEAN_FR, replyTo: undefined, from: { email: 'lettre@slow.example', name: 'Maison Dupont' } }, ['AF-10'], { split: true }],
  ['Reply-To domain whose DNS times out', 'reply-to.dns-unchecked', 'warn', { ...CLEAN_FR, replyTo: { email: 'contact@slow.example' } }, ['AF-10'], { split: true }],
  ['no resolver', 'dns.skipped', 'info', CLEAN_FR, ['AF-10'], { noResolver: true }],
  ['link to an IP address', 'link.ip-host', 'block', html('<a href="http://203.0.113.7/confitures">La boutique</a>'), ['AF-12']],
  ['link to an IP address written as one number', 'link.ip-host', 'block', html('<a href="http://3405803783/confitures">La boutique</a>'), ['AF-12']],
  ['link to an IPv6 address', 'link.ip-host', 'block', html('<a href="https://[2001:db8::7]/">La boutique</a>'), ['AF-12']],
  ['link with a user name before the host', 'link.obfuscated', 'block', html('<a href="https://maison-dupont.example@203-0-113-7.other.example/">La boutique</a>'), ['AF-12']],
  ['link with a broken percent escape', 'link.malformed', 'block', html('<a href="https://www.maison-dupont.example/confitures-50%-remise">La boutique</a>'), ['AF-12']],
  ['link with a single slash after the scheme', 'link.malformed', 'block', html('<a href="https:/www.maison-dupont.example/">La boutique</a>'), ['AF-12']],
  ['link to a host without a dot', 'link.malformed', 'block', html('<a href="http://intranet/confitures">La boutique</a>'), ['AF-12']],
  ['link with a space in it', 'link.unencoded', 'warn', html('<a href="https://www.maison-dupont.example/confitures de printemps">La boutique</a>'), ['AF-12']],
  ['link encoded twice', 'link.double-encoded', 'warn', html('<a href="https://www.maison-dupont.example/confitures%2520printemps">La boutique</a>'), ['AF-12']],
  ['link through a URL shortener', 'link.shortener', 'warn', html('<a href="https://bit.ly/3xYzAbc">La boutique</a>'), ['AF-12']],
  ['link text showing one domain, pointing to another', 'link.text-mismatch', 'review', html('<a href="https://www.other-shop.example/login">www.maison-dupont.example</a>'), ['AF-12']],
  ['relative link', 'link.relative', 'warn', html('<a href="/confitures">La boutique</a>'), ['AF-12']],
  ['URL shortener in the text part', 'link.shortener', 'warn', { ...CLEAN_FR, text: `${CLEAN_FR.text}\nAussi : https://tinyurl.com/confitures.` }, ['AF-12']],
  ['empty subject', 'subject.empty', 'warn', { ...CLEAN_FR, subject: ' ' }, ['MJ-3']],
  ['subject in capitals', 'subject.capitals', 'warn', { ...CLEAN_FR, subject: 'NOS NOUVELLES CONFITURES DE PRINTEMPS' }, ['MJ-3']],
  ['subject with !!!', 'subject.punctuation', 'warn', { ...CLEAN_FR, subject: 'Nos nouvelles confitures de printemps !!!' }, ['MJ-3']],
  ['subject with $$$', 'subject.punctuation', 'warn', { ...CLEAN_FR, subject: 'Nos confitures de printemps $$$' }, ['MJ-3']],
  ['subject unrelated to the body', 'subject.not-in-body', 'warn', { ...CLEAN_FR, subject: 'Un séjour au bord de la mer' }, ['MJ-3']],
  ['spam term in the subject (fr)', 'subject.spam-term', 'warn', { ...CLEAN_FR, subject: 'Dernière chance : nos confitures de printemps' }, ['MJ-3']],
  ['spam term in the subject (es)', 'subject.spam-term', 'warn', { ...CLEAN.es, subject: 'Última oportunidad: sandalias de verano' }, ['MJ-3']],
  ['spam term in the subject (en)', 'subject.spam-term', 'warn', { ...CLEAN.en, subject: 'Act now: three new novels for autumn' }, ['MJ-3']],
  ['one spam term in the body', 'body.spam-term', 'info', html('Satisfait ou remboursé.'), ['MJ-3']],
  ['three spam terms in the body', 'body.spam-term', 'warn', html('Offre exceptionnelle, satisfait ou remboursé, commandez maintenant.'), ['MJ-3']],
  ['prohibited category', 'category.gambling', 'review', html('Tentez votre chance au casino de Bénodet.'), ['MJ-9']],
  ['no body at all', 'structure.empty', 'warn', { ...CLEAN_FR, html: undefined, text: '  ' }, []],
  ['HTML without a text part', 'structure.no-text-part', 'warn', { ...CLEAN_FR, text: undefined }, []],
  ['HTML that is one image', 'structure.image-only', 'warn', { ...CLEAN_FR, html: '<a href="https://www.maison-dupont.example/confitures"><img src="https://www.maison-dupont.example/affiche.jpg" alt="Confitures de printemps"></a>' }, []],
  ['HTML over 100 KB', 'structure.html-too-large', 'warn', { ...CLEAN_FR, html: `${CLEAN_FR.html}<!-- ${'x'.repeat(110_000)} -->` }, []],
  ['image without alt', 'structure.img-no-alt', 'warn', html('<img src="https://www.maison-dupont.example/atelier.jpg" width="600">'), []],
];

describe('each finding ID, triggered alone', () => {
  for (const [name, id, severity, input, requirements, opts] of cases) {
    test(`${name} → ${id} (${severity})`, async () => {
      const deps = opts?.noResolver ? {} : { resolver: opts?.split ? splitResolver() : resolver };
      const findings = await lint(input, deps);
      assert.deepEqual(findings.map((f) => f.id), [id], JSON.stringify(findings, null, 1));
      const [f] = findings;
      assert.equal(f.severity, severity);
      assert.deepEqual(f.requirements, requirements);
      assert.ok(f.message.length > 10 && f.fix.length > 10, 'a message and a fix');
      // these have no offending text to show: an absence, or the whole HTML
      if (!['dns.skipped', 'subject.empty', 'structure.no-text-part', 'structure.empty', 'structure.html-too-large'].includes(id)) {
        assert.ok(f.excerpt && f.excerpt.length > 0 && f.excerpt.length <= 120, `excerpt: ${f.excerpt}`);
      }
    });
  }
});

describe('clean marketing messages', () => {
  for (const [lang, input] of Object.entries(CLEAN)) {
    test(`${lang}: no finding`, async () => {
      const findings = await lint(input, { resolver });
      assert.deepEqual(findings, []);
      assert.equal(verdict(findings), 'ok');
    });
  }
});

describe('findings in detail', () => {
  test('an IP link written in hex says how it was written', async () => {
    const [f] = await lint(html('<a href="http://0xCB007107/">La boutique</a>'), { resolver });
    assert.equal(f.id, 'link.ip-host');
    assert.match(f.message, /203\.0\.113\.7, written 0xCB007107/);
    const [v6] = await lint(html('<a href="https://[2001:db8::7]:8443/">La boutique</a>'), { resolver });
    assert.match(v6.message, /\(\[2001:db8::7\]\)/);
  });

  test('line breaks inside an href are dropped, as browsers do', async () => {
    assert.deepEqual(await lint(html('<a href="https://www.maison-dupont.example/\r\nconfitures">La boutique</a>'), { resolver }), []);
  });

  test('a redirect carrying an encoded URL is not double encoding', async () => {
    const target = encodeURIComponent('https://www.maison-dupont.example/confitures%20printemps');
    const findings = await lint(html(`<a href="https://www.maison-dupont.example/r?url=${target}">La boutique</a>`), { resolver });
    assert.deepEqual(findings, []);
  });

  test('template placeholders in links are judged at send time, not now', async () => {
    const findings = await lint(html('<a href="{{ offer_url }}">Offre</a> <a href="https://{{ shop }}/x">Boutique</a> <a href="https://www.maison-dupont.example/c?u={{ contact.id }}">Lien</a>'), { resolver });
    assert.deepEqual(findings, []);
  });

  test('the same bad link twice is one finding; more than ten are summarised', async () => {
    const twice = await lint(html('<a href="https://bit.ly/a">un</a> <a href="https://bit.ly/a">un</a>'), { resolver });
    assert.equal(twice.filter((f) => f.id === 'link.shortener').length, 1);
    const many = Array.from({ length: 14 }, (_, i) => `<a href="https://bit.ly/l${i}">lien ${i}</a>`).join(' ');
    const findings = (await lint(html(many), { resolver })).filter((f) => f.id === 'link.shortener');
    assert.equal(findings.length, 10);
    assert.match(findings[9].message, /and 4 more links like it/);
  });

  test('a link text naming the same site under www or a path is no mismatch', async () => {
    const findings = await lint(html('<a href="https://maison-dupont.example/c">https://www.maison-dupont.example/confitures</a>'), { resolver });
    assert.deepEqual(findings, []);
  });

  test('findings come most severe first', async () => {
    const input = { ...CLEAN_FR, from: { email: 'dupont@gmail.com', name: 'Newsletter' }, subject: 'CONFITURES DE PRINTEMPS !!!' };
    const severities = (await lint(input, { resolver })).map((f) => f.severity);
    assert.deepEqual(severities, [...severities].sort((a, b) => ['block', 'review', 'warn', 'info'].indexOf(a) - ['block', 'review', 'warn', 'info'].indexOf(b)));
    assert.equal(severities[0], 'block');
  });
});

describe('From and Reply-To domains in the DNS', () => {
  const dnsIds = async (input: LintInput, r: Resolver = resolver) =>
    (await lint(input, { resolver: r })).filter((f) => /domain|dns/.test(f.id)).map((f) => `${f.id}:${f.severity}`);
  const withFrom = (domain: string): LintInput => ({ ...CLEAN_FR, replyTo: undefined, from: { email: `lettre@${domain}`, name: 'Maison Dupont' } });

  test('a domain with an MX resolves', async () => assert.deepEqual(await dnsIds(withFrom('maison-dupont.example')), []));
  test('a domain with only an A record resolves (implicit MX)', async () => assert.deepEqual(await dnsIds(withFrom('a-only.example')), []));
  test('a domain with only an AAAA record resolves', async () => assert.deepEqual(await dnsIds(withFrom('aaaa-only.example')), []));
  test('NXDOMAIN blocks', async () => {
    const findings = await lint(withFrom('disparu.example'), { resolver });
    assert.equal(findings[0].id, 'from.domain-unresolvable');
    assert.match(findings[0].message, /does not exist/);
  });
  test('no MX and no A blocks', async () => {
    const [f] = await lint(withFrom('bare.example'), { resolver });
    assert.equal(f.id, 'from.domain-unresolvable');
    assert.match(f.message, /no MX and no A/);
  });
  test('a null MX (RFC 7505) blocks even with an A record', async () => {
    const [f] = await lint({ ...CLEAN_FR, replyTo: { email: 'contact@null-mx.example' } }, { resolver });
    assert.equal(f.id, 'reply-to.domain-unresolvable');
    assert.match(f.message, /null MX/);
  });
  test('a server that times out gives warnings, never a block, and does not hang', async () => {
    const started = Date.now();
    const findings = await lint({ ...CLEAN_FR, replyTo: { email: 'contact@other.example' } }, { resolver: silentResolver });
    assert.deepEqual(findings.map((f) => `${f.id}:${f.severity}`), ['from.dns-unchecked:warn', 'reply-to.dns-unchecked:warn']);
    assert.match(findings[0].message, /ETIMEOUT/);
    assert.equal(verdict(findings), 'ok');
    assert.ok(Date.now() - started < 3000);
  });
  test('From and Reply-To on one domain are looked up once', async () => {
    let lookups = 0;
    const counting: Resolver = { ...resolver, mx: (n) => (lookups++, resolver.mx(n)) };
    await lint(CLEAN_FR, { resolver: counting });
    assert.equal(lookups, 1);
  });
  test('an IDN From domain is looked up in its ASCII form', async () => {
    dns.set('xn--caf-dma.example', { MX: [{ exchange: 'mx.xn--caf-dma.example', priority: 10 }] });
    assert.deepEqual(await dnsIds({ ...withFrom('café.example'), senderName: 'Café' }), []);
  });
});

describe('verdict', () => {
  const f = (severity: Severity): Finding => ({ id: 'x', severity, message: 'm', fix: 'f', requirements: [] });
  const table: [Severity[], ReturnType<typeof verdict>][] = [
    [[], 'ok'], [['info'], 'ok'], [['warn', 'info'], 'ok'], [['review'], 'review'], [['warn', 'review', 'info'], 'review'],
    [['block'], 'blocked'], [['review', 'block', 'warn'], 'blocked'],
  ];
  for (const [severities, expected] of table) {
    test(`[${severities.join(', ')}] → ${expected}`, () => assert.equal(verdict(severities.map(f)), expected));
  }
  test('a category hit puts the campaign in review', async () => {
    assert.equal(verdict(await lint(html('Nouveau : le poker du vendredi.'), { resolver })), 'review');
  });
});
