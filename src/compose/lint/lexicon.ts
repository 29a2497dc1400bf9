// Lexicons: versioned data files of terms (MJ-3 spam vocabulary, MJ-9
// prohibited categories), validated, compiled once into one regular
// expression per group, and matched on folded text.
//
// Term syntax: folded like the text (case and accents ignored); spaces and
// hyphens between words match any run of spaces, hyphens or underscores
// ("e-cigarette" = "e cigarette", "paris sportifs" = "paris-sportifs" in a
// URL); a trailing * lets the word continue ("casino*" → "casinos"). A term
// starts and ends on a word boundary, so "casino" never matches "occasion"
// and "poker" never matches "pokemon".
import { z } from 'zod';
import { excerptAround, fold, type Folded } from './text.ts';
import type { Hit } from './types.ts';
import type { Source } from './view.ts';
import spamEn from '../../policy/data/lexicons/spam-en.json' with { type: 'json' };
import spamFr from '../../policy/data/lexicons/spam-fr.json' with { type: 'json' };
import spamEs from '../../policy/data/lexicons/spam-es.json' with { type: 'json' };
import catEn from '../../policy/data/lexicons/categories-en.json' with { type: 'json' };
import catFr from '../../policy/data/lexicons/categories-fr.json' with { type: 'json' };
import catEs from '../../policy/data/lexicons/categories-es.json' with { type: 'json' };

const Term = z.string().min(1).refine((t) => t.split(/[\s-]+/).every((w) => !w.slice(0, -1).includes('*')), 'a * may only end a word');
const Header = { version: z.number().int().positive(), language: z.string().min(2), _comment: z.string().min(1) };
export const SpamLexiconFile = z.strictObject({ ...Header, terms: z.array(Term).min(1) });
export const CategoryLexiconFile = z.strictObject({
  ...Header,
  categories: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/), z.array(Term).min(1)),
});
export type SpamLexiconFile = z.infer<typeof SpamLexiconFile>;
export type CategoryLexiconFile = z.infer<typeof CategoryLexiconFile>;

/** One group of terms (a spam lexicon, or one category of one language) compiled for matching. */
export interface Matcher {
  group: string;
  language: string;
  version: number;
  terms: string[];
  re: RegExp;
}

export interface Lexicons {
  spam: Matcher[];
  categories: Matcher[];
}

export interface TermMatch {
  term: string;
  /** offsets in the original (unfolded) text */
  start: number;
  end: number;
}

/** Validates and compiles lexicon files; throws on an invalid file (a configuration error, found at start). */
export function compileLexicons(files: { spam: unknown[]; categories: unknown[] }): Lexicons {
  const spam = files.spam.map((f) => SpamLexiconFile.parse(f)).map((f) => compile('spam', f.language, f.version, f.terms));
  const categories = files.categories.map((f) => CategoryLexiconFile.parse(f)).flatMap((f) =>
    Object.entries(f.categories).map(([name, terms]) => compile(name, f.language, f.version, terms)));
  return { spam, categories };
}

let shipped: Lexicons | undefined;

/** The lexicons shipped with envoi, compiled on first use (nothing runs at import). */
export function defaultLexicons(): Lexicons {
  shipped ??= compileLexicons({ spam: [spamEn, spamFr, spamEs], categories: [catEn, catFr, catEs] });
  return shipped;
}

/** Every non-overlapping match of the group in a folded text, leftmost-longest per position. */
export function findTerms(m: Matcher, f: Folded): TermMatch[] {
  const out: TermMatch[] = [];
  m.re.lastIndex = 0;
  for (let r = m.re.exec(f.text); r; r = m.re.exec(f.text)) {
    const g = r.findIndex((v, i) => i > 0 && v !== undefined);
    out.push({ term: m.terms[g - 1], start: f.map[r.index], end: f.map[r.index + r[0].length] });
  }
  return out;
}

function compile(group: string, language: string, version: number, raw: string[]): Matcher {
  // longer terms first: at one position, "casino en ligne" wins over "casino"
  const terms = [...new Set(raw)].sort((a, b) => b.length - a.length);
  const re = new RegExp(terms.map((t) => `(${termPattern(t)})`).join('|'), 'gu');
  return { group, language, version, terms, re };
}

const WORD = '[\\p{L}\\p{N}]';

function termPattern(term: string): string {
  const folded = fold(term.trim()).text;
  const body = folded.split(/[\s-]+/).map((w) =>
    w.endsWith('*') ? escape(w.slice(0, -1)) + `${WORD}*` : escape(w)).join('[\\s\\-_]+');
  // a boundary only where the term itself starts or ends with a letter or digit:
  // "make $" must still match "make $500"
  const head = /^[\p{L}\p{N}]/u.test(folded) ? `(?<!${WORD})` : '';
  const tail = /[\p{L}\p{N}*]$/u.test(folded) ? `(?!${WORD})` : '';
  return head + body + tail;
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** Every match of the matchers in the sources, grouped by matcher group (a category, or 'spam'). */
export function collectHits(sources: Source[], matchers: Matcher[]): Map<string, Hit[]> {
  const out = new Map<string, Hit[]>();
  const seen = new Set<string>();
  for (const [i, src] of sources.entries()) {
    for (const m of matchers) {
      for (const t of findTerms(m, src.folded)) {
        // "casino" is in all three languages: one hit per group and place, from the first lexicon
        const key = `${m.group} ${i} ${t.start} ${t.end}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const hits = out.get(m.group) ?? [];
        hits.push({ term: t.term, language: m.language, where: src.where, excerpt: excerptAround(src.text, t.start, t.end) });
        out.set(m.group, hits);
      }
    }
  }
  return out;
}

/** '"casino" ×2, "poker"': the distinct terms of some hits, for a message. */
export function describeTerms(hits: Hit[]): string {
  const counts = new Map<string, number>();
  for (const h of hits) counts.set(h.term, (counts.get(h.term) ?? 0) + 1);
  return [...counts].map(([t, n]) => `"${t.replace(/\*$/, '…')}"${n > 1 ? ` ×${n}` : ''}`).join(', ');
}
