// Streams separate kinds of mail (AF-19): each has its own From, its own
// bounce (return-path) subdomain under the sending domain and its own IP pool,
// so a marketing reputation never drags down password resets.
import type { Kysely } from 'kysely';
import type { Database, Stream } from '../store/schema.ts';
import type { Clock } from '../clock.ts';
import { newId } from '../ids.ts';
import { fail, ok, type Result } from '../errors.ts';
import { parseAddress } from '../compose/address.ts';

export const DEFAULT_STREAMS = [
  { name: 'transactional', kind: 'transactional', bounce_label: 'bounce-tx', ip_pool: 'transactional' },
  { name: 'marketing', kind: 'marketing', bounce_label: 'bounce-mk', ip_pool: 'marketing' },
] as const;

export interface StreamInput {
  kind?: 'transactional' | 'marketing';
  fromAddress?: string | null;
  bounceLabel?: string;
  ipPool?: string;
}

const LABEL = /^(?!-)[a-z0-9-]{1,40}(?<!-)$/;
const NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export function createStreams(db: Kysely<Database>, clock: Clock) {
  return {
    async createDefaults(tenantId: string, trx: Kysely<Database> = db): Promise<void> {
      for (const s of DEFAULT_STREAMS) {
        await trx.insertInto('streams').values({ id: newId('str', clock.now()), tenant_id: tenantId, from_address: null, created_at: clock.now(), ...s }).execute();
      }
    },

    list(tenantId: string): Promise<Stream[]> {
      return db.selectFrom('streams').selectAll().where('tenant_id', '=', tenantId).orderBy('name').execute();
    },

    get(tenantId: string, name: string): Promise<Stream | undefined> {
      return db.selectFrom('streams').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
    },

    /** Creates or updates a stream. */
    async set(tenantId: string, name: string, input: StreamInput): Promise<Result<Stream>> {
      if (!NAME.test(name)) return fail('request.invalid', 'a stream name is 1-40 characters: a-z, 0-9, _ and -', 'name');
      if (input.bounceLabel !== undefined && !LABEL.test(input.bounceLabel)) {
        return fail('request.invalid', 'bounceLabel must be one DNS label (a-z, 0-9, -)', 'bounceLabel');
      }
      if (input.ipPool !== undefined && !NAME.test(input.ipPool)) return fail('request.invalid', 'ipPool: 1-40 characters a-z, 0-9, _ and -', 'ipPool');
      let from: string | null | undefined = input.fromAddress;
      if (from) {
        const parsed = parseAddress(from, 'fromAddress');
        if (!parsed.ok) return parsed;
        from = parsed.value.email;
      }
      const existing = await this.get(tenantId, name);
      if (existing) {
        const changes = {
          ...(input.kind ? { kind: input.kind } : {}),
          ...(from !== undefined ? { from_address: from } : {}),
          ...(input.bounceLabel ? { bounce_label: input.bounceLabel } : {}),
          ...(input.ipPool ? { ip_pool: input.ipPool } : {}),
        };
        // nothing to change (a PUT with {}): an UPDATE with an empty SET is invalid SQL (a 500, test/hardening)
        if (Object.keys(changes).length) await db.updateTable('streams').set(changes).where('id', '=', existing.id).execute();
      } else {
        await db.insertInto('streams').values({
          id: newId('str', clock.now()),
          tenant_id: tenantId,
          name,
          kind: input.kind ?? 'transactional',
          from_address: from ?? null,
          bounce_label: input.bounceLabel ?? `bounce-${name}`.slice(0, 40),
          ip_pool: input.ipPool ?? name,
          created_at: clock.now(),
        }).execute();
      }
      return ok((await this.get(tenantId, name))!);
    },
  };
}

export type Streams = ReturnType<typeof createStreams>;
