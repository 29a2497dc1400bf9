// What the worker does with one claimed row: a campaign recipient goes
// through the campaign's dispatch checklist and is composed now; then the
// message goes to the sandbox or, in smtp mode, to the recipient's MX.
import type { Kysely } from 'kysely';
import type { Database, Recipient } from '../store/schema.ts';
import type { Sandbox } from './sandbox.ts';
import type { SmtpDelivery } from './smtp-deliver.ts';
import type { Dispatch } from '../campaigns/dispatch.ts';

export interface DeliverDeps {
  db: Kysely<Database>;
  sandbox: Sandbox;
  dispatch: Dispatch;
  /** absent in sandbox mode */
  smtp?: SmtpDelivery;
}

export function createDeliver(d: DeliverDeps) {
  return async function deliver(r: Recipient, workerId: string): Promise<void> {
    let composed: Buffer | undefined;
    if (r.campaign_id) {
      const decision = await d.dispatch.decide(r);
      if ('drop' in decision) return d.dispatch.drop(r, workerId, decision.drop);
      composed = decision.deliver;
    }
    if (!d.smtp) return d.sandbox.deliver(r, workerId, composed);
    const m = await d.db.selectFrom('messages as m').innerJoin('streams as s', 's.id', 'm.stream_id')
      .select(['m.created_at', 's.ip_pool', 's.kind', ...(composed ? [] : ['m.raw' as const])])
      .where('m.id', '=', r.message_id).executeTakeFirstOrThrow();
    const raw = composed ?? (m as { raw: Buffer }).raw;
    return d.smtp.deliver({ r, raw, workerId, marketing: r.campaign_id !== null || m.kind === 'marketing', ipPool: m.ip_pool, acceptedAt: m.created_at });
  };
}
