// Provider profiles: MX matching, caps, TLS, quiet hours, and reactions
// (issue 5; GM-7, GM-11, AF-9), walked from the data file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadProviders, parseProviders, providerForMx, reactionFor, type ProviderProfile } from '../../src/policy/providers.ts';
import { classifyReply } from '../../src/policy/replies.ts';
import data from '../../src/policy/data/providers.json' with { type: 'json' };

const providers = loadProviders();
const byName = (n: string): ProviderProfile => {
  const p = providers.find((x) => x.name === n);
  assert.ok(p, n);
  return p;
};
const codeOf = (line: string) => Number(line.slice(0, 3));

test('the expected providers, each with a unique name', () => {
  assert.deepEqual(
    providers.map((p) => p.name).sort(),
    ['apple', 'default', 'free', 'gmx', 'google', 'laposte', 'microsoft', 'orange', 'sfr', 'yahoo'],
  );
});

test("every provider's example MX hosts resolve to it", () => {
  for (const p of providers) {
    assert.ok(p.exampleMx.length > 0, p.name);
    for (const mx of p.exampleMx) assert.equal(providerForMx([mx]).name, p.name, mx);
  }
});

test('providerForMx: priority order, normalisation, look-alikes', () => {
  const table: [string[], string][] = [
    [['mx.example.com', 'aspmx.l.google.com'], 'google'], // the first MX that matches a provider
    [['smtp-in.orange.fr', 'aspmx.l.google.com'], 'orange'],
    [['GMAIL-SMTP-IN.L.GOOGLE.COM.'], 'google'], // DNS answers may be upper case and fully qualified
    [['  mx1.free.fr  '], 'free'],
    [['contoso-com.mail.protection.outlook.com'], 'microsoft'], // Microsoft 365 tenants too
    [['mx-aol.mail.gm0.yahoodns.net'], 'yahoo'], // AOL is Yahoo
    [['google.com.evil.example'], 'default'],
    [['notgoogle.com'], 'default'],
    [['fakeorange.fr'], 'default'],
    [['orange.fr'], 'orange'], // the bare suffix domain itself
    [[], 'default'],
  ];
  for (const [mx, expected] of table) assert.equal(providerForMx(mx).name, expected, mx.join(','));
});

test('every reaction rule is reached by its own example (first match wins)', () => {
  for (const p of providers) {
    for (const r of p.reactions) assert.equal(reactionFor(p, codeOf(r.example), r.example), r, `${p.name}: ${r.example}`);
  }
});

test('every reaction example is a failure the classifier agrees with', () => {
  for (const p of providers) {
    for (const r of p.reactions) {
      const c = classifyReply(codeOf(r.example), r.example, { provider: p.name });
      assert.notEqual(c.kind, 'delivered', r.example);
      assert.notEqual(c.kind, 'bounced', `${r.example}: a provider reaction is about the sender, not one mailbox`);
      if (r.action === 'domain-fault') assert.deepEqual([c.kind, c.kind === 'blocked' && c.category], ['blocked', 'authentication'], r.example);
    }
  }
});

test('GM-11: the Gmail codes are domain faults with their cause and a remedy', () => {
  const google = byName('google');
  const table: [string, string][] = [
    ['421 4.7.23 The sending IP address for this message doesn\'t have a PTR record', 'ptr'],
    ['421-4.7.27 Your email has been rate limited because SPF authentication didn\'t pass for this message.', 'spf'],
    ['421-4.7.29 Your email has been rate limited because this message wasn\'t sent over a TLS connection.', 'tls'],
    ['421-4.7.30 Your email has been rate limited because DKIM authentication didn\'t pass for this message.', 'dkim'],
    ['421-4.7.31 Your email has been rate limited because DMARC didn\'t pass for this message.', 'dmarc'],
    ['421 4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn\'t aligned', 'alignment'],
  ];
  for (const [line, cause] of table) {
    const r = reactionFor(google, 421, line);
    assert.equal(r?.action, 'domain-fault', line);
    assert.equal(r?.fault?.cause, cause, line);
    assert.ok((r?.fault?.remedy.length ?? 0) > 40, 'a remedy in plain words');
  }
});

test('rate and reputation replies slow the provider down for a period', () => {
  const table: [string, number, string, string][] = [
    ['google', 421, '421-4.7.28 [192.0.2.10] Our system has detected an unusual rate of unsolicited mail', 'slowdown'],
    ['google', 421, '421 4.7.0 Try again later, closing connection.', 'slowdown'],
    ['yahoo', 421, '421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to user complaints - 4.16.55.1', 'slowdown'],
    ['microsoft', 451, '451 4.7.650 The mail server [192.0.2.10] has been temporarily rate limited due to IP reputation. (S775)', 'slowdown'],
    ['orange', 421, '421 mwinf5c27 ME Trop de connexions, veuillez verifier votre configuration. OFR004_104 [104]', 'slowdown'],
    ['sfr', 421, '421 4.7.0 msfrf2604.sfr.fr Error: too many errors', 'slowdown'],
    // no rule of its own at Free: the defaults apply
    ['free', 421, '421 4.7.0 Error: too many connections from 192.0.2.10', 'slowdown'],
    ['laposte', 421, '421 4.3.2 Service not available', 'slowdown'],
    ['microsoft', 550, '550 5.7.606 Access denied, banned sending IP [192.0.2.10].', 'suspend-provider'],
    ['yahoo', 421, '421 4.7.1 [TS03] All messages from 192.0.2.10 permanently deferred', 'suspend-provider'],
  ];
  for (const [name, code, line, action] of table) {
    const r = reactionFor(byName(name), code, line);
    assert.equal(r?.action, action, `${name}: ${line}`);
    assert.ok((r?.durationMinutes ?? 0) > 0, line);
  }
});

test('no reaction for one recipient\'s trouble', () => {
  assert.equal(reactionFor(byName('google'), 550, '550 5.1.1 The email account that you tried to reach does not exist.'), undefined);
  assert.equal(reactionFor(byName('orange'), 552, '552 5.1.1 Boite du destinataire pleine. Recipient overquota. OFR_417 [417]'), undefined);
  assert.equal(reactionFor(byName('default'), 250, '250 2.0.0 OK'), undefined);
});

test('GM-7: TLS required everywhere; certificates checked at the big providers', () => {
  for (const p of providers) assert.equal(p.tls, 'required', p.name);
  for (const n of ['google', 'yahoo', 'microsoft', 'gmx', 'apple']) assert.equal(byName(n).verifyCertificates, true, n);
});

test('AF-9: quiet hours at the French ISPs, few connections at Orange', () => {
  for (const n of ['orange', 'free', 'sfr', 'laposte']) {
    assert.deepEqual(byName(n).quietHours, { timeZone: 'Europe/Paris', from: '15:00', to: '22:00', preferred: { from: '00:00', to: '07:00' } }, n);
    assert.ok(byName(n).maxConnections <= 3, n);
  }
  for (const n of ['google', 'yahoo', 'microsoft', 'default']) assert.equal(byName(n).quietHours, undefined, n);
  for (const p of providers) assert.ok(p.messagesPerConnection > 0 && p.ratePerMinute > 0 && p.maxConnections > 0, p.name);
});

test('the profiles are frozen', () => {
  assert.throws(() => {
    (providers[0] as { maxConnections: number }).maxConnections = 1000;
  });
});

test('a bad provider file is refused at load', () => {
  const good = structuredClone(data) as { providers: Record<string, unknown>[] };
  const variant = (f: (d: { providers: Record<string, unknown>[] }) => void) => {
    const d = structuredClone(good);
    f(d);
    return d;
  };
  const bad = [
    variant((d) => { d.providers = d.providers.filter((p) => p.name !== 'default'); }),
    variant((d) => { d.providers[0].unknownKey = 1; }),
    variant((d) => { d.providers[0].mxSuffixes = ['google.com']; }), // no leading dot
    variant((d) => { d.providers[1].mxSuffixes = ['.google.com']; }), // claimed twice
    variant((d) => { (d.providers[0].reactions as Record<string, unknown>[])[0] = { match: { text: '(' }, action: 'slowdown', durationMinutes: 5, example: '421 x' }; }),
    variant((d) => { (d.providers[0].reactions as Record<string, unknown>[])[0] = { match: { code: 421 }, action: 'domain-fault', example: '421 x' }; }),
    variant((d) => { (d.providers[0].reactions as Record<string, unknown>[])[0] = { match: { code: 421 }, action: 'slowdown', example: '421 x' }; }),
    variant((d) => { (d.providers[0].reactions as Record<string, unknown>[])[0] = { match: {}, action: 'slowdown', durationMinutes: 5, example: '421 x' }; }),
    variant((d) => { d.providers[3].quietHours = { timeZone: 'Europe/Pariss', from: '15:00', to: '22:00' }; }),
    variant((d) => { d.providers[3].quietHours = { timeZone: 'Europe/Paris', from: '3pm', to: '22:00' }; }),
  ];
  for (const b of bad) assert.throws(() => parseProviders(b));
  assert.equal(parseProviders(good).length, providers.length);
});
