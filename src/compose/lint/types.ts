// The content lint's vocabulary, shared by every check. Findings are values
// (STYLE 2): the preview shows them, the send path turns them into a verdict.
import type { Resolver } from '../../net/resolver.ts';
import type { Lexicons } from './lexicon.ts';

/**
 * block: refused until fixed; review: held until an operator approves (MJ-9);
 * warn: shown, sending allowed; info: for the record.
 */
export type Severity = 'block' | 'review' | 'warn' | 'info';

export type Where = 'from' | 'reply-to' | 'subject' | 'html' | 'text';

/** One lexicon match, so that a reviewer sees why a category was flagged. */
export interface Hit {
  term: string;
  /** language of the lexicon the term comes from */
  language: string;
  where: Where;
  /** the text around the match, ≤ 120 chars */
  excerpt: string;
}

export interface Finding {
  /** stable ID, e.g. 'from.freemail', 'link.ip-host', 'category.gambling' */
  id: string;
  severity: Severity;
  message: string;
  /** the offending text, ≤ 120 chars */
  excerpt?: string;
  fix: string;
  /** requirement IDs of REQUIREMENTS.md, e.g. ['GM-3']; empty for deliverability practice no policy names */
  requirements: string[];
  where?: Where;
  /** lexicon findings: every match, with its term and excerpt */
  hits?: Hit[];
}

export interface LintInput {
  kind: 'marketing' | 'transactional';
  from: { email: string; name?: string };
  replyTo?: { email: string; name?: string };
  subject: string;
  html?: string;
  text?: string;
  /** the sender's organisation name (tenant profile), to judge whether the From names the sender */
  senderName?: string;
}

export interface LintDeps {
  /** absent → DNS checks are skipped with an 'info' finding */
  resolver?: Resolver;
  /** lexicons are configuration (MJ-9); default: the versioned files in src/policy/data/lexicons */
  lexicons?: Lexicons;
}
