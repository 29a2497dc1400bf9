// What a step of the ladder does, and what an operator decides about a
// tenant (MJ-10), each recorded in reputation_actions with its reason (the
// audit trail) and in the tenant's event log:
//   warn     → recorded, logged for the operator, an event
//   throttle → the tenant's marketing limited to throttlePerMinute for throttleHours
//   pause    → the campaign, the tenant's running campaigns, or a sending domain's marketing to one provider
//   suspend  → the tenant's marketing stops (campaigns paused, dispatch holds) until an operator resumes it;
//              transactional continues unless the operator stops it too
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Lifecycle } from '../campaigns/lifecycle.ts';
import type { ReputationActionTable } from '../store/schema.ts';
import { appendEvents } from '../events/log.ts';
import { fail, ok, type Result } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ReputationStore } from './store.ts';
import type { Controls } from './controls.ts';
import type { Thresholds } from './thresholds.ts';

/** Campaigns paused by a suspension say so; resuming the tenant resumes them. */
export const SUSPENDED_PREFIX = 'suspended: ';

export type NewAction = Omit<ReputationActionTable, 'id' | 'created_at' | 'indicator' | 'value' | 'threshold' | 'volume' | 'min_volume' | 'profile'>
  & Partial<Pick<ReputationActionTable, 'indicator' | 'value' | 'threshold' | 'volume' | 'min_volume' | 'profile'>>;

export interface ReviewInput {
  /** review → active */
  approve?: boolean;
  /** messages a day; null removes an explicit cap (a tenant in review keeps the configured one) */
  dailyCap?: number | null;
  profiles?: string[];
  note?: string;
}

export function createEffects(o: { store: ReputationStore; controls: Controls; lifecycle: () => Lifecycle; clock: Clock; logger: Logger; config: Config['reputation']; thresholds: Thresholds }) {
  const { store, clock } = o;
  const log = o.logger.child({ component: 'reputation' });

  /** Records an action once per (tenant, scope, key, rule, window); false when it was recorded already. */
  async function record(a: NewAction): Promise<boolean> {
    const now = clock.now();
    const row: ReputationActionTable = { indicator: null, value: null, threshold: null, volume: null, min_volume: null, profile: null, ...a, id: newId('rpa', now), created_at: now };
    if (!(await store.insertAction(row))) return false;
    await appendEvents(store.db, [{ tenantId: a.tenant_id, type: 'reputation_action', at: now, data: { rule: a.rule, step: a.step, scope: a.scope, key: a.scope_key, window: a.window, reason: a.reason, actor: a.actor } }]);
    (a.actor === 'system' && a.step !== 'lift' ? log.warn.bind(log) : log.info.bind(log))({ tenant: a.tenant_id, rule: a.rule, step: a.step, scope: a.scope, key: a.scope_key }, a.reason);
    return true;
  }

  const operatorRecord = (tenantId: string, rule: string, step: string, reason: string, actor: string) =>
    record({ tenant_id: tenantId, scope: 'operator', scope_key: tenantId, rule, step, window: newId('win', clock.now()), reason, actor });

  async function pauseCampaigns(tenantId: string, reason: string): Promise<string[]> {
    const paused: string[] = [];
    for (const c of await store.campaignsToPause(tenantId)) {
      const r = await o.lifecycle().pause(null, c.id, reason).catch(() => null); // it changed status meanwhile
      if (r?.ok) paused.push(c.id);
    }
    return paused;
  }

  async function pauseCampaign(campaignId: string, reason: string): Promise<boolean> {
    const r = await o.lifecycle().pause(null, campaignId, reason).catch(() => null);
    return r?.ok === true;
  }

  async function throttle(tenantId: string, actor: string): Promise<void> {
    const until = clock.now() + o.config.throttleHours * 3600_000;
    await store.setControls(tenantId, { throttle_per_minute: o.config.throttlePerMinute, throttle_until: until }, clock.now(), actor);
    o.controls.forget(tenantId);
  }

  async function suspend(tenantId: string, reason: string, opts: { stopTransactional?: boolean; actor: string }): Promise<Result<{ pausedCampaigns: string[] }>> {
    const t = await store.tenant(tenantId);
    if (!t) return fail('not_found', `no tenant ${tenantId}`);
    await store.setControls(tenantId, { suspended_reason: reason, suspend_transactional: opts.stopTransactional ? 1 : 0 }, clock.now(), opts.actor);
    await store.setTenantStatus(tenantId, 'suspended');
    o.controls.forget(tenantId);
    const pausedCampaigns = await pauseCampaigns(tenantId, `${SUSPENDED_PREFIX}${reason}`);
    if (opts.actor !== 'system') {
      await operatorRecord(tenantId, 'operator', 'suspend', `suspended: ${reason}${opts.stopTransactional ? ' (transactional stopped too)' : ' (transactional continues)'}`, opts.actor);
    }
    return ok({ pausedCampaigns });
  }

  return {
    record,
    pauseCampaign,
    pauseCampaigns,
    throttle,
    suspend,

    /** Operator: marketing (and transactional) flows again; the throttle goes; campaigns paused by the suspension resume. */
    async resume(tenantId: string, actor: string, note?: string): Promise<Result<{ resumedCampaigns: string[] }>> {
      const t = await store.tenant(tenantId);
      if (!t) return fail('not_found', `no tenant ${tenantId}`);
      await store.setControls(tenantId, { suspended_reason: null, suspend_transactional: 0, throttle_per_minute: null, throttle_until: null }, clock.now(), actor);
      if (t.status === 'suspended') await store.setTenantStatus(tenantId, 'active');
      o.controls.forget(tenantId);
      const resumedCampaigns: string[] = [];
      for (const c of await store.campaignsPausedWith(tenantId, SUSPENDED_PREFIX)) {
        const r = await o.lifecycle().resume(tenantId, c.id).catch(() => null);
        if (r?.ok) resumedCampaigns.push(c.id);
      }
      await operatorRecord(tenantId, 'operator', 'resume', `resumed${t.status === 'suspended' ? ' from suspension' : ''}, throttle lifted${note ? `: ${note}` : ''}`, actor);
      return ok({ resumedCampaigns });
    },

    /** Operator (MJ-10): approve a tenant in review, change its daily cap or its threshold profiles; every change audited. */
    async review(tenantId: string, input: ReviewInput, actor: string): Promise<Result<{ status: string; dailyCap: number | null; profiles: string[] | null }>> {
      const t = await store.tenant(tenantId);
      if (!t) return fail('not_found', `no tenant ${tenantId}`);
      const unknown = (input.profiles ?? []).filter((p) => !o.thresholds.profiles[p]);
      if (unknown.length) return fail('request.invalid', `unknown profile ${unknown.join(', ')} (known: ${Object.keys(o.thresholds.profiles).join(', ')})`, 'profiles');
      if (input.profiles && !input.profiles.length) return fail('request.invalid', 'give at least one profile', 'profiles');
      if (input.approve && t.status !== 'review') return fail('conflict', `tenant ${t.name} is ${t.status}, not in review`);
      const before = await store.controls(tenantId);
      const patch: Parameters<ReputationStore['setControls']>[1] = {};
      if (input.dailyCap !== undefined) patch.daily_cap = input.dailyCap;
      if (input.profiles) patch.profiles = JSON.stringify(input.profiles);
      await store.setControls(tenantId, patch, clock.now(), actor);
      const status = input.approve ? 'active' : t.status;
      if (input.approve) await store.setTenantStatus(tenantId, 'active');
      o.controls.forget(tenantId);
      const changes = [
        input.approve ? 'approved (review → active)' : '',
        input.dailyCap !== undefined ? `daily cap ${before?.daily_cap ?? 'default'} → ${input.dailyCap ?? 'default'}` : '',
        input.profiles ? `profiles → ${input.profiles.join(', ')}` : '',
      ].filter(Boolean);
      await operatorRecord(tenantId, 'operator', 'review', `${changes.join('; ') || 'reviewed, nothing changed'}${input.note ? ` — ${input.note}` : ''}`, actor);
      const after = await store.controls(tenantId);
      return ok({ status, dailyCap: after?.daily_cap ?? null, profiles: after?.profiles ? JSON.parse(after.profiles) : null });
    },
  };
}

export type Effects = ReturnType<typeof createEffects>;
