// The open-relay battery against both SMTP listeners, in clear text and after
// STARTTLS: the classic relay tricks (percent hack, quoted local part, source
// route, bang path, IP literals, role mailboxes of foreign domains, forged
// tokens) with empty, null, foreign and spoofed senders.
//   Submission without AUTH: nothing is accepted, whatever the envelope.
//   Submission with AUTH: a tenant sends From its own verified domains only;
//     the syntaxes that hide a second hop are refused at RCPT; the envelope
//     sender a client gives is replaced by envoi's signed return path.
//   Inbound MX: only signed VERP and unsubscribe tokens and abuse@ /
//     postmaster@ of our domains are accepted; nothing else, ever.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { eventually } from '../helpers/app.ts';
import { plain, talk, type Reply, type Talk } from '../peers/smtp-talk.ts';
import { startWorld, type World } from './world.ts';

const EXTERNAL = 'relay-victim.example';
const ENHANCED = /^[45]\d\d[ -][45]\.\d{1,3}\.\d{1,3}\b/;

/** Recipients that try to make a listener forward mail to EXTERNAL through one of our domains. */
const relayRecipients = (ours: string) => [
  `victim@${EXTERNAL}`,
  `VICTIM@${EXTERNAL.toUpperCase()}`,
  `victim@${EXTERNAL}.`,
  `victim%${EXTERNAL}@${ours}`,
  `"victim@${EXTERNAL}"@${ours}`,
  `"victim%${EXTERNAL}"@${ours}`,
  `@${ours}:victim@${EXTERNAL}`,
  `@${ours},@mx.${ours}:victim@${EXTERNAL}`,
  `${EXTERNAL}!victim@${ours}`,
  `victim@${EXTERNAL}@${ours}`,
  `victim@[127.0.0.1]`,
  `victim@[IPv6:::1]`,
  `victim@127.0.0.1`,
  `postmaster@${EXTERNAL}`,
  `abuse@${EXTERNAL}`,
  `root@${ours}`,
  `victim@localhost`,
  `b-0000000000000000000000000-00000000000000@bounce-mk.${ours}`,
  `u-0000000000000000000000000-00000000000000@bounce-mk.${ours}`,
];

/** Senders: null, empty-looking, foreign, spoofed as ours, source-routed. */
const senders = (ours: string) => ['', `spammer@${EXTERNAL}`, `ceo@${ours}`, `@${ours}:spammer@${EXTERNAL}`];

interface Mode { name: string; tls: boolean; auth?: 'clear' }

for (const dialect of DIALECTS) {
  describe(`open-relay battery (${dialect})`, () => {
    let w: World;
    let refused = 0;
    const sessions: Talk[] = [];
    before(async () => {
      w = await startWorld(dialect);
    });
    after(async () => {
      for (const s of sessions) s.close();
      await w?.close();
    });

    async function connect(port: number, tls: boolean): Promise<Talk> {
      const s = await talk({ port, ca: w.t.ca });
      sessions.push(s);
      assert.equal(s.greeting.code, 220);
      await s.ehlo('relay-test.example');
      if (tls) {
        await s.starttls('localhost');
        await s.ehlo('relay-test.example');
      }
      return s;
    }

    /**
     * One relay attempt: MAIL, RCPT, and DATA when RCPT was taken. Returns
     * whether anything was accepted; every refusal must carry an enhanced code.
     */
    async function tryRelay(get: () => Promise<Talk>, from: string, to: string, message: string): Promise<{ accepted: boolean; replies: Reply[] }> {
      const replies: Reply[] = [];
      let s = await get();
      const step = async (line: string) => {
        const r = await s.command(line);
        replies.push(r);
        if (r.code >= 400) assert.match(r.text, ENHANCED, `"${line}" → ${r.text}`);
        return r;
      };
      let open = false;
      try {
        if ((await step(`MAIL FROM:<${from}>`)).code !== 250) return { accepted: false, replies };
        open = true;
        if ((await step(`RCPT TO:<${to}>`)).code !== 250) return { accepted: false, replies };
        if ((await step('DATA')).code !== 354) return { accepted: false, replies };
        const end = await step(`${message}\r\n.`);
        return { accepted: end.code === 250, replies };
      } catch {
        // the server closed the session (421): refused; the next attempt reconnects
        s = await get();
        return { accepted: false, replies };
      } finally {
        // no transaction, no RSET: an unauthenticated session only has ten commands
        if (open) await s.command('RSET').catch(() => undefined);
      }
    }

    const message = (fromHeader: string, to: string) =>
      `From: <${fromHeader}>\r\nTo: <${to}>\r\nSubject: relay test\r\nMessage-ID: <relay-${Math.random().toString(36).slice(2)}@test>\r\n\r\nrelay test`;

    async function stored() {
      const sandbox = (await w.t.api('GET', '/v1/sandbox/messages?limit=500', { token: w.t.operatorToken })).body.data.length as number;
      const inbound = Number((await w.t.app.store.db.selectFrom('inbound_messages').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
      return { sandbox, inbound };
    }

    const reconnecting = (port: number, tls: boolean, auth?: (s: Talk) => Promise<void>) => {
      let s: Talk | undefined;
      let closed = true;
      return async () => {
        if (!closed && s) return s;
        s = await connect(port, tls);
        closed = false;
        const onClose = () => { closed = true; };
        // talk rejects a command on a closed session; remember it so the next attempt reconnects
        const command = s.command.bind(s);
        s.command = async (line: string) => command(line).catch((e) => { onClose(); throw e; });
        if (auth) await auth(s);
        return s;
      };
    };

    test('submission without AUTH, in clear and after STARTTLS: nothing is accepted', async (t) => {
      const before = await stored();
      const ours = w.a.domain;
      const modes: Mode[] = [{ name: 'clear', tls: false }, { name: 'STARTTLS', tls: true }, { name: 'AUTH offered in clear', tls: false, auth: 'clear' }];
      let attempts = 0;
      for (const mode of modes) {
        // AUTH before STARTTLS is refused (538): the password never crosses in clear, and the session stays unauthenticated
        const get = reconnecting(w.t.app.ports.submission, mode.tls, mode.auth ? async (s) => {
          const r = await s.command(`AUTH PLAIN ${plain(w.a.keyId, w.a.secret)}`);
          assert.equal(r.code, 538, r.text);
          assert.match(r.text, ENHANCED);
        } : undefined);
        for (const from of senders(ours)) {
          for (const to of [...relayRecipients(ours), `someone@${ours}`, `abuse@${ours}`, w.links.verp]) {
            const r = await tryRelay(get, from, to, message(from || `ceo@${ours}`, to));
            attempts++;
            assert.equal(r.accepted, false, `${mode.name}: ${from} → ${to} was accepted`);
            refused++;
          }
        }
      }
      assert.deepEqual(await stored(), before, 'nothing was stored');
      t.diagnostic(`relay: submission without AUTH: ${attempts} attempts refused`);
    });

    test('inbound MX, in clear and after STARTTLS: relay tricks refused at RCPT; only our signed tokens and role mailboxes accepted', async (t) => {
      const before = await stored();
      const ours = [w.a.domain, w.b.domain];
      let attempts = 0;
      for (const tls of [false, true]) {
        const get = reconnecting(w.t.app.ports.inbound, tls);
        for (const domain of ours) {
          for (const from of senders(domain)) {
            for (const to of relayRecipients(domain)) {
              const r = await tryRelay(get, from, to, message(from || 'mailer-daemon@isp.example', to));
              attempts++;
              assert.equal(r.accepted, false, `inbound (${tls ? 'TLS' : 'clear'}): ${from} → ${to} was accepted`);
              const rcpt = r.replies[1];
              if (rcpt) assert.ok(rcpt.code >= 500, `${to}: ${rcpt.text}`);
              refused++;
            }
          }
        }
        // altered tokens: one character of a signed VERP or unsubscribe address changed
        for (const good of [w.links.verp, w.links.mailtoUnsubscribe]) {
          const at = good.indexOf('@');
          const altered = [good.slice(0, at - 1) + (good[at - 1] === '0' ? '1' : '0') + good.slice(at), good.replace(/^(b|u)-/, '$1-0')];
          for (const to of altered) {
            const r = await tryRelay(get, '', to, message('mailer-daemon@isp.example', to));
            attempts++;
            assert.equal(r.accepted, false, `an altered token was accepted: ${to}`);
            refused++;
          }
        }
        // the positive controls, taken at RCPT only (RSET before DATA, nothing stored)
        const s = await get();
        for (const to of [w.links.verp, w.links.mailtoUnsubscribe, `abuse@${w.a.domain}`, `postmaster@${w.b.domain}`, 'postmaster@localhost']) {
          assert.equal((await s.command('MAIL FROM:<>')).code, 250);
          const r = await s.command(`RCPT TO:<${to}>`);
          assert.equal(r.code, 250, `${to} is ours: ${r.text}`);
          await s.command('RSET');
        }
      }
      assert.deepEqual(await stored(), before, 'nothing was stored');
      t.diagnostic(`relay: inbound MX: ${attempts} attempts refused`);
    });

    test('submission with AUTH after STARTTLS: From only the tenant\'s verified domains; hidden hops refused at RCPT; the envelope sender is replaced', async (t) => {
      const ours = w.a.domain;
      const get = reconnecting(w.t.app.ports.submission, true, async (s) => {
        const r = await s.command(`AUTH PLAIN ${plain(w.a.keyId, w.a.secret)}`);
        assert.equal(r.code, 235, r.text);
      });
      let attempts = 0;
      // 1. a From header on a domain that is not the tenant's (foreign, another tenant's, a freemail): refused at DATA
      for (const fromHeader of [`spammer@${EXTERNAL}`, `ceo@${w.b.domain}`, 'someone@gmail.com', `ceo@sub.${ours}`]) {
        for (const envelopeFrom of ['', fromHeader, `bounce@${ours}`]) {
          const r = await tryRelay(get, envelopeFrom, `victim@${EXTERNAL}`, message(fromHeader, `victim@${EXTERNAL}`));
          attempts++;
          assert.equal(r.accepted, false, `From ${fromHeader} (MAIL FROM <${envelopeFrom}>) was accepted`);
          const last = r.replies[r.replies.length - 1];
          assert.ok(last.code >= 500, last.text);
          refused++;
        }
      }
      // 2. recipients that hide a second hop or name a host by address: refused at RCPT
      for (const to of [`"victim@${EXTERNAL}"@${ours}`, `@${ours}:victim@${EXTERNAL}`, `victim@${EXTERNAL}@${ours}`, 'victim@[127.0.0.1]', 'victim@[IPv6:::1]', 'victim@127.0.0.1', 'victim@localhost']) {
        const r = await tryRelay(get, `orders@${ours}`, to, message(`orders@${ours}`, to));
        attempts++;
        const rcpt = r.replies[1];
        const normalised = r.accepted && rcpt?.code === 250;
        if (normalised) {
          // smtp-server drops a source route: what is left must be the final address, never a hop through us
          const e = await eventually(async () => (await w.api(w.a, 'GET', '/v1/sandbox/messages?limit=500')).body.data.find((x: { rcpt_to: string }) => to.endsWith(x.rcpt_to)));
          assert.ok(!e.rcpt_to.includes(':') && !e.rcpt_to.includes('['), `${to} became ${e.rcpt_to}`);
        } else {
          assert.equal(r.accepted, false, `${to} was accepted`);
          refused++;
        }
      }
      // 3. the tenant's own domain with a foreign or null envelope sender: accepted, but the envelope sender on the wire is envoi's signed return path
      const beforeCount = (await w.api(w.a, 'GET', '/v1/sandbox/messages?limit=500')).body.data.length;
      for (const envelopeFrom of ['', `spammer@${EXTERNAL}`]) {
        const to = `reader@${EXTERNAL}`;
        const r = await tryRelay(get, envelopeFrom, to, message(`orders@${ours}`, to));
        assert.equal(r.accepted, true, `a tenant sends From its own domain: ${r.replies.map((x) => x.text).join(' | ')}`);
      }
      // 4. the percent hack and a bang path are plain local parts: delivered to our tenant's MX as written, never rewritten to the external host
      for (const to of [`victim%${EXTERNAL}@${ours}`, `${EXTERNAL}!victim@${ours}`]) {
        const r = await tryRelay(get, `orders@${ours}`, to, message(`orders@${ours}`, to));
        assert.equal(r.accepted, true, `${to}: ${r.replies.map((x) => x.text).join(' | ')}`);
      }
      const captured = await eventually(async () => {
        const l = (await w.api(w.a, 'GET', '/v1/sandbox/messages?limit=500')).body.data as { mail_from: string; rcpt_to: string }[];
        return l.length >= beforeCount + 4 ? l : undefined;
      });
      for (const e of captured) {
        assert.match(e.mail_from, new RegExp(`^b-[0-9a-z]+-[0-9a-f]{14}@[a-z0-9.-]+\\.${ours.replace(/\./g, '\\.')}$`), `the envelope sender is envoi's return path: ${e.mail_from}`);
      }
      assert.ok(captured.some((e) => e.rcpt_to === `victim%${EXTERNAL}@${ours}`), 'the percent hack stays a local part of our own domain');
      t.diagnostic(`relay: submission with AUTH: ${attempts} attempts, ${refused} refused in all`);
      t.diagnostic(`relay attempts refused (${dialect}): ${refused}`);
    });
  });
}
