// A lane's SMTP session, kept open between messages: reused for the next
// message to the same MX host (same provider, pool and TLS settings: the
// path's) up to the provider's messagesPerConnection, then closed and opened
// again. A session the server closed, or one that broke, is discarded.
import type { MxHost } from '../route/mx.ts';
import type { SendFailure, SmtpSession } from '../smtp/transport.ts';

export interface Target {
  host: string;
  ip: string;
}

const CLOSE_GRACE_MS = 20;

export type Opener = (target: Target) => Promise<SmtpSession | SendFailure>;

export class LaneSession {
  private session: SmtpSession | undefined;
  private target: Target | undefined;
  /** sessions this lane opened: the first serves one message or many */
  opened = 0;

  constructor(private readonly open: Opener, private readonly perConnection: number) {}

  /** the MX host the open session is connected to */
  get host(): string | undefined {
    return this.session?.usable ? this.target?.host : undefined;
  }

  get isOpen(): boolean {
    return !!this.session?.usable;
  }

  /** has the open session carried all the messages one connection may (messagesPerConnection)? */
  get spent(): boolean {
    return (this.session?.messagesSent ?? 0) >= this.perConnection;
  }

  /**
   * The session to send on for a destination: the open one when it goes to
   * one of its hosts and has messages left; else a new one, to the first
   * host that answers (a host that does not answer, or cannot give the TLS
   * required: the next MX; one that answered has spoken for the domain).
   */
  async forHosts(hosts: MxHost[]): Promise<{ session: SmtpSession; target: Target } | { failure: SendFailure; target: Target }> {
    const s = this.session;
    if (s && (!s.usable || s.messagesSent >= this.perConnection || !hosts.some((h) => h.host === this.target!.host))) await this.close();
    if (this.session) return { session: this.session, target: this.target! };
    let last: { failure: SendFailure; target: Target } | undefined;
    for (const h of hosts) {
      const target = { host: h.host, ip: h.ips[0] };
      this.opened++;
      const opened = await this.open(target);
      if (!('kind' in opened)) {
        this.session = opened;
        this.target = target;
        return { session: opened, target };
      }
      last = { failure: opened, target };
      // a host that cannot give the TLS required is skipped like one that does not answer (RFC 8461 §5, RFC 7672 §2.2)
      if (!opened.tlsRefused && !neverAnswered(opened)) break;
    }
    return last!;
  }

  /**
   * QUIT and close; waits for it, so a new session never overlaps the old
   * one (the caps count sessions), and a moment more: the receiver notes the
   * close a little after we do, and its count must not see both at once.
   */
  async close(): Promise<void> {
    const s = this.session;
    this.session = undefined;
    if (!s) return;
    await s.close();
    await new Promise((r) => setTimeout(r, CLOSE_GRACE_MS));
  }
}

/**
 * Did the host fail before saying anything (refused, cut, or silent until
 * the connect or greeting timeout)? Then it has not spoken for the domain
 * and the next MX is tried (RFC 5321 5.1). A timeout used to count as an
 * answer: a primary MX that dropped SYNs or never greeted held the mail back
 * from a working backup (found by test/hardening/remote-faults.test.ts).
 */
function neverAnswered(f: SendFailure): boolean {
  if (f.code) return false;
  if (f.stage === 'connect' || f.stage === 'greeting') return true;
  return f.stage === 'timeout' && (f.timedOutAt === 'connect' || f.timedOutAt === 'greeting');
}
