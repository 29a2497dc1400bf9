// MX (AF-3): the From domain has an MX that answers, so replies and bounces
// to it arrive; each bounce subdomain's MX is envoi's inbound server, so
// bounces and complaints come back to envoi. Pure over looked-up facts.
import type { ProbeResult } from './smtp-probe.ts';
import { check, couldNotCheck, type Check, type Lookup } from './types.ts';

export type MxList = { exchange: string; priority: number }[];

const REQ = ['AF-3'];
const norm = (n: string) => n.toLowerCase().replace(/\.$/, '');
const isNullMx = (mx: MxList) => mx.length === 1 && (mx[0].exchange === '' || mx[0].exchange === '.');

export function judgeFromMx(domain: string, mx: Lookup<MxList>, probe: { exchange: string; result: ProbeResult } | undefined): Check {
  if (mx.kind === 'error') return couldNotCheck('mx.from', domain, REQ, `the MX of ${domain}`, mx.code);
  const fix = `MX ${domain} 10 <the host that receives ${domain}'s mail>`;
  if (mx.kind === 'none' || mx.value.length === 0) {
    return check({ id: 'mx.from', subject: domain, status: 'fail', requirements: REQ, found: `${domain} has no MX: replies and bounces to the From address cannot be delivered, and receivers distrust such senders`, fix });
  }
  if (isNullMx(mx.value)) {
    return check({ id: 'mx.from', subject: domain, status: 'fail', requirements: REQ, found: `${domain} publishes a null MX (RFC 7505): it accepts no mail, so nobody can reply`, fix });
  }
  const hosts = mx.value.map((m) => `${m.priority} ${norm(m.exchange)}`).join(', ');
  if (!probe) return check({ id: 'mx.from', subject: domain, status: 'warn', requirements: REQ, found: `MX ${hosts}; no address of these hosts could be looked up, so none was tried` });
  if (probe.result.error) {
    return check({ id: 'mx.from', subject: domain, status: 'fail', requirements: REQ, found: `MX ${hosts}; ${norm(probe.exchange)} (${probe.result.address}) does not answer SMTP: ${probe.result.error}`, fix: `make ${norm(probe.exchange)} accept SMTP connections on port 25, or point the MX at a host that does` });
  }
  return check({ id: 'mx.from', subject: domain, status: 'pass', requirements: REQ, found: `MX ${hosts}; ${norm(probe.exchange)} answers (${probe.result.greeting?.code})` });
}

export function judgeBounceMx(host: string, mx: Lookup<MxList>, envoiHost: string): Check {
  if (mx.kind === 'error') return couldNotCheck('mx.bounce', host, REQ, `the MX of ${host}`, mx.code);
  const fix = `MX ${host} 10 ${envoiHost}`;
  const names = mx.kind === 'found' && !isNullMx(mx.value) ? mx.value.map((m) => norm(m.exchange)) : [];
  if (!names.length) {
    return check({ id: 'mx.bounce', subject: host, status: 'fail', requirements: REQ, blocking: true, found: `${host} has no MX: bounces and complaints sent to the Return-Path are lost, and hard bounces never suppress an address`, fix });
  }
  if (names.every((n) => n === norm(envoiHost))) {
    return check({ id: 'mx.bounce', subject: host, status: 'pass', requirements: REQ, found: `MX ${names.join(', ')}: bounces come back to envoi` });
  }
  return check({ id: 'mx.bounce', subject: host, status: 'fail', requirements: REQ, blocking: true, found: `MX ${names.join(', ')}, not envoi (${envoiHost}): bounces and complaints go elsewhere`, fix: `replace the MX records of ${host}: ${fix}` });
}
