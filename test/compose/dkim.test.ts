// The signer is checked the way a receiver checks it: mailauth verifies the
// signatures against keys published on a real DNS server on loopback.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { authenticate } from 'mailauth';
import fc from 'fast-check';
import {
  DEFAULT_SIGNED_HEADERS, DkimSigner, dkimRecordValue, generateDkimKeyPair, type DkimKey,
} from '../../src/compose/dkim.ts';
import { createResolver, mailauthResolver } from '../../src/net/resolver.ts';
import { startDnsServer } from '../peers/dns.ts';

const DOMAIN = 'envoi-example.com';
const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const clock = { now: () => NOW };

let dns: Awaited<ReturnType<typeof startDnsServer>>;
let keys: DkimKey[];
let signer: DkimSigner;

async function compose(extra: { text?: string; replyTo?: string } = {}): Promise<Buffer> {
  return new MailComposer({
    from: 'Envoi News <news@' + DOMAIN + '>',
    to: 'Reader <reader@example.net>',
    subject: 'Our January letter – café',
    text: extra.text ?? 'Hello there,  \n\nthis line has trailing spaces   \n\tand a tab.\n\n\n',
    html: '<p>Hello there</p>',
    replyTo: extra.replyTo,
    messageId: '<m1@' + DOMAIN + '>',
    date: new Date(NOW),
    headers: {
      'List-Unsubscribe': '<https://' + DOMAIN + '/u/abc>, <mailto:unsub-abc@' + DOMAIN + '>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      'Feedback-ID': 'c1:t1:news:envoi',
    },
  }).compile().build();
}

async function verify(message: Buffer) {
  const resolver = mailauthResolver(createResolver({ servers: [dns.address], timeoutMs: 1000 }));
  return authenticate(message, {
    resolver, ip: '127.0.0.1', helo: 'localhost', sender: 'bounce@' + DOMAIN, trustReceived: false, mta: 'mx.test',
  });
}

function dkimResults(res: Awaited<ReturnType<typeof verify>>): { selector: string; result: string }[] {
  return (res.dkim.results as any[]).map((r) => ({ selector: r.selector, result: r.status.result }));
}

/** Unfolded DKIM-Signature header values in the order they appear. */
function signatureHeaders(message: Buffer): string[] {
  const head = message.toString('latin1').split('\r\n\r\n')[0];
  return head.split(/\r\n(?![ \t])/).filter((f) => /^dkim-signature:/i.test(f)).map((f) => f.replace(/\r\n/g, ''));
}

function tag(header: string, name: string): string {
  const m = header.match(new RegExp(`(?:^|;)\\s*${name}=([^;]*)`));
  return m ? m[1].replace(/\s+/g, '') : '';
}

before(async () => {
  const rsa = generateDkimKeyPair('rsa-sha256');
  const ed = generateDkimKeyPair('ed25519-sha256');
  keys = [
    { domain: DOMAIN, selector: 'rsa2025', algorithm: 'rsa-sha256', privateKey: crypto.createPrivateKey(rsa.privateKeyPem) },
    { domain: DOMAIN, selector: 'ed2025', algorithm: 'ed25519-sha256', privateKey: crypto.createPrivateKey(ed.privateKeyPem) },
  ];
  dns = await startDnsServer({
    [`rsa2025._domainkey.${DOMAIN}`]: { TXT: [dkimRecordValue('rsa-sha256', rsa.publicKeyDns)] },
    [`ed2025._domainkey.${DOMAIN}`]: { TXT: [dkimRecordValue('ed25519-sha256', ed.publicKeyDns)] },
    [`_dmarc.${DOMAIN}`]: { TXT: ['v=DMARC1; p=none'] },
  });
  signer = new DkimSigner(keys, { clock });
});

after(() => dns.close());

describe('DkimSigner verified by mailauth', () => {
  test('RSA and Ed25519 signatures pass, DMARC passes, h= covers the unsubscribe headers', async () => {
    const signed = signer.sign(await compose());
    const res = await verify(signed);
    assert.deepEqual(dkimResults(res), [
      { selector: 'rsa2025', result: 'pass' },
      { selector: 'ed2025', result: 'pass' },
    ]);
    assert.equal((res.dmarc as any).status.result, 'pass');

    const sigs = signatureHeaders(signed);
    assert.equal(sigs.length, 2);
    assert.equal(tag(sigs[0], 'a'), 'rsa-sha256', 'first key signs first in the output');
    assert.equal(tag(sigs[1], 'a'), 'ed25519-sha256');
    for (const sig of sigs) {
      const h = tag(sig, 'h').split(':');
      assert.ok(h.includes('list-unsubscribe'));
      assert.ok(h.includes('list-unsubscribe-post'));
      assert.ok(h.includes('feedback-id'));
      assert.ok(!h.includes('in-reply-to'), 'absent, not oversigned headers are left out');
      assert.equal(h.filter((n) => n === 'subject').length, 2, 'oversigned: present once, listed twice');
      assert.equal(h.filter((n) => n === 'reply-to').length, 1, 'oversigned while absent: listed once');
      assert.equal(tag(sig, 't'), String(NOW / 1000));
      assert.equal(tag(sig, 'c'), 'relaxed/relaxed');
      assert.equal(tag(sig, 'bh'), tag(sigs[0], 'bh'), 'one body hash for all keys');
    }
  });

  test('signature headers are folded to 78 characters', async () => {
    const signed = signer.sign(await compose());
    const head = signed.toString('latin1').split('\r\n\r\n')[0];
    const sigLines = head.split('\r\n').slice(0, head.split('\r\n').findIndex((l) => /^list-unsubscribe:/i.test(l)));
    assert.ok(sigLines.length > 4);
    for (const line of sigLines) assert.ok(line.length <= 78, `${line.length}: ${line}`);
  });

  test('a changed body fails both signatures', async () => {
    const signed = signer.sign(await compose({ text: 'Pay the invoice below.' }));
    const tampered = Buffer.from(signed.toString('latin1').replace('Pay the invoice', 'Pay THE invoice'), 'latin1');
    assert.notDeepEqual(tampered, signed);
    const res = await verify(tampered);
    // mailauth reports a body hash mismatch as "neutral" (RFC 6376 §6.3 leaves it open): anything but pass
    assert.equal(dkimResults(res).length, 2);
    for (const r of dkimResults(res)) assert.notEqual(r.result, 'pass');
    assert.notEqual((res.dmarc as any).status.result, 'pass');
  });

  test('a changed Subject fails both signatures', async () => {
    const signed = signer.sign(await compose());
    const tampered = Buffer.from(signed.toString('latin1').replace(/^Subject: .*$/m, 'Subject: Urgent: verify your account'), 'latin1');
    assert.deepEqual(dkimResults(await verify(tampered)).map((r) => r.result), ['fail', 'fail']);
  });

  test('an added Subject or Reply-To fails (oversigning)', async () => {
    const signed = signer.sign(await compose());
    for (const added of ['Subject: Another subject\r\n', 'Reply-To: attacker@example.org\r\n']) {
      // appended after the existing headers: the instance a verifier reads first
      const text = signed.toString('latin1');
      const end = text.indexOf('\r\n\r\n') + 2;
      const tampered = Buffer.from(text.slice(0, end) + added + text.slice(end), 'latin1');
      assert.deepEqual(dkimResults(await verify(tampered)).map((r) => r.result), ['fail', 'fail'], added);
    }
  });

  test('bare-LF input is signed as CRLF and verifies', async () => {
    const lf = Buffer.from((await compose()).toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    assert.ok(!lf.includes('\r'));
    const signed = signer.sign(lf);
    assert.ok(!/[^\r]\n/.test(signed.toString('latin1')), 'no bare LF left');
    assert.deepEqual(dkimResults(await verify(signed)).map((r) => r.result), ['pass', 'pass']);
  });

  test('a custom header list is honoured', async () => {
    const custom = new DkimSigner([keys[1]], { headers: ['subject', 'list-unsubscribe-post'], oversign: [], clock });
    const signed = custom.sign(await compose());
    const h = tag(signatureHeaders(signed)[0], 'h');
    assert.equal(h, 'from:subject:list-unsubscribe-post', 'From is always signed');
    assert.deepEqual(dkimResults(await verify(signed)).map((r) => r.result), ['pass']);
  });
});

describe('canonicalisation (RFC 6376 §3.4.5 example)', () => {
  const bh = (body: string) => tag(signatureHeaders(signer.sign(Buffer.from('A: X\r\nFrom: a@b.c\r\n\r\n' + body, 'latin1')))[0], 'bh');
  const sha = (s: string) => crypto.createHash('sha256').update(s, 'latin1').digest('base64');

  test('relaxed body', () => {
    assert.equal(bh(' C \r\nD \t E\r\n\r\n\r\n'), sha(' C\r\nD E\r\n'));
  });
  test('an empty body and a body of empty lines hash as empty; a missing final CRLF is added', () => {
    assert.equal(bh(''), sha(''));
    assert.equal(bh('\r\n\r\n  \r\n'), sha(''));
    assert.equal(bh('end  '), sha('end\r\n'));
  });
  test('any body hashes as RFC 6376 3.4.4 says, whether already relaxed or not (2,000 generated bodies)', () => {
    // the RFC's steps, line by line, as a reference independent of the signer's
    const reference = (body: string) => {
      const lines = body.split('\r\n').map((l) => l.replace(/[ \t]+$/, '').replace(/[ \t]+/g, ' '));
      while (lines.length && lines[lines.length - 1] === '') lines.pop();
      return lines.length ? lines.join('\r\n') + '\r\n' : '';
    };
    const piece = fc.constantFrom('a', 'b', ' ', '  ', '\t', '\r\n', '\r\n\r\n', '=20', '\u00e9');
    fc.assert(fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
      const body = pieces.join('');
      assert.equal(bh(body), sha(reference(body)), JSON.stringify(body));
    }), { numRuns: 2_000 });
  });
});

describe('keys and records', () => {
  test('generated keys have the p= format each algorithm needs', () => {
    const ed = generateDkimKeyPair('ed25519-sha256');
    assert.equal(Buffer.from(ed.publicKeyDns, 'base64').length, 32, 'RFC 8463: raw 32-byte key');
    const rsa = generateDkimKeyPair('rsa-sha256');
    const pub = crypto.createPublicKey({ key: Buffer.from(rsa.publicKeyDns, 'base64'), format: 'der', type: 'spki' });
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(dkimRecordValue('rsa-sha256', 'AAA'), 'v=DKIM1; k=rsa; p=AAA');
    assert.equal(dkimRecordValue('ed25519-sha256', 'BBB'), 'v=DKIM1; k=ed25519; p=BBB');
  });

  test('a wrong key type, a bad domain or header name is refused at construction', () => {
    assert.throws(() => new DkimSigner([{ ...keys[0], algorithm: 'ed25519-sha256' }]));
    assert.throws(() => new DkimSigner([{ ...keys[1], domain: 'example.com; x=1' }]));
    assert.throws(() => new DkimSigner([]));
    assert.throws(() => new DkimSigner([keys[1]], { headers: ['subject; x=1'] }));
  });

  test('List-Unsubscribe-Post is signed by default (RFC 8058)', () => {
    assert.ok(DEFAULT_SIGNED_HEADERS.includes('list-unsubscribe-post'));
  });
});

test('throughput (printed, not asserted)', async () => {
  const filler = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(200); // ~12 KB once encoded, text + HTML
  const message = await compose({ text: filler.replace(/(.{70})/g, '$1\n') });
  const n = 2000;
  const rate = (s: DkimSigner) => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) s.sign(message);
    return Math.round(n / (Number(process.hrtime.bigint() - start) / 1e9));
  };
  const both = rate(signer);
  const rsaOnly = rate(new DkimSigner([keys[0]], { clock }));
  const edOnly = rate(new DkimSigner([keys[1]], { clock }));
  console.log(`DKIM throughput, ${n} messages of ${(message.length / 1024).toFixed(1)} KB, one thread: ` +
    `RSA-2048 + Ed25519 ${both} msg/s, RSA-2048 only ${rsaOnly} msg/s, Ed25519 only ${edOnly} msg/s`);
});
