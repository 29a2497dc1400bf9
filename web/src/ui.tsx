// The few pieces every screen uses: loading data, tables that turn into
// cards on a phone, cursor paging, labelled fields, copy buttons, errors.
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: Error; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    load().then((data) => live && setState({ data, loading: false }), (error: Error) => live && setState({ error, loading: false }));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  return { ...state, reload: useCallback(() => setTick((t) => t + 1), []) };
}

/** Calls fn every ms while the component is shown and the tab visible. */
export function usePoll(fn: () => void, ms: number, active = true): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    if (!active) return;
    const id = setInterval(() => document.visibilityState === 'visible' && ref.current(), ms);
    return () => clearInterval(id);
  }, [ms, active]);
}

export function Page(p: { title: string; actions?: ReactNode; children: ReactNode }) {
  useEffect(() => {
    document.title = `${p.title} · envoi`;
  }, [p.title]);
  return (
    <section className="page" aria-labelledby="page-title">
      <header className="page-head">
        <h1 id="page-title" tabIndex={-1}>{p.title}</h1>
        {p.actions && <div className="actions">{p.actions}</div>}
      </header>
      {p.children}
    </section>
  );
}

export function ErrorBox({ error }: { error?: unknown }) {
  if (!error) return null;
  return <p className="error" role="alert">{error instanceof Error ? error.message : String(error)}</p>;
}

export function Notice({ children }: { children: ReactNode }) {
  return <p className="notice" role="status">{children}</p>;
}

export interface Column<T> {
  label: string;
  render: (row: T) => ReactNode;
  className?: string;
}

export function Table<T>(p: { rows: T[] | undefined; columns: Column<T>[]; rowKey: (row: T) => string; empty?: string; caption?: string }) {
  if (!p.rows) return <p className="muted">Loading…</p>;
  if (!p.rows.length) return <p className="muted">{p.empty ?? 'Nothing yet.'}</p>;
  return (
    <table className="table">
      {p.caption && <caption className="sr-only">{p.caption}</caption>}
      <thead>
        <tr>{p.columns.map((c) => <th key={c.label} scope="col">{c.label}</th>)}</tr>
      </thead>
      <tbody>
        {p.rows.map((r) => (
          <tr key={p.rowKey(r)}>
            {p.columns.map((c) => <td key={c.label} data-label={c.label} className={c.className}>{c.render(r)}</td>)}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Cursor paging over the API's `next`: a stack of the cursors already seen, so Previous works. */
export function useCursor(): { cursor?: string; page: number; next: (c: string | null) => void; prev: () => void; reset: () => void } {
  const [stack, setStack] = useState<string[]>([]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (c) => c && setStack((s) => [...s, c]),
    prev: () => setStack((s) => s.slice(0, -1)),
    reset: () => setStack([]),
  };
}

export function Pager(p: { page: number; next: string | null | undefined; onNext: () => void; onPrev: () => void }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" onClick={p.onPrev} disabled={p.page <= 1}>Previous</button>
      <span aria-live="polite">Page {p.page}</span>
      <button type="button" onClick={p.onNext} disabled={!p.next}>Next</button>
    </nav>
  );
}

export function Field(p: { label: string; hint?: string; children: ReactNode }) {
  return (
    <label className="field">
      <span className="label">{p.label}</span>
      {p.children}
      {p.hint && <span className="hint">{p.hint}</span>}
    </label>
  );
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // no clipboard permission: select the text in a prompt instead
      window.prompt('Copy:', text);
    }
    setDone(true);
    setTimeout(() => setDone(false), 1500);
  };
  return <button type="button" className="small" onClick={copy} aria-label={`Copy ${label}`}>{done ? 'Copied' : 'Copy'}</button>;
}

export function Badge({ value }: { value: string }) {
  return <span className={`badge badge-${value.replace(/[^a-z_-]/gi, '')}`}>{value.replace(/_/g, ' ')}</span>;
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** A form's submit: busy while it runs, the error shown, the form reset on success. */
export function useAction(): { busy: boolean; error?: unknown; run: (fn: () => Promise<unknown>) => Promise<boolean> } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>();
  return {
    busy, error,
    run: async (fn) => {
      setBusy(true);
      setError(undefined);
      try {
        await fn();
        return true;
      } catch (e) {
        setError(e);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}
