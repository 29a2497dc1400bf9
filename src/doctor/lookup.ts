// DNS reads as facts. The only place the doctor touches the resolver: every
// answer becomes a Lookup value, and an error that is not an absence
// (SERVFAIL, timeout, refused, a CNAME loop) stays an error, so no check can
// read "could not ask" as "there is nothing".
import type { Resolver } from '../net/resolver.ts';
import { found, none, type Lookup } from './types.ts';

const ABSENT = new Set(['ENOTFOUND', 'ENODATA']);

export async function ask<T>(q: () => Promise<T>): Promise<Lookup<T>> {
  try {
    const value = await q();
    // an empty answer without an error is a CNAME chain that ends in nothing
    // of the type asked (a loop, or a chain cut short): not a clean absence
    if (Array.isArray(value) && value.length === 0) return { kind: 'error', code: 'ECNAMECHAIN' };
    return found(value);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    return ABSENT.has(code) ? none : { kind: 'error', code };
  }
}

/** TXT records, each joined from its character-strings (RFC 7208 §3.3). */
export async function txt(r: Resolver, name: string): Promise<Lookup<string[]>> {
  const l = await ask(() => r.txt(name));
  return l.kind === 'found' ? found(l.value.map((parts) => parts.join(''))) : l;
}

export async function mx(r: Resolver, name: string): Promise<Lookup<{ exchange: string; priority: number }[]>> {
  const l = await ask(() => r.mx(name));
  return l.kind === 'found' ? found([...l.value].sort((a, b) => a.priority - b.priority)) : l;
}

/** A and AAAA together: none only when both are absent; an error of either is reported. */
export async function addresses(r: Resolver, name: string): Promise<Lookup<string[]>> {
  const [a, aaaa] = await Promise.all([ask(() => r.a(name)), ask(() => r.aaaa(name))]);
  const values = [...(a.kind === 'found' ? a.value : []), ...(aaaa.kind === 'found' ? aaaa.value : [])];
  if (values.length) return found(values);
  if (a.kind === 'error') return a;
  if (aaaa.kind === 'error') return aaaa;
  return none;
}

export function ptr(r: Resolver, ip: string): Promise<Lookup<string[]>> {
  return ask(() => r.ptr(ip));
}

export function a(r: Resolver, name: string): Promise<Lookup<string[]>> {
  return ask(() => r.a(name));
}

/** The records of a lookup whose value starts with the tag (case-insensitive), e.g. "v=spf1". */
export function tagged(values: string[], tag: RegExp): string[] {
  return values.filter((v) => tag.test(v.trim()));
}
