// What the feedback parser returns (issue 6). The inbound server matches a
// result to our own mail by the returned message's headers (Message-ID, the
// VERP Return-Path, Feedback-ID) and by the recipient addresses.

export type FeedbackKind = 'bounce' | 'complaint' | 'autoreply' | 'delivery-report' | 'unknown';

export interface FeedbackRecipient {
  /** bare, lower-cased; null when the report does not say */
  address: string | null;
  /** true: suppress the address; false: a soft failure; null: not a failure (delivered, auto-reply, complaint) */
  hard: boolean | null;
  /** one of categories.ts (unknown-user, mailbox-full, …, delivered, auto-reply, complaint) */
  category: string;
  /** RFC 3463 enhanced status code */
  status: string | null;
  diagnostic: string | null;
  /** the DSN action (failed, delayed, delivered, relayed, expanded) */
  action: string | null;
  remoteMta: string | null;
  /** the ARF Feedback-Type (abuse, fraud, opt-out, auth-failure, …), complaints only */
  feedbackType: string | null;
}

export interface ReturnedMessage {
  /** lower-cased names, first value, encoded-words decoded */
  headers: Record<string, string>;
  /** the header block as it came, at most 64 KB */
  rawHeaders: string;
}

export interface Reporter {
  sourceIp?: string;
  userAgent?: string;
  reportingMta?: string;
  arrivalDate?: string;
  reportedDomain?: string;
}

export interface ParsedFeedback {
  kind: FeedbackKind;
  recipients: FeedbackRecipient[];
  original: ReturnedMessage | null;
  reporter: Reporter;
  subject: string | null;
  /** the From address of the report itself */
  from: string | null;
  /** what could not be read, or was read only in part */
  problems: string[];
}
