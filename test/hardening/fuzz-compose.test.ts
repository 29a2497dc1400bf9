// Property-based tests of composition with hostile values: templates
// rendered with whatever a contact's fields hold, transactional messages
// from whatever an API caller sends, the header encoders, and the signed
// tokens in links and return paths. Properties: never throws, no header ever
// gains a line (CR/LF) from user data, no script URL reaches an attribute,
// round trips hold, and any alteration of a token is refused.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fc from 'fast-check';
import addressparser from 'nodemailer/lib/addressparser';
import { decodeWords } from 'postal-mime';
import { compileTemplate, renderTemplate, type CompiledTemplate, type TemplateSource } from '../../src/compose/templates/index.ts';
import { unsafeUrl } from '../../src/compose/templates/sanitize.ts';
import { addressHeader } from '../../src/compose/address-header.ts';
import { encodeHeader } from '../../src/compose/fast-mime.ts';
import { validateMessage } from '../../src/compose/validate.ts';
import { buildMime } from '../../src/compose/message.ts';
import { parseRaw } from '../../src/compose/raw.ts';
import { recipientToken, parseRecipientToken, type TokenPurpose } from '../../src/compose/recipient-token.ts';
import { clickToken, parseClickToken } from '../../src/compose/links.ts';
import { signToken, verifyToken } from '../../src/accounts/tokens.ts';
import { createSecrets } from '../../src/accounts/secrets.ts';
import { newId } from '../../src/ids.ts';
import type { OutgoingMessage } from '../../src/compose/types.ts';
import { fuzz, hostileString, within } from './fuzz.ts';

/** The header block of a message as [name, unfolded value], or a failure naming the line that is no header. */
function headerLines(raw: Buffer): { name: string; value: string }[] {
  const text = raw.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, 'a header block ends with an empty line');
  const out: { name: string; value: string }[] = [];
  for (const line of text.slice(0, end).split('\r\n')) {
    assert.doesNotMatch(line, /[\r\n]/, 'no bare CR or LF inside a header line');
    if (/^[ \t]/.test(line)) {
      assert.ok(out.length, 'a continuation line follows a header');
      out[out.length - 1].value += line;
      continue;
    }
    const m = /^([!-9;-~]+):(.*)$/.exec(line);
    assert.ok(m, `not a header line: ${JSON.stringify(line.slice(0, 80))}`);
    out.push({ name: m[1], value: m[2] });
  }
  return out;
}

describe('templates rendered with hostile contact data', () => {
  const SOURCES: TemplateSource[] = [
    {
      format: 'html',
      subject: 'Hello {{ contact.first_name | default: "there" }} {{ contact.city }}',
      body: '<p>Hi {{ contact.first_name | default: "there" }}, from {{ contact.city }}</p>'
        + '<a href="{{ contact.url }}">your page</a> <img src="{{ contact.avatar }}" alt="{{ contact.first_name | default: "" }}">'
        + '{% if contact.vip %}<b>VIP {{ contact.vip }}</b>{% endif %}<ul>{% for p in contact.items %}<li>{{ p }}</li>{% endfor %}</ul>',
      text: 'Hi {{ contact.first_name | default: "there" }} {{ contact.url }}',
    },
    {
      format: 'mjml',
      subject: '{{ contact.city }}: news',
      body: '<mjml><mj-head><mj-preview>{{ contact.first_name | default: "you" }}</mj-preview></mj-head><mj-body><mj-section><mj-column>'
        + '<mj-text>Dear {{ contact.first_name | default: "reader" }} of {{ contact.city }}</mj-text>'
        + '<mj-button href="{{ contact.url }}">Open</mj-button></mj-column></mj-section></mj-body></mjml>',
    },
  ];
  let compiled: CompiledTemplate[] = [];

  const value: fc.Arbitrary<unknown> = fc.oneof(
    hostileString(),
    fc.constantFrom('javascript:alert(1)', ' JaVaScRiPt:alert(1)', 'java\tscript:x', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:x', '&#106;avascript:x',
      'https://ok.example/?a=1&b=<2>', '"><script>alert(1)</script>', '{{ 7 | times: 7 }}', '{% for i in (1..100000000) %}x{% endfor %}'),
    fc.integer(), fc.double(), fc.boolean(), fc.constant(null),
    fc.array(hostileString(20), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }), hostileString(20), { maxKeys: 3 }),
  );
  const contact = fc.record({ first_name: value, city: value, url: value, avatar: value, vip: value, items: value }, { requiredKeys: [] });

  test('compile once', async () => {
    compiled = [];
    for (const src of SOURCES) {
      const r = await compileTemplate(src);
      assert.ok(r.ok, r.ok ? '' : r.error.detail);
      compiled.push(r.value);
    }
  });

  test('render: never throws; the subject stays one line; no script in the HTML; no script URL in an attribute', async (t) => {
    let rendered = 0;
    await fuzz(t, 'renderTemplate with hostile variables', 600, fc.property(fc.nat({ max: SOURCES.length - 1 }), contact, (i, c) => {
      const started = Date.now();
      const r = renderTemplate(compiled[i], { contact: c });
      assert.ok(Date.now() - started < 2000, 'a render is bounded in time');
      if (!r.ok) {
        assert.equal(r.error.code, 'message.invalid');
        return;
      }
      rendered++;
      assert.doesNotMatch(r.value.subject, /[\u0000-\u001f\u007f\u0085\u2028\u2029]/, 'the subject is one line');
      assert.doesNotMatch(r.value.html, /<script/i, 'contact data never becomes markup');
      for (const m of r.value.html.matchAll(/\s(?:href|src)="([^"]*)"/gi)) {
        const url = m[1].replace(/&#(\d+);/g, (_x, d) => String.fromCharCode(Number(d))).replace(/&#x([0-9a-f]+);/gi, (_x, h) => String.fromCharCode(parseInt(h, 16)))
          .replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
        assert.ok(!unsafeUrl(url), `a script URL in an attribute: ${url}`);
      }
    }));
    t.diagnostic(`${rendered} renders succeeded, the rest were refused with a reason`);
    assert.ok(rendered > 50);
  });

  test('compile: any source is compiled or refused, within a time bound', async (t) => {
    const piece = fc.oneof(
      fc.constantFrom('{{', '}}', '{%', '%}', '{{ contact.x }}', '{% if a %}', '{% endif %}', '{% for x in y %}', '{% endfor %}', '{% raw %}', '{% endraw %}',
        '{% include "x" %}', '{% render "x" %}', '{% assign a = "b" %}', '| raw', '| default: "x"', '<mj-section>', '</mj-section>', '<mj-column>', '<mj-text>',
        '</mj-text>', '<mjml>', '</mjml>', '<mj-body>', '</mj-body>', '<script>', '</script>', '<a href="javascript:x">', '<a href="{{ u }}">', '<!--', '-->',
        '<![CDATA[', ']]>', '<', '>', '"', "'", '&', '&#0;', '<mj-include path="/etc/passwd" />', '<mj-raw>', '</mj-raw>'),
      fc.string({ maxLength: 10 }),
    );
    const source = fc.array(piece, { maxLength: 40 }).map((p) => p.join(''));
    await fuzz(t, 'compileTemplate on random sources', 250, fc.asyncProperty(fc.constantFrom('html' as const, 'mjml' as const), source, source, async (format, subject, body) => {
      const r = await within(5000, 'compiling a template', compileTemplate({ format, subject: subject || 'x', body: body || 'x' }));
      if (r.ok) renderTemplate(r.value, {});
      else assert.equal(r.error.code, 'request.invalid');
    }));
  });
});

describe('transactional messages from API callers', () => {
  // mostly values a real caller sends, now and then a hostile one: a message gets past validation often enough to be built
  const mostly = <T>(valid: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid as fc.Arbitrary<unknown>, weight: 12 }, { arbitrary: hostileString(60), weight: 1 });
  const text = (max: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength: max }).filter((s) => s.trim() !== '');
  const name = fc.oneof(mostly(text(40)), fc.constant(undefined));
  const addr = fc.record({ email: mostly(fc.emailAddress()), name });
  const msg = fc.record({
    from: fc.record({ email: mostly(fc.constant('orders@shop.example')), name }),
    to: fc.array(addr, { minLength: 1, maxLength: 2 }),
    cc: fc.array(addr, { maxLength: 1 }),
    bcc: fc.array(addr, { maxLength: 2 }),
    subject: mostly(text(100)),
    text: fc.oneof(mostly(text(200)), fc.constant(undefined)),
    html: fc.oneof(hostileString(200), fc.constant(undefined)),
    headers: fc.dictionary(mostly(fc.stringMatching(/^X-[A-Za-z-]{1,12}$/)) as fc.Arbitrary<string>, mostly(text(60)), { maxKeys: 2 }),
    customId: fc.oneof(mostly(text(30)), fc.constant(undefined)),
    attachments: fc.array(fc.record({ filename: mostly(text(40)), contentType: mostly(fc.constant('text/plain')), content: fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)) }), { maxLength: 1 }),
  });

  test('a message is refused or built with exactly the headers asked for: no injected header, no Bcc', async (t) => {
    let built = 0;
    await fuzz(t, 'validateMessage → buildMime header injection', 700, fc.asyncProperty(msg, async (m) => {
      const v = validateMessage(m as OutgoingMessage, 50);
      if (!v.ok) return;
      const raw = await buildMime(v.value.msg, { messageId: 'x.1@shop.example', date: new Date(0), extraHeaders: { 'Feedback-ID': 'tx:transactional:acme:envoi' } });
      built++;
      const lines = headerLines(raw);
      const allowed = new Set(['from', 'to', 'cc', 'reply-to', 'subject', 'message-id', 'date', 'mime-version', 'content-type', 'content-transfer-encoding', 'feedback-id',
        ...Object.keys(v.value.msg.headers ?? {}).map((h) => h.toLowerCase())]);
      for (const h of lines) assert.ok(allowed.has(h.name.toLowerCase()), `unexpected header ${h.name}`);
      assert.equal(lines.filter((h) => h.name.toLowerCase() === 'subject').length, 1);
      assert.ok(parseRaw(raw).ok);
    }));
    t.diagnostic(`${built} messages built, the rest refused`);
    assert.ok(built > 30);
  });

  test('campaign headers: a value of any content stays one header field', async (t) => {
    await fuzz(t, 'fast-mime encodeHeader', 1000, fc.property(
      fc.constantFrom('Subject', 'X-Campaign', 'From', 'List-Unsubscribe', 'Reply-To'), hostileString(300), fc.option(hostileString(60)),
      (header, value, display) => {
        let line: string;
        try {
          line = ['From', 'Reply-To'].includes(header) ? encodeHeader(header, display === null ? value : { email: 'news@shop.example', name: display }) : encodeHeader(header, value);
        } catch (e) {
          // a programming error by contract (a non-ASCII structured value): a TypeError, never a broken header
          assert.ok(e instanceof TypeError, String(e));
          return;
        }
        const lines = headerLines(Buffer.from(`${line}\r\n`, 'latin1'));
        assert.equal(lines.length, 1);
        assert.equal(lines[0].name, header);
      },
    ));
  });

  test('round trip: a display name and address come back from the From header as written', async (t) => {
    const displayName = fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\u0000-\u001f\u007f]/g, '').replace(/\s+/g, ' ').trim());
    await fuzz(t, 'addressHeader round trip', 1000, fc.property(fc.emailAddress(), displayName, (email, n) => {
      fc.pre(/^[\x21-\x7e]+$/.test(email));
      const header = addressHeader(email, n);
      assert.doesNotMatch(header, /[\r\n]/);
      const [parsed] = addressparser(header, { flatten: true }) as { name: string; address: string }[];
      assert.equal(parsed.address, email);
      assert.equal(decodeWords(parsed.name), n);
    }));
  });
});

describe('signed tokens: recipient (VERP, unsubscribe, open), click, confirmation', () => {
  const secrets = createSecrets(crypto.randomBytes(32));
  const other = createSecrets(crypto.randomBytes(32));
  const rid = fc.constant(null).map(() => newId('rcp'));
  const purposes: TokenPurpose[] = ['verp', 'unsub', 'open'];
  /** a change of one character, or a cut, or an addition */
  const edit = fc.record({ at: fc.nat(), kind: fc.constantFrom('replace', 'delete', 'insert', 'case'), ch: fc.constantFrom(...'0123456789abcdefABCDEF-._~!%zZ') });
  const applyEdit = (s: string, e: { at: number; kind: string; ch: string }) => {
    const i = e.at % (s.length + 1);
    if (e.kind === 'delete') return s.slice(0, i) + s.slice(i + 1);
    if (e.kind === 'insert') return s.slice(0, i) + e.ch + s.slice(i);
    if (e.kind === 'case') return s.slice(0, i) + (s[i] === s[i]?.toUpperCase() ? s[i]?.toLowerCase() : s[i]?.toUpperCase()) + s.slice(i + 1);
    return s.slice(0, i) + e.ch + s.slice(i + 1);
  };

  test('recipient tokens: round trip; another purpose, another key or any edit is refused', async (t) => {
    await fuzz(t, 'recipient token round trip and alteration', 1500, fc.property(rid, fc.constantFrom(...purposes), edit, (id, purpose, e) => {
      const token = recipientToken(secrets, purpose, id);
      assert.equal(parseRecipientToken(secrets, purpose, token), id);
      // lower case in, as some MTAs deliver it
      assert.equal(parseRecipientToken(secrets, purpose, token.toLowerCase()), id);
      for (const p of purposes) if (p !== purpose) assert.equal(parseRecipientToken(secrets, p, token), null);
      assert.equal(parseRecipientToken(other, purpose, token), null);
      const changed = applyEdit(token, e);
      if (changed.toLowerCase() !== token.toLowerCase()) {
        const back = parseRecipientToken(secrets, purpose, changed);
        assert.ok(back === null || back === id.toLowerCase(), `an edited token named ${back}`);
        // the only accepted edits leave the id and MAC as they were (case)
        if (back) assert.equal(changed.toLowerCase(), token.toLowerCase());
      }
    }));
  });

  test('click tokens: round trip for any http(s) URL; an edit, another URL or a non-http URL is never followed', async (t) => {
    const url = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), fc.constantFrom('javascript:alert(1)', 'data:text/html,x', 'ftp://x.example/', '//evil.example', 'https:evil'));
    await fuzz(t, 'click token round trip and alteration', 1500, fc.property(rid, url, edit, fc.webUrl(), (id, u, e, u2) => {
      const token = clickToken(secrets, id, u);
      const back = parseClickToken(secrets, token);
      if (/^https?:\/\//i.test(u)) assert.deepEqual(back, { recipientId: id, url: u });
      else assert.equal(back, null, 'a signed URL that is not http(s) is still refused');
      assert.equal(parseClickToken(other, token), null);
      // the MAC of one URL does not carry another
      const [body, , mac] = token.split('.');
      if (u2 !== u) assert.equal(parseClickToken(secrets, `${body}.${Buffer.from(u2).toString('base64url')}.${mac}`), null);
      const changed = applyEdit(token, e);
      if (changed !== token) {
        const r = parseClickToken(secrets, changed);
        assert.ok(r === null || (r.recipientId === id && r.url === u), `an edited click token was followed to ${r?.url}`);
      }
    }));
  });

  test('expiring tokens (confirmation, forms): round trip; an edit, another purpose or expiry is refused', async (t) => {
    const payload = fc.dictionary(fc.constantFrom('t', 'l', 'c', 'r', 'k'), fc.string({ maxLength: 30 }), { minKeys: 1 });
    await fuzz(t, 'expiring token round trip and alteration', 1500, fc.property(payload, fc.integer({ min: 1, max: 10 ** 9 }), edit, (p, ttl, e) => {
      const now = Date.parse('2026-06-01T00:00:00Z');
      const token = signToken(secrets, 'confirm', p, now + ttl * 1000);
      const v = verifyToken(secrets, 'confirm', token, now);
      assert.ok(v.ok);
      assert.deepEqual(Object.fromEntries(Object.entries(v.payload).filter(([k]) => k !== 'exp')), { ...p });
      assert.deepEqual(verifyToken(secrets, 'form', token, now).ok, false);
      assert.deepEqual(verifyToken(other, 'confirm', token, now).ok, false);
      assert.deepEqual(verifyToken(secrets, 'confirm', token, now + ttl * 1000 + 1000), { ok: false, reason: 'expired' });
      const changed = applyEdit(token, e);
      if (changed !== token) assert.equal(verifyToken(secrets, 'confirm', changed, now).ok, false, `an edited token was accepted: ${changed}`);
    }));
  });
});
