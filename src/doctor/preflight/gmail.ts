// Which of Gmail's temporary failures for non-compliant bulk mail (GM-11) a
// message would get today, from what preflight found: 4.7.23 PTR, 4.7.27
// SPF, 4.7.29 TLS, 4.7.30 DKIM, 4.7.31 DMARC, 4.7.32 alignment. Pure; the
// reply lines and remedies are the ones delivery reacts to
// (policy/data/providers.json, provider "google"), so the prediction and the
// reaction to the real reply say the same thing.
import type { ProviderProfile } from '../../policy/providers.ts';

export type GmailCause = 'ptr' | 'spf' | 'tls' | 'dkim' | 'dmarc' | 'alignment';

export const GMAIL_CODES: Record<GmailCause, string> = {
  ptr: '4.7.23', spf: '4.7.27', tls: '4.7.29', dkim: '4.7.30', dmarc: '4.7.31', alignment: '4.7.32',
};

export interface AuthFacts {
  /** the sending IP is known */
  ip: string | null;
  /** PTR present and forward-confirmed; null: could not tell */
  ptrOk: boolean | null;
  /** mailauth's SPF result for the envelope domain; null: not evaluated (no IP) */
  spf: { domain: string; result: string } | null;
  /** every DKIM signature's verdict */
  dkim: { domain: string; result: string }[];
  /** DMARC record of the From domain (or its organizational domain): found, none, invalid, or could not tell */
  dmarcRecord: 'found' | 'none' | 'invalid' | 'error';
  /** an aligned identifier passed (DKIM d= or SPF domain, per the record's adkim/aspf) */
  aligned: boolean;
  /** the route to Gmail requires TLS */
  tlsRequired: boolean;
}

export interface Prediction {
  code: string;
  cause: GmailCause;
  /** why this message gets it */
  reason: string;
  /** what to change */
  remedy: string;
  /** Gmail's reply line */
  reply: string;
}

/** The codes this message would get, in Gmail's order; empty: accepted. */
export function predictGmail(f: AuthFacts, google: ProviderProfile | undefined): Prediction[] {
  const out: { cause: GmailCause; reason: string }[] = [];
  if (f.ip && f.ptrOk === false) out.push({ cause: 'ptr', reason: `the sending IP ${f.ip} has no PTR, or its PTR name does not resolve back to it` });
  if (f.spf && !['pass', 'temperror'].includes(f.spf.result)) out.push({ cause: 'spf', reason: `SPF of ${f.spf.domain} is "${f.spf.result}" for ${f.ip}` });
  if (!f.tlsRequired) out.push({ cause: 'tls', reason: 'the route to Gmail does not require TLS: a failed STARTTLS would fall back to clear text' });
  const dkimPass = f.dkim.filter((d) => d.result === 'pass');
  if (!dkimPass.length) out.push({ cause: 'dkim', reason: f.dkim.length ? `no DKIM signature verifies (${f.dkim.map((d) => `d=${d.domain}: ${d.result}`).join(', ')})` : 'the message is not DKIM-signed' });
  if (f.dmarcRecord === 'none' || f.dmarcRecord === 'invalid') {
    out.push({ cause: 'dmarc', reason: f.dmarcRecord === 'none' ? 'the From domain publishes no DMARC record' : 'the From domain\'s DMARC record is invalid' });
  } else if (f.dmarcRecord === 'found' && !f.aligned && (dkimPass.length > 0 || f.spf?.result === 'pass')) {
    // authentication passed, but for another domain than the From: that is the alignment failure, not SPF's or DKIM's
    out.push({ cause: 'alignment', reason: `SPF or DKIM passes, but for ${[...dkimPass.map((d) => d.domain), ...(f.spf?.result === 'pass' ? [f.spf.domain] : [])].join(', ')}, not aligned with the From domain` });
  }
  return out.map(({ cause, reason }) => {
    const rule = google?.reactions.find((r) => r.match.enhanced === GMAIL_CODES[cause]);
    return { code: GMAIL_CODES[cause], cause, reason, remedy: rule?.fault?.remedy ?? '', reply: rule?.example ?? '' };
  });
}
