// Spam-associated vocabulary (MJ-3: "avoid promotional terms and words
// associated with spam"), from the versioned lexicons in French, Spanish and
// English. In the subject every term is a warning: it is what a reader and a
// filter see first. In the body one or two terms are normal in marketing
// copy ('info'); three distinct ones make the mail read like spam ('warn').
import { collectHits, describeTerms, type Lexicons } from './lexicon.ts';
import { clip } from './text.ts';
import type { Finding, Hit } from './types.ts';
import type { MessageView } from './view.ts';

const BODY_TERMS_FOR_WARN = 3;
const MAX_HITS = 20;

export function checkSpamTerms(view: MessageView, lex: Lexicons): Finding[] {
  const out: Finding[] = [];
  const subject = collectHits(view.sources.filter((s) => s.where === 'subject'), lex.spam).get('spam') ?? [];
  if (subject.length > 0) {
    out.push({ id: 'subject.spam-term', severity: 'warn', where: 'subject', requirements: ['MJ-3'], excerpt: clip(view.input.subject),
      message: `The subject uses wording filters associate with spam: ${describeTerms(subject)}`,
      fix: 'Say plainly what the mail offers, without pressure or prize wording.', hits: subject.slice(0, MAX_HITS) });
  }
  const body = collectHits(view.sources.filter((s) => s.where !== 'subject'), lex.spam).get('spam') ?? [];
  if (body.length > 0) {
    const distinct = new Set(body.map((h: Hit) => h.term)).size;
    out.push({ id: 'body.spam-term', severity: distinct >= BODY_TERMS_FOR_WARN ? 'warn' : 'info', where: body[0].where,
      requirements: ['MJ-3'], excerpt: body[0].excerpt,
      message: `The body uses wording filters associate with spam: ${describeTerms(body)}`,
      fix: 'Rephrase these passages in plain, factual words.', hits: body.slice(0, MAX_HITS) });
  }
  return out;
}
