// The pure rules of reputation, table-tested: the shipped thresholds, what an
// event counts, the indicators, each rule's line and minimum volume, which
// crossing acts, the ladder, Gmail's recovery window, the rolling 24 h of
// GM-1, the GM requirements of a bulk domain, Postmaster CSV exports, the
// CLI's sparklines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadThresholds, rulesOf, withSteps, type Rule } from '../../src/reputation/thresholds.ts';
import { countsOfEvent, emptyCounts, indicatorsOf, type Counts } from '../../src/reputation/indicators.ts';
import { acting, checkRule, ladderStep, missingRequirements, recoveryWindow, rollingCount, isGmailAddress, type Check } from '../../src/reputation/rules.ts';
import { parseDay, parsePostmasterCsv, parseRate } from '../../src/reputation/postmaster.ts';
import { sparkline } from '../../src/cli/reputation.ts';

const T = loadThresholds();
const rule = (id: string): Rule => [...Object.values(T.profiles).flatMap((p) => p.rules), ...T.breakers.rules].find((r) => r.id === id)!;
const counts = (c: Partial<Counts>): Counts => ({ ...emptyCounts(), ...c });

test('the shipped thresholds: valid, every rule quotes its source, the numbers of MJ-1 and GM-10', () => {
  for (const r of [...Object.values(T.profiles).flatMap((p) => p.rules), ...T.breakers.rules]) assert.match(r.source, /seeds\/00\d|MC-9|envoi/, r.id);
  const line = (id: string) => [rule(id).op, rule(id).value, rule(id).minVolume?.atLeast ?? null, rule(id).step];
  assert.deepEqual(line('mj.bounces'), ['>', 0.08, 500, 'throttle']);
  assert.deepEqual([...line('mj.unsubscribes'), rule('mj.unsubscribes').whenUnsubscribesExceedClicks], ['>', 0.014, 500, 'warn', 0.01]);
  assert.deepEqual(line('mj.blocked'), ['>', 0.3, 500, 'throttle']);
  assert.deepEqual(line('mj.complaints'), ['>', 0.0008, 1001, 'pause'], 'only when sending more than 1,000 a day');
  assert.deepEqual(line('mj.complaints-per-day'), ['>', 50, null, 'suspend']);
  assert.deepEqual(line('mj.traps-and-abuse'), ['>', 1, null, 'suspend']);
  assert.deepEqual(line('gm.spam-target'), ['>=', 0.001, 1000, 'warn']);
  assert.deepEqual(line('gm.spam-critical'), ['>=', 0.003, 1000, 'pause']);
  assert.deepEqual(line('cb.bounces'), ['>', 0.08, 500, 'pause']);
  assert.deepEqual([T.bulk.messages, T.bulk.windowHours, T.recovery.rate, T.recovery.days], [5000, 24, 0.003, 7]);
  assert.deepEqual(T.gmailDomains, ['gmail.com', 'googlemail.com']);
});

test('configured steps replace a rule\'s step; an unknown rule id is refused', () => {
  assert.equal(withSteps(T, { 'mj.bounces': 'pause' }).profiles.mailjet.rules.find((r) => r.id === 'mj.bounces')!.step, 'pause');
  assert.throws(() => withSteps(T, { 'mj.nope': 'warn' }), /unknown rule mj\.nope/);
  assert.throws(() => loadThresholds({ ...T, profiles: { a: T.profiles.mailjet, b: T.profiles.mailjet } }), /appears twice/);
  assert.deepEqual(rulesOf(T, ['gmail']).map((r) => r.rule.id), ['gm.spam-target', 'gm.spam-critical']);
});

test('what one event counts', () => {
  const cases: [string, Record<string, unknown>, Partial<Counts> | null][] = [
    ['delivered', { provider: 'google' }, { sent: 1, delivered: 1 }],
    ['bounced', { classification: { kind: 'bounced', category: 'unknown-user', hard: true } }, { sent: 1, bounced: 1, hard_bounced: 1, unknown_user: 1 }],
    ['bounced', { hard: true, category: 'unknown-user', provider: 'simulator' }, { sent: 1, bounced: 1, hard_bounced: 1, unknown_user: 1 }],
    ['bounced', { async: true, hard: false, category: 'mailbox-full' }, { bounced: 1 }],
    ['bounced', { async: true, hard: true, category: 'unknown-user' }, { bounced: 1, hard_bounced: 1, unknown_user: 1 }],
    ['blocked', {}, { sent: 1, blocked: 1 }],
    ['expired', {}, { sent: 1, expired: 1 }],
    ['deferred', {}, { deferred: 1 }],
    ['dropped', { reason: 'suppressed (complaint)' }, { dropped: 1 }],
    ['complained', { feedbackType: 'abuse', source: 'bounce' }, { complained: 1 }],
    ['complained', { feedbackType: 'abuse-report', source: 'abuse' }, { abuse_reports: 1 }],
    ['complained', { feedbackType: 'abuse-report', source: 'postmaster' }, { abuse_reports: 1 }],
    ['suppressed', { reason: 'spamtrap' }, { spamtraps: 1 }],
    ['suppressed', { reason: 'hard_bounce' }, null],
    ['unsubscribed', { list: 'l', source: 'one-click' }, { unsubscribed: 1 }],
    ['clicked', { url: 'https://x' }, { clicked: 1 }],
    ['clicked', { machine: true }, null],
    ['opened', {}, { opened: 1 }],
    ['opened', { machine: true, machineReason: 'apple-mpp' }, null],
    ['accepted', {}, null],
    ['auto_replied', {}, null],
  ];
  for (const [type, data, want] of cases) assert.deepEqual(countsOfEvent(type, data), want, `${type} ${JSON.stringify(data)}`);
});

test('indicators: the denominators, and unknown (null) over nothing', () => {
  const i = indicatorsOf(counts({ sent: 1000, delivered: 900, bounced: 60, expired: 20, hard_bounced: 50, unknown_user: 40, blocked: 20, deferred: 250, complained: 9, unsubscribed: 18, clicked: 12, opened: 300, spamtraps: 1, abuse_reports: 1 }));
  assert.equal(i.bounceRate, 0.08);
  assert.equal(i.unknownUserRate, 0.04);
  assert.equal(i.blockRate, 0.02);
  assert.equal(i.complaintRate, 0.01);
  assert.equal(i.unsubscribeRate, 0.02);
  assert.equal(i.unsubscribesExceedClicks, true);
  assert.equal(i.deliveredRate, 0.9);
  assert.equal(i.deferredRate, 0.2);
  assert.equal(i.trapsAndAbuse, 2);
  const none = indicatorsOf(emptyCounts());
  assert.deepEqual([none.bounceRate, none.complaintRate, none.complaints, none.unsubscribesExceedClicks], [null, null, 0, false]);
});

test('each rule: not before its minimum volume, not at the line, over it with its step', () => {
  const cases: [string, Partial<Counts>, Check['state'], number?][] = [
    ['mj.bounces', { sent: 499, delivered: 399, bounced: 100 }, 'insufficient'],
    ['mj.bounces', { sent: 500, delivered: 460, bounced: 40 }, 'ok'],
    ['mj.bounces', { sent: 500, delivered: 459, bounced: 41 }, 'over'],
    ['mj.bounces', { sent: 500, delivered: 459, bounced: 20, expired: 21 }, 'over'],
    ['mj.unsubscribes', { sent: 499, delivered: 499, unsubscribed: 40, clicked: 50 }, 'insufficient'],
    ['mj.unsubscribes', { sent: 1000, delivered: 1000, unsubscribed: 14, clicked: 20 }, 'ok', 0.014],
    ['mj.unsubscribes', { sent: 1000, delivered: 1000, unsubscribed: 15, clicked: 20 }, 'over', 0.014],
    ['mj.unsubscribes', { sent: 1000, delivered: 1000, unsubscribed: 10, clicked: 9 }, 'ok', 0.01],
    ['mj.unsubscribes', { sent: 1000, delivered: 1000, unsubscribed: 12, clicked: 5 }, 'over', 0.01],
    ['mj.blocked', { sent: 499, delivered: 299, blocked: 200 }, 'insufficient'],
    ['mj.blocked', { sent: 1000, delivered: 700, blocked: 300 }, 'ok'],
    ['mj.blocked', { sent: 1000, delivered: 699, blocked: 301 }, 'over'],
    ['mj.complaints', { sent: 1000, delivered: 1000, complained: 5 }, 'insufficient'],
    ['mj.complaints', { sent: 2500, delivered: 2500, complained: 2 }, 'ok'],
    ['mj.complaints', { sent: 1001, delivered: 1001, complained: 1 }, 'over'],
    ['mj.complaints-per-day', { sent: 100_000, delivered: 100_000, complained: 50 }, 'ok'],
    ['mj.complaints-per-day', { sent: 100_000, delivered: 100_000, complained: 51 }, 'over'],
    ['mj.traps-and-abuse', { spamtraps: 1 }, 'ok'],
    ['mj.traps-and-abuse', { spamtraps: 1, abuse_reports: 1 }, 'over'],
    ['gm.spam-target', { sent: 999, delivered: 999, complained: 5 }, 'insufficient'],
    ['gm.spam-target', { sent: 1000, delivered: 1000, complained: 0 }, 'ok'],
    ['gm.spam-target', { sent: 1000, delivered: 1000, complained: 1 }, 'over'],
    ['gm.spam-critical', { sent: 1000, delivered: 1000, complained: 2 }, 'ok'],
    ['gm.spam-critical', { sent: 1000, delivered: 1000, complained: 3 }, 'over'],
    ['cb.unknown-users', { sent: 499, unknown_user: 200 }, 'insufficient'],
    ['cb.unknown-users', { sent: 600, delivered: 540, bounced: 60, unknown_user: 60 }, 'over'],
  ];
  for (const [id, c, state, line] of cases) {
    const r = checkRule(rule(id), counts(c), 'p');
    assert.equal(r.state, state, `${id} ${JSON.stringify(c)} → ${r.state} (${r.value})`);
    if (line !== undefined) assert.equal(r.threshold, line, `${id}: the line used`);
    assert.equal(r.step, rule(id).step);
  }
  assert.match(checkRule(rule('mj.unsubscribes'), counts({ delivered: 1000, unsubscribed: 12, clicked: 5 }), 'mailjet').note!, /exceed clicks.*1 %/);
  assert.equal(checkRule(rule('mj.bounces'), counts({}), 'p').state, 'insufficient');
  assert.equal(checkRule(rule('mj.traps-and-abuse'), counts({}), 'p').state, 'ok');
});

test('of several crossings on one indicator only the highest step acts; other indicators act too', () => {
  const c = counts({ sent: 1000, delivered: 1000, complained: 3 });
  const gm = acting(rulesOf(T, ['gmail']).map(({ profile, rule: r }) => checkRule(r, c, profile)));
  assert.deepEqual(gm.map((x) => [x.rule, x.step]), [['gm.spam-critical', 'pause']]);
  const both = acting(rulesOf(T, ['mailjet', 'strict']).map(({ profile, rule: r }) => checkRule(r, counts({ sent: 2000, delivered: 1800, bounced: 200, complained: 60 }), profile)));
  assert.deepEqual(both.map((x) => [x.rule, x.step]).sort(), [['mj.complaints', 'pause'], ['mj.complaints-per-day', 'suspend'], ['st.bounces', 'pause']]);
});

test('the ladder: a first crossing takes its step, each earlier day one more, up to suspend', () => {
  const cases: [Parameters<typeof ladderStep>[0], number, string][] = [
    ['warn', 0, 'warn'], ['warn', 1, 'throttle'], ['warn', 2, 'pause'], ['warn', 3, 'suspend'], ['warn', 9, 'suspend'],
    ['throttle', 0, 'throttle'], ['throttle', 1, 'pause'], ['pause', 1, 'suspend'], ['suspend', 0, 'suspend'], ['pause', -1, 'pause'],
  ];
  for (const [step, earlier, want] of cases) assert.equal(ladderStep(step, earlier), want, `${step} after ${earlier}`);
});

test('Gmail recovery window: consecutive days under 0.3 %, across a bad day; quiet days neither count nor break', () => {
  const day = (d: number) => `2026-12-${String(d).padStart(2, '0')}`;
  const good = (d: number) => ({ day: day(d), delivered: 2000, complained: 2 });
  const bad = (d: number) => ({ day: day(d), delivered: 2000, complained: 6 });
  const R = T.recovery;
  // days 1-3 good, 4 bad (0.3 %), 5-7 good; today is the 8th
  let r = recoveryWindow([good(1), good(2), good(3), bad(4), good(5), good(6), good(7)], day(8), R);
  assert.deepEqual([r.streak, r.lastBadDay, r.eligible, r.eligibleOn], [3, day(4), false, day(12)]);
  // 5-11 good: eligible on the 12th
  r = recoveryWindow([bad(4), ...[5, 6, 7, 8, 9, 10, 11].map(good)], day(12), R);
  assert.deepEqual([r.streak, r.eligible, r.eligibleOn], [7, true, day(12)]);
  // a quiet day (under the minimum volume) in the middle
  r = recoveryWindow([bad(4), good(5), { day: day(6), delivered: 50, complained: 1 }, good(7)], day(8), R);
  assert.deepEqual([r.streak, r.lastBadDay], [2, day(4)]);
  assert.equal(r.days.find((d) => d.day === day(6))!.verdict, 'not judged');
  // today's incomplete day is not judged; a pause that began today is a bad day: eligible 7 full days from tomorrow
  r = recoveryWindow([good(7), { day: day(8), delivered: 2000, complained: 40 }], day(8), R, 30, day(8));
  assert.deepEqual([r.streak, r.lastBadDay, r.eligible, r.eligibleOn], [0, day(8), false, day(16)]);
  // nothing bad in sight: nothing to recover from
  r = recoveryWindow([good(6), good(7)], day(8), R);
  assert.deepEqual([r.eligible, r.eligibleOn, r.lastBadDay], [true, null, null]);
});

test('GM-1: Gmail-bound messages over a rolling 24 h, from minute buckets; Gmail addresses', () => {
  const t0 = Date.parse('2026-11-25T09:00:00Z');
  const b = [{ minute: t0 - 25 * 3600_000, count: 3000 }, { minute: t0 - 23 * 3600_000, count: 2000 }, { minute: t0, count: 2999 }];
  assert.equal(rollingCount(b, t0 + 30_000, 24 * 3600_000), 4999);
  assert.equal(rollingCount([...b, { minute: t0 + 60_000, count: 1 }], t0 + 60_000, 24 * 3600_000), 5000);
  assert.equal(rollingCount(b, t0 + 2 * 3600_000, 24 * 3600_000), 2999, 'the earlier 2,000 left the window');
  for (const [a, want] of [['Ann@Gmail.com', true], ['bob@googlemail.com', true], ['c@gmail.com.example', false], ['d@google.com', false]] as const) {
    assert.equal(isGmailAddress(a, T.gmailDomains), want, a);
  }
});

test('GM requirements of a bulk domain, from envoi\'s own state', () => {
  const ok = { domain: 'news.example.co.uk', dkimKey: true, verified: true, oneClickUnsubscribe: true, googleTls: 'required' as const };
  assert.deepEqual(missingRequirements(ok), []);
  const missing = missingRequirements({ ...ok, verified: false, googleTls: 'opportunistic' });
  assert.equal(missing.length, 2);
  assert.match(missing[0], /SPF, DKIM and DMARC records: news\.example\.co\.uk is not verified/);
  assert.match(missing[1], /TLS/);
  assert.match(missingRequirements({ ...ok, dkimKey: false })[0], /no active DKIM key/);
});

test('Postmaster Tools exports: header names, rates, dates, problems by line', () => {
  const csv = '\uFEFFDate,User reported spam rate,IP reputation,Domain reputation,SPF success rate,DKIM success rate,DMARC success rate,Outbound encryption,Other\n'
    + '2026-11-24,0.12%,HIGH,MEDIUM,100%,99.5%,98%,100%,x\n'
    + '11/25/2026,0.0005,BAD,LOW,1,1,1,0.99,\n'
    + 'not a day,1%,,,,,,,\n'
    + '"Nov 26, 2026",-,,,,,,,\n';
  const r = parsePostmasterCsv(csv);
  assert.deepEqual(r.days.map((d) => [d.day, d.spamRate, d.ipReputation, d.domainReputation, d.spf, d.dkim, d.tls]), [
    ['2026-11-24', 0.0012, 'HIGH', 'MEDIUM', 1, 0.995, 1],
    ['2026-11-25', 0.0005, 'BAD', 'LOW', 1, 1, 0.99],
    ['2026-11-26', null, null, null, null, null, null],
  ]);
  assert.deepEqual(r.problems, ['line 4: "not a day" is not a date']);
  const api = parsePostmasterCsv('date,userReportedSpamRatio,domainReputation\n20261124,0.004,HIGH\n');
  assert.deepEqual(api.days.map((d) => [d.day, d.spamRate, d.domainReputation]), [['2026-11-24', 0.004, 'HIGH']]);
  assert.match(parsePostmasterCsv('when,spam\n1,2\n').problems[0], /no date column/);
  assert.match(parsePostmasterCsv('date,colour\n2026-11-24,red\n').problems[0], /no column with a Postmaster figure/);
  assert.deepEqual([parseRate('0,3 %'), parseRate('12'), parseRate('n/a'), parseRate('high')], [0.003, 0.12, null, undefined]);
  assert.deepEqual([parseDay('2026-02-30'), parseDay('3 Dec 2026'), parseDay('2026-12-03T00:00:00Z')], [null, '2026-12-03', '2026-12-03']);
});

test('sparklines: against the line (full at or over it), or the series\' largest; · for unknown days', () => {
  assert.equal(sparkline([0, 0.04, 0.08, 0.2, null], 0.08), '▁▄██·');
  assert.equal(sparkline([0, 5, 10]), '▁▄█');
  assert.equal(sparkline([0, 0]), '▁▁');
});
