// For the delivery-state tests (faults, warm-up): a migrated store of one
// dialect with just what those stages read — tenants, sending domains,
// streams with their IP pool, messages — and a way to write outcome events.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store } from '../../src/store/connect.ts';
import { appendEvents, type EventType } from '../../src/events/log.ts';
import { newId } from '../../src/ids.ts';
import { dropSchema, newSchemaName, PG_URL, type Dialect } from '../helpers/store.ts';

export interface StateFixture {
  store: Store;
  /** a tenant with one sending domain and a stream on `pool`; returns their ids and a message of that stream */
  sender(name: string, pool?: string): Promise<{ tenantId: string; domainId: string; messageId: string }>;
  /** outcome events of one message, `n` recipients each, at time `at` */
  events(s: { tenantId: string; messageId: string }, type: EventType, n: number, at: number, data?: Record<string, unknown>, recipients?: string[]): Promise<string[]>;
  dispose(): Promise<void>;
}

export async function openStateFixture(dialect: Dialect): Promise<StateFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'envoi-state-'));
  const schema = dialect === 'postgres' ? newSchemaName() : undefined;
  const store = await openStore(dialect === 'postgres' ? { url: PG_URL, schema, poolSize: 4 } : { sqliteFile: path.join(dir, 'envoi.db') });
  const { db } = store;
  return {
    store,
    async sender(name, pool = 'shared') {
      const now = Date.now();
      const tenantId = newId('ten', now);
      const domainId = newId('dom', now);
      const streamId = newId('str', now);
      const messageId = newId('msg', now);
      await db.insertInto('tenants').values({ id: tenantId, name, status: 'active', created_at: now }).execute();
      await db.insertInto('domains').values({ id: domainId, tenant_id: tenantId, name: `${name}.example`, verified: 1, created_at: now }).execute();
      await db.insertInto('streams').values({ id: streamId, tenant_id: tenantId, name: 'marketing', kind: 'marketing', from_address: null, bounce_label: 'bounce-mk', ip_pool: pool, created_at: now }).execute();
      await db.insertInto('messages').values({
        id: messageId, tenant_id: tenantId, stream_id: streamId, domain_id: domainId, message_id: `${messageId}@${name}.example`, from_address: `news@${name}.example`,
        subject: 'news', custom_id: null, campaign_id: null, raw: Buffer.alloc(0), size: 0, created_at: now,
      }).execute();
      return { tenantId, domainId, messageId };
    },
    async events(s, type, n, at, data = {}, recipients) {
      const ids = recipients ?? Array.from({ length: n }, () => newId('rcp', at));
      await appendEvents(db, ids.map((recipientId) => ({ tenantId: s.tenantId, messageId: s.messageId, recipientId, type, at, data })));
      return ids;
    },
    async dispose() {
      await store.close();
      if (schema) await dropSchema(schema);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
