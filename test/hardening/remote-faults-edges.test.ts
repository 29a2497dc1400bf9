// Remote faults (issue 10), the edges: bursts of messages to hosts whose
// first sessions misbehave; a receiver that takes only some recipients,
// through the engine (both dialects) and in one transaction of the transport;
// a primary MX that never answers, with a working backup.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIALECTS } from '../helpers/store.ts';
import { runBackupMx, runBursts, runPartial } from './remote-faults-scene.ts';
import { createTestCa } from '../peers/ca.ts';
import { startRogue } from '../peers/rogue-smtp.ts';
import { openSession } from '../../src/delivery/smtp/transport.ts';

test('bursts: 12 messages at once to each of 5 MX hosts whose first sessions misbehave: each acknowledged once', async () => {
  const r = await runBursts('sqlite', [
    { at: 'dataEnd', action: 'drop', times: 4 },
    { at: 'rcpt', action: 'hang', times: 6 },
    { at: 'mail', action: { raw: '999 nonsense\r\n' }, times: 5 },
    // on reused sessions: silence at the RSET before a next message, and at QUIT. A transaction that
    // ended needs no RSET (transport.ts), so six messages are refused (450) at their first attempt
    // and the message after one of them on its session meets the silent RSET
    { at: 'rset', action: 'hang', times: 1, refuseFirst: 6 },
    { at: 'quit', action: 'hang', times: 3 },
  ]);
  for (const p of r.peers) {
    console.log(`remote-faults: burst | ${p.fault} | ${p.messages} messages, ${p.faults} faults, ${p.sessions} sessions | ${p.deliveredAtFirst} delivered at the first attempt, ${p.messages - p.deliveredAtFirst} after the retry | ${p.copies} copies received (${p.duplicates} duplicates)`);
  }
  // a session that broke off without a reply (dropped, garbage, silent at the RSET before a message) costs
  // the message nothing: sent again at once on a new session; only a silence inside the transaction defers it
  assert.deepEqual(r.peers.map((p) => [p.fault, p.deliveredAtFirst, p.duplicates]), [
    ['drop at dataEnd', 12, 4], ['hang at rcpt', 6, 0], ['garbage at mail', 12, 0], ['hang at rset', 6, 0], ['hang at quit', 12, 0],
  ]);
});

for (const dialect of DIALECTS) {
  test(`some recipients refused (${dialect}): 250 delivered, 450 deferred then delivered, 550 bounced and suppressed`, async () => {
    const r = await runPartial(dialect);
    console.log(`remote-faults: ${dialect}: partial acceptance, ${r.recipients} recipients: ${r.delivered} delivered, ${r.deferredThenDelivered} deferred then delivered, ${r.bounced} bounced; ${r.copies} copies received`);
  });
}

test('one transaction to four recipients, two refused at RCPT: sent to the two, the others carry their own reply', async () => {
  const ca = await createTestCa();
  const rogue = await startRogue({
    host: '127.0.0.81', tls: await ca.issue(['mx.multi.test']),
    rcpt: (a) => (a.startsWith('busy') ? { code: 452, text: '4.2.2 Mailbox full' } : a.startsWith('gone') ? { code: 550, text: '5.1.1 No such user' } : undefined),
  });
  try {
    const s = await openSession({ host: 'mx.multi.test', ip: '127.0.0.81', port: rogue.port }, { ehloName: 'mta.envoi.test', tls: 'required', verifyCertificates: true, ca: ca.caPem });
    assert.ok(!('kind' in s));
    const to = ['a@multi.test', 'busy@multi.test', 'gone@multi.test', 'b@multi.test'];
    const out = await s.send({ from: 'bounce@shop.example', to }, Buffer.from('Subject: hi\r\n\r\nhello\r\n'));
    await s.close();
    assert.equal(out.kind, 'sent');
    if (out.kind !== 'sent') return;
    assert.deepEqual(out.recipients.map((r) => [r.address, r.accepted, r.code, r.enhanced]), [
      ['a@multi.test', true, 250, '2.1.5'], ['busy@multi.test', false, 452, '4.2.2'], ['gone@multi.test', false, 550, '5.1.1'], ['b@multi.test', true, 250, '2.1.5'],
    ]);
    assert.deepEqual(rogue.received.map((m) => m.to), [['a@multi.test', 'b@multi.test']], 'one copy, to the accepted two');
  } finally {
    await rogue.close();
  }
});

for (const [what, fault] of [
  ['never greets', { at: 'connect', action: 'hang' }],
  ['drops before the greeting', { at: 'connect', action: 'drop' }],
] as const) {
  test(`a primary MX that ${what}: delivered through the backup MX on the first attempt`, async () => {
    const r = await runBackupMx('sqlite', fault);
    const types = r.events.map((e) => `${e.type} ${e.data.stage ?? ''} ${e.data.text}`);
    assert.equal(r.primary.faults, 1, 'the primary was tried');
    assert.deepEqual(r.events.map((e) => e.type), ['delivered'], JSON.stringify(types));
    assert.equal(r.events[0].data.remoteHost, 'mx.backup.test');
    assert.equal(r.backup.received.length, 1);
    console.log(`remote-faults: a primary MX that ${what}: ${types.join('; ')}`);
  });
}
