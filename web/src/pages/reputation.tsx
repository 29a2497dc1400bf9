// Reputation: each indicator per day against its threshold line, the checks
// of today, the actions the guardrails took. Operators pick a tenant.
import { useState } from 'react';
import { api, qs } from '../api.ts';
import { useRoute } from '../router.ts';
import { Badge, ErrorBox, Field, Page, Table, useLoad, when } from '../ui.tsx';
import { TenantControls } from './tenant-controls.tsx';

type Indicators = Record<string, number | null | boolean>;
interface Check { rule: string; profile: string; indicator: string; value: number | null; op: string; threshold: number; state: string }
interface Scope { scope: string; key: string; label: string; today: Record<string, unknown>; window: Record<string, unknown> & { indicators: Indicators }; series: { day: string; sent: number; delivered: number; indicators: Indicators }[]; checks: Check[] }
interface Report {
  tenant: { id: string; name: string; status: string; dailyCap: number | null; usedToday: number | null; suspended: { reason: string } | null };
  scopes: Scope[]; actions: { at: string; rule?: string; action?: string; reason?: string; [k: string]: unknown }[];
  bulk: { orgDomain: string; bulk: boolean; gmailMessages24h: number; threshold: number }[];
  recovery: { domain: string; pausedSince: number | null; window: unknown }[];
}

const CHARTS: { indicator: string; label: string; fallback: number }[] = [
  { indicator: 'bounceRate', label: 'Bounces', fallback: 0.05 },
  { indicator: 'complaintRate', label: 'Complaints', fallback: 0.003 },
  { indicator: 'unsubscribeRate', label: 'Unsubscribes', fallback: 0.01 },
  { indicator: 'blockRate', label: 'Blocks', fallback: 0.05 },
];

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(v < 0.01 ? 2 : 1)} %`);

export function Reputation({ operator }: { operator: boolean }) {
  const tenants = useLoad(() => (operator ? api<{ data: { id: string; name: string }[] }>('GET', '/v1/tenants').then((r) => r.data) : Promise.resolve([])), [operator]);
  // the Tenants page links here with ?tenant=<id>
  const route = useRoute();
  const [tenant, setTenant] = useState(route.query.get('tenant') ?? '');
  const [days, setDays] = useState(30);
  const report = useLoad(async () => {
    if (operator && !tenant) return undefined;
    return api<Report>('GET', `${operator ? `/v1/tenants/${encodeURIComponent(tenant)}/reputation` : '/v1/reputation'}${qs({ days })}`);
  }, [operator, tenant, days]);
  const actions = useLoad(() => (operator ? api<{ data: Report['actions'] }>('GET', '/v1/reputation/actions?limit=50').then((r) => r.data) : Promise.resolve(undefined)), [operator]);
  const r = report.data;
  const main = r?.scopes.find((s) => s.scope === 'tenant');
  return (
    <Page title="Reputation">
      <div className="inline-form">
        {operator && (
          <Field label="Tenant">
            <select value={tenant} onChange={(e) => setTenant(e.target.value)}>
              <option value="">Choose a tenant…</option>
              {tenants.data?.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
            </select>
          </Field>
        )}
        <Field label="Days">
          <select value={days} onChange={(e) => setDays(Number(e.target.value))}>{[7, 30, 90].map((d) => <option key={d} value={d}>{d}</option>)}</select>
        </Field>
      </div>
      <ErrorBox error={report.error} />
      {r && (
        <>
          <p>
            <strong>{r.tenant.name}</strong> <Badge value={r.tenant.status} />
            {r.tenant.dailyCap !== null && <> · {r.tenant.usedToday ?? 0} of {r.tenant.dailyCap} today</>}
            {r.tenant.suspended && <span className="error"> Suspended: {r.tenant.suspended.reason}</span>}
          </p>
          {operator && <TenantControls key={r.tenant.id} tenant={r.tenant} onChange={() => { report.reload(); actions.reload(); }} />}
          {main && (
            <div className="charts">
              {CHARTS.map((c) => {
                const check = main.checks.find((x) => x.indicator === c.indicator);
                return <Chart key={c.indicator} label={c.label} threshold={check?.threshold ?? c.fallback} points={main.series.map((p) => ({ day: p.day, value: p.indicators[c.indicator] as number | null, sent: p.sent }))} />;
              })}
            </div>
          )}
          <h2>Today's checks</h2>
          <Table rows={r.scopes.flatMap((s) => s.checks.map((c) => ({ ...c, scope: `${s.scope}: ${s.label}` })))} rowKey={(c) => `${c.scope} ${c.rule} ${c.profile}`} empty="No rule applies yet." columns={[
            { label: 'Scope', render: (c) => <span className="break">{c.scope}</span> },
            { label: 'Rule', render: (c) => <span className="break">{c.rule}</span> },
            { label: 'Value', render: (c) => pct(c.value) },
            { label: 'Threshold', render: (c) => `${c.op} ${pct(c.threshold)}` },
            { label: 'State', render: (c) => <Badge value={c.state} /> },
          ]} />
          <h2>Per scope, over the window</h2>
          <Table rows={r.scopes} rowKey={(s) => `${s.scope} ${s.key}`} columns={[
            { label: 'Scope', render: (s) => s.scope },
            { label: 'Name', render: (s) => <span className="break">{s.label}</span> },
            { label: 'Sent', render: (s) => String(s.window.sent ?? 0) },
            { label: 'Bounces', render: (s) => pct(s.window.indicators.bounceRate as number | null) },
            { label: 'Complaints', render: (s) => pct(s.window.indicators.complaintRate as number | null) },
          ]} />
          <h2>Actions taken</h2>
          <Actions rows={r.actions} />
        </>
      )}
      {operator && actions.data && <><h2>Recent actions, every tenant</h2><Actions rows={actions.data} /></>}
    </Page>
  );
}

function Actions({ rows }: { rows: Report['actions'] }) {
  return (
    <Table rows={rows} rowKey={(a) => `${a.at} ${String(a.id ?? a.rule)}`} empty="No action taken." columns={[
      { label: 'When', render: (a) => when(a.at) },
      { label: 'Action', render: (a) => String(a.action ?? a.kind ?? '') },
      { label: 'Why', render: (a) => <span className="break">{String(a.reason ?? a.rule ?? '')}</span> },
    ]} />
  );
}

/** One indicator per day as a line, with its threshold as a dashed line. */
export function Chart({ label, threshold, points }: { label: string; threshold: number; points: { day: string; value: number | null; sent: number }[] }) {
  const W = 320;
  const H = 120;
  const pad = 4;
  const values = points.map((p) => p.value).filter((v): v is number => v !== null);
  const max = Math.max(threshold * 1.5, ...values, 0.0001);
  const x = (i: number) => pad + (i * (W - 2 * pad)) / Math.max(points.length - 1, 1);
  const y = (v: number) => H - pad - (v / max) * (H - 2 * pad);
  const segments: string[] = [];
  let d = '';
  points.forEach((p, i) => {
    if (p.value === null) {
      if (d) segments.push(d);
      d = '';
    } else d += `${d ? 'L' : 'M'}${x(i).toFixed(1)},${y(p.value).toFixed(1)}`;
  });
  if (d) segments.push(d);
  const last = [...points].reverse().find((p) => p.value !== null);
  const over = values.some((v) => v > threshold);
  return (
    <figure className="chart">
      <figcaption><strong>{label}</strong> <span className="muted">latest {pct(last?.value)} · line at {pct(threshold)}</span></figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={`${label} per day over ${points.length} days, threshold ${pct(threshold)}${over ? ', crossed' : ''}`}>
        <rect x="0" y="0" width={W} height={H} className="chart-bg" />
        <line x1={pad} x2={W - pad} y1={y(threshold)} y2={y(threshold)} className="chart-threshold" />
        {segments.map((s, i) => <path key={i} d={s} className={over ? 'chart-line over' : 'chart-line'} />)}
        {points.map((p, i) => p.value !== null && <circle key={i} cx={x(i)} cy={y(p.value)} r="2.5" className={p.value > threshold ? 'chart-dot over' : 'chart-dot'} />)}
      </svg>
    </figure>
  );
}
