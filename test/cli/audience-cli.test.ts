// The audience from the command line: a list, a subscription with stated
// consent, the proof of consent, suppression and erasure.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS } from '../helpers/store.ts';
import { runEnvoi } from '../helpers/cli.ts';
import { startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const envoi = (t: TestApp, args: string[]) => runEnvoi(t.cliEnv, args);

for (const dialect of DIALECTS) {
  describe(`audience CLI (${dialect})`, () => {
    let t: TestApp;
    before(async () => {
      t = await startTestApp(dialect);
      await tenantWithDomain(t, 'acme', 'shop.example');
    });
    after(() => t.close());

    test('list, subscribe with consent, proof, suppression, erase', async () => {
      const l = await envoi(t, ['list', 'create', 'customers', '--tenant', 'acme', '--from', 'news@shop.example', '--from-name', 'Shop', '--consent-text', 'Offers for customers', '--single-opt-in', '--allow-relationship']);
      assert.equal(l.code, 0, l.stderr);
      assert.match(l.stdout, /hosted form: https:\/\/localhost:\d+\/f\/lst_/);
      const s = await envoi(t, ['subscribe', 'dora@example.org', '--tenant', 'acme', '--list', 'customers', '--source', 'customer', '--opt-in', 'none',
        '--relationship', 'bought a bike in May 2026', '--informed-how', 'checkbox-free notice on the receipt', '--field', 'first_name=Dora']);
      assert.equal(s.code, 0, s.stderr);
      assert.match(s.stdout, /subscribed on customers/);
      const p = JSON.parse((await envoi(t, ['consent', 'proof', 'dora@example.org', '--tenant', 'acme', '--json'])).stdout);
      assert.equal(p.lists[0].consent.relationship, 'bought a bike in May 2026');
      assert.equal(p.lists[0].consent.informedHow, 'checkbox-free notice on the receipt');
      assert.equal(p.lists[0].consent.consentText, 'Offers for customers');
      const human = await envoi(t, ['consent', 'proof', 'dora@example.org', '--tenant', 'acme']);
      assert.match(human.stdout, /relationship\s+bought a bike/);
      const counts = JSON.parse((await envoi(t, ['list', 'list', '--tenant', 'acme', '--json'])).stdout);
      assert.equal(counts[0].mailable, 1);
      assert.equal((await envoi(t, ['suppression', 'add', 'dora@example.org', '--tenant', 'acme', '--reason', 'complaint'])).code, 0);
      assert.equal(JSON.parse((await envoi(t, ['list', 'list', '--tenant', 'acme', '--json'])).stdout)[0].mailable, 0);
      const noWhy = await envoi(t, ['suppression', 'remove', 'dora@example.org', '--tenant', 'acme']);
      assert.equal(noWhy.code, 1);
      assert.match(noWhy.stderr, /needs a reason/);
      assert.equal((await envoi(t, ['contact', 'erase', 'dora@example.org', '--tenant', 'acme'])).code, 0);
      const gone = await envoi(t, ['consent', 'proof', 'dora@example.org', '--tenant', 'acme']);
      assert.equal(gone.code, 1);
      const bad = await envoi(t, ['subscribe', 'x@example.org', '--tenant', 'acme', '--list', 'customers', '--source', 'bought', '--opt-in', 'none']);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /--source/);
    });
  });
}
