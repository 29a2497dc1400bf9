// Moves campaigns along: a scheduled campaign whose time has come starts
// sending; a sending campaign's mailable audience is enqueued in batches,
// each batch and the checkpoint in one transaction, so a crash resumes after
// the last committed batch and nothing is queued twice (the unique
// (campaign, contact) index is the backstop); a campaign whose audience is
// enqueued and whose queue is empty is completed.
import type { Kysely } from 'kysely';
import type { Database, Campaign } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import type { Secrets } from '../accounts/secrets.ts';
import type { Audience } from '../audience/index.ts';
import type { Streams } from '../accounts/streams.ts';
import { newId } from '../ids.ts';
import { verpAddress } from '../compose/verp.ts';
import { appendEvents } from '../events/log.ts';
import { crossedStatsStep, type RefreshQueueStats } from '../store/stats.ts';

export interface RunnerDeps {
  db: Kysely<Database>;
  clock: Clock;
  secrets: Secrets;
  audience: Audience;
  streams: Streams;
  batchSize: number;
  /** batches one campaign may enqueue per pass, so campaigns take turns */
  batchesPerPass: number;
  /** fresh planner statistics for the queue as a campaign grows it (store/stats.ts) */
  refreshQueueStats?: RefreshQueueStats;
}

export function createRunner(d: RunnerDeps) {
  const { db, clock } = d;

  async function start(c: Campaign): Promise<void> {
    const now = clock.now();
    // a list deleted while the campaign waited: stop and say so rather than send to fewer people silently
    const lists = JSON.parse(c.list_ids) as string[];
    const alive = await db.selectFrom('lists').select('id').where('id', 'in', lists).where('deleted_at', 'is', null).execute();
    if (alive.length !== lists.length) {
      const gone = lists.filter((id) => !alive.some((a) => a.id === id));
      await db.updateTable('campaigns').set({ status: 'paused', status_reason: `list deleted while scheduled: ${gone.join(', ')}; edit the campaign`, updated_at: now })
        .where('id', '=', c.id).where('status', '=', 'scheduled').execute();
      return;
    }
    const tv = await db.selectFrom('template_versions').select('subject').where('id', '=', c.template_version_id).executeTakeFirstOrThrow();
    const domain = c.from_address.slice(c.from_address.lastIndexOf('@') + 1);
    const dom = await db.selectFrom('domains').select('id').where('tenant_id', '=', c.tenant_id).where('name', '=', domain).executeTakeFirstOrThrow();
    const stream = await d.streams.get(c.tenant_id, c.stream);
    await db.transaction().execute(async (trx) => {
      const claimed = await trx.updateTable('campaigns').set({ status: 'sending', started_at: now, updated_at: now })
        .where('id', '=', c.id).where('status', '=', 'scheduled').executeTakeFirst();
      if (Number(claimed.numUpdatedRows) !== 1) return;
      // the messages row campaign recipients point at: metadata only, bodies are composed at dispatch
      const mid = newId('msg', now);
      await trx.insertInto('messages').values({
        id: mid, tenant_id: c.tenant_id, stream_id: stream!.id, domain_id: dom.id, message_id: `${c.id}@${domain}`, from_address: c.from_address,
        subject: tv.subject, custom_id: null, campaign_id: c.id, raw: Buffer.alloc(0), size: 0, created_at: now,
      }).execute();
      await trx.updateTable('campaigns').set({ message_row_id: mid }).where('id', '=', c.id).execute();
    });
  }

  /** Enqueues up to batchesPerPass batches; true when the audience is exhausted. */
  async function enqueue(c: Campaign): Promise<boolean> {
    const listIds = JSON.parse(c.list_ids) as string[];
    const segment = c.segment ? d.audience.segment(c.tenant_id, c.segment) : undefined;
    if (segment && !segment.ok) throw new Error(`campaign ${c.id}: ${segment.error.detail}`);
    const stream = await d.streams.get(c.tenant_id, c.stream);
    const domain = c.from_address.slice(c.from_address.lastIndexOf('@') + 1);
    const bounceDomain = `${stream!.bounce_label}.${domain}`;
    let batches = 0;
    let checkpoint = c.checkpoint ?? undefined;
    let enqueued = c.enqueued;
    for await (const batch of d.audience.mailable.stream(c.tenant_id, listIds, { segment: segment?.value, batchSize: d.batchSize, checkpoint })) {
      const now = clock.now();
      const rows = batch.map((m) => {
        const id = newId('rcp', now);
        return {
          id, message_id: c.message_row_id!, tenant_id: c.tenant_id, address: m.email, kind: 'to', envelope_from: verpAddress(d.secrets, id, bounceDomain),
          status: 'queued', attempts: 0, next_attempt_at: now, locked_until: null, locked_by: null, updated_at: now,
          campaign_id: c.id, contact_id: m.contact_id, list_id: m.list_id,
        };
      });
      const from = checkpoint;
      const next = batch[batch.length - 1].contact_id;
      // Several processes run this runner (envoi up and each envoi worker): the
      // checkpoint moves only from where this pass read it, so one batch is
      // enqueued and counted once, and the other runner's transaction, which
      // finds the checkpoint moved, changes nothing and leaves the campaign to it.
      const advanced = await db.transaction().execute(async (trx) => {
        const moved = await trx.updateTable('campaigns').set({ checkpoint: next, updated_at: now }).where('id', '=', c.id)
          .where((eb) => (from === undefined ? eb('checkpoint', 'is', null) : eb('checkpoint', '=', from))).executeTakeFirst();
        if (Number(moved.numUpdatedRows) !== 1) return false;
        const ins = await trx.insertInto('recipients').values(rows).onConflict((oc) => oc.columns(['campaign_id', 'contact_id']).doNothing()).executeTakeFirst();
        const n = Number(ins.numInsertedOrUpdatedRows ?? 0);
        await trx.updateTable('campaigns').set((eb) => ({ enqueued: eb('enqueued', '+', n) })).where('id', '=', c.id).execute();
        return true;
      });
      if (!advanced) return false;
      if (crossedStatsStep(enqueued, enqueued + rows.length)) await d.refreshQueueStats?.();
      enqueued += rows.length;
      checkpoint = next;
      if (++batches >= d.batchesPerPass) return false;
    }
    await db.updateTable('campaigns').set({ audience_done: 1, updated_at: clock.now() }).where('id', '=', c.id).execute();
    return true;
  }

  async function completeIfDone(c: Campaign): Promise<void> {
    const left = await db.selectFrom('recipients').select('id').where('campaign_id', '=', c.id).where('status', '=', 'queued').limit(1).executeTakeFirst();
    if (left) return;
    const now = clock.now();
    const r = await db.updateTable('campaigns').set({ status: 'completed', completed_at: now, updated_at: now }).where('id', '=', c.id).where('status', '=', 'sending').executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) await appendEvents(db, [{ tenantId: c.tenant_id, messageId: c.message_row_id, type: 'campaign_completed', at: now, data: { campaign: c.id, enqueued: c.enqueued } }]);
  }

  return {
    /** One pass over the campaigns that have work; returns whether any work was done. */
    async pass(): Promise<boolean> {
      const now = clock.now();
      const due = await db.selectFrom('campaigns').selectAll().where('status', '=', 'scheduled').where('scheduled_at', '<=', now).execute();
      for (const c of due) await start(c);
      const sending = await db.selectFrom('campaigns').selectAll().where('status', '=', 'sending').execute();
      let worked = due.length > 0;
      for (const c of sending) {
        if (!c.audience_done) {
          await enqueue(c);
          worked = true;
        } else await completeIfDone(c);
      }
      return worked;
    },
  };
}

export type Runner = ReturnType<typeof createRunner>;
