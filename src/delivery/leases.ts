// Leases of queue rows beyond the claim (queue.ts): a worker that stops
// gracefully hands back the rows it claimed but did not reach, and a worker
// that starts takes back at once the rows of a predecessor on the same
// machine that died (kill -9, OOM, a crash) instead of waiting for their
// leases to run out. A lease's owner is "<hostname>:<pid>:<random>"; only
// owners on this host whose process is gone are released. Another machine's
// workers are never judged from here: their leases simply expire.
import type { Kysely } from 'kysely';
import type { Database } from '../store/schema.ts';

/** Hands back the rows a stopped worker still holds (it must have finished every delivery in flight), due at `now`: the claim had moved their next attempt to the lease's end. */
export async function releaseLeases(db: Kysely<Database>, workerId: string, now: number): Promise<number> {
  const r = await db.updateTable('recipients').set({ locked_by: null, locked_until: null, next_attempt_at: now })
    .where('status', '=', 'queued').where('locked_by', '=', workerId).executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** True while a process with this id exists (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Releases the live leases of dead workers of this host. A reused pid looks
 * alive and its rows wait for their leases to expire: the safe direction.
 * Returns the owners released.
 */
export async function releaseDeadLocalLeases(db: Kysely<Database>, hostname: string, now: number, alive: (pid: number) => boolean = processAlive): Promise<string[]> {
  const owners = await db.selectFrom('recipients').select('locked_by').distinct()
    .where('status', '=', 'queued').where('locked_until', '>', now).where('locked_by', 'is not', null).execute();
  const dead = owners.map((o) => o.locked_by!).filter((id) => {
    const [host, pid] = id.split(':');
    return host === hostname && /^\d+$/.test(pid ?? '') && Number(pid) !== process.pid && !alive(Number(pid));
  });
  for (const id of dead) await releaseLeases(db, id, now);
  return dead;
}
