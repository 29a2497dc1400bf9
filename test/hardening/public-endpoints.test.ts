// The public endpoints, the ones anyone on the internet reaches without a
// key: one-click unsubscribe (/u/), the click redirect (/c/), the open pixel
// (/o/), the subscription form (/f/) and the confirmation link (/confirm/).
// Forged, altered, cross-purpose, replayed and expired tokens change nothing;
// the redirect never goes to an unsigned URL; the probing and form limits
// hold under a burst of concurrent requests; the pages carry their security
// headers. The app runs on a clock the test moves forward (rate windows,
// token expiry).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import fc from 'fast-check';
import PostalMime from 'postal-mime';
import { DIALECTS } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { clickToken } from '../../src/compose/links.ts';
import { signToken } from '../../src/accounts/tokens.ts';
import { startWorld, type World } from './world.ts';
import { fuzz } from './fuzz.ts';

interface Res { status: number; headers: Record<string, string | string[] | undefined>; text: string }

/** Flips one character of a token part, keeping its alphabet. */
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === '0' ? '1' : s[at] === 'A' ? 'B' : '0') + s.slice(at + 1);

for (const dialect of DIALECTS) {
  describe(`public endpoints under attack (${dialect})`, () => {
    let w: World;
    let offset = 0;
    let agent: https.Agent;
    const clock = { now: () => Date.now() + offset };
    /** the next minute: every in-memory rate window starts afresh */
    const nextMinute = () => { offset += 61_000; };

    before(async () => {
      w = await startWorld(dialect, {} as never, { clock });
      agent = new https.Agent({ keepAlive: true, maxSockets: 64, ca: w.t.ca });
    });
    after(async () => {
      agent?.destroy();
      await w?.close();
    });

    function request(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Res> {
      return new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: w.t.app.ports.http, path, method, agent, servername: 'localhost', headers: body === undefined ? headers : { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        });
        req.on('error', reject);
        if (body !== undefined) req.write(body);
        req.end();
      });
    }

    const events = async (type: string) => Number((await w.t.app.store.db.selectFrom('events').select((eb) => eb.fn.countAll().as('n')).where('type', '=', type).executeTakeFirstOrThrow()).n);
    const subscription = async () => (await w.api(w.b, 'GET', `/v1/contacts/${w.ids.contact}`)).body.subscriptions[0].status as string;

    test('forged, altered and cross-purpose tokens on /u, /c and /o change nothing', async () => {
      nextMinute();
      const before = { clicked: await events('clicked'), opened: await events('opened'), unsubscribed: await events('unsubscribed') };
      const unsub = w.links.unsubscribe.slice(3); // /u/<token>
      const open = w.links.open.slice(3).replace(/\.gif$/, '');
      const click = w.links.click.slice(3);
      const [body, url, mac] = click.split('.');
      const evil = Buffer.from('https://evil.example/phish').toString('base64url');
      const forgedU = [
        `${'0'.repeat(26)}-${'0'.repeat(14)}`, flip(unsub, unsub.length - 1), flip(unsub, 0), `${unsub}0`, unsub.slice(0, -1), open,
        `${unsub}%00`, `${unsub.toUpperCase()}x`,
      ];
      for (const token of forgedU) {
        for (const method of ['GET', 'POST']) {
          const r = await request(method, `/u/${token}`, method === 'POST' ? 'List-Unsubscribe=One-Click' : undefined);
          assert.ok([400, 404, 429].includes(r.status), `${method} /u/${token}: ${r.status}`);
        }
      }
      const forgedC = [
        `${body}.${evil}.${mac}`, `${body}.${url}.${flip(mac, 3)}`, `${flip(body, 2)}.${url}.${mac}`, `${body}.${url}`, `${body}.${url}.${mac}.x`,
        `${body}.${url}.${mac}%0d%0aLocation:%20https://evil.example/`, `${body}.${Buffer.from('https://evil.example/').toString('base64url')}.${'A'.repeat(16)}`,
        // signed with our key but not an http(s) URL: still never followed
        clickToken(w.t.app.secrets, `rcp_${body}`, 'javascript:alert(1)'),
        clickToken(w.t.app.secrets, `rcp_${body}`, 'data:text/html,<script>alert(1)</script>'),
      ];
      for (const token of forgedC) {
        const r = await request('GET', `/c/${token}`);
        assert.ok([400, 404, 429].includes(r.status), `/c/${token}: ${r.status} → ${r.headers.location}`);
        assert.equal(r.headers.location, undefined);
      }
      for (const token of [`${'0'.repeat(26)}-${'0'.repeat(14)}`, flip(open, open.length - 2), unsub]) {
        const r = await request('GET', `/o/${token}.gif`);
        assert.equal(r.status, 200, 'the pixel always answers');
        assert.equal(r.headers['content-type'], 'image/gif');
      }
      assert.equal(await subscription(), 'subscribed');
      assert.deepEqual({ clicked: await events('clicked'), opened: await events('opened'), unsubscribed: await events('unsubscribed') }, before);
    });

    test('the click redirect never leaves for an unsigned URL (random paths)', async (t) => {
      const [body, url, mac] = w.links.click.slice(3).split('.');
      const piece = fc.oneof(fc.constantFrom(body, url, mac, '.', '%2e', '%0d%0a', '//evil.example', 'https:', '..', '%2F'), fc.stringMatching(/^[A-Za-z0-9_.~%-]{0,40}$/));
      await fuzz(t, `/c/ with random tokens (${dialect})`, 150, fc.asyncProperty(fc.array(piece, { maxLength: 6 }), async (parts) => {
        const token = parts.join('');
        fc.pre(token !== w.links.click.slice(3));
        const r = await request('GET', `/c/${token}`);
        assert.ok(r.status < 300 || r.status >= 400, `/c/${token}: ${r.status} → ${r.headers.location}`);
        assert.equal(r.headers.location, undefined);
      }));
    });

    test('valid links: the click goes to the signed URL, the open is counted, GET /u never unsubscribes; replays are idempotent', async () => {
      nextMinute();
      const clicked = await events('clicked');
      const go = await request('GET', w.links.click);
      assert.equal(go.status, 302);
      assert.equal(go.headers.location, w.links.clickTarget);
      assert.equal(go.headers['referrer-policy'], 'no-referrer');
      assert.equal(await events('clicked'), clicked + 1);
      const opened = await events('opened');
      assert.equal((await request('GET', w.links.open)).status, 200);
      assert.equal(await events('opened'), opened + 1);

      const page = await request('GET', w.links.unsubscribe);
      assert.equal(page.status, 200);
      assert.equal(await subscription(), 'subscribed', 'a GET (a scanner\'s prefetch) changes nothing');
      // the preference form names a list: another tenant's list is refused
      const alpha = await w.api(w.a, 'POST', '/v1/lists', { name: 'alpha-list', fromAddress: `news@${w.a.domain}`, fromName: 'Alpha', consentText: 'Alpha news', optIn: 'single' });
      const other = await request('POST', w.links.unsubscribe, `list=${alpha.body.id}`);
      assert.equal(other.status, 400);
      assert.equal(await subscription(), 'subscribed');
      const one = await request('POST', w.links.unsubscribe, 'List-Unsubscribe=One-Click');
      assert.equal(one.status, 200);
      assert.equal(await subscription(), 'unsubscribed');
      const events1 = await events('unsubscribed');
      const again = await request('POST', w.links.unsubscribe, 'List-Unsubscribe=One-Click');
      assert.equal(again.status, 200, 'a replayed one-click POST is answered the same');
      assert.equal(await subscription(), 'unsubscribed');
      assert.equal(await events('unsubscribed'), events1, 'and records nothing more');
    });

    test('bursts: forged-token probing is held to 30 a minute per client, sign-ups to the configured limit; valid links still work', async (t) => {
      nextMinute();
      const burst = async (n: number, make: (i: number) => Promise<Res>) => {
        const results = await Promise.all(Array.from({ length: n }, (_, i) => make(i)));
        const by = new Map<number, number>();
        for (const r of results) by.set(r.status, (by.get(r.status) ?? 0) + 1);
        return { by, results };
      };
      const c = await burst(300, (i) => request('GET', `/c/${'0'.repeat(26)}.${Buffer.from(`https://x.example/${i}`).toString('base64url')}.${'A'.repeat(16)}`));
      assert.equal(c.by.get(400), 30, JSON.stringify([...c.by]));
      assert.equal(c.by.get(429), 270);
      assert.ok(c.results.filter((r) => r.status === 429).every((r) => Number(r.headers['retry-after']) > 0));
      assert.equal((await request('GET', w.links.click)).status, 302, 'a valid link is never limited');
      const u = await burst(300, (i) => request('POST', `/u/${'0'.repeat(26)}-${i.toString(16).padStart(14, '0')}`, 'List-Unsubscribe=One-Click'));
      assert.equal(u.by.get(400), 30, JSON.stringify([...u.by]));
      assert.equal(u.by.get(429), 270);

      const form = await request('GET', `/f/${w.ids.list}`);
      const token = /name="token" value="([^"]+)"/.exec(form.text)![1];
      const contactsBefore = (await w.api(w.b, 'GET', '/v1/contacts?limit=500')).body.data.length;
      const f = await burst(200, (i) => request('POST', `/f/${w.ids.list}`, new URLSearchParams({ token, email: `burst${i}@beta-customer.example`, consent: 'yes', website: '' }).toString()));
      assert.equal(f.by.get(429), 190, JSON.stringify([...f.by]));
      const contactsAfter = (await w.api(w.b, 'GET', '/v1/contacts?limit=500')).body.data.length;
      assert.ok(contactsAfter - contactsBefore <= 10, `${contactsAfter - contactsBefore} sign-ups got through a limit of 10`);
      t.diagnostic(`burst: /c ${JSON.stringify([...c.by])}, /u ${JSON.stringify([...u.by])}, /f ${JSON.stringify([...f.by])}`);
    });

    test('forms and confirmation links: forged, altered, replayed and expired tokens change nothing', async () => {
      nextMinute();
      const list = await w.api(w.b, 'POST', '/v1/lists', { name: 'beta-double', fromAddress: `news@${w.b.domain}`, fromName: 'Beta Shop', consentText: 'Beta double news', optIn: 'double' });
      assert.equal(list.status, 201, list.text);
      const listId = list.body.id as string;
      const tokenOf = async () => /name="token" value="([^"]+)"/.exec((await request('GET', `/f/${listId}`)).text)![1];
      const post = (token: string, email: string) => request('POST', `/f/${listId}`, new URLSearchParams({ token, email, consent: 'yes', website: '' }).toString());
      const known = async (email: string) => (await w.api(w.b, 'GET', `/v1/contacts/${encodeURIComponent(email)}`)).status === 200;

      // form tokens: forged, altered, for another list, expired: the form comes back, nothing is stored
      const good = await tokenOf();
      const [fb, fm] = good.split('.');
      const otherList = /name="token" value="([^"]+)"/.exec((await request('GET', `/f/${w.ids.list}`)).text)![1];
      const expired = signToken(w.t.app.secrets, 'form', { l: listId, h: list.body.consentTextSha256, k: 'page', i: 0 }, clock.now() - 1000);
      for (const [i, token] of [`${fb}.${'A'.repeat(fm.length)}`, `${fb}.${fm}A`, `${flip(fb, 5)}.${fm}`, otherList, expired, ''].entries()) {
        const r = await post(token, `form${i}@beta-customer.example`);
        assert.equal(r.status, 400, `form token ${i}: ${r.status}`);
        assert.equal(await known(`form${i}@beta-customer.example`), false);
      }

      // a real sign-up, and its confirmation mail
      assert.equal((await post(good, 'erin@beta-customer.example')).status, 200);
      const link = await eventually(async () => {
        const l = (await w.api(w.b, 'GET', '/v1/sandbox/messages?limit=500')).body.data.find((e: { rcpt_to: string }) => e.rcpt_to === 'erin@beta-customer.example');
        if (!l) return undefined;
        const mail = await PostalMime.parse((await w.api(w.b, 'GET', `/v1/sandbox/messages/${l.id}/raw`)).text);
        return /https:\/\/\S+(\/confirm\/[A-Za-z0-9_.-]+)/.exec(mail.text ?? '')?.[1];
      });
      const status = async () => (await w.api(w.b, 'GET', `/v1/contacts/${encodeURIComponent('erin@beta-customer.example')}`)).body.subscriptions.find((s: { list_id?: string; listId?: string }) => (s.list_id ?? s.listId) === listId)?.status;
      const pending = await status();
      assert.notEqual(pending, 'subscribed');
      const [cb, cm] = link.slice('/confirm/'.length).split('.');
      for (const bad of [`${cb}.${cm}A`, `${cb}.${flip(cm, 2)}`, `${flip(cb, 10)}.${cm}`, `${cb}`, `x.${cm}`, signToken(w.t.app.secrets, 'form', { x: 1 }, clock.now() + 1e6)]) {
        const r = await request('POST', `/confirm/${bad}`, '');
        assert.equal(r.status, 400, `altered confirmation ${bad.slice(-12)}: ${r.status}`);
        assert.equal(await status(), pending);
      }
      assert.equal((await request('GET', link)).status, 200);
      assert.equal(await status(), pending, 'a GET (a scanner) never confirms');
      assert.equal((await request('POST', link, '')).status, 200);
      assert.equal(await status(), 'subscribed');
      assert.equal((await request('POST', link, '')).status, 200, 'a replay is answered "already confirmed"');
      // unsubscribed afterwards: replaying the link does not subscribe again
      await w.api(w.b, 'DELETE', `/v1/lists/${listId}/subscriptions/${encodeURIComponent('erin@beta-customer.example')}`);
      assert.equal(await status(), 'unsubscribed');
      const replay = await request('POST', link, '');
      assert.ok(replay.status >= 400, `replay after unsubscribing: ${replay.status}`);
      assert.equal(await status(), 'unsubscribed');

      // expired: a second sign-up whose link is used after the TTL (168 h by default)
      nextMinute();
      assert.equal((await post(await tokenOf(), 'finn@beta-customer.example')).status, 200);
      const late = await eventually(async () => {
        const l = (await w.api(w.b, 'GET', '/v1/sandbox/messages?limit=500')).body.data.find((e: { rcpt_to: string }) => e.rcpt_to === 'finn@beta-customer.example');
        if (!l) return undefined;
        const mail = await PostalMime.parse((await w.api(w.b, 'GET', `/v1/sandbox/messages/${l.id}/raw`)).text);
        return /https:\/\/\S+(\/confirm\/[A-Za-z0-9_.-]+)/.exec(mail.text ?? '')?.[1];
      });
      const formLater = await tokenOf();
      offset += 169 * 3_600_000;
      const r = await request('POST', late, '');
      assert.equal(r.status, 410);
      assert.match(r.text, /expired/);
      const finn = (await w.api(w.b, 'GET', `/v1/contacts/${encodeURIComponent('finn@beta-customer.example')}`)).body.subscriptions[0].status;
      assert.notEqual(finn, 'subscribed');
      // a form token a day old is refused too (and the form shown again)
      assert.equal((await post(formLater, 'gail@beta-customer.example')).status, 400);
      assert.equal(await known('gail@beta-customer.example'), false);
    });

    test('security headers on every public page', async () => {
      nextMinute();
      const pages: [string, Res][] = [
        ['form', await request('GET', `/f/${w.ids.list}`)],
        ['unknown form', await request('GET', '/f/lst_nothing')],
        ['unsubscribe page', await request('GET', w.links.unsubscribe)],
        ['bad unsubscribe link', await request('GET', `/u/${'0'.repeat(26)}-${'1'.repeat(14)}`)],
        ['bad click link', await request('GET', `/c/${'0'.repeat(26)}.aHR0cHM6Ly94LmV4YW1wbGUv.${'A'.repeat(16)}`)],
        ['bad confirmation link', await request('GET', '/confirm/abc.def')],
      ];
      for (const [name, r] of pages) {
        assert.match(String(r.headers['content-type']), /^text\/html/, name);
        const csp = String(r.headers['content-security-policy'] ?? '');
        assert.match(csp, /default-src 'none'/, `${name}: Content-Security-Policy`);
        assert.match(csp, /frame-ancestors 'none'/, `${name}: no framing`);
        assert.doesNotMatch(csp, /script-src|unsafe-eval/, `${name}: no script allowed`);
        assert.equal(r.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`);
        assert.equal(r.headers['referrer-policy'], 'no-referrer', `${name}: referrer`);
        assert.match(String(r.headers['cache-control']), /no-store/, `${name}: not cached`);
        assert.doesNotMatch(r.text, /<script/i, `${name}: no script`);
      }
      const pixel = await request('GET', w.links.open);
      assert.equal(pixel.headers['content-type'], 'image/gif');
      assert.match(String(pixel.headers['cache-control']), /no-store/);
    });
  });
}
