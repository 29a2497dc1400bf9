// Domain faults (GM-11) on each dialect: Gmail's 4.7.x replies open a fault
// with its remedy from the provider file, repeats count on the open fault,
// another worker sees it within the cache time, clearing resumes marketing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { createFaults } from '../../src/delivery/faults.ts';
import { loadProviders, reactionFor } from '../../src/policy/providers.ts';
import { openStateFixture, type StateFixture } from './state-fixture.ts';

const google = loadProviders().find((p) => p.name === 'google')!;
const GMAIL: [number, string, string][] = [
  [421, '4.7.23 The sending IP does not have a PTR record.', 'ptr'],
  [451, '4.7.27 This mail has been rate limited because SPF of the sending domain does not pass.', 'spf'],
  [421, '4.7.29 Your email has been rate limited because this message wasn\'t sent over a TLS connection.', 'tls'],
  [421, '4.7.30 Your email has been rate limited because DKIM authentication didn\'t pass for this message.', 'dkim'],
  [421, '4.7.31 Your email has been rate limited because DMARC didn\'t pass for this message.', 'dmarc'],
  [421, '4.7.32 Your email has been rate limited because the From: header (RFC5322) in this message isn\'t aligned with either the authenticated SPF or DKIM organizational domain.', 'alignment'],
];
const report = (domainId: string, code: number, text: string) => ({ domainId, provider: 'google', rule: reactionFor(google, code, text)!, code, text });

for (const dialect of DIALECTS) {
  describe(`domain faults (${dialect})`, () => {
    let fx: StateFixture;
    let t = Date.parse('2026-11-25T09:00:00Z');
    const clock = { now: () => t };
    before(async () => {
      fx = await openStateFixture(dialect);
    });
    after(() => fx.dispose());

    test("each of Gmail's codes opens a fault with its cause and remedy; a repeat counts on it", async () => {
      const faults = createFaults({ db: fx.store.db, clock });
      const { domainId } = await fx.sender('acme');
      for (const [code, text, cause] of GMAIL) {
        const f = await faults.record(report(domainId, code, text));
        assert.equal(f.cause, cause, text);
        assert.equal(f.code, text.slice(0, 6));
        assert.equal(f.remedy, reactionFor(google, code, text)!.fault!.remedy);
        assert.equal(f.count, 1);
        assert.equal(f.cleared_at, null);
      }
      t += 60_000;
      const again = await faults.record(report(domainId, 451, GMAIL[1][1].replace('rate limited', 'RATE LIMITED')));
      const first = (await faults.list(domainId)).find((f) => f.code === '4.7.27')!;
      assert.equal(again.id, first.id, 'the open fault, not a new one');
      assert.equal(again.count, 2);
      assert.equal(again.last_seen, t);
      assert.equal(again.first_seen, t - 60_000);
      assert.match(again.example, /^451 4\.7\.27 This mail has been RATE LIMITED/);
      assert.equal((await faults.list(domainId)).length, 6);
      assert.equal((await faults.activeFault(domainId, 'google'))?.code, '4.7.27', 'the latest open fault');
      assert.equal(await faults.activeFault(domainId, 'yahoo'), null, 'per provider');
    });

    test('another worker sees a new fault within its cache time; clearing resumes, a new report reopens', async () => {
      const a = createFaults({ db: fx.store.db, clock });
      const b = createFaults({ db: fx.store.db, clock, cacheMs: 100 });
      const { domainId } = await fx.sender('shop');
      assert.equal(await b.activeFault(domainId, 'google'), null);
      const f = await a.record(report(domainId, 451, GMAIL[1][1]));
      assert.equal(await b.activeFault(domainId, 'google'), null, 'answered from memory for a moment');
      await new Promise((r) => setTimeout(r, 120));
      assert.equal((await b.activeFault(domainId, 'google'))?.id, f.id);

      const other = await fx.sender('other');
      assert.equal((await a.clear(other.domainId, f.id, 'key:x')).ok, false, "another domain's fault is not found");
      const cleared = await a.clear(domainId, f.id, 'key:k1');
      assert.ok(cleared.ok);
      assert.equal(cleared.value.cleared_by, 'key:k1');
      assert.equal(await a.activeFault(domainId, 'google'), null, 'resumed at once here');
      const twice = await a.clear(domainId, f.id, 'key:k1');
      assert.equal(!twice.ok && twice.error.code, 'conflict');

      t += 3600_000;
      const reopened = await a.record(report(domainId, 451, GMAIL[1][1]));
      assert.notEqual(reopened.id, f.id);
      assert.equal(reopened.count, 1);
      const list = await a.list(domainId);
      assert.deepEqual(list.map((x) => [x.id, x.cleared_at === null]), [[reopened.id, true], [f.id, false]], 'open first');
    });

    test('only domain-fault reactions are faults', async () => {
      const faults = createFaults({ db: fx.store.db, clock });
      const { domainId } = await fx.sender('slow');
      const text = '4.7.28 Our system has detected an unusual rate of unsolicited mail originating from your IP address.';
      const rule = reactionFor(google, 421, text)!;
      assert.equal(rule.action, 'slowdown');
      await assert.rejects(faults.record({ domainId, provider: 'google', rule, code: 421, text }), /not a domain fault/);
    });
  });
}
