// Remote faults (issue 10): envoi's real delivery engine against receiving MX
// hosts that misbehave — each a rogue peer (test/peers/rogue-smtp.ts) on its
// own 127.0.0.x behind an MX record of a loopback DNS server, STARTTLS from a
// test CA. One message per fault is sent through the API; every one must end
// delivered, deferred with the reason (then delivered once the peer is fixed
// and the clock moved past its next attempt), or bounced with the reason:
// nothing lost, and no copy more than the faults after the final dot made
// (RFC 1047: the receiver had the whole message and never said so).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { eventually, manualClock, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';
import type { Dialect } from '../helpers/store.ts';
import { startDnsServer, type DnsServer } from '../peers/dns.ts';
import { createTestCa } from '../peers/ca.ts';
import { startRogue, type Rogue, type RogueFault } from '../peers/rogue-smtp.ts';
import { zoneFromRecords } from '../helpers/zone.ts';

/**
 * Short per-step timeouts, each its own value so that the one that fired can
 * be told from the others; not shorter, or a healthy session on a busy CI
 * machine (another test file beside this one) is taken for a silent peer.
 */
export const TIMEOUTS = { connect: 2_000, greeting: 700, command: 800, mail: 900, rcpt: 1_000, dataInit: 1_100, dataBlock: 1_200, dataEnd: 1_300 };

const BIG_LINE = 'x'.repeat(76) + '\r\n';
/** more than the socket buffers of a loopback connection take (about 4 MB here) */
const BIG_BODY = BIG_LINE.repeat(Math.ceil(6 * 1024 * 1024 / BIG_LINE.length));
const BINARY = Buffer.from([0x00, 0xff, 0xfe, 0x1b, 0x5b, 0x32, 0x4a, 0x80, 0x0d, 0x0a]);
/** how those bytes are recorded: as received, read as latin1 (nodemailer's "binary"), the line break trimmed */
const BINARY_TEXT = /^\u0000\u00ff\u00fe\u001b\[2J/;

export interface FaultCase {
  name: string;
  group: 'drop' | 'hang' | 'garbage' | 'tls';
  fault?: RogueFault;
  /** the peer presents a certificate from another CA (until fixed) */
  untrusted?: boolean;
  /** nothing listens on the MX host's address (until fixed): the connection is refused */
  down?: boolean;
  /** the peer stays broken through the retry: the message must still be queued, with the reason */
  staysBroken?: boolean;
  /** a message big enough to fill the socket buffers (the peer stops reading mid-DATA) */
  bigBody?: boolean;
  /** what the first attempt must record */
  expect: {
    stage: string;
    text: RegExp;
    code?: number;
    tlsRefused?: boolean;
    /** the provider reaction the reply set off (a hold on the MX host) */
    reaction?: string;
    /** the session broke off without a reply: the engine tried once more at once, on a new session */
    retriedAtOnce?: boolean;
    /** delivered by that immediate second try (the fault was injected once) */
    deliveredAtOnce?: boolean;
  };
}

const waitingFor = (ms: number, what: string) => new RegExp(`^no progress in ${ms} ms waiting for ${what}$`);
const closed = /closed|ECONNRESET|socket hang up|Connection closed|unexpectedly/i;

export const CASES: FaultCase[] = [
  // the connection dropped at each stage
  { name: 'drop before the greeting', group: 'drop', fault: { at: 'connect', action: 'drop' }, expect: { stage: 'greeting', text: closed } },
  { name: 'drop after the greeting', group: 'drop', fault: { at: 'greeting', action: 'drop' }, expect: { stage: 'ehlo', text: closed } },
  { name: 'drop at EHLO', group: 'drop', fault: { at: 'ehlo', action: 'drop' }, expect: { stage: 'ehlo', text: closed } },
  { name: 'drop at STARTTLS', group: 'drop', fault: { at: 'starttls', action: 'drop' }, expect: { stage: 'starttls', text: /TLS handshake failed|STARTTLS/, tlsRefused: true } },
  { name: 'drop instead of the TLS handshake', group: 'drop', fault: { at: 'tls', action: 'drop' }, expect: { stage: 'starttls', text: /TLS handshake failed/, tlsRefused: true } },
  { name: 'drop after the TLS handshake (at EHLO)', group: 'drop', fault: { at: 'tlsEhlo', action: 'drop' }, expect: { stage: 'ehlo', text: closed } },
  { name: 'drop at MAIL', group: 'drop', fault: { at: 'mail', action: 'drop' }, expect: { stage: 'mail', text: closed, retriedAtOnce: true } },
  { name: 'drop at RCPT', group: 'drop', fault: { at: 'rcpt', action: 'drop' }, expect: { stage: 'rcpt', text: closed, retriedAtOnce: true } },
  { name: 'drop at DATA (no 354)', group: 'drop', fault: { at: 'data', action: 'drop' }, expect: { stage: 'data', text: closed, retriedAtOnce: true } },
  { name: 'drop mid-DATA (after 1,000 bytes)', group: 'drop', fault: { at: 'body', action: 'drop', bodyBytes: 1_000 }, expect: { stage: 'data', text: closed, retriedAtOnce: true } },
  { name: 'drop after the final dot (every session until fixed)', group: 'drop', fault: { at: 'dataEnd', action: 'drop' }, expect: { stage: 'data', text: closed, retriedAtOnce: true } },
  { name: 'drop after the final dot (once)', group: 'drop', fault: { at: 'dataEnd', action: 'drop', times: 1 }, expect: { stage: 'data', text: closed, retriedAtOnce: true, deliveredAtOnce: true } },
  // silence at each stage: the step's own timeout fires
  { name: 'hang before the greeting', group: 'hang', fault: { at: 'connect', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.greeting, 'the greeting') } },
  { name: 'hang at EHLO', group: 'hang', fault: { at: 'ehlo', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.command, 'the reply to EHLO') } },
  { name: 'hang at STARTTLS', group: 'hang', fault: { at: 'starttls', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.command, 'the reply to STARTTLS') } },
  { name: 'hang in the TLS handshake', group: 'hang', fault: { at: 'tls', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.command, 'the TLS handshake') } },
  { name: 'hang after the TLS handshake (at EHLO)', group: 'hang', fault: { at: 'tlsEhlo', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.command, 'the reply to EHLO') } },
  { name: 'hang at MAIL', group: 'hang', fault: { at: 'mail', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.mail, 'the reply to MAIL FROM') } },
  { name: 'hang at RCPT', group: 'hang', fault: { at: 'rcpt', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.rcpt, 'the reply to RCPT TO') } },
  { name: 'hang at DATA (no 354)', group: 'hang', fault: { at: 'data', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.dataInit, 'the reply to DATA') } },
  { name: 'hang mid-DATA (stops reading a 6 MB message)', group: 'hang', bigBody: true, fault: { at: 'body', action: 'hang', bodyBytes: 64 * 1024 }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.dataBlock, 'the server to take the message data') } },
  { name: 'hang after the final dot', group: 'hang', fault: { at: 'dataEnd', action: 'hang' }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.dataEnd, 'the reply to the end of the message') } },
  // garbage
  { name: 'a non-SMTP line for a greeting', group: 'garbage', fault: { at: 'connect', action: { raw: 'hello, this is not SMTP\r\n' } }, expect: { stage: 'greeting', text: /not SMTP/ } },
  { name: 'a multiline EHLO reply that never ends', group: 'garbage', fault: { at: 'ehlo', action: { raw: '250-mx.rogue.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n' } }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.command, 'the reply to EHLO') } },
  { name: 'binary for the MAIL reply', group: 'garbage', fault: { at: 'mail', action: { raw: BINARY } }, expect: { stage: 'mail', text: BINARY_TEXT, retriedAtOnce: true } },
  { name: 'a reply code out of range (999) at RCPT', group: 'garbage', fault: { at: 'rcpt', action: { raw: '999 9.9.9 what\r\n' } }, expect: { stage: 'rcpt', text: /^999 9\.9\.9 what/, retriedAtOnce: true } },
  { name: 'a multiline DATA reply that never ends', group: 'garbage', fault: { at: 'data', action: { raw: '354-go on\r\n354-really\r\n' } }, expect: { stage: 'timeout', text: waitingFor(TIMEOUTS.dataInit, 'the reply to DATA') } },
  { name: 'a non-SMTP line after the final dot', group: 'garbage', fault: { at: 'dataEnd', action: { raw: 'OK THANKS BYE\r\n' } }, expect: { stage: 'data', text: /OK THANKS BYE/, retriedAtOnce: true } },
  { name: 'an endless line (no CRLF) for the EHLO reply', group: 'garbage', fault: { at: 'ehlo', action: { flood: 'A' } }, expect: { stage: 'ehlo', text: /exceeds maximum allowed size/ } },
  { name: 'an endless multiline reply to MAIL', group: 'garbage', fault: { at: 'mail', action: { flood: '250-and more\r\n' } }, expect: { stage: 'mail', text: /exceeds maximum allowed size/, retriedAtOnce: true } },
  // a real reply, not a fault of the wire: the default profile's reaction holds the MX host 10 minutes
  { name: '421 at MAIL, then the connection closed', group: 'drop', fault: { at: 'mail', action: { raw: '421 4.3.2 Service shutting down, closing transmission channel\r\n' } }, expect: { stage: 'mail', code: 421, text: /^421 4\.3\.2 Service shutting down/, reaction: 'slowdown' } },
  // STARTTLS offered, then the handshake fails
  { name: 'plain text after "220 Ready"', group: 'tls', fault: { at: 'tls', action: { raw: 'this is not TLS at all\r\n' } }, expect: { stage: 'starttls', text: /TLS handshake failed/, tlsRefused: true } },
  { name: 'STARTTLS offered, then 454 to it', group: 'tls', fault: { at: 'starttls', action: { raw: '454 4.7.0 TLS not available due to local problem\r\n' } }, expect: { stage: 'starttls', code: 454, text: /STARTTLS refused: 454 4\.7\.0 TLS not available/, tlsRefused: true } },
  { name: 'a certificate not from the CA', group: 'tls', untrusted: true, expect: { stage: 'starttls', text: /TLS handshake failed/, tlsRefused: true } },
  { name: 'nothing listening (connection refused)', group: 'drop', down: true, expect: { stage: 'connect', text: /ECONNREFUSED/ } },
  // never fixed: still queued after the retry, with the reason
  { name: 'binary for a greeting, for ever', group: 'garbage', staysBroken: true, fault: { at: 'connect', action: { raw: BINARY } }, expect: { stage: 'greeting', text: BINARY_TEXT } },
];

/** a subset for the second dialect: one of each kind */
export const SUBSET = ['drop at RCPT', 'drop after the final dot (every session until fixed)', 'hang at DATA (no 354)', 'a reply code out of range (999) at RCPT', 'a certificate not from the CA', 'binary for a greeting, for ever'];

type Ev = { type: string; recipient_id?: string; data: Record<string, any> };
type Story = { events: Ev[]; recipients: Array<{ id: string; address: string; status: string; attempts: number }> };

export interface Scene {
  t: TestApp;
  clock: ReturnType<typeof manualClock>;
  send(to: string[], body?: string): Promise<string>;
  story(id: string): Promise<Story>;
  rogues: Rogue[];
  close(): Promise<void>;
}

/** Starts envoi (smtp mode, short timeouts, an injected clock) and one rogue peer per host given. */
export async function startScene(dialect: Dialect, peers: Array<{ domain: string; host: string; fault?: RogueFault; untrusted?: boolean; rcpt?: Parameters<typeof startRogue>[0]['rcpt'] }>) {
  const ca = await createTestCa();
  const other = await createTestCa();
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-ca-')), 'ca.pem');
  fs.writeFileSync(caFile, ca.caPem);
  const rogues: Rogue[] = [];
  // one certificate for every MX name (an RSA key takes a while to make), and one from another CA
  const names = peers.map((p) => `mx.${p.domain}`);
  const good = await ca.issue(names);
  const untrusted = await other.issue(names);
  const goodTls = peers.map(() => good);
  let port = 0;
  for (const p of peers) {
    const mx = `mx.${p.domain}`;
    const r = await startRogue({ host: p.host, port, name: mx, tls: p.untrusted ? untrusted : good, fault: p.fault, rcpt: p.rcpt });
    port = r.port;
    rogues.push(r);
  }
  const zone: Record<string, { MX?: { exchange: string; priority: number }[]; A?: string[] }> = {};
  for (const p of peers) {
    zone[p.domain] = { MX: [{ exchange: `mx.${p.domain}`, priority: 10 }] };
    zone[`mx.${p.domain}`] = { A: [p.host] };
  }
  const dns: DnsServer = await startDnsServer(zone);
  const clock = manualClock(Date.now());
  const t = await startTestApp(dialect, {
    hostname: 'mta.envoi.test', dns: { servers: [dns.address] },
    limits: { maxMessageBytes: 20 * 1024 * 1024 },
    delivery: {
      mode: 'smtp', port, caFile, pollMs: 50, connectionIdleMs: 300, timeoutsMs: TIMEOUTS,
      // certificates verified (the default profile does not), so that one from another CA is refused
      providers: { default: { ratePerMinute: 600_000, verifyCertificates: true } },
    },
  } as never, { clock });
  const acme = await tenantWithDomain(t, 'acme', 'shop.example');
  for (const [name, rr] of Object.entries(await zoneFromRecords(t, acme.token, 'shop.example'))) dns.set(name, rr);
  assert.equal((await t.api('POST', '/v1/domains/shop.example/verify', { token: acme.token })).body.verified, true);
  return {
    t, clock, rogues, goodTls, dns,
    async send(to: string[], text = 'hello from envoi\r\n'.repeat(40)) {
      const r = await t.api('POST', '/v1/messages', { token: acme.token, body: { from: 'orders@shop.example', to, subject: `to ${to.join(', ')}`, text } });
      assert.equal(r.status, 202, r.text.slice(0, 300));
      return r.body.id as string;
    },
    /**
     * Waits until every message's outcome events satisfy the check (count, a
     * delivered one among them): one query of the store a tenth of a second,
     * instead of one HTTPS request per message (their handshakes would eat the
     * CPU the short timeouts of the sessions in flight need).
     */
    async until(ids: string[], check: (outcomes: number, delivered: boolean, index: number) => boolean, timeoutMs = 30_000) {
      if (!ids.length) return;
      let waiting: string[] = [];
      try {
        await eventually(async () => {
          const rows = await t.app.store.db.selectFrom('events').select(['message_id', 'type', 'data'])
            .where('message_id', 'in', ids).where('type', 'in', OUTCOMES).orderBy('id').execute();
          waiting = ids.flatMap((id, i) => {
            const of = rows.filter((r) => r.message_id === id);
            return check(of.length, of.some((r) => r.type === 'delivered'), i) ? [] : [`${id}: ${of.map((r) => `${r.type} ${String(JSON.parse(r.data).text).slice(0, 100)}`).join('; ') || 'no outcome'}`];
          });
          return waiting.length === 0;
        }, timeoutMs);
      } catch {
        // which messages, and what they went through: a wait that times out says why
        throw new Error(`still waiting for ${waiting.length} of ${ids.length} messages: ${waiting.join(' | ')}`);
      }
    },
    async story(id: string): Promise<Story> {
      return (await t.api('GET', `/v1/messages/${id}`, { token: acme.token })).body as Story;
    },
    async search(address: string) {
      return (await t.api('GET', `/v1/messages?recipient=${encodeURIComponent(address)}`, { token: acme.token })).body.data as Array<{ id: string; recipient: { status: string; attempts: number } }>;
    },
    async suppressed(q: string) {
      return (await t.api('GET', `/v1/suppressions?q=${encodeURIComponent(q)}`, { token: acme.token })).body.data as Array<{ reason: string }>;
    },
    async close() {
      await t.close();
      await dns.close();
      for (const r of rogues) await r.close();
    },
  };
}

const OUTCOMES = ['delivered', 'deferred', 'bounced', 'blocked', 'expired'];
const outcomesOf = (s: Story) => s.events.filter((e) => OUTCOMES.includes(e.type));

/** Runs the cases on one dialect and returns the figures; asserts along the way. */
export async function runFaults(dialect: Dialect, cases: FaultCase[]) {
  const started = Date.now();
  const scene = await startScene(dialect, cases.map((c, i) => ({ domain: `c${i}.test`, host: `127.0.0.${40 + i}`, fault: c.fault && { ...c.fault }, untrusted: c.untrusted })));
  try {
    // first attempts: each message has an outcome, and its row is released (the event is written with it)
    const down = new Map<number, Rogue>();
    for (const [i, c] of cases.entries()) {
      if (!c.down) continue;
      down.set(i, scene.rogues[i]);
      await scene.rogues[i].close();
    }
    const firstOf = async (sent: string[]) => {
      await scene.until(sent, (n) => n >= 1);
      return Promise.all(sent.map((id) => scene.story(id)));
    };
    const ids: string[] = [];
    const first: Story[] = [];
    // the big message last, on its own: composing 6 MB holds the event loop for a moment,
    // which the short timeouts of the sessions in flight would take for a silent peer
    for (const wave of [cases.filter((c) => !c.bigBody), cases.filter((c) => c.bigBody)]) {
      const sent = await Promise.all(wave.map((c) => {
        const i = cases.indexOf(c);
        return scene.send([`user${i}@c${i}.test`], c.bigBody ? BIG_BODY : undefined);
      }));
      const got = await firstOf(sent);
      wave.forEach((c, k) => {
        ids[cases.indexOf(c)] = sent[k];
        first[cases.indexOf(c)] = got[k];
      });
    }
    const figures: Array<{ name: string; group: string; faults: number; sessions: number; first: string; stage: string; text: string; final?: string; copies?: number; extra?: number; flooded?: number }> = [];
    const problems: string[] = [];
    const untrustedFaults: Record<number, number> = {};
    const phase1 = Date.now() - started;
    cases.forEach((c, i) => { try {
      const ev = outcomesOf(first[i]);
      const e = ev[0];
      const rogue = scene.rogues[i];
      const what = `${c.name}: ${JSON.stringify(ev.map((x) => [x.type, x.data.stage, x.data.code, String(x.data.text).slice(0, 120), x.data.retriedAfter]))}`;
      assert.equal(ev.length, 1, `one outcome so far — ${what}`);
      figures.push({ name: c.name, group: c.group, faults: rogue.faults, sessions: rogue.sessions, first: e.type, stage: String(e.data.retriedAfter?.stage ?? e.data.stage), text: String(e.data.retriedAfter?.text ?? e.data.text) });
      if (c.expect.deliveredAtOnce) {
        assert.equal(e.type, 'delivered', what);
        assert.equal(e.data.retriedAfter?.stage, c.expect.stage, what);
        assert.match(e.data.retriedAfter.text, c.expect.text, what);
        return;
      }
      assert.equal(e.type, 'deferred', what);
      assert.equal(first[i].recipients[0].status, 'queued', what);
      const failure = c.expect.retriedAtOnce ? e.data.retriedAfter : e.data;
      assert.ok(failure, `the first break is recorded as retriedAfter — ${what}`);
      assert.equal(failure.stage, c.expect.stage, what);
      assert.match(String(failure.text), c.expect.text, what);
      if (c.expect.retriedAtOnce) assert.equal(e.data.stage, c.expect.stage, `the second try broke off the same way — ${what}`);
      else assert.equal(e.data.retriedAfter, undefined, `no immediate second try — ${what}`);
      if (c.expect.code !== undefined) assert.equal(e.data.code, c.expect.code, what);
      if (c.expect.tlsRefused) assert.equal(e.data.tlsRefused, true, what);
      assert.equal(e.data.reaction, c.expect.reaction, `provider reaction — ${what}`);
      assert.ok(Array.isArray(e.data.transcript) && e.data.transcript.length > 0, `the transcript is kept — ${what}`);
      assert.equal(rogue.received.length, 0, `nothing acknowledged yet — ${what}`);
      // a certificate from another CA, a closed port: no scripted fault, each attempt was one
      if (c.down) untrustedFaults[i] = 1;
      else {
        assert.equal(c.untrusted ? rogue.sessions : rogue.faults, c.expect.retriedAtOnce ? 2 : 1, `faults injected — ${what}`);
        if (c.untrusted) untrustedFaults[i] = rogue.sessions;
      }
    } catch (err) { problems.push((err as Error).message.split('\n')[0]); } });
    assert.deepEqual(problems, []);

    // the peers are fixed (but one), and the clock moves past the next attempt (5 min after the first
    // failure) and the end of the 421's hold (10 min)
    const fixes: Promise<void>[] = [];
    cases.forEach((c, i) => {
      if (c.staysBroken) return;
      const was = down.get(i);
      if (was) fixes.push(startRogue({ host: was.host, port: was.port, name: `mx.c${i}.test`, tls: scene.goodTls[i] }).then((r) => { scene.rogues[i] = r; }));
      scene.rogues[i].setFault(undefined);
      if (c.untrusted) scene.rogues[i].setTls(scene.goodTls[i]);
    });
    await Promise.all(fixes);
    scene.clock.advance(11 * 60_000);
    await scene.until(ids, (n, delivered, i) => (cases[i].staysBroken ? n >= 2 : delivered));
    const last = await Promise.all(ids.map((id) => scene.story(id)));

    let lost = 0;
    let duplicates = 0;
    cases.forEach((c, i) => {
      const rogue = scene.rogues[i];
      const s = last[i];
      const ev = outcomesOf(s);
      const f = figures[i];
      const addr = `user${i}@c${i}.test`;
      const copies = [...rogue.received, ...rogue.unacknowledged].filter((m) => m.to.includes(addr)).length;
      f.copies = copies;
      f.faults = untrustedFaults[i] ?? rogue.faults;
      f.sessions = rogue.sessions;
      if (c.fault?.action && typeof c.fault.action === 'object' && 'flood' in c.fault.action) f.flooded = rogue.flooded;
      const what = `${c.name}: ${JSON.stringify(ev.map((x) => [x.type, x.data.stage, String(x.data.text).slice(0, 80)]))}`;
      if (c.staysBroken) {
        f.final = `queued (${ev.length} deferred)`;
        assert.deepEqual(ev.map((e) => e.type), ['deferred', 'deferred'], what);
        assert.equal(s.recipients[0].status, 'queued', what);
        assert.equal(s.recipients[0].attempts, 2, what);
        assert.match(String(ev[1].data.text), c.expect.text, what);
        assert.equal(copies, 0, what);
        return;
      }
      f.final = 'delivered';
      assert.equal(s.recipients[0].status, 'delivered', what);
      assert.equal(ev.filter((e) => e.type === 'delivered').length, 1, `one delivered event — ${what}`);
      assert.equal(rogue.received.filter((m) => m.to.includes(addr)).length, 1, `acknowledged exactly once — ${what}`);
      assert.ok(rogue.received.every((m) => m.tls), `never in clear — ${what}`);
      // a copy more only for each fault after the peer had the whole message (RFC 1047), never otherwise
      const afterDot = c.fault?.at === 'dataEnd' ? rogue.faults : 0;
      assert.equal(rogue.unacknowledged.length, afterDot, `copies the peer had without saying so — ${what}`);
      if (copies === 0) lost++;
      f.extra = copies - 1;
      duplicates += copies - 1;
    });
    assert.equal(lost, 0);
    // RFC 1047 duplicates come only from the faults after the final dot, one per fault
    const afterDotFaults = cases.reduce((n, c, i) => n + (c.fault?.at === 'dataEnd' ? scene.rogues[i].faults : 0), 0);
    assert.equal(duplicates, afterDotFaults);
    return { figures, lost, duplicates, afterDotFaults, ms: Date.now() - started, phase1 };
  } finally {
    await scene.close();
  }
}

export function printFigures(dialect: Dialect, r: Awaited<ReturnType<typeof runFaults>>): void {
  for (const f of r.figures) {
    const text = JSON.stringify(f.text.slice(0, 90)).slice(1, -1); // control bytes a peer sent, escaped
    console.log(`remote-faults: ${dialect} | ${f.group} | ${f.name} | faults ${f.faults}, sessions ${f.sessions} | first: ${f.first} at ${f.stage} (${text}) | then: ${f.final} | copies ${f.copies}${f.flooded ? ` | ${(f.flooded / 1e6).toFixed(1)} MB flooded` : ''}`);
  }
  const faults = r.figures.reduce((n, f) => n + f.faults, 0);
  const delivered = r.figures.filter((f) => f.final === 'delivered').length;
  const queued = r.figures.filter((f) => f.final?.startsWith('queued')).length;
  console.log(`remote-faults: ${dialect}: ${r.figures.length} faulty peers, ${faults} faults injected; ${delivered} delivered after the fix, ${queued} still queued with the reason, 0 bounced; lost ${r.lost}; duplicates ${r.duplicates} (all after the final dot, ${r.afterDotFaults} such faults); ${(r.ms / 1000).toFixed(1)} s (first attempts done at ${(r.phase1 / 1000).toFixed(1)} s)`);
}

/**
 * A receiver that takes some recipients of a message and not others: 250 for
 * two, 450 4.2.1 for one (until fixed), 550 5.1.1 for one. The engine sends
 * one recipient per transaction; each ends as its own reply says.
 */
export async function runPartial(dialect: Dialect) {
  const refuse: Record<string, { code: number; text: string }> = {
    'later@part.test': { code: 450, text: '4.2.1 Mailbox temporarily unavailable' },
    'gone@part.test': { code: 550, text: '5.1.1 No such user here' },
  };
  const scene = await startScene(dialect, [{ domain: 'part.test', host: '127.0.0.80', rcpt: (a) => refuse[a] }]);
  try {
    const rogue = scene.rogues[0];
    const to = ['ok1@part.test', 'later@part.test', 'gone@part.test', 'ok2@part.test'];
    const id = await scene.send(to);
    await scene.until([id], (n) => n >= 4);
    const s = await scene.story(id);
    const status = Object.fromEntries(s.recipients.map((r) => [r.address, r.status]));
    assert.deepEqual(status, { 'ok1@part.test': 'delivered', 'later@part.test': 'queued', 'gone@part.test': 'bounced', 'ok2@part.test': 'delivered' });
    const evOf = (address: string, type: string) => {
      const rid = s.recipients.find((r) => r.address === address)!.id;
      return s.events.filter((e) => e.recipient_id === rid && e.type === type);
    };
    const deferred = evOf('later@part.test', 'deferred');
    assert.equal(deferred.length, 1);
    assert.equal(deferred[0].data.stage, 'rcpt');
    assert.equal(deferred[0].data.code, 450);
    assert.match(deferred[0].data.text, /^450 4\.2\.1 Mailbox temporarily unavailable/);
    const bounced = evOf('gone@part.test', 'bounced');
    assert.equal(bounced.length, 1);
    assert.equal(bounced[0].data.code, 550);
    assert.match(bounced[0].data.text, /5\.1\.1 No such user here/);
    assert.equal(bounced[0].data.classification.category, 'unknown-user');
    assert.equal((await scene.suppressed('gone@part.test'))[0]?.reason, 'hard_bounce');
    assert.deepEqual((await scene.suppressed('later@part.test')), [], 'a temporary refusal suppresses nothing');
    // what the user finds by address
    const found = await scene.search('later@part.test');
    assert.equal(found[0]?.id, id);
    assert.equal(found[0].recipient.status, 'queued');

    // the mailbox is back; the retry is due 5 minutes later
    scene.rogues[0].setRcpt((a) => (a === 'gone@part.test' ? refuse[a] : undefined));
    scene.clock.advance(6 * 60_000);
    await scene.until([id], (n) => n >= 5);
    const after = await scene.story(id);
    assert.deepEqual(Object.fromEntries(after.recipients.map((r) => [r.address, r.status])), { ...status, 'later@part.test': 'delivered' });
    const got = rogue.received.flatMap((m) => m.to).sort();
    assert.deepEqual(got, ['later@part.test', 'ok1@part.test', 'ok2@part.test'], 'each accepted recipient once, the refused never');
    assert.ok(rogue.rcptPerTransaction.every((n) => n === 1), `one recipient per transaction: ${rogue.rcptPerTransaction}`);
    return { recipients: to.length, delivered: 2, deferredThenDelivered: 1, bounced: 1, copies: got.length };
  } finally {
    await scene.close();
  }
}

/**
 * A domain with two MX hosts whose primary misbehaves before it has said
 * anything (RFC 5321 5.1: try the next address): the message goes to the
 * backup on the first attempt.
 */
export async function runBackupMx(dialect: Dialect, primary: RogueFault) {
  const scene = await startScene(dialect, [
    { domain: 'primary.test', host: '127.0.0.82', fault: primary },
    { domain: 'backup.test', host: '127.0.0.83' },
  ]);
  try {
    scene.dns.set('two.test', { MX: [{ exchange: 'mx.primary.test', priority: 10 }, { exchange: 'mx.backup.test', priority: 20 }] });
    const id = await scene.send(['someone@two.test']);
    await scene.until([id], (n) => n >= 1);
    const s = await scene.story(id);
    const [first, backup] = scene.rogues;
    return { story: s, events: outcomesOf(s), primary: first, backup };
  } finally {
    await scene.close();
  }
}

/**
 * Bursts: a dozen messages at once to each of a few MX hosts whose first
 * sessions misbehave (`times`), so that faults meet reused sessions, parallel
 * lanes and the immediate second try. Every message ends delivered (at once
 * or after the retry), acknowledged exactly once; copies more only for the
 * faults after the final dot.
 */
export async function runBursts(dialect: Dialect, faults: Array<RogueFault & { refuseFirst?: number }>, perPeer = 12) {
  const started = Date.now();
  // refuseFirst: the first attempt of that many messages is answered 450 at RCPT, so their
  // transactions do not end and the next message of the session begins with RSET
  const refusing = (n = 0) => {
    const refused = new Set<string>();
    return (address: string) => {
      const k = Number(/^m(\d+)@/.exec(address)?.[1] ?? -1);
      if (k < 0 || k >= n || refused.has(address)) return undefined;
      refused.add(address);
      return { code: 450, text: '4.2.0 try again later' };
    };
  };
  // the peers count their copies down: the test keeps the originals
  const scene = await startScene(dialect, faults.map(({ refuseFirst, ...f }, i) => ({ domain: `b${i}.test`, host: `127.0.0.${90 + i}`, fault: { ...f }, rcpt: refusing(refuseFirst) })));
  try {
    const items = faults.flatMap((_, i) => Array.from({ length: perPeer }, (_, k) => ({ peer: i, address: `m${k}@b${i}.test`, id: '' })));
    for (const it of items) it.id = await scene.send([it.address]);
    const ids = items.map((it) => it.id);
    await scene.until(ids, (n) => n >= 1);
    const firstDelivered = await t0Delivered(scene, ids);
    scene.rogues.forEach((r) => r.setFault(undefined));
    scene.clock.advance(11 * 60_000);
    await scene.until(ids, (_n, delivered) => delivered);
    const stories = await Promise.all(ids.map((id) => scene.story(id)));
    const out = faults.map((f, i) => {
      const rogue = scene.rogues[i];
      const mine = items.map((it, k) => ({ ...it, s: stories[k] })).filter((it) => it.peer === i);
      for (const it of mine) {
        const ev = outcomesOf(it.s);
        const what = `${f.at} ${JSON.stringify(f.action)} ${it.address}: ${JSON.stringify(ev.map((e) => [e.type, e.data.stage, e.data.text]))}`;
        assert.ok(ev.every((e) => e.type === 'deferred' || e.type === 'delivered'), what);
        assert.equal(ev.filter((e) => e.type === 'delivered').length, 1, what);
        assert.equal(it.s.recipients[0].status, 'delivered', what);
        assert.equal(rogue.received.filter((m) => m.to.includes(it.address)).length, 1, `acknowledged once — ${what}`);
      }
      assert.equal(rogue.unacknowledged.length, f.at === 'dataEnd' ? rogue.faults : 0);
      assert.equal(rogue.faults, f.times, 'every scripted fault was met');
      const copies = rogue.received.length + rogue.unacknowledged.length;
      return { fault: `${f.action === 'drop' || f.action === 'hang' ? f.action : 'garbage'} at ${f.at}`, messages: perPeer, faults: rogue.faults, sessions: rogue.sessions,
        deliveredAtFirst: mine.filter((it) => firstDelivered.has(it.id)).length, copies, duplicates: copies - perPeer };
    });
    return { peers: out, ms: Date.now() - started };
  } finally {
    await scene.close();
  }
}

async function t0Delivered(scene: Awaited<ReturnType<typeof startScene>>, ids: string[]): Promise<Set<string>> {
  const rows = await scene.t.app.store.db.selectFrom('events').select(['message_id']).where('message_id', 'in', ids).where('type', '=', 'delivered').execute();
  return new Set(rows.map((r) => r.message_id!));
}
