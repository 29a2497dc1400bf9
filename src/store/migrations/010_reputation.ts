// Reputation (issue 7): counters rolled up from the event log per (tenant,
// UTC day, dimension, key) with the cursor that feeds them; Gmail-bound
// messages per organizational domain and minute (GM-1) and the domains marked
// bulk, for ever; the actions taken and the operator's decisions (one
// audit trail); per-tenant controls (daily cap, throttle, suspension),
// pauses of a domain's marketing to one provider, the day's usage against a
// cap, and imported Postmaster Tools figures (GM-14).
import { sql, type ColumnDataType, type Kysely } from 'kysely';
import type { DialectMigration } from '../migrate.ts';
import type { DialectName } from '../connect.ts';
import { bigint } from '../types.ts';

const COUNTERS = ['sent', 'delivered', 'bounced', 'hard_bounced', 'unknown_user', 'blocked', 'deferred', 'expired', 'dropped',
  'complained', 'abuse_reports', 'spamtraps', 'unsubscribed', 'clicked', 'opened'];

const float = (d: DialectName): ColumnDataType => (d === 'postgres' ? 'double precision' : 'real');

export const reputation: DialectMigration = (dialect) => ({
  async up(db: Kysely<any>) {
    let counters = db.schema.createTable('reputation_counters')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // YYYY-MM-DD, UTC
      .addColumn('day', 'text', (c) => c.notNull())
      // tenant | domain | stream | campaign | provider | pool | gmail (a sending domain's Gmail-bound traffic)
      .addColumn('dim', 'text', (c) => c.notNull())
      .addColumn('key', 'text', (c) => c.notNull());
    for (const name of COUNTERS) counters = counters.addColumn(name, 'integer', (c) => c.notNull().defaultTo(0));
    // by key first: a campaign's days (the breaker); the tenant's days are read through the second index
    await counters.addPrimaryKeyConstraint('reputation_counters_pk', ['tenant_id', 'dim', 'key', 'day']).execute();
    await db.schema.createIndex('reputation_counters_tenant_day').on('reputation_counters').columns(['tenant_id', 'day']).execute();

    await db.schema.createTable('reputation_cursor')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_event_id', bigint(dialect), (c) => c.notNull())
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .execute();
    await db.insertInto('reputation_cursor').values({ name: 'rollup', last_event_id: 0, updated_at: 0 }).execute();

    await db.schema.createTable('reputation_gmail_minutes')
      .addColumn('org_domain', 'text', (c) => c.notNull())
      // epoch ms of the minute's start
      .addColumn('minute', bigint(dialect), (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('reputation_gmail_minutes_pk', ['org_domain', 'minute'])
      .execute();

    await db.schema.createTable('reputation_bulk_domains')
      .addColumn('org_domain', 'text', (c) => c.primaryKey())
      .addColumn('since', bigint(dialect), (c) => c.notNull())
      // Gmail-bound messages in the 24 h that made it bulk
      .addColumn('count', 'integer', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .execute();

    await db.schema.createTable('reputation_actions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      // tenant | gmail (a domain's marketing to Google) | campaign | operator
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('scope_key', 'text', (c) => c.notNull())
      // the rule id, or what an operator or the system did (review, suspend, resume, bulk, requirements, recovered)
      .addColumn('rule', 'text', (c) => c.notNull())
      // warn | throttle | pause | suspend | resume | review | lift | bulk
      .addColumn('step', 'text', (c) => c.notNull())
      .addColumn('indicator', 'text')
      .addColumn('value', float(dialect))
      .addColumn('threshold', float(dialect))
      .addColumn('volume', 'integer')
      .addColumn('min_volume', 'integer')
      // day:YYYY-MM-DD, campaign, 24h, or the action's own id (operator decisions are never merged)
      .addColumn('window', 'text', (c) => c.notNull())
      .addColumn('profile', 'text')
      .addColumn('reason', 'text', (c) => c.notNull())
      // system, or operator:<key id>
      .addColumn('actor', 'text', (c) => c.notNull())
      .addColumn('created_at', bigint(dialect), (c) => c.notNull())
      .execute();
    // a rule acts once per window and scope, however many processes evaluate it
    await db.schema.createIndex('reputation_actions_once').on('reputation_actions').columns(['tenant_id', 'scope', 'scope_key', 'rule', 'window']).unique().execute();
    await db.schema.createIndex('reputation_actions_tenant').on('reputation_actions').columns(['tenant_id', 'created_at']).execute();

    await db.schema.createTable('reputation_controls')
      .addColumn('tenant_id', 'text', (c) => c.primaryKey().references('tenants.id').onDelete('cascade'))
      // messages a day; null: the review cap while in review, none once active
      .addColumn('daily_cap', 'integer')
      // JSON array of profile names; null: the configured default
      .addColumn('profiles', 'text')
      .addColumn('throttle_per_minute', 'integer')
      .addColumn('throttle_until', bigint(dialect))
      .addColumn('suspended_reason', 'text')
      // 1: transactional stops too (an operator's choice)
      .addColumn('suspend_transactional', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('updated_at', bigint(dialect), (c) => c.notNull())
      .addColumn('updated_by', 'text', (c) => c.notNull())
      .execute();

    await db.schema.createTable('reputation_pauses')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
      .addColumn('provider', 'text', (c) => c.notNull())
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('reason', 'text', (c) => c.notNull())
      .addColumn('since', bigint(dialect), (c) => c.notNull())
      .addColumn('lifted_at', bigint(dialect))
      .addColumn('lifted_by', 'text')
      .execute();
    await db.schema.createIndex('reputation_pauses_open').on('reputation_pauses').columns(['domain_id', 'provider', 'rule']).unique()
      .where(sql.ref('lifted_at'), 'is', null).execute();
    await db.schema.createIndex('reputation_pauses_tenant').on('reputation_pauses').columns(['tenant_id', 'lifted_at']).execute();

    await db.schema.createTable('reputation_usage')
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('count', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('reputation_usage_pk', ['tenant_id', 'day'])
      .execute();

    await db.schema.createTable('reputation_postmaster')
      .addColumn('domain_id', 'text', (c) => c.notNull().references('domains.id').onDelete('cascade'))
      .addColumn('day', 'text', (c) => c.notNull())
      .addColumn('tenant_id', 'text', (c) => c.notNull())
      .addColumn('spam_rate', float(dialect))
      .addColumn('ip_reputation', 'text')
      .addColumn('domain_reputation', 'text')
      .addColumn('spf_rate', float(dialect))
      .addColumn('dkim_rate', float(dialect))
      .addColumn('dmarc_rate', float(dialect))
      .addColumn('tls_rate', float(dialect))
      .addColumn('delivery_errors', 'text')
      .addColumn('imported_at', bigint(dialect), (c) => c.notNull())
      .addPrimaryKeyConstraint('reputation_postmaster_pk', ['domain_id', 'day'])
      .execute();

    // a complaint, a DSN or a click after the fact is counted under the provider that delivered the message: its delivery, found by recipient
    await db.schema.createIndex('events_delivered_recipient').on('events').column('recipient_id')
      .where(sql.ref('type'), '=', 'delivered').execute();
  },
});
