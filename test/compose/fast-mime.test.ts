// Campaign MIME, checked the way receivers read it: parsed by postal-mime,
// compared with MailComposer's message for the same content, and signed with
// both DKIM keys and verified by mailauth against a DNS server on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import PostalMime from 'postal-mime';
import MailComposer from 'nodemailer/lib/mail-composer';
import { authenticate } from 'mailauth';
import { buildMime, encodeHeader, prepareMime, quotedPrintable, type HeaderList, type Mailbox } from '../../src/compose/fast-mime.ts';
import { DkimSigner, dkimRecordValue, generateDkimKeyPair } from '../../src/compose/dkim.ts';
import { createResolver, mailauthResolver } from '../../src/net/resolver.ts';
import { startDnsServer } from '../peers/dns.ts';

const DOMAIN = 'envoi-example.com';
const DATE = new Date(Date.UTC(2025, 0, 15, 12, 0, 0));
const FROM: Mailbox = { name: 'Café Zoë — News', email: `news@${DOMAIN}` };

const TEXT = [
  'Bonjour Zoë,',
  '.',
  '.a line starting with a dot',
  'From the team, a line mbox would quote',
  'x'.repeat(300),
  'trailing spaces   ',
  'tab\tinside and at the end\t',
  '€ ' + 'é'.repeat(120),
  'emoji 😀🎉 and = signs == =3D',
  '--envoi=_not-a-boundary',
  '',
  'last line',
].join('\n');
const HTML = `<!doctype html><html><body style="margin:0">\n<p style="font-family:Arial, sans-serif;color:#333">Bonjour <b>Zoë</b> — ${'long '.repeat(60)}</p>\n.\nFrom here\n<a href="https://${DOMAIN}/p?a=1&amp;b=2">lien</a>\n</body></html>\n`;

function perRecipient(subject: string, to: Mailbox): HeaderList {
  return [
    ['To', to],
    ['Subject', subject],
    ['Message-ID', `<c1.42@${DOMAIN}>`],
    ['List-Unsubscribe', `<https://${DOMAIN}/u/${'a'.repeat(40)}>, <mailto:unsub-${'b'.repeat(30)}@${DOMAIN}>`],
    ['List-Unsubscribe-Post', 'List-Unsubscribe=One-Click'],
  ];
}

const prepared = prepareMime({ headers: [['From', FROM], ['Reply-To', { name: 'Service, clients', email: `help@${DOMAIN}` }], ['Feedback-ID', 'c1:t1:news:envoi']] });

function build(subject: string, to: Mailbox, text = TEXT, html = HTML): Buffer {
  return buildMime(prepared, { headers: perRecipient(subject, to), text, html, date: DATE });
}

const lines = (raw: Buffer) => raw.toString('latin1').split('\r\n');
const nl = (s: string) => s.replace(/\r\n/g, '\n').replace(/\n+$/, '');

describe('the message as a receiver parses it', () => {
  const subjects = [
    'Plain ASCII subject',
    'Héllo Zoë — your spring order № 42 😀',
    'A very long subject line made of plain words that goes on and on well past the seventy-eight character limit of a header line',
    'Ünïcödé '.repeat(20).trim(),
    'Looks like an encoded word =?utf-8?q?x?= but is text',
  ];
  for (const subject of subjects) {
    test(`content and headers survive: ${subject.slice(0, 30)}`, async () => {
      const to = { name: 'Zoë Ünïcode-Ñame, with a comma and a rather long display name', email: 'zoe@example.net' };
      const raw = build(subject, to);
      const mail = await PostalMime.parse(raw);
      assert.equal(mail.subject, subject);
      assert.deepEqual(mail.from, { name: FROM.name, address: FROM.email });
      assert.deepEqual(mail.to, [{ name: to.name, address: to.email }]);
      assert.deepEqual(mail.replyTo, [{ name: 'Service, clients', address: `help@${DOMAIN}` }]);
      assert.equal(mail.messageId, `<c1.42@${DOMAIN}>`);
      assert.equal(nl(mail.text ?? ''), nl(TEXT));
      assert.equal(nl(mail.html ?? ''), nl(HTML));
      const header = (k: string) => mail.headers.find((h) => h.key === k)?.value;
      assert.equal(header('list-unsubscribe-post'), 'List-Unsubscribe=One-Click');
      assert.equal(header('list-unsubscribe')?.replace(/\s+/g, ' '), perRecipient(subject, to)[3][1]);
      assert.equal(header('feedback-id'), 'c1:t1:news:envoi');
      assert.equal(header('date'), 'Wed, 15 Jan 2025 12:00:00 +0000');
    });
  }

  test('CRLF everywhere, header lines ≤ 78, body lines ≤ 76, none starting with "." or "From "', () => {
    const raw = build('Héllo Zoë — ' + 'word '.repeat(40), { name: 'Zoë', email: 'zoe@example.net' });
    const text = raw.toString('latin1');
    assert.ok(!/\r(?!\n)|(?<!\r)\n/.test(text), 'no bare CR or LF');
    assert.ok(!/[^\x00-\x7f]/.test(text), '7-bit clean');
    const all = lines(raw);
    const headEnd = all.indexOf('');
    for (const line of all.slice(0, headEnd)) assert.ok(line.length <= 78, `header line ${line.length}: ${line}`);
    for (const line of all.slice(headEnd)) {
      assert.ok(line.length <= 76, `body line ${line.length}: ${line}`);
      assert.ok(!line.startsWith('.') && !line.startsWith('From '), line);
    }
  });

  test('no line over 998 even with unbreakable values; unfoldable structured values are refused', () => {
    const raw = build('x'.repeat(2000), { email: 'zoe@example.net' }, 'y'.repeat(5000), 'z'.repeat(5000));
    for (const line of lines(raw)) assert.ok(line.length <= 998, String(line.length));
    assert.throws(() => encodeHeader('List-Unsubscribe', `<https://${DOMAIN}/u/${'a'.repeat(1200)}>`), /998/);
  });

  test('a personalised value holding a line break never becomes a header', async () => {
    const raw = build('Hi\r\nBcc: victim@example.org', { name: 'Ana\nBcc: other@example.org', email: 'ana@example.net' });
    const mail = await PostalMime.parse(raw);
    assert.ok(!mail.headers.some((h) => h.key === 'bcc'));
    assert.equal(mail.subject, 'Hi  Bcc: victim@example.org');
    assert.equal(mail.to?.[0].name, 'Ana Bcc: other@example.org');
    assert.ok(!/^bcc:/im.test(raw.toString('latin1')));
  });

  test('the boundary is random per campaign, the same across its messages, and absent from the bodies', () => {
    const other = prepareMime({ headers: [], boundaryPrefix: 'b1' });
    assert.notEqual(other.boundary, prepared.boundary);
    assert.match(other.boundary, /^b1=_[A-Za-z0-9_-]{20}$/);
    const body = build('s', { email: 'a@example.net' }, 'text --' + prepared.boundary, 'html --' + prepared.boundary);
    assert.equal(body.toString('latin1').split('--' + prepared.boundary).length - 1, 3, 'two part delimiters and the close');
  });
});

describe('the same content as MailComposer', () => {
  test('decodes to the same text, HTML, subject, addresses and extra headers', async () => {
    const subject = 'Héllo Zoë — spring € offers';
    const to = { name: 'Zoë Dupont', email: 'zoe@example.net' };
    const ours = await PostalMime.parse(build(subject, to));
    const theirs = await PostalMime.parse(await new MailComposer({
      from: { name: FROM.name!, address: FROM.email },
      replyTo: { name: 'Service, clients', address: `help@${DOMAIN}` },
      to: { name: to.name, address: to.email },
      subject, text: TEXT, html: HTML, messageId: `<c1.42@${DOMAIN}>`, date: DATE,
      headers: { 'Feedback-ID': 'c1:t1:news:envoi', 'List-Unsubscribe': perRecipient(subject, to)[3][1] as string, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
    }).compile().build());
    for (const key of ['subject', 'from', 'to', 'replyTo', 'messageId', 'date'] as const) assert.deepEqual(ours[key], theirs[key], key);
    assert.equal(nl(ours.text ?? ''), nl(theirs.text ?? ''));
    assert.equal(nl(ours.html ?? ''), nl(theirs.html ?? ''));
    const pick = (m: typeof ours) => m.headers.filter((h) => /^(feedback-id|list-unsubscribe|list-unsubscribe-post|mime-version)$/.test(h.key))
      .map((h) => [h.key, h.value.replace(/\s+/g, ' ')]).sort();
    assert.deepEqual(pick(ours), pick(theirs));
  });
});

describe('quoted-printable', () => {
  const decode = (qp: string) => Buffer.from(qp.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');

  test('random text round-trips with lines ≤ 76 and no risky line starts', () => {
    // a seeded generator over the characters that matter: line ends, spaces, "=", ".", "F", controls, non-ASCII
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['a', 'b', ' ', ' ', '\t', '=', '.', 'From ', '\r\n', '\n', '\r', 'é', '€', '😀', '\u0000', '\u001b', 'x'.repeat(80)];
    for (let round = 0; round < 300; round++) {
      let input = '';
      const n = Math.floor(next() * 200);
      for (let i = 0; i < n; i++) input += alphabet[Math.floor(next() * alphabet.length)];
      const qp = quotedPrintable(input);
      assert.equal(decode(qp), input.replace(/\r\n|\r|\n/g, '\r\n'), JSON.stringify(input));
      for (const line of qp.split('\r\n')) {
        assert.ok(line.length <= 76, `${line.length}: ${JSON.stringify(line)}`);
        assert.ok(!/^(\.|From )/.test(line), JSON.stringify(line));
        assert.ok(!/[ \t]$/.test(line), 'no trailing whitespace');
        assert.ok(!/[^\x21-\x7e \t]/.test(line), 'only printable ASCII, space and tab');
      }
    }
  });
});

describe('programming errors are refused loudly', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['a reserved header', () => encodeHeader('Content-Type', 'text/plain'), /written by the MIME builder/],
    ['Bcc', () => encodeHeader('Bcc', 'a@example.net'), /written by the MIME builder/],
    ['a bad header name', () => encodeHeader('X Bad', 'v'), /not a header name/],
    ['non-ASCII in a structured header', () => encodeHeader('Message-ID', '<é@x>'), /must be ASCII/],
    ['a mailbox on a text header', () => encodeHeader('Subject', { email: 'a@example.net' }), /does not take mailboxes/],
    ['a non-ASCII address', () => encodeHeader('To', { email: 'zoë@example.net' }), /not an ASCII address/],
    ['an address with a bracket', () => encodeHeader('To', { email: 'a@example.net>, b@evil.example' }), /not an ASCII address/],
    ['a header repeating a constant one', () => buildMime(prepared, { headers: [['From', FROM]], text: '', html: '', date: DATE }), /already among the campaign's constant headers/],
    ['a bad boundary prefix', () => prepareMime({ headers: [], boundaryPrefix: 'a b' }), /boundary prefix/],
  ];
  for (const [name, f, re] of cases) test(name, () => assert.throws(f, re));
});

describe('DKIM over fast-mime output, verified by mailauth', () => {
  let dns: Awaited<ReturnType<typeof startDnsServer>>;
  let signer: DkimSigner;

  before(async () => {
    const rsa = generateDkimKeyPair('rsa-sha256');
    const ed = generateDkimKeyPair('ed25519-sha256');
    dns = await startDnsServer({
      [`rsa2025._domainkey.${DOMAIN}`]: { TXT: [dkimRecordValue('rsa-sha256', rsa.publicKeyDns)] },
      [`ed2025._domainkey.${DOMAIN}`]: { TXT: [dkimRecordValue('ed25519-sha256', ed.publicKeyDns)] },
      [`_dmarc.${DOMAIN}`]: { TXT: ['v=DMARC1; p=reject'] },
    });
    signer = new DkimSigner([
      { domain: DOMAIN, selector: 'rsa2025', algorithm: 'rsa-sha256', privateKey: crypto.createPrivateKey(rsa.privateKeyPem) },
      { domain: DOMAIN, selector: 'ed2025', algorithm: 'ed25519-sha256', privateKey: crypto.createPrivateKey(ed.privateKeyPem) },
    ]);
  });
  after(() => dns.close());

  test('both signatures pass, DMARC passes, and h= covers List-Unsubscribe-Post', async () => {
    const signed = signer.sign(build('Héllo Zoë — ' + 'long subject '.repeat(10), { name: 'Zoë', email: 'zoe@example.net' }));
    const res = await authenticate(signed, {
      resolver: mailauthResolver(createResolver({ servers: [dns.address], timeoutMs: 1000 })),
      ip: '127.0.0.1', helo: 'localhost', sender: `bounce@${DOMAIN}`, trustReceived: false, mta: 'mx.test',
    });
    const results = (res.dkim.results as any[]).map((r) => [r.selector, r.status.result]);
    assert.deepEqual(results, [['rsa2025', 'pass'], ['ed2025', 'pass']]);
    assert.equal((res.dmarc as any).status.result, 'pass');
    for (const r of res.dkim.results as any[]) {
      const h = String(r.signingHeaders?.keys ?? '').toLowerCase();
      assert.match(h, /list-unsubscribe-post/, h);
    }
  });
});
