// Consent collection end to end, through the HTTPS listener, on SQLite and
// PostgreSQL: the hosted form, the sign-up, the confirmation mail in the
// sandbox, the link (GET asks, POST confirms), the snippet, and every way the
// form refuses or quietly ignores a post without storing anything.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import PostalMime from 'postal-mime';
import { DIALECTS } from '../helpers/store.ts';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import { clientKey, createRateLimiter } from '../../src/http/public/rate-limit.ts';

const CONSENT = 'Yes, send me the weekly offers of Shop & Co by email. I can unsubscribe at any time.';
const CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'";
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const tokenOf = (page: string) => /name="token" value="([^"]+)"/.exec(page)?.[1] ?? assert.fail('no form token in the page');
const checkbox = (page: string) => /<input type="checkbox"[^>]*>/.exec(page)?.[0] ?? assert.fail('no checkbox');

function post(t: TestApp, path: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return t.api('POST', path, { rawBody: new URLSearchParams(fields).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
}

/** Fetches the form and posts it as a browser would. */
async function signUp(t: TestApp, listId: string, email: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}) {
  const form = await t.api('GET', `/f/${listId}`);
  return post(t, `/f/${listId}`, { token: tokenOf(form.text), email, first_name: 'Alice', consent: 'yes', website: '', ...extra }, headers);
}

/** The confirmation mails to `to` in the sandbox, newest first, with their link's path. */
async function mailsTo(t: TestApp, token: string, to: string, count = 1) {
  const entries = await eventually(async () => {
    const l = await t.api('GET', '/v1/sandbox/messages?limit=500', { token });
    const mine = l.body.data.filter((e: { rcpt_to: string }) => e.rcpt_to === to);
    return mine.length >= count && mine;
  });
  return Promise.all(entries.map(async (e: { id: string }) => {
    const raw = await t.api('GET', `/v1/sandbox/messages/${e.id}/raw`, { token });
    const mail = await PostalMime.parse(raw.text);
    const link = /https:\/\/\S+\/confirm\/[A-Za-z0-9_.-]+/.exec(mail.text ?? '')?.[0] ?? assert.fail('no link in the mail');
    return { raw: raw.text, mail, link, path: new URL(link).pathname };
  }));
}

const accepted = async (t: TestApp, to: string) =>
  (await t.app.store.db.selectFrom('recipients').select('id').where('address', '=', to).execute()).length;

test('client keys: an IPv6 host counts by its /64, a mapped IPv4 address as IPv4', () => {
  const table: [string, string][] = [
    ['203.0.113.9', '203.0.113.9'], ['::ffff:203.0.113.9', '203.0.113.9'], ['2001:db8::1', '2001:db8:0:0::/64'],
    ['2001:0db8:00aa:0bcd:1:2:3:4', '2001:db8:aa:bcd::/64'], ['2001:db8:aa:bcd::ffff', '2001:db8:aa:bcd::/64'], ['fe80::1%eth0', 'fe80:0:0:0::/64'],
  ];
  for (const [ip, key] of table) assert.equal(clientKey(ip), key, ip);
  const clock = manualClock();
  const l = createRateLimiter({ limit: 1, windowMs: 60_000, clock, maxKeys: 2 });
  for (const ip of ['a', 'b', 'c']) assert.deepEqual(l.hit(ip), { allowed: true });
  assert.equal(l.size(), 2, 'memory stays bounded under a spray of addresses');
});

for (const dialect of DIALECTS) {
  describe(`subscription forms (${dialect})`, () => {
    let t: TestApp;
    let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
    let other: Awaited<ReturnType<typeof tenantWithDomain>>;
    const lists: Record<string, { id: string; name: string }> = {};
    const newList = async (tenantId: string, name: string, extra: Record<string, unknown> = {}) => {
      const r = await t.app.services.audience.lists.create(tenantId, {
        name, description: 'Our best offers, every Monday.', fromAddress: 'news@shop.example', fromName: 'Shop & Co News', consentText: CONSENT, ...extra,
      });
      assert.ok(r.ok, JSON.stringify(!r.ok && r.error));
      return (lists[name] = r.value);
    };
    const count = (listId: string) => t.app.services.audience.mailable.count(acme.tenantId, [listId]);
    const known = async (email: string) => (await t.app.services.audience.contacts.find(acme.tenantId, email)) !== undefined;

    before(async () => {
      t = await startTestApp(dialect, { audience: { formRequestsPerIpPerMinute: 1000 } });
      acme = await tenantWithDomain(t, 'acme', 'shop.example');
      other = await tenantWithDomain(t, 'other', 'other.example');
      await newList(acme.tenantId, 'weekly');
      await newList(acme.tenantId, 'flash', { optIn: 'single' });
      await newList(other.tenantId, 'private', { fromAddress: 'news@other.example', description: 'Secret plans.' });
    });
    after(() => t.close());

    test('the hosted form: unchecked stand-alone consent box, the From address, security headers', async () => {
      const r = await t.api('GET', `/f/${lists.weekly.id}`);
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      assert.ok(String(r.headers['content-security-policy']).startsWith(CSP));
      assert.match(String(r.headers['content-security-policy']), /frame-ancestors 'none'/);
      assert.equal(r.headers['x-frame-options'], 'DENY');
      assert.equal(r.headers['referrer-policy'], 'no-referrer');
      assert.doesNotMatch(checkbox(r.text), /checked/);
      assert.match(checkbox(r.text), /id="consent"/);
      const pieces = [
        `<label for="consent">${esc(CONSENT)}</label>`, // the exact consent text is the box's label, alone
        'Shop &amp; Co News &lt;news@shop.example&gt;', 'address book', 'Our best offers, every Monday.',
        '<label for="email">', '<label for="first-name">', '<div hidden><label for="website">',
      ];
      for (const piece of pieces) assert.ok(r.text.includes(piece), piece);
      assert.doesNotMatch(r.text, /<script/i);
    });

    test('double opt-in: sign-up, mail, GET asks, POST confirms, POST again is "already"', async () => {
      const ua = { 'user-agent': 'FormTest/1.0' };
      const r = await signUp(t, lists.weekly.id, 'alice@example.org', {}, ua);
      assert.equal(r.status, 200, r.text);
      assert.match(r.text, /Check your inbox/);
      assert.equal(await count(lists.weekly.id), 0, 'pending until confirmed');
      const [m] = await mailsTo(t, acme.token, 'alice@example.org');
      assert.equal(m.mail.from?.address, 'news@shop.example');
      assert.match(m.mail.subject ?? '', /weekly/);
      assert.match(m.mail.text ?? '', /Shop & Co News <news@shop\.example>/);
      assert.match(m.mail.text ?? '', /address book/);
      assert.match(m.mail.html || '', /Shop &#38; Co News &#60;news@shop\.example&#62;/);
      assert.ok(m.link.startsWith(t.app.services.publicUrl() + '/confirm/'));
      assert.match(m.raw, /^DKIM-Signature:/m);

      for (let i = 0; i < 2; i++) {
        const g = await t.api('GET', m.path);
        assert.equal(g.status, 200);
        assert.match(g.text, new RegExp(`<form method="post" action="${m.path}">`));
        assert.equal(g.headers['referrer-policy'], 'no-referrer');
      }
      assert.equal(await count(lists.weekly.id), 0, 'a GET (a link scanner) never confirms');

      // as a browser submits the one-button form: an empty form-encoded body
      const c = await t.api('POST', m.path, { rawBody: '', headers: { ...ua, 'content-type': 'application/x-www-form-urlencoded' } });
      assert.equal(c.status, 200);
      assert.match(c.text, /Subscription confirmed/);
      assert.equal(await count(lists.weekly.id), 1);
      const again = await t.api('POST', m.path);
      assert.equal(again.status, 200);
      assert.match(again.text, /Already confirmed/);
      assert.equal(await count(lists.weekly.id), 1);

      const contact = await t.app.services.audience.contacts.find(acme.tenantId, 'alice@example.org');
      const events = await t.app.store.db.selectFrom('events').select('type').where('message_id', '=', contact!.id).orderBy('id').execute();
      assert.deepEqual(events.map((e) => e.type), ['subscribed', 'confirmation_sent', 'confirmed']);

      // signing up again once subscribed: the same page, no mail
      const sent = await accepted(t, 'alice@example.org');
      const re = await signUp(t, lists.weekly.id, 'alice@example.org');
      assert.equal(re.status, 200);
      assert.equal(re.text, r.text);
      assert.equal(await accepted(t, 'alice@example.org'), sent);
    });

    test('bad posts store nothing: missing, forged or foreign token, unchecked box, invalid address', async () => {
      const form = await t.api('GET', `/f/${lists.weekly.id}`);
      const good = { token: tokenOf(form.text), email: 'bad@example.org', consent: 'yes', website: '' };
      const foreign = tokenOf((await t.api('GET', `/f/${lists.flash.id}`)).text);
      const cases: [string, Record<string, string>, RegExp][] = [
        ['missing token', { ...good, token: '' }, /out of date or could not be checked/],
        ['forged token', { ...good, token: good.token.slice(0, -4) + (good.token.endsWith('AAAA') ? 'BBBB' : 'AAAA') }, /out of date/],
        ["another list's token", { ...good, token: foreign }, /out of date/],
        ['consent box not ticked', { ...good, consent: '' }, /tick the consent box/],
        ['invalid address', { ...good, email: '"><script>alert(1)</script>@x' }, /valid email address/],
      ];
      for (const [name, fields, error] of cases) {
        const r = await post(t, `/f/${lists.weekly.id}`, fields);
        assert.equal(r.status, 400, name);
        assert.match(r.text, error, name);
        assert.doesNotMatch(r.text, /<script>/, name);
        assert.doesNotMatch(checkbox(r.text), /checked/, `${name}: the box is never ticked for them`);
        assert.ok(tokenOf(r.text), `${name}: a token to try again`);
      }
      assert.equal(await known('bad@example.org'), false);
      const wrongList = await post(t, '/f/lst_0000000000nothinghere0000', good);
      assert.equal(wrongList.status, 404);
    });

    test('quietly ignored, with the same page as a success: the honeypot, a suppressed address', async () => {
      const real = await signUp(t, lists.weekly.id, 'human@example.org');
      const bot = await signUp(t, lists.weekly.id, 'bot@example.org', { website: 'http://spam.example' });
      assert.equal(bot.status, 200);
      assert.equal(bot.text, real.text);
      assert.equal(await known('bot@example.org'), false, 'the honeypot stores nothing');
      await t.app.services.audience.suppression.add(acme.tenantId, 'bounced@example.org', 'hard_bounce', 'test');
      assert.equal((await signUp(t, lists.weekly.id, 'bounced@example.org')).text, real.text);
      for (const to of ['bot@example.org', 'bounced@example.org']) assert.equal(await accepted(t, to), 0, `no mail to ${to}`);
    });

    test('a newer sign-up supersedes the older link; tampered links change nothing', async () => {
      await signUp(t, lists.weekly.id, 'twice@example.org');
      await signUp(t, lists.weekly.id, 'twice@example.org');
      const [newer, older] = await mailsTo(t, acme.token, 'twice@example.org', 2);
      for (const method of ['GET', 'POST']) {
        const r = await t.api(method, older.path);
        assert.equal(r.status, 410, method);
        assert.match(r.text, /replaced/);
      }
      const [body, mac] = newer.path.slice('/confirm/'.length).split('.');
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      for (const bad of [`${flip(body, 5)}.${mac}`, `${body}.${flip(mac, 3)}`, body, `${body}.`, 'x', tokenOf((await t.api('GET', `/f/${lists.weekly.id}`)).text)]) {
        for (const method of ['GET', 'POST']) {
          const r = await t.api(method, `/confirm/${bad}`);
          assert.equal(r.status, 400, `${method} ${bad}`);
          assert.match(r.text, /not valid/);
        }
      }
      const c = await t.app.services.audience.contacts.find(acme.tenantId, 'twice@example.org');
      const sub = (await t.app.services.audience.subscriptions.ofContact(acme.tenantId, c!.id))[0];
      assert.equal(sub.status, 'pending', 'nothing changed');
      assert.equal((await t.api('POST', newer.path)).status, 200);
    });

    test('the daily cap: four sign-ups of one address send three mails, and the last mailed link still works', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await signUp(t, lists.weekly.id, 'bombed@example.org')).status, 200);
      assert.equal(await accepted(t, 'bombed@example.org'), 3);
      const [latest] = await mailsTo(t, acme.token, 'bombed@example.org', 3);
      const r = await t.api('POST', latest.path);
      assert.match(r.text, /Subscription confirmed/, 'the capped fourth sign-up did not supersede it');
    });

    test('a single opt-in list subscribes at once, recorded as single opt-in, without a mail', async () => {
      const r = await signUp(t, lists.flash.id, 'quick@example.org');
      assert.equal(r.status, 200);
      assert.match(r.text, /You are subscribed/);
      assert.equal(await count(lists.flash.id), 1);
      assert.equal(await accepted(t, 'quick@example.org'), 0);
      const proof = await t.app.services.audience.proof(acme.tenantId, 'quick@example.org', 'flash');
      assert.equal(proof!.lists[0].consent!.optIn, 'single');
      assert.equal((await signUp(t, lists.flash.id, 'quick@example.org')).text, r.text);
    });

    test('the snippet: a plain form posting to envoi, with a year-long token; tenant-scoped', async () => {
      const r = await t.api('GET', '/v1/lists/weekly/form-snippet', { token: acme.token });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
      const action = `${t.app.services.publicUrl()}/f/${lists.weekly.id}`;
      assert.ok(r.text.includes(`<form method="post" action="${action}" accept-charset="UTF-8">`));
      assert.doesNotMatch(checkbox(r.text), /checked/);
      assert.ok(r.text.includes(`<label for="envoi-${lists.weekly.id}-consent">${esc(CONSENT)}</label>`));
      assert.match(r.text, /news@shop\.example/);
      const token = tokenOf(r.text);
      const exp = JSON.parse(Buffer.from(token.split('.')[0], 'base64url').toString()).exp * 1000;
      assert.ok(exp - Date.now() > 360 * 86_400_000, 'valid for a year');
      assert.equal((await t.api('GET', `/v1/lists/${lists.weekly.id}/form-snippet`, { token: acme.token })).status, 200, 'by id too');

      const sent = await post(t, `/f/${lists.weekly.id}`, { token, email: 'embedded@example.org', consent: 'yes', website: '' }, { referer: 'https://shop.example/newsletter' });
      assert.equal(sent.status, 200);
      const proof = await t.app.services.audience.proof(acme.tenantId, 'embedded@example.org');
      assert.equal(proof!.lists[0].consent!.formUrl, 'https://shop.example/newsletter', 'the page the form was on');

      for (const ref of [lists.private.id, 'private', 'nothing']) {
        const x = await t.api('GET', `/v1/lists/${ref}/form-snippet`, { token: acme.token });
        assert.equal(x.status, 404, ref);
        assert.equal(x.body.code, 'not_found');
        assert.doesNotMatch(x.text, /Secret plans|other\.example/);
      }
      assert.equal((await t.api('GET', '/v1/lists/weekly/form-snippet')).status, 401);
    });

    test("another tenant's form tells nothing about its subscribers", async () => {
      const theirs = lists.private.id;
      const crossed = await post(t, `/f/${theirs}`, { token: tokenOf((await t.api('GET', `/f/${lists.weekly.id}`)).text), email: 'x@example.org', consent: 'yes' });
      assert.equal(crossed.status, 400, "a token of acme's form does not open another list");
      const member = await signUp(t, theirs, 'member@example.org');
      const [m] = await mailsTo(t, other.token, 'member@example.org');
      assert.equal((await t.api('POST', m.path)).status, 200);
      const again = await signUp(t, theirs, 'member@example.org');
      const stranger = await signUp(t, theirs, 'stranger@example.org');
      assert.equal(again.text, member.text);
      assert.equal(stranger.text, member.text);
      for (const page of [again.text, stranger.text, (await t.api('GET', `/f/${theirs}`)).text]) assert.doesNotMatch(page, /member@|stranger@|con_/);
      assert.equal((await t.api('GET', '/v1/sandbox/messages?limit=500', { token: acme.token })).body.data.some((e: { rcpt_to: string }) => e.rcpt_to === 'member@example.org'), false);
    });
  });

  describe(`subscription forms with a hand-moved clock (${dialect})`, () => {
    const clock = manualClock();
    let t: TestApp;
    let listId: string;
    let k: Awaited<ReturnType<typeof tenantWithDomain>>;
    before(async () => {
      t = await startTestApp(dialect, { audience: { formRequestsPerIpPerMinute: 3, confirmationTtlHours: 48 } }, { clock });
      k = await tenantWithDomain(t, 'acme', 'shop.example');
      const l = await t.app.services.audience.lists.create(k.tenantId, { name: 'weekly', fromAddress: 'news@shop.example', fromName: 'Shop', consentText: CONSENT });
      assert.ok(l.ok);
      listId = l.value.id;
    });
    beforeEach(() => clock.advance(120_000)); // each test starts with an empty rate window
    after(() => t.close());

    test('a burst from one IP: 429 with Retry-After, then the window slides', async () => {
      for (let i = 0; i < 3; i++) assert.equal((await post(t, `/f/${listId}`, { email: 'x@example.org' })).status, 400);
      const r = await post(t, `/f/${listId}`, { email: 'x@example.org' });
      assert.equal(r.status, 429);
      assert.equal(r.headers['retry-after'], '60');
      assert.match(r.text, /Too many attempts/);
      clock.advance(30_000);
      const later = await post(t, `/f/${listId}`, {});
      assert.equal(later.status, 429);
      assert.equal(later.headers['retry-after'], '30');
      assert.equal((await t.api('GET', `/f/${listId}`)).status, 200, 'reading the form is not limited');
      clock.advance(30_001);
      assert.equal((await post(t, `/f/${listId}`, {})).status, 400);
    });

    test('an expired form token: 400, nothing stored, and the fresh form works', async () => {
      const form = await t.api('GET', `/f/${listId}`);
      clock.advance(25 * 3_600_000);
      const r = await post(t, `/f/${listId}`, { token: tokenOf(form.text), email: 'late@example.org', consent: 'yes' });
      assert.equal(r.status, 400);
      assert.equal(await t.app.services.audience.contacts.find(k.tenantId, 'late@example.org'), undefined);
      const retry = await post(t, `/f/${listId}`, { token: tokenOf(r.text), email: 'late@example.org', consent: 'yes' });
      assert.equal(retry.status, 200);
    });

    test('an expired confirmation link: 410, nothing confirmed', async () => {
      await signUp(t, listId, 'slow@example.org');
      const [m] = await mailsTo(t, k.token, 'slow@example.org');
      assert.match(m.mail.text ?? '', /The link works until 2026-11-/);
      clock.advance(49 * 3_600_000);
      for (const method of ['GET', 'POST']) {
        const r = await t.api(method, m.path);
        assert.equal(r.status, 410);
        assert.match(r.text, /expired/);
      }
      assert.equal(await t.app.services.audience.mailable.count(k.tenantId, [listId]), 0);
    });

    test('the daily cap starts again the next day', async () => {
      for (let i = 0; i < 4; i++) {
        clock.advance(61_000);
        await signUp(t, listId, 'daily@example.org');
      }
      assert.equal(await accepted(t, 'daily@example.org'), 3);
      clock.advance(86_400_000);
      await signUp(t, listId, 'daily@example.org');
      assert.equal(await accepted(t, 'daily@example.org'), 4);
    });
  });
}
