// The dispatch checklist asks the tenant's controls for every marketing
// recipient; the state is read once a second. When it expires, the hundred
// recipients a worker has in flight share one read of it (three queries)
// instead of each running its own, and a change announced meanwhile
// (forget) is not overwritten by the read that started before it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { openReputationCore, recipientTo, sender, type Core } from './fixture.ts';
import { createControls } from '../../src/reputation/controls.ts';
import { createReputationStore } from '../../src/reputation/store.ts';

for (const dialect of DIALECTS) {
  describe(`tenant controls under load (${dialect})`, () => {
    let core: Core;
    let clock: Awaited<ReturnType<typeof openReputationCore>>['clock'];
    before(async () => ({ core, clock } = await openReputationCore(dialect)));
    after(() => core.close());

    test('a hundred recipients at once read the tenant state once; a suspension seen after forget() holds the next ones', async () => {
      const s = await sender(core, 'loadco');
      const real = createReputationStore(core.store.db, core.store.dialect);
      let reads = 0;
      // the real store, counting how often the tenant's row is read
      const store = { ...real, tenant: (id: string) => { reads++; return real.tenant(id); } } as typeof real;
      const controls = createControls({ store, clock, limiter: core.limiter, config: core.config.reputation, gmailDomains: ['gmail.com'] });
      const r = recipientTo(s.tenantId, 'reader@customer.example');
      const holds = await Promise.all(Array.from({ length: 100 }, () => controls.marketing(r, 'loadco.example')));
      assert.equal(reads, 1, 'one read for a hundred recipients');
      assert.ok(holds.every((h) => h === null || /daily cap/.test(h.reason) === false), 'an active tenant in review below its cap is not held');
      clock.advance(1_500);
      const next = Promise.all(Array.from({ length: 50 }, () => controls.marketing(r, 'loadco.example')));
      // suspended while that read is in flight: what it read must not stay cached
      await core.store.db.updateTable('tenants').set({ status: 'suspended' }).where('id', '=', s.tenantId).execute();
      controls.forget(s.tenantId);
      await next;
      assert.equal(reads, 2);
      const held = await controls.marketing(r, 'loadco.example');
      assert.match(held?.reason ?? '', /tenant suspended/, 'the suspension applies to the next recipient');
      assert.equal(reads, 3);
    });
  });
}
