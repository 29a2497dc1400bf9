// The content lint (MJ-3, MJ-9, AF-10, AF-12, AF-15, GM-3): shown in the
// preview and run before every send. Reads as a checklist: who it is from,
// where its links go, what its subject says, what it talks about, how it is
// built. Each check is a pure function over one parsed view of the message;
// the only IO is the DNS lookup of From/Reply-To, through the injected resolver.
import { checkCategories } from './categories.ts';
import { defaultLexicons } from './lexicon.ts';
import { checkLinks } from './links.ts';
import { checkDomains, checkSender } from './sender.ts';
import { checkSpamTerms } from './spam-terms.ts';
import { checkStructure } from './structure.ts';
import { checkSubject } from './subject.ts';
import type { Finding, LintDeps, LintInput, Severity } from './types.ts';
import { buildView } from './view.ts';

export type { Finding, Hit, LintDeps, LintInput, Severity, Where } from './types.ts';
export { compileLexicons, defaultLexicons, type Lexicons } from './lexicon.ts';

const RANK: Record<Severity, number> = { block: 0, review: 1, warn: 2, info: 3 };

/** Every finding on the message, most severe first (in check order within a severity). */
export async function lint(input: LintInput, deps: LintDeps = {}): Promise<Finding[]> {
  // the DNS lookups run while the pure checks do
  const dns = checkDomains(input, deps.resolver);
  const view = buildView(input);
  const lexicons = deps.lexicons ?? defaultLexicons();
  const findings = [
    ...checkSender(input),
    ...(await dns),
    ...checkLinks(view),
    ...checkSubject(view),
    ...checkSpamTerms(view, lexicons),
    ...checkCategories(view, lexicons),
    ...checkStructure(view),
  ];
  // Array.prototype.sort is stable: check order is kept within a severity
  return findings.sort((a, b) => RANK[a.severity] - RANK[b.severity]);
}

/** Any block → blocked; else any review → review (an operator must approve); else ok. */
export function verdict(findings: Finding[]): 'ok' | 'review' | 'blocked' {
  if (findings.some((f) => f.severity === 'block')) return 'blocked';
  if (findings.some((f) => f.severity === 'review')) return 'review';
  return 'ok';
}
