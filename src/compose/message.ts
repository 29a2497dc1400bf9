// Builds the RFC 5322 / MIME message with nodemailer's MailComposer (MC-3,
// GM-6): text and HTML alternatives, attachments, encoded words, folded
// headers and lines of at most 998 octets are its job, done right.
// File and URL access are turned off: attachment content always comes in as
// bytes from the caller, never as a path or URL envoi would go and read.
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Address, OutgoingMessage } from './types.ts';

export interface Envelope {
  /** Message-ID without brackets, on the sending domain */
  messageId: string;
  date: Date;
  /** headers envoi adds itself (Feedback-ID, List-Unsubscribe, …) */
  extraHeaders: Record<string, string>;
}

const fmt = (a: Address) => (a.name ? { name: a.name, address: a.email } : a.email);

export async function buildMime(msg: OutgoingMessage, env: Envelope): Promise<Buffer> {
  const composer = new MailComposer({
    from: fmt(msg.from),
    to: msg.to.map(fmt),
    cc: msg.cc?.map(fmt),
    // Bcc recipients are in the envelope only; MailComposer leaves the header out.
    replyTo: msg.replyTo ? fmt(msg.replyTo) : undefined,
    subject: msg.subject,
    text: msg.text,
    html: msg.html,
    messageId: `<${env.messageId}>`,
    date: env.date,
    headers: { ...(msg.headers ?? {}), ...env.extraHeaders },
    attachments: (msg.attachments ?? []).map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      content: a.content,
      ...(a.contentId ? { cid: a.contentId } : {}),
    })),
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return composer.compile().build();
}
