// The egress path's ready queue and the lane budget (pure), and PIPELINING
// on the wire: the envelope and DATA leave together when the server offers it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { EgressPath } from '../../src/delivery/egress/path.ts';
import { LaneBudget } from '../../src/delivery/egress/lanes.ts';
import { isSession, open, peer, RAW, useSmtpFixture } from './smtp-fixture.ts';

useSmtpFixture();

const job = (id: string, transactional = false, host = 'mx.a.test') => ({ id, transactional, hosts: [{ host, priority: 10, ips: ['127.0.0.2'] }] });

describe('egress path', () => {
  test('transactional first; campaign jobs bounded, transactional ones never refused', () => {
    const p = new EgressPath<ReturnType<typeof job>>('default:mx.a.test|default', 2, 3);
    assert.equal(p.push(job('c1')), true);
    assert.equal(p.push(job('c2')), true);
    assert.equal(p.push(job('c3')), true);
    assert.equal(p.push(job('c4')), false, 'the campaign queue is full');
    assert.equal(p.push(job('t1', true)), true, 'transactional mail always enters');
    assert.deepEqual([p.take(), p.take()].map((j) => j!.id), ['t1', 'c1']);
    assert.equal(p.size, 2);
  });

  test('a lane connected to a host takes a job for that host first, within a short look-ahead', () => {
    const p = new EgressPath<ReturnType<typeof job>>('google|default', 10, 100);
    p.push(job('a1', false, 'mx1.test'));
    p.push(job('b1', false, 'mx2.test'));
    p.push(job('a2', false, 'mx1.test'));
    assert.equal(p.take('mx2.test')!.id, 'b1');
    assert.equal(p.take('mx2.test')!.id, 'a1', 'none for mx2 left: the head');
  });

  test('overflowing recipients come back after the queue ahead has drained, spread out, within 15 minutes', () => {
    const p = new EgressPath<ReturnType<typeof job>>('yahoo|default', 2, 4);
    for (let i = 0; i < 4; i++) p.push(job(`c${i}`));
    for (let i = 0; i < 20; i++) p.took(2_000); // 2 s a message, 2 lanes: 1 s per message for the path
    const now = 1_000_000;
    const a = p.overflowUntil(now);
    const b = p.overflowUntil(now);
    assert.ok(a - now >= 1_000 && a - now < 10_000, `first comes back in ${a - now} ms`);
    assert.ok(b > a, 'the next one after it');
    for (let i = 0; i < 5_000; i++) p.overflowUntil(now);
    assert.ok(p.overflowUntil(now) <= now + 15 * 60_000);
  });

  test('an idle lane is woken by new work, or dismissed', async () => {
    const p = new EgressPath<ReturnType<typeof job>>('k', 1, 10);
    const waiting = p.waitForWork(5_000);
    assert.equal(p.idleLanes, 1);
    assert.equal(p.wakeOne(), true);
    assert.equal(await waiting, true);
    const again = p.waitForWork(5_000);
    assert.equal(p.dismissIdle(), true);
    assert.equal(await again, false);
    assert.equal(await p.waitForWork(10), false, 'nothing came');
  });
});

describe('lane budget', () => {
  test('a path waits when every lane is taken, and gets the next free one; transactional paths can be picked first', () => {
    const b = new LaneBudget<string>(2);
    assert.equal(b.take('a'), true);
    assert.equal(b.take('a'), true);
    assert.equal(b.take('b'), false);
    assert.equal(b.take('tx'), false);
    assert.equal(b.othersWaiting('a'), true);
    assert.equal(b.othersWaiting('a', (p) => p === 'tx'), true);
    b.give();
    assert.equal(b.inUse, 1);
    assert.equal(b.hasRoom, true);
    assert.equal(b.next((p) => p === 'tx'), 'tx');
    assert.equal(b.next(), 'b');
    assert.equal(b.next(), undefined);
  });
});

describe('pipelining', () => {
  test('MAIL, RCPT and DATA leave before the first of their replies; no RSET after a message was taken', async () => {
    const p = await peer();
    const s = await open(p);
    assert.ok(isSession(s));
    const first = await s.send({ from: 'bounce@sender.test', to: ['a@rcpt.test'] }, RAW);
    const second = await s.send({ from: 'bounce@sender.test', to: ['b@rcpt.test'] }, RAW);
    await s.close();
    const t = first.transcript;
    const mail = t.indexOf('C: MAIL FROM:<bounce@sender.test> BODY=8BITMIME');
    assert.ok(mail >= 0, t.join('\n'));
    assert.deepEqual(t.slice(mail, mail + 3).map((l) => l.split(':')[1]), [' MAIL FROM', ' RCPT TO', ' DATA'], t.join('\n'));
    assert.ok(!second.transcript.includes('C: RSET'));
    assert.equal(second.kind, 'sent');
    assert.equal(p.sessions.total, 1);
  });
});
