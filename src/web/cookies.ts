// Cookies by hand: two of them, so a parser package would be more code than it saves.
// The __Host- prefix makes the browser refuse them unless Secure, Path=/ and
// without Domain: no subdomain and no plain-HTTP page can set or shadow them.

export const SESSION_COOKIE = '__Host-envoi_session';
/** readable by the page's script, which echoes it in X-CSRF-Token (double submit) */
export const CSRF_COOKIE = '__Host-envoi_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, part.slice(eq + 1).trim());
  }
  return out;
}

export function setCookie(name: string, value: string, o: { maxAgeSeconds: number; httpOnly: boolean }): string {
  return [`${name}=${value}`, 'Path=/', `Max-Age=${o.maxAgeSeconds}`, 'Secure', 'SameSite=Strict', ...(o.httpOnly ? ['HttpOnly'] : [])].join('; ');
}

export const clearCookie = (name: string, httpOnly: boolean) => setCookie(name, '', { maxAgeSeconds: 0, httpOnly });
