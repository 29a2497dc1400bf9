// The inbound SMTP server: the MX of the bounce subdomains and the home of
// abuse@/postmaster@ and the unsubscribe+token addresses. Mail comes from any
// MTA on the internet, so there is no AUTH, STARTTLS is offered but not
// required, and the null sender <> is welcome (that is where bounces come from).
// Every recipient is checked at RCPT: mail for an address that is not ours is
// refused in the session, never accepted and bounced later (no backscatter).
import type { Logger } from 'pino';
import type { Result } from '../errors.ts';
import { envelopeOf, messageHook, recipientHook, startListener, type Listener, type ListenerOptions } from '../net/smtp-listener.ts';

export interface InboundHandler {
  /** is this address one of ours (VERP bounce token, unsubscribe+token, abuse@/postmaster@ of our domains)? */
  acceptRecipient(address: string): Promise<Result<true>>;
  receive(envelope: { mailFrom: string; rcptTo: string[]; remoteAddress: string }, raw: Buffer): Promise<Result<{ id: string }>>;
}

export interface InboundOptions extends ListenerOptions {
  handler: InboundHandler;
  /** sessions one client address may hold at once; more get 421 4.7.0 at connect */
  maxConnectionsPerIp?: number;
}

export async function startInboundServer(opts: InboundOptions): Promise<Listener> {
  const { handler } = opts;
  const logger: Logger | undefined = opts.logger?.child({ component: 'smtp-inbound' });
  // Connections per client address: one MTA retrying a bounce storm, or a
  // flood from one host, must not take every session of the MX.
  const perIp = new Map<string, number>();
  const cap = opts.maxConnectionsPerIp ?? 10;
  return startListener({ maxClients: 200, ...opts }, 'smtp-inbound', {
    onConnect(session, callback) {
      const n = (perIp.get(session.remoteAddress) ?? 0) + 1;
      if (n > cap) {
        logger?.warn({ ip: session.remoteAddress }, 'too many inbound connections from one address');
        return callback(Object.assign(new Error('4.7.0 Too many connections from your address, try again later'), { responseCode: 421 }));
      }
      perIp.set(session.remoteAddress, n);
      (session as { counted?: boolean }).counted = true;
      callback();
    },
    onClose(session) {
      if (!(session as { counted?: boolean }).counted) return;
      const n = (perIp.get(session.remoteAddress) ?? 1) - 1;
      if (n <= 0) perIp.delete(session.remoteAddress);
      else perIp.set(session.remoteAddress, n);
    },
    // AUTH switched off entirely: not advertised, and with it goes
    // smtp-server's "authentication required" gate for MAIL/RCPT/DATA.
    disabledCommands: ['AUTH'],
    authOptional: true,
    onRcptTo: recipientHook(logger, (address) => handler.acceptRecipient(address)),
    onData: messageHook({ maxMessageBytes: opts.maxMessageBytes, logger }, (session, raw) =>
      handler.receive({ ...envelopeOf(session), remoteAddress: session.remoteAddress }, raw),
    ),
  });
}
