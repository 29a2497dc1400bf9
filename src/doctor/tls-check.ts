// TLS of a mail server envoi runs or relays through: STARTTLS offered, the
// certificate trusted, valid for the host name, not expiring within 14 days
// (GM-7 on the receiving side; MTA-STS needs exactly this). And the records
// that advertise TLS: MTA-STS (RFC 8461) and TLS-RPT (RFC 8460), advised.
// Pure over the probe and the TXT answers.
import type { ProbeResult } from './smtp-probe.ts';
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

const DAY = 86_400_000;
export const EXPIRY_MARGIN_DAYS = 14;

export function judgeTls(host: string, role: string, probe: ProbeResult, now: number): Check {
  const req = ['GM-7'];
  const subject = `${host} (${role})`;
  if (probe.error && !probe.tls) return check({ id: 'tls.certificate', subject, status: 'warn', requirements: req, found: `could not check: ${probe.address}: ${probe.error}` });
  if (!probe.starttls || !probe.tls) return check({ id: 'tls.certificate', subject, status: 'fail', requirements: req, found: `${host} does not offer STARTTLS: mail to it travels in clear`, fix: 'enable STARTTLS with a certificate for this host name' });
  const t = probe.tls;
  const fixCert = `install a certificate for ${host} from a public CA (tls.mode "files": tls.certFile, tls.keyFile for envoi's own listeners)`;
  if (t.nameError) return check({ id: 'tls.certificate', subject, status: 'fail', requirements: req, found: `the certificate is not valid for ${host}: ${t.nameError}`, fix: fixCert });
  if (!t.authorized) return check({ id: 'tls.certificate', subject, status: 'fail', requirements: req, found: `the certificate is not trusted: ${t.authorizationError ?? 'unknown issuer'}`, fix: fixCert });
  const left = ((t.validTo ?? 0) - now) / DAY;
  if (left < 0) return check({ id: 'tls.certificate', subject, status: 'fail', requirements: req, found: `the certificate expired on ${new Date(t.validTo ?? 0).toISOString().slice(0, 10)}`, fix: 'renew it' });
  if (left < EXPIRY_MARGIN_DAYS) return check({ id: 'tls.certificate', subject, status: 'fail', requirements: req, found: `the certificate expires in ${Math.floor(left)} days (${new Date(t.validTo!).toISOString().slice(0, 10)})`, fix: 'renew it now; automate renewal (ACME) so it never comes this close' });
  return check({ id: 'tls.certificate', subject, status: 'pass', requirements: req, found: `STARTTLS with a trusted certificate for ${host}, valid until ${new Date(t.validTo!).toISOString().slice(0, 10)}` });
}

export function judgeMtaSts(domain: string, l: Lookup<string[]>): Check {
  const name = `_mta-sts.${domain}`;
  if (l.kind === 'error') return couldNotCheck('mta-sts', name, [], name, l.code);
  return l.kind === 'found' && l.value.some((v) => /^v=STSv1/i.test(v.trim()))
    ? check({ id: 'mta-sts', subject: name, status: 'pass', requirements: [], found: 'MTA-STS is published: senders to this domain require TLS' })
    : check({ id: 'mta-sts', subject: name, status: 'warn', requirements: [], found: 'no MTA-STS record: mail to this domain can be downgraded to clear text', fix: `TXT ${name} "v=STSv1; id=1" (change id whenever the policy changes) and a policy at https://mta-sts.${domain}/.well-known/mta-sts.txt (RFC 8461)` });
}

export function judgeTlsRpt(domain: string, l: Lookup<string[]>): Check {
  const name = `_smtp._tls.${domain}`;
  if (l.kind === 'error') return couldNotCheck('tls-rpt', name, [], name, l.code);
  return l.kind === 'found' && l.value.some((v) => /^v=TLSRPTv1/i.test(v.trim()))
    ? check({ id: 'tls-rpt', subject: name, status: 'pass', requirements: [], found: 'TLS-RPT is published: senders report TLS failures' })
    : check({ id: 'tls-rpt', subject: name, status: 'warn', requirements: [], found: 'no TLS-RPT record: nobody tells you when senders fail to reach this domain over TLS', fix: `TXT ${name} "v=TLSRPTv1; rua=mailto:tls-reports@${domain}" (RFC 8460)` });
}
