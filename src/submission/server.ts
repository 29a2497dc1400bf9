// SMTP submission (RFC 6409): applications and mail clients hand envoi their
// messages with STARTTLS + AUTH. Nothing is accepted before authentication,
// so this listener can never relay for strangers (MC-7, AF-2), and the 250
// after DATA is only sent once the handler has stored the message.
import type { Logger } from 'pino';
import type { SMTPServerSession } from 'smtp-server';
import { ok, smtpReply, type Result } from '../errors.ts';
import {
  envelopeOf,
  guarded,
  messageHook,
  recipientHook,
  startListener,
  type Listener,
  type ListenerOptions,
} from '../net/smtp-listener.ts';

export interface Principal {
  tenantId: string;
  keyId: string;
}

export interface SubmissionHandler {
  authenticate(username: string, password: string): Promise<Result<Principal>>;
  /** checked at RCPT TO; optional */
  checkRecipient?(principal: Principal, address: string): Promise<Result<true>>;
  /** the whole message after DATA; envoi has it on disk when this resolves ok */
  submit(principal: Principal, envelope: { mailFrom: string; rcptTo: string[] }, raw: Buffer): Promise<Result<{ id: string }>>;
}

export interface SubmissionOptions extends ListenerOptions {
  handler: SubmissionHandler;
}

export async function startSubmissionServer(opts: SubmissionOptions): Promise<Listener> {
  const { handler } = opts;
  const logger: Logger | undefined = opts.logger?.child({ component: 'smtp-submission' });
  // smtp-server only calls the hooks below for a session that has authenticated
  // (it answers MAIL, RCPT and DATA with 530 otherwise), so session.user is set.
  const principal = (session: SMTPServerSession) => session.user as Principal;
  return startListener(opts, 'smtp-submission', {
    // PLAIN and LOGIN only, and smtp-server refuses both before STARTTLS (538),
    // so a password never crosses the network in clear text.
    authMethods: ['PLAIN', 'LOGIN'],
    authRequiredMessage: smtpReply({ code: 'auth.required', detail: 'Authentication required' }).message,
    onAuth(auth, _session, callback) {
      void guarded(logger, 'authenticate', () => handler.authenticate(auth.username ?? '', auth.password ?? '')).then((r) => {
        if (r.ok) return callback(null, { user: r.value });
        const { code, message } = smtpReply(r.error);
        callback(null, { responseCode: code, message });
      });
    },
    onRcptTo: recipientHook(logger, async (address, session) =>
      handler.checkRecipient ? handler.checkRecipient(principal(session), address) : ok(true as const),
    ),
    onData: messageHook({ maxMessageBytes: opts.maxMessageBytes, logger }, (session, raw) =>
      handler.submit(principal(session), envelopeOf(session), raw),
    ),
  });
}
