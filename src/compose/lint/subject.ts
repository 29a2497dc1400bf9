// The subject (MJ-3: it must reflect the content): not empty, not shouted,
// no runs of "!!!" or "$$$", and its words found in the body.
import common from '../../policy/data/lexicons/common-words.json' with { type: 'json' };
import { clip, excerptAround, foldText, words } from './text.ts';
import type { Finding } from './types.ts';
import type { MessageView } from './view.ts';

const STOPWORDS = new Set(Object.values(common.stopwords).flat());
// personalisation tags say nothing about the content
const PLACEHOLDER = /\{\{[\s\S]*?\}\}|\{%[\s\S]*?%\}|\[\[[\s\S]*?\]\]/g;
// three of a kind (!!!, $$$, €€€, ***) or a mix of three ! and ? ("?!?")
const PUNCTUATION_RUN = /([!?$€£%*])\1{2,}|[!?]{3,}/u;
/** fewer letters than this and the share of capitals says little ("TVA 2024") */
const MIN_LETTERS_FOR_CAPITALS = 8;
const CAPITALS_SHARE = 0.6;

export function checkSubject(view: MessageView): Finding[] {
  const subject = view.input.subject.replace(PLACEHOLDER, ' ');
  const f = (id: string, message: string, fix: string, excerpt = clip(view.input.subject)): Finding =>
    ({ id, severity: 'warn', where: 'subject', requirements: ['MJ-3'], ...(excerpt ? { excerpt } : {}), message, fix });
  if (!subject.trim()) {
    return [f('subject.empty', 'The subject is empty: readers and filters both distrust a mail that does not say what it is about',
      'Write a subject that says what the mail contains.')];
  }
  const out: Finding[] = [];
  const letters = subject.match(/\p{L}/gu) ?? [];
  const capitals = subject.match(/\p{Lu}/gu) ?? [];
  if (letters.length >= MIN_LETTERS_FOR_CAPITALS && capitals.length / letters.length >= CAPITALS_SHARE) {
    out.push(f('subject.capitals', 'The subject is written in capitals, which reads as shouting and is scored as spam',
      'Write the subject in sentence case; keep capitals for acronyms.'));
  }
  const run = PUNCTUATION_RUN.exec(subject);
  if (run) {
    out.push(f('subject.punctuation', `The subject contains "${run[0]}": runs of exclamation marks or currency signs are scored as spam`,
      'Use at most one exclamation mark and write prices as numbers.', excerptAround(subject, run.index, run.index + run[0].length)));
  }
  const missing = absentFromBody(subject, view);
  if (missing) {
    out.push(f('subject.not-in-body', `The subject's words are not in the body (${missing.map((w) => `"${w}"`).join(', ')}): the subject must reflect the content`,
      'Use a subject that summarises what the mail says, or mention its topic in the body.'));
  }
  return out;
}

/** The subject's significant words absent from the body, or null when enough of them are there. */
function absentFromBody(subject: string, view: MessageView): string[] | null {
  const body = `${view.text}\n${view.htmlText}`;
  if (!body.trim()) return null; // an empty body is structure.empty's finding
  const stems = new Set(words(foldText(body)).map(stem));
  const significant = [...new Set(words(foldText(subject)))].filter((w) => w.length >= 3 && !STOPWORDS.has(w) && !/^\d+$/.test(w));
  if (significant.length === 0) return null;
  const absent = significant.filter((w) => !stems.has(stem(w)));
  // a third of the subject's words in the body is enough to call it a summary
  return (significant.length - absent.length) * 3 < significant.length ? absent : null;
}

// A crude stem, the same for FR, ES and EN: "soldes"/"solde", "ofertas"/"oferta",
// "recettes"/"recette" compare equal. Good enough to tell a related body from an
// unrelated one; never used to flag a single word.
function stem(w: string): string {
  const s = w.length > 3 ? w.replace(/s$/, '') : w;
  return s.length > 5 ? s.slice(0, 5) : s;
}
