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
}

export async function startInboundServer(opts: InboundOptions): Promise<Listener> {
  const { handler } = opts;
  const logger: Logger | undefined = opts.logger?.child({ component: 'smtp-inbound' });
  return startListener(opts, 'smtp-inbound', {
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
