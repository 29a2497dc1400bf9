// Prohibited categories (MJ-9): content that promotes an activity the
// Mailjet policy refuses to carry. A lexicon hit is not proof (a newspaper
// may mention a casino), so a hit never blocks: it puts the campaign in
// 'review' until an operator reads the hits and approves it. Every finding
// lists each term, its language and the text around it.
import { collectHits, describeTerms, type Lexicons } from './lexicon.ts';
import type { Finding } from './types.ts';
import type { MessageView } from './view.ts';

const LABELS: Record<string, string> = {
  'gambling': 'gambling', 'adult': 'adult or sexually explicit content', 'weapons': 'weapons and explosives',
  'tobacco': 'tobacco and vaping', 'drugs': 'drugs and medicines', 'politics': 'political campaigning',
  'hacking': 'hacking and piracy', 'penny-stocks': 'penny stocks and stock tips', 'forex-crypto': 'forex and crypto trading',
  'payday-loans': 'payday and quick loans', 'debt-collection': 'debt collection', 'clairvoyance': 'clairvoyance and astrology',
  'lead-selling': 'lead and contact-list selling', 'affiliate-marketing': 'affiliate and multi-level marketing',
  'paid-surgery': 'paid cosmetic surgery', 'real-estate': 'real-estate promotion', 'get-rich-quick': 'get-rich-quick and work-at-home offers',
};
const MAX_HITS = 20;

export function checkCategories(view: MessageView, lex: Lexicons): Finding[] {
  const out: Finding[] = [];
  for (const [category, hits] of collectHits(view.sources, lex.categories)) {
    const label = LABELS[category] ?? category;
    out.push({
      id: `category.${category}`,
      severity: 'review',
      where: hits[0].where,
      requirements: ['MJ-9'],
      excerpt: hits[0].excerpt,
      message: `The content mentions ${label} (${describeTerms(hits)}), a category the sending policy does not carry without an agreement`,
      fix: `If the mail does not promote ${label}, reword the flagged passages; otherwise an operator must approve it, and a regulated business needs a specific agreement.`,
      hits: hits.slice(0, MAX_HITS),
    });
  }
  return out;
}
