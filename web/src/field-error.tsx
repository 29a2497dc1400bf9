// A labelled control with the API's complaint about it beside it: a problem
// response names the field (`field`), and the person should read the reason
// where they type, not in a banner above the form.
import { cloneElement, useId, type ReactElement } from 'react';
import { ApiError } from './api.ts';

/** The message for this field when the error is a problem naming it. */
export function fieldError(error: unknown, field: string): string | undefined {
  return error instanceof ApiError && error.field === field ? error.message : undefined;
}

/** An error no field of the form claims: for the banner. */
export function formError(error: unknown, fields: string[]): unknown {
  return error instanceof ApiError && error.field && fields.includes(error.field) ? undefined : error;
}

export function CheckedField(p: { label: string; hint?: string; error?: string; children: ReactElement }) {
  const id = useId();
  const described = [p.hint ? `${id}-hint` : '', p.error ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <label className="field">
      <span className="label">{p.label}</span>
      {cloneElement(p.children, { 'aria-invalid': p.error ? true : undefined, 'aria-describedby': described } as Record<string, unknown>)}
      {p.hint && <span className="hint" id={`${id}-hint`}>{p.hint}</span>}
      {p.error && <span className="field-error" id={`${id}-error`}>{p.error}</span>}
    </label>
  );
}
