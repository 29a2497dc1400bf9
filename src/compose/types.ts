// What a caller asks envoi to send, once the edge (REST API, Mailjet-compatible
// API, SMTP submission, CLI) has parsed its own format. Strings here have not
// yet been checked for header injection: the send service does that, at the
// one place where input enters the pipeline.

export interface Address {
  email: string;
  name?: string;
}

export interface Attachment {
  filename: string;
  contentType: string;
  content: Buffer;
  /** set for inline parts referenced from the HTML as cid:… */
  contentId?: string;
}

export interface OutgoingMessage {
  from: Address;
  to: Address[];
  cc?: Address[];
  bcc?: Address[];
  replyTo?: Address;
  subject: string;
  text?: string;
  html?: string;
  /** extra headers; names are checked against a list envoi reserves for itself */
  headers?: Record<string, string>;
  attachments?: Attachment[];
  /** stream name; default "transactional" */
  stream?: string;
  /** the caller's own reference, returned in events (Mailjet CustomID) */
  customId?: string;
  /** a saved template (name, id or number) to render with `variables` instead of subject/text/html */
  template?: { ref: string; variables: Record<string, unknown>; version?: number };
}

export interface SentRecipient {
  email: string;
  kind: 'to' | 'cc' | 'bcc';
  /** envoi's id of this (message, recipient) */
  id: string;
}

export interface SendReceipt {
  /** envoi's message id (msg_…) */
  id: string;
  /** the Message-ID header, without angle brackets */
  messageId: string;
  recipients: SentRecipient[];
}
