// An operator's decision about a tenant, on its reputation page: suspend it
// with a reason (the API requires one; it is recorded with the operator's
// name), or lift a suspension — a rule's or an operator's — with a note.
import { useState, type FormEvent } from 'react';
import { api } from '../api.ts';
import { CheckedField, fieldError, formError } from '../field-error.tsx';
import { ErrorBox, Notice, useAction } from '../ui.tsx';

export interface TenantState { id: string; name: string; status: string; suspended: { reason: string } | null }

export function TenantControls({ tenant, onChange }: { tenant: TenantState; onChange: () => void }) {
  const [reason, setReason] = useState('');
  const [stopTx, setStopTx] = useState(false);
  const [note, setNote] = useState('');
  const [done, setDone] = useState('');
  const a = useAction();
  const path = (verb: string) => `/v1/tenants/${encodeURIComponent(tenant.id)}/${verb}`;

  const suspend = async (e: FormEvent) => {
    e.preventDefault();
    if (await a.run(() => api('POST', path('suspend'), { reason, ...(stopTx ? { stopTransactional: true } : {}) }))) {
      setDone(`${tenant.name} is suspended.`);
      setReason('');
      onChange();
    }
  };
  const resume = async (e: FormEvent) => {
    e.preventDefault();
    if (await a.run(() => api('POST', path('resume'), note.trim() ? { note: note.trim() } : {}))) {
      setDone(`${tenant.name} may send again.`);
      setNote('');
      onChange();
    }
  };

  if (tenant.suspended) {
    return (
      <form className="card grid-form" onSubmit={resume} aria-label={`Resume ${tenant.name}`}>
        <h2>Suspended</h2>
        <p className="break"><strong>Why:</strong> {tenant.suspended.reason}</p>
        <p className="hint">Resuming lets its campaigns continue where the suspension paused them.</p>
        <CheckedField label="Note (kept with the decision)" error={fieldError(a.error, 'note')}>
          <textarea rows={2} maxLength={1000} value={note} onChange={(e) => setNote(e.target.value)} />
        </CheckedField>
        <ErrorBox error={formError(a.error, ['note'])} />
        {done && <Notice>{done}</Notice>}
        <button type="submit" className="primary" disabled={a.busy}>Resume {tenant.name}</button>
      </form>
    );
  }
  return (
    <form className="card grid-form" onSubmit={suspend} aria-label={`Suspend ${tenant.name}`}>
      <h2>Suspend this tenant</h2>
      <p className="hint">Its marketing stops and its running campaigns pause until an operator resumes it.</p>
      <CheckedField label="Reason for the suspension" error={fieldError(a.error, 'reason')}>
        <textarea rows={2} required minLength={3} maxLength={1000} value={reason} onChange={(e) => setReason(e.target.value)} />
      </CheckedField>
      <label className="check-label"><input type="checkbox" checked={stopTx} onChange={(e) => setStopTx(e.target.checked)} /> Stop transactional mail too</label>
      <ErrorBox error={formError(a.error, ['reason'])} />
      {done && <Notice>{done}</Notice>}
      <button type="submit" className="danger" disabled={a.busy}>Suspend {tenant.name}</button>
    </form>
  );
}
