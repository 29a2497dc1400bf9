// Issue 10's local fault: the disk of the data folder fills up. envoi's
// SQLite data folder is put on a small tmpfs (this needs root to mount; the
// test says why it skips elsewhere), a file fills it to the last few hundred
// kilobytes, and messages are sent until the disk is full. envoi must refuse
// new work (HTTP 507, SMTP 452 4.3.1) rather than fail with a 500 or corrupt
// what it holds; once space is freed it accepts again by itself; every
// message it accepted is delivered and the database passes its integrity check.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { eventually, startTestApp, tenantWithDomain, type TestApp } from '../helpers/app.ts';

const mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-full-'));
function mountTmpfs(): string | false {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mountPoint], { stdio: 'pipe' });
    return false;
  } catch (err) {
    return `cannot mount a small tmpfs here (${String((err as Error).message).split('\n')[0]}): run as root to check disk-full handling`;
  }
}
const skip = mountTmpfs();

describe('the data folder\'s disk fills up (sqlite)', { skip }, () => {
  let t: TestApp;
  let acme: Awaited<ReturnType<typeof tenantWithDomain>>;
  const filler = path.join(mountPoint, 'filler');

  before(async () => {
    t = await startTestApp('sqlite', { dataDir: path.join(mountPoint, 'data') });
    acme = await tenantWithDomain(t, 'acme', 'shop.example');
  });
  after(async () => {
    await t?.close();
    try {
      execFileSync('umount', [mountPoint]);
    } catch {}
  });

  const send = (n: number) => t.api('POST', '/v1/messages', {
    token: acme.token, body: { from: 'orders@shop.example', to: [`c${n}@example.net`], subject: `receipt ${n}`, text: `Receipt ${n}\n${'line of the receipt\n'.repeat(2_500)}` },
  });

  test('507 when full, never a 500; accepted again once space is freed; nothing accepted lost, the database intact', async (t2) => {
    // leave about 1 MB: a few dozen messages of 50 kB fit, then the disk is full
    const { bavail, bsize } = fs.statfsSync(mountPoint);
    fs.writeFileSync(filler, Buffer.alloc(Math.max(0, bavail * bsize - 1_000_000)));
    const accepted: string[] = [];
    const statuses = new Map<number, number>();
    let full: { status: number; body: { code: string } } | undefined;
    for (let n = 0; n < 400 && !full; n++) {
      const r = await send(n);
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 202) accepted.push(r.body.id);
      else full = r;
    }
    assert.ok(full, `the disk never filled: ${JSON.stringify([...statuses])}`);
    assert.equal(full.status, 507, JSON.stringify(full.body));
    assert.equal(full.body.code, 'storage.full');
    assert.ok(accepted.length > 0);

    fs.rmSync(filler);
    const again = await eventually(async () => {
      const r = await send(1_000);
      return r.status === 202 ? r : undefined;
    }, 20_000);
    accepted.push(again.body.id);
    for (const id of accepted) {
      await eventually(async () => {
        const r = await t.api('GET', `/v1/messages/${id}`, { token: acme.token });
        return r.status === 200 && r.body.recipients.every((x: { status: string }) => x.status === 'delivered');
      }, 30_000);
    }
    const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute(t.app.store.db);
    assert.deepEqual(check.rows.map((r) => r.integrity_check), ['ok']);
    t2.diagnostic(`${accepted.length - 1} accepted before the disk was full, then ${full.status} ${full.body.code}; after freeing space accepted again; all ${accepted.length} delivered; integrity ok`);
  });
});
